"""Console output for the demo: step headers, a progress bar for long steps, tagged numbers."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


def tagged(value: str, provenance: str) -> str:
    return f"{value} [{provenance}]"


class Console:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self._step = 0

    def say(self, text: str = "") -> None:
        print(text, file=self.stream, flush=True)

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        self._step += 1
        started = time.perf_counter()
        self.say(f"\n[{self._step}] {title}")
        yield
        self.say(f"    done in {tagged(f'{time.perf_counter() - started:.2f} s', 'measured-local')}")

    def bar(self, total: int, label: str) -> Progress:
        return Progress(self, total, label)


class Progress:
    """Redraws in place on a terminal; prints at each quarter otherwise (CI logs stay short)."""

    def __init__(self, console: Console, total: int, label: str) -> None:
        self.console, self.total, self.label, self.done = console, max(total, 1), label, 0
        self._next_quarter = 0.25

    def advance(self, n: int) -> None:
        self.done += n
        frac = min(self.done / self.total, 1.0)
        if self.console.tty:
            bar = "#" * int(frac * 30)
            self.console.stream.write(f"\r    {self.label} [{bar:<30}] {self.done:,}/{self.total:,}")
            self.console.stream.flush()
            if frac >= 1.0:
                self.console.stream.write("\n")
        elif frac >= self._next_quarter:
            self.console.say(f"    {self.label}: {self.done:,}/{self.total:,} ({frac:.0%})")
            while self._next_quarter <= frac:
                self._next_quarter += 0.25
