"""API fault injection: make the next calls of an action fail as AWS would (throttling, service errors).

Services of the local AWS consult `ApiFaults.take(action)` at the start of an emulated action and raise the
error it returns, so retry policies (Step Functions Retry, SDK retries) can be exercised offline.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class InjectedApiError:
    action: str  # the API action, e.g. CreateTrainingJob, UpdateEndpoint
    code: str
    message: str
    times: int


@dataclass
class ApiFaults:
    pending: list[InjectedApiError] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def inject(self, action: str, code: str = "ThrottlingException", message: str = "Rate exceeded",
               times: int = 1) -> None:
        """Make the next `times` calls of `action` fail with `code`."""
        with self._lock:
            self.pending.append(InjectedApiError(action, code, message, times))

    def take(self, action: str) -> InjectedApiError | None:
        with self._lock:
            for err in self.pending:
                if err.action == action and err.times > 0:
                    err.times -= 1
                    return err
        return None
