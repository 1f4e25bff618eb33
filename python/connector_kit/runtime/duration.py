"""Durations as catalogs and flags spell them: "5m", "30s", "1h30m", "1.5h", "2 days".

Flow reads catalog intervals with humantime and flowctl flags with humantime too;
Go-style strings ("1h30m", "100ms") are the common subset, and both styles are
accepted here.
"""

from __future__ import annotations

import re

_UNIT_SECONDS = {
    "ns": 1e-9,
    "nsec": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "usec": 1e-6,
    "ms": 1e-3,
    "msec": 1e-3,
    "millis": 1e-3,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
    "w": 604800.0,
    "week": 604800.0,
    "weeks": 604800.0,
}

_PART = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zµ]+)", re.IGNORECASE)


def parse_duration(text: str) -> float:
    """Seconds in `text`, or a ValueError that says what a duration looks like."""
    stripped = text.strip()
    if stripped == "0":
        return 0.0
    total = 0.0
    position = 0
    for match in _PART.finditer(stripped):
        if match.start() != position:
            break
        unit = match.group(2).lower()
        if unit not in _UNIT_SECONDS:
            raise ValueError(
                f"unknown unit {match.group(2)!r} in duration {text!r}; "
                "use ms, s, m, h or d (for example 30s, 5m, 1h30m)"
            )
        total += float(match.group(1)) * _UNIT_SECONDS[unit]
        position = match.end()
    if position == 0 or position != len(stripped):
        raise ValueError(
            f"{text!r} is not a duration; write a number and a unit, for example 30s, 5m or 1h30m"
        )
    return total
