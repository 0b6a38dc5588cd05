"""The one registry through which the local AWS changes moto, pinned to the moto version it was written for.

Every replacement of a moto attribute goes through `MotoPatches.replace`, which names the patch and
why it exists, fails loudly when the attribute is gone (never a silent `hasattr` skip), and is undone
exactly by `uninstall`. `MotoPatches.add` gives moto what it lacks (an API action), failing loudly
if moto already has it. `check_moto_version` refuses to start on any other moto version: the patches
touch private names, and a moto upgrade must be a deliberate change that re-runs the tests.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

MOTO_VERSION = "5.2.5"


class MotoVersionError(RuntimeError):
    pass


class PatchError(RuntimeError):
    pass


def check_moto_version(installed: str | None = None) -> str:
    found = installed or version("moto")
    if found != MOTO_VERSION:
        raise MotoVersionError(
            f"the local AWS patches moto internals written for moto {MOTO_VERSION}, but moto {found} is installed; "
            f"install moto=={MOTO_VERSION} (pinned in pyproject.toml) or port local_aws/ to {found} and re-run "
            "tests/local_aws")
    return found


@dataclass(frozen=True)
class AppliedPatch:
    target: str  # dotted name of what was replaced, e.g. moto.kinesis.models.Stream.put_record
    why: str
    owner: Any
    name: str
    original: Any  # ABSENT when the patch added a name moto lacks


ABSENT: Any = object()


def _dotted(owner: Any, name: str) -> str:
    if isinstance(owner, types.ModuleType):
        return f"{owner.__name__}.{name}"
    if isinstance(owner, type):
        return f"{owner.__module__}.{owner.__qualname__}.{name}"
    return f"{owner!r}.{name}"


class MotoPatches:
    def __init__(self) -> None:
        self.applied: list[AppliedPatch] = []

    def replace(self, owner: Any, name: str, value: Any, *, why: str) -> Any:
        """Set `owner.name = value`; returns the original. Raises PatchError if moto has no such attribute."""
        target = _dotted(owner, name)
        try:
            original = getattr(owner, name)
        except AttributeError:
            raise PatchError(f"cannot patch {target}: moto {MOTO_VERSION} was expected to define it ({why})") from None
        self.applied.append(AppliedPatch(target, why, owner, name, original))
        setattr(owner, name, value)
        return original

    def add(self, owner: Any, name: str, value: Any, *, why: str) -> None:
        """Set `owner.name = value` where moto lacks it (e.g. an API action); uninstall removes it again.

        Raises PatchError if moto defines it already: a moto that gained the name must be reviewed, not
        silently overridden."""
        target = _dotted(owner, name)
        if hasattr(owner, name):
            raise PatchError(f"cannot add {target}: moto {MOTO_VERSION} was expected to lack it, "
                             f"but defines it ({why})")
        self.applied.append(AppliedPatch(target, why, owner, name, ABSENT))
        setattr(owner, name, value)

    def expect(self, condition: bool, what: str) -> None:
        """A precondition a patch relies on (e.g. a module imported a function by name)."""
        if not condition:
            raise PatchError(f"moto {MOTO_VERSION} no longer matches what a patch relies on: {what}")

    def uninstall(self) -> None:
        """Restore, newest first, everything replaced."""
        while self.applied:
            patch = self.applied.pop()
            if patch.original is ABSENT:
                delattr(patch.owner, patch.name)
            else:
                setattr(patch.owner, patch.name, patch.original)

    def targets(self) -> list[str]:
        return [p.target for p in self.applied]
