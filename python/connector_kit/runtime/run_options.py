"""The settings of one `connector-kit run`."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_TRANSACTION_DOCUMENTS = 20_000
DEFAULT_TRANSACTION_BYTES = 16 << 20
"""A transaction closes at this many documents or bytes of JSON, which bounds memory."""


@dataclass(frozen=True)
class RunOptions:
    sessions: list[int] = field(default_factory=lambda: [-1])
    """Per capture: connector sessions and their target transactions (negative: unlimited)."""
    idle_timeout: float | None = None
    """A capture session ends when its connector sends nothing for this long."""
    connector_timeout: float | None = None
    """How long a connector may take to answer a request before it is called stuck."""
    transaction_documents: int = DEFAULT_TRANSACTION_DOCUMENTS
    transaction_bytes: int = DEFAULT_TRANSACTION_BYTES
    sync: bool = True
    """fsync journals and records at every commit (off: faster, survives process crashes only)."""
    progress_interval: float = 5.0
