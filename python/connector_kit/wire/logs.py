"""Structured JSON logs on stderr: one `{"ts","level","msg","fields"}` object per line.

The Flow runtime parses each stderr line as a log record and shows the last one
before a non-zero exit as the task's error, so every line we write is JSON and
every known secret is masked before it is written.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime
from typing import IO, Any

import orjson

LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "fatal": logging.CRITICAL,
}
REDACTED = "[redacted]"
_MIN_SECRET_LENGTH = 4


class SecretMask:
    """The secret strings a connector knows of, masked in everything it logs."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, secret: str) -> None:
        # Very short values would mask ordinary words; configs rarely have such secrets.
        if len(secret) >= _MIN_SECRET_LENGTH:
            self._secrets.add(secret)

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def mask_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, dict):
            return {k: self.mask_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.mask_value(v) for v in value]
        return value


class JsonLogFormatter(logging.Formatter):
    """Formats a record as the JSON line Flow's log decoder reads."""

    def __init__(self, mask: SecretMask) -> None:
        super().__init__()
        self._mask = mask

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = dict(getattr(record, "fields", None) or {})
        if record.name != "root":
            fields.setdefault("logger", record.name)
        if record.exc_info and record.exc_info[0] is not None:
            fields["traceback"] = self.formatException(record.exc_info)
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": _level_name(record.levelno),
            "msg": self._mask.mask(record.getMessage()),
            "fields": self._mask.mask_value(fields),
        }
        return orjson.dumps(line, default=str).decode()


def _level_name(levelno: int) -> str:
    if levelno >= logging.CRITICAL:
        return "fatal"
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warn"
    if levelno >= logging.INFO:
        return "info"
    return "debug"


def level_from_env(default: str = "info") -> int:
    name = os.environ.get("LOG_LEVEL", default).strip().lower()
    return LEVELS.get(name, logging.INFO)


def configure_logging(*, mask: SecretMask, stream: IO[str] | None = None) -> logging.Handler:
    """Route every logger to stderr as JSON lines at the level `LOG_LEVEL` names."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLogFormatter(mask))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level_from_env())
    logging.captureWarnings(True)
    return handler
