"""Fault injection for crash-safety tests: SIGKILL this process at a named point.

Set `CONNECTOR_KIT_FAULT_POINT=name` (or `name:count`) and the process kills itself
with SIGKILL the `count`-th time (default: the first time) execution reaches
`faults.reached("name")`. SIGKILL, not an exception, so no `finally`, no atexit and
no buffered write runs: the test sees exactly what a power cut or an OOM kill leaves.

The framework names its points after the protocol step just completed (`opened`,
`acknowledged`, `load`, `loaded`, `flushed`, `store`, `stored`, `committing`,
`started_commit`); a connector adds its own (e.g. `commit.inserted`). When the
variable is unset `reached` returns at its first comparison.
"""

from __future__ import annotations

import logging
import os
import signal

from connector_kit.errors import ConfigError

FAULT_POINT_ENV = "CONNECTOR_KIT_FAULT_POINT"

log = logging.getLogger(__name__)


class FaultPoints:
    """The one fault point armed for this process, if any, and how often it may pass."""

    __slots__ = ("_remaining", "_target")

    def __init__(self, target: str | None = None, count: int = 1) -> None:
        self._target = target
        self._remaining = count

    @classmethod
    def from_env(cls) -> FaultPoints:
        spec = os.environ.get(FAULT_POINT_ENV, "").strip()
        if not spec:
            return cls()
        name, _, count = spec.partition(":")
        try:
            times = int(count) if count else 1
        except ValueError:
            times = 0
        if not name or times < 1:
            raise ConfigError(
                f"{FAULT_POINT_ENV}={spec!r} is not `name` or `name:count` with count >= 1"
            )
        return cls(name, times)

    @property
    def armed(self) -> bool:
        return self._target is not None

    def reached(self, name: str) -> None:
        if self._target is None or name != self._target:
            return
        self._remaining -= 1
        if self._remaining == 0:
            log.warning("fault point reached: killing this process", extra={"fields": {"at": name}})
            os.kill(os.getpid(), signal.SIGKILL)
