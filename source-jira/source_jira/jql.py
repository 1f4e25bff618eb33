"""Bounded JQL over `updated`, written in the Jira user's time zone to the minute.

Jira reads a bare date-time literal such as `"2025/11/02 01:30"` in the searching
user's profile time zone (`/myself.timeZone`), to the minute. Around a DST fall-back
the same wall-clock minute names two instants and Jira picks one of them, so a bound
written naively can cut an hour out of the window. Every literal written here names
a single instant: a lower bound moves back to the nearest earlier minute that is not
ambiguous, an upper bound forward to the nearest later one. The search may then read
a little more than the window; the caller keeps only what lies inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connector_kit.errors import SourceError

MINUTE = timedelta(minutes=1)
_LITERAL_FORMAT = "%Y/%m/%d %H:%M"
# Longer than any DST overlap in the tz database (Lord Howe shifts by 30 minutes, the
# largest historical overlaps are two hours); a bound never moves further than this.
_MAX_SHIFT = timedelta(hours=6)


def floor_minute(moment: datetime) -> datetime:
    """The start of `moment`'s minute, in UTC."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def user_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SourceError(
            f"the Jira user's time zone {name!r} (from /rest/api/3/myself) is not a known IANA "
            "time zone, so JQL dates cannot be written in it; set a standard time zone in the "
            "Jira profile of the account the connector uses"
        ) from None


def _names_one_instant(moment: datetime, zone: ZoneInfo) -> bool:
    wall = moment.astimezone(zone).replace(tzinfo=None)
    earlier = wall.replace(tzinfo=zone, fold=0)
    later = wall.replace(tzinfo=zone, fold=1)
    return earlier.utcoffset() == later.utcoffset()


def _literal(moment: datetime, zone: ZoneInfo, *, step: timedelta) -> str:
    candidate = floor_minute(moment)
    limit = candidate + (_MAX_SHIFT if step > timedelta(0) else -_MAX_SHIFT)
    while not _names_one_instant(candidate, zone):
        candidate += step
        if (step > timedelta(0) and candidate > limit) or (
            step < timedelta(0) and candidate < limit
        ):
            raise SourceError(
                f"no unambiguous local time near {moment.isoformat()} in {zone.key}; "
                "this time zone's rules cannot be expressed in JQL"
            )
    return candidate.astimezone(zone).strftime(_LITERAL_FORMAT)


def lower_literal(moment: datetime, zone: ZoneInfo) -> str:
    """A JQL date that names one instant at or before `moment` (a minute boundary)."""
    return _literal(moment, zone, step=-MINUTE)


def upper_literal(moment: datetime, zone: ZoneInfo) -> str:
    """A JQL date that names one instant at or after `moment` (a minute boundary)."""
    return _literal(moment, zone, step=MINUTE)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def updated_between(
    *, lower: datetime, upper: datetime, zone: ZoneInfo, projects: Sequence[str] = ()
) -> str:
    """JQL for the issues updated in [lower, upper], oldest update first.

    Both ends are inclusive so that either reading of a minute literal (its first
    instant, or the whole minute) covers the window.
    """
    clauses = []
    if projects:
        clauses.append(f"project in ({', '.join(_quoted(p) for p in projects)})")
    clauses.append(f"updated >= {_quoted(lower_literal(lower, zone))}")
    clauses.append(f"updated <= {_quoted(upper_literal(upper, zone))}")
    return " AND ".join(clauses) + " ORDER BY updated ASC"
