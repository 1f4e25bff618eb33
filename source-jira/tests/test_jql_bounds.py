"""JQL bounds name one instant on the right side of the window, in any zone, on any day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector_kit.errors import SourceError
from jira_emulator.jiratime import parse_date_literal
from source_jira.jql import lower_literal, updated_between, upper_literal, user_zone

ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "Pacific/Chatham",  # UTC+12:45 / +13:45
    "Asia/Kolkata",
    "UTC",
]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _readings(literal: str, zone: str) -> set[int]:
    """Every instant a Jira site could take the literal for (both sides of a fall-back)."""
    readings = (
        parse_date_literal(literal, tz_name=zone, now_ms=0, ambiguous="later"),
        parse_date_literal(literal, tz_name=zone, now_ms=0, ambiguous="earlier"),
    )
    return {reading for reading in readings if reading is not None}


def _transitions(zone: str) -> list[datetime]:
    """The instants in 2024-2025 at which the zone's UTC offset changes."""
    tz = user_zone(zone)
    found = []
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    while moment.year < 2026:
        following = moment + timedelta(hours=1)
        if moment.astimezone(tz).utcoffset() != following.astimezone(tz).utcoffset():
            found.append(following)
        moment = following
    return found


NEAR_TRANSITIONS = [(zone, moment) for zone in ZONES for moment in _transitions(zone)]


@st.composite
def zone_and_minute(draw: st.DrawFn) -> tuple[str, datetime]:
    near_a_transition = draw(st.booleans())
    if NEAR_TRANSITIONS and near_a_transition:
        zone, transition = draw(st.sampled_from(NEAR_TRANSITIONS))
        offset = draw(st.integers(min_value=-180, max_value=180))
        return zone, transition + timedelta(minutes=offset)
    zone = draw(st.sampled_from(ZONES))
    minute = draw(st.integers(min_value=0, max_value=2 * 365 * 24 * 60))
    return zone, datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=minute)


@settings(max_examples=600, deadline=None)
@given(case=zone_and_minute())
def test_a_lower_bound_never_reads_as_later_and_an_upper_bound_never_as_earlier(
    case: tuple[str, datetime],
) -> None:
    zone, moment = case
    tz = user_zone(zone)
    lower = _readings(lower_literal(moment, tz), zone)
    upper = _readings(upper_literal(moment, tz), zone)
    assert len(lower) == len(upper) == 1
    assert _ms(moment) - 3 * 3600_000 <= min(lower) <= _ms(moment)
    assert _ms(moment) <= max(upper) <= _ms(moment) + 3 * 3600_000


@pytest.mark.parametrize(
    ("moment", "lower", "upper"),
    [
        # 01:29 EDT happens again as 01:29 EST: move out of the repeated hour.
        (datetime(2025, 11, 2, 5, 29, tzinfo=UTC), "2025/11/02 00:59", "2025/11/02 02:00"),
        (datetime(2025, 11, 2, 6, 10, tzinfo=UTC), "2025/11/02 00:59", "2025/11/02 02:00"),
        (datetime(2025, 11, 2, 7, 0, tzinfo=UTC), "2025/11/02 02:00", "2025/11/02 02:00"),
        # Spring forward skips 02:00-02:59; instants around it are plain.
        (datetime(2025, 3, 9, 6, 59, tzinfo=UTC), "2025/03/09 01:59", "2025/03/09 01:59"),
        (datetime(2025, 3, 9, 7, 0, tzinfo=UTC), "2025/03/09 03:00", "2025/03/09 03:00"),
        (datetime(2025, 11, 5, 14, 7, 31, tzinfo=UTC), "2025/11/05 09:07", "2025/11/05 09:07"),
    ],
)
def test_new_york_bounds_around_the_transitions(moment: datetime, lower: str, upper: str) -> None:
    zone = user_zone("America/New_York")
    assert lower_literal(moment, zone) == lower
    assert upper_literal(moment, zone) == upper


def test_the_window_query_is_bounded_on_both_sides_and_quotes_projects() -> None:
    jql = updated_between(
        lower=datetime(2025, 11, 2, 5, 29, tzinfo=UTC),
        upper=datetime(2025, 11, 2, 12, 0, tzinfo=UTC),
        zone=user_zone("America/New_York"),
        projects=["CORE", "10002"],
    )
    assert jql == (
        'project in ("CORE", "10002") AND updated >= "2025/11/02 00:59" '
        'AND updated <= "2025/11/02 07:00" ORDER BY updated ASC'
    )


def test_an_unknown_time_zone_is_an_error_that_says_what_to_change() -> None:
    with pytest.raises(SourceError, match="Jira profile"):
        user_zone("Mars/Olympus_Mons")
