"""Jira's time formats: REST timestamps, rendered dates and JQL date literals.

REST timestamps look like `2025-11-02T01:30:00.000-0400`: milliseconds and an offset
without a colon, in the requesting user's time zone. JQL date literals without a zone
are read in that same zone at minute resolution.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from .settings import AmbiguousTime

_LOCAL_LITERAL = re.compile(r"^(\d{4})[/-](\d{1,2})[/-](\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$")
_PERIOD_PART = re.compile(r"(\d+)\s*([wdhmWDHM])")
_PERIOD = re.compile(r"^([+-]?)\s*((?:\d+\s*[wdhmWDHM]\s*)+)$")
_PERIOD_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60}

DATE_FORMAT_HINT = (
    "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', "
    "'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def to_datetime(ms: int, tz_name: str) -> datetime:
    seconds, _ = divmod(ms, 1000)
    return datetime.fromtimestamp(seconds, zone(tz_name))


def format_timestamp(ms: int, tz_name: str) -> str:
    """`2025-11-02T01:30:00.000-0400` in the given zone."""
    seconds, millis = divmod(ms, 1000)
    m = datetime.fromtimestamp(seconds, zone(tz_name))
    offset = m.utcoffset()
    minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    # Spelled out rather than strftime: this runs for every timestamp of every page.
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        f".{millis:03d}{sign}{hours:02d}{minutes:02d}"
    )


def format_utc_z(ms: int) -> str:
    """`2025-11-02T05:30:00.000Z`, the form Jira Software (agile) dates take."""
    seconds, millis = divmod(ms, 1000)
    moment = datetime.fromtimestamp(seconds, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{millis:03d}Z"


def format_rendered(ms: int, tz_name: str) -> str:
    """`02/Nov/25 1:30 AM`, Jira's default date-time display format."""
    moment = to_datetime(ms, tz_name)
    hour = moment.hour % 12 or 12
    return f"{moment:%d/%b/%y} {hour}:{moment:%M %p}"


def format_period(seconds: int) -> str:
    """`1d 2h 30m`, how Jira renders `timeSpent` (8h days, 5d weeks)."""
    minutes = seconds // 60
    weeks, minutes = divmod(minutes, 5 * 8 * 60)
    days, minutes = divmod(minutes, 8 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{n}{unit}" for n, unit in ((weeks, "w"), (days, "d"), (hours, "h"), (minutes, "m"))]
    kept = [p for p in parts if not p.startswith("0")]
    return " ".join(kept) or "0m"


def local_to_epoch_ms(naive: datetime, *, tz_name: str, ambiguous: AmbiguousTime = "later") -> int:
    """Resolve a wall-clock time in a zone the way Jira's JQL parser does.

    A time inside a fall-back overlap exists twice; `ambiguous` picks which. A time
    inside a spring-forward gap does not exist and is shifted forward by the gap, as a
    lenient java.util.Calendar does.
    """
    tz = zone(tz_name)
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return int(first.timestamp() * 1000)
    round_trip = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if round_trip != naive:
        return int(first.timestamp() * 1000)
    chosen = second if ambiguous == "later" else first
    return int(chosen.timestamp() * 1000)


def parse_date_literal(
    literal: str, *, tz_name: str, now_ms: int, ambiguous: AmbiguousTime = "later"
) -> int | None:
    """Epoch milliseconds for a JQL date value, or None when it is not a date."""
    text = literal.strip()
    if text.isdigit():
        return int(text)
    local = _LOCAL_LITERAL.match(text)
    if local:
        year, month, day, hour, minute = local.groups()
        try:
            naive = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0))
        except ValueError:
            return None
        return local_to_epoch_ms(naive, tz_name=tz_name, ambiguous=ambiguous)
    period = _PERIOD.match(text)
    if period:
        sign = -1 if period.group(1) == "-" else 1
        seconds = sum(
            int(n) * _PERIOD_UNITS[unit.lower()]
            for n, unit in _PERIOD_PART.findall(period.group(2))
        )
        return now_ms + sign * seconds * 1000
    return None
