"""Read how long a server asks us to wait from its response headers.

`Retry-After` comes as delta-seconds or an HTTP-date (RFC 9110). `X-RateLimit-Reset`
comes as epoch seconds (GitHub-style), epoch milliseconds, seconds-until-reset
(the IETF RateLimit draft), or an ISO-8601 timestamp such as Jira's
`2024-05-01T10:31Z`. Every function takes the current wall-clock time so it stays
a pure function of its inputs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# A number below this cannot be an epoch timestamp of a live server (it is 2001-09-09),
# so it is read as seconds from now.
_EPOCH_SECONDS_FLOOR = 1_000_000_000
_EPOCH_MILLISECONDS_FLOOR = 1_000_000_000_000


def _parse_number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def retry_after_delay(headers: Mapping[str, str], *, now: float) -> float | None:
    """Seconds the `Retry-After` header asks for, or None when absent or unreadable."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    seconds = _parse_number(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, _as_utc(moment).timestamp() - now)


def rate_limit_reset_delay(headers: Mapping[str, str], *, now: float) -> float | None:
    """Seconds until `X-RateLimit-Reset`, or None when absent or unreadable."""
    value = headers.get("X-RateLimit-Reset")
    if value is None:
        return None
    value = value.strip()
    number = _parse_number(value)
    if number is not None:
        if number >= _EPOCH_MILLISECONDS_FLOOR:
            return max(0.0, number / 1000 - now)
        if number >= _EPOCH_SECONDS_FLOOR:
            return max(0.0, number - now)
        return max(0.0, number)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return max(0.0, _as_utc(moment).timestamp() - now)


def quota_exhausted(headers: Mapping[str, str]) -> bool:
    """True when `X-RateLimit-Remaining` says no request is left in the current window."""
    value = headers.get("X-RateLimit-Remaining")
    if value is None:
        return False
    remaining = _parse_number(value.strip())
    return remaining is not None and remaining <= 0
