"""A connector's stderr, read as Flow reads it: one log record per line, forwarded to ours.

Lines are JSON objects with `ts`/`timestamp`/`time`, `level`/`lvl`, `message`/`msg`
and `fields`; other top-level keys join the fields. A line that is not JSON is
a `warn` record, or an `error` one when it reads like a failure, as in Flow's
log decoder. The last record's message is kept, because when a connector exits
non-zero that message is the error the user sees.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from connector_kit.wire import SecretMask

FORWARDED_LOGGER = "connector_kit.runtime.connector"
"""The logger connector records are re-logged on; the CLI lets all of them through."""

_LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "fatal": logging.CRITICAL,
    "panic": logging.CRITICAL,
    "critical": logging.CRITICAL,
}
_LOOKS_LIKE_FAILURE = re.compile(
    r"error|failed|panic|timeout|unable|unrecognised|unrecognized", re.IGNORECASE
)
_RESERVED = {"ts", "timestamp", "time", "level", "lvl", "message", "msg", "fields"}


@dataclass(frozen=True)
class LogRecord:
    level: int
    message: str
    fields: dict[str, Any]


def decode_log_line(line: bytes) -> LogRecord | None:
    """The record one stderr line holds, or None for a blank line."""
    text = line.decode("utf-8", errors="replace").rstrip("\r\n")
    if not text.strip():
        return None
    parsed: Any = None
    if text.lstrip().startswith("{"):
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            parsed = None
    if not isinstance(parsed, dict):
        level = logging.ERROR if _LOOKS_LIKE_FAILURE.search(text) else logging.WARNING
        return LogRecord(level=level, message=text, fields={})
    level_name = str(parsed.get("level", parsed.get("lvl", "info"))).lower()
    message = parsed.get("message", parsed.get("msg", ""))
    fields = parsed.get("fields")
    merged: dict[str, Any] = dict(fields) if isinstance(fields, dict) else {}
    merged.update({k: v for k, v in parsed.items() if k not in _RESERVED})
    return LogRecord(
        level=_LEVELS.get(level_name, logging.INFO),
        message=message if isinstance(message, str) else orjson.dumps(message).decode(),
        fields=merged,
    )


@dataclass
class ConnectorLog:
    """Forwards one connector's records, tagged with its task, and remembers the last one.

    Known secrets (decrypted config values) are masked in the message and fields
    before a record goes anywhere, the remembered last message included.
    """

    task: str
    secrets: frozenset[str] = frozenset()
    last_message: str | None = None
    _logger: logging.Logger = field(default_factory=lambda: logging.getLogger(FORWARDED_LOGGER))
    _mask: SecretMask = field(default_factory=SecretMask)

    def __post_init__(self) -> None:
        for secret in self.secrets:
            self._mask.add(secret)

    def forward(self, line: bytes) -> None:
        record = decode_log_line(line)
        if record is None:
            return
        message = self._mask.mask(record.message)
        self.last_message = message
        self._logger.log(
            record.level,
            message,
            extra={"fields": {"task": self.task, **self._mask.mask_value(record.fields)}},
        )
