"""Cursors and page watermarks in and out of checkpoint state (JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connector_kit.errors import ConnectorError


def encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [encode(v) for v in value]
    return value


def decode(value: Any, *, like: Any) -> Any:
    """Restore a stored cursor to the type of `like` (the resource's start cursor)."""
    if value is None or like is None:
        return value
    if isinstance(like, datetime):
        return datetime.fromisoformat(value)
    if isinstance(like, tuple):
        return tuple(decode(v, like=w) for v, w in zip(value, like, strict=True))
    if isinstance(like, bool | int | float | str):
        return type(like)(value)
    return value


def check_advances(*, previous: Any, new: Any) -> None:
    """Enforce the incremental contract: each cursor is strictly greater than the last."""
    try:
        advances = new > previous
    except TypeError:
        raise ConnectorError(
            f"yielded cursor {new!r} ({type(new).__name__}), which cannot "
            f"be compared with the previous cursor {previous!r} ({type(previous).__name__}); "
            "yield cursors of one type"
        ) from None
    if not advances:
        raise ConnectorError(
            f"yielded cursor {new!r} after {previous!r}: cursors must "
            "strictly increase, or a restart would re-read or skip documents"
        )
