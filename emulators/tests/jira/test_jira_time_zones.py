"""JQL dates are wall-clock times in the requesting user's zone at minute resolution, and
timestamps are rendered in that zone — across the America/New_York fall-back hour."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from jira_emulator import EmulatorHandle
from jira_emulator.jiratime import format_timestamp, parse_date_literal

from .jira_http import JiraHttp, basic_auth

NY = "America/New_York"
FIRST_0130 = datetime(2025, 11, 2, 5, 30, tzinfo=UTC)  # 01:30 EDT (-0400)
SECOND_0130 = datetime(2025, 11, 2, 6, 30, tzinfo=UTC)  # 01:30 EST (-0500)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def test_timestamps_carry_the_offset_in_force_at_that_instant() -> None:
    assert format_timestamp(_ms(FIRST_0130), NY) == "2025-11-02T01:30:00.000-0400"
    assert format_timestamp(_ms(SECOND_0130) + 7, NY) == "2025-11-02T01:30:00.007-0500"
    assert format_timestamp(_ms(FIRST_0130), "Asia/Kolkata") == "2025-11-02T11:00:00.000+0530"
    assert format_timestamp(_ms(FIRST_0130), "UTC") == "2025-11-02T05:30:00.000+0000"


def test_an_ambiguous_wall_time_resolves_to_standard_time_unless_configured() -> None:
    later = parse_date_literal("2025-11-02 01:30", tz_name=NY, now_ms=0)
    earlier = parse_date_literal("2025/11/02 01:30", tz_name=NY, now_ms=0, ambiguous="earlier")
    assert later == _ms(SECOND_0130)
    assert earlier == _ms(FIRST_0130)


def test_a_wall_time_in_the_spring_gap_moves_forward() -> None:
    resolved = parse_date_literal("2025-03-09 02:30", tz_name=NY, now_ms=0)
    assert resolved == _ms(datetime(2025, 3, 9, 7, 30, tzinfo=UTC))  # 03:30 EDT


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("2025-11-05", datetime(2025, 11, 5, 5, 0, tzinfo=UTC)),
        ("2025/11/05 09:07", datetime(2025, 11, 5, 14, 7, tzinfo=UTC)),
        ("1762351620000", datetime(2025, 11, 5, 14, 7, tzinfo=UTC)),
        ("-1d", datetime(2025, 11, 4, 14, 7, tzinfo=UTC)),
        ("-1w 2d", datetime(2025, 10, 27, 14, 7, tzinfo=UTC)),
    ],
)
def test_date_literal_forms(literal: str, expected: datetime) -> None:
    now = _ms(datetime(2025, 11, 5, 14, 7, tzinfo=UTC))
    assert parse_date_literal(literal, tz_name=NY, now_ms=now) == _ms(expected)


async def _search_ids(
    http: JiraHttp, jql: str, *, headers: dict[str, str] | None = None
) -> list[str]:
    reply = await http.get(
        "/rest/api/3/search/jql", params={"jql": jql, "maxResults": "5000"}, headers=headers
    )
    assert reply.status == 200, reply.text
    return [i["id"] for i in reply.json()["issues"]]


def _probe(jira: EmulatorHandle, label: str, *moments: datetime) -> list[str]:
    return [
        jira.control.create_issue(project="CORE", labels=[label], created=m, updated=m).id
        for m in moments
    ]


async def test_jql_in_new_york_reads_the_repeated_hour_as_standard_time(
    jira: EmulatorHandle, http: JiraHttp
) -> None:
    first, second = _probe(jira, "dst-probe", FIRST_0130, SECOND_0130)
    window = (
        "labels = dst-probe AND updated >= '2025-11-02 01:30' AND updated <= '2025-11-02 01:59'"
    )
    assert await _search_ids(http, window) == [second]
    before_overlap = "labels = dst-probe AND updated >= '2025-11-02 00:59'"
    assert sorted(await _search_ids(http, before_overlap)) == sorted([first, second])


async def test_rendered_and_queried_times_follow_each_users_zone(
    jira: EmulatorHandle, http: JiraHttp
) -> None:
    first, second = _probe(jira, "tz-probe", FIRST_0130, SECOND_0130)
    reply = await http.get(
        "/rest/api/3/search/jql",
        params={"jql": "labels = tz-probe ORDER BY updated ASC", "fields": "updated"},
    )
    assert [i["fields"]["updated"] for i in reply.json()["issues"]] == [
        "2025-11-02T01:30:00.000-0400",
        "2025-11-02T01:30:00.000-0500",
    ]
    berlin = next(a for a in jira.control.accounts if a.user.time_zone == "Europe/Berlin")
    assert berlin.user.email
    assert berlin.api_token
    auth = basic_auth(berlin.user.email, berlin.api_token)
    as_berlin = await http.get(
        "/rest/api/3/issue/" + first, params={"fields": "updated"}, headers=auth
    )
    assert as_berlin.json()["fields"]["updated"] == "2025-11-02T06:30:00.000+0100"
    ids = await _search_ids(
        http, "labels = tz-probe AND updated >= '2025-11-02 06:30'", headers=auth
    )
    assert sorted(ids) == sorted([first, second])


async def test_jql_dates_have_minute_resolution(jira: EmulatorHandle, http: JiraHttp) -> None:
    on_minute, mid_minute, next_minute = _probe(
        jira,
        "minute-probe",
        datetime(2025, 11, 5, 14, 7, tzinfo=UTC),
        datetime(2025, 11, 5, 14, 7, 30, tzinfo=UTC),
        datetime(2025, 11, 5, 14, 8, tzinfo=UTC),
    )
    upto = await _search_ids(http, "labels = minute-probe AND updated <= '2025-11-05 09:07'")
    assert upto == [on_minute]
    within = await _search_ids(
        http,
        "labels = minute-probe AND updated >= '2025-11-05 09:07' AND updated < '2025-11-05 09:08' "
        "ORDER BY updated ASC",
    )
    assert within == [on_minute, mid_minute]
    assert next_minute not in within


async def test_seeded_data_covers_the_fall_back_hour_and_a_crowded_minute(
    jira: EmulatorHandle, http: JiraHttp
) -> None:
    reply = await http.get(
        "/rest/api/3/search/jql",
        params={
            "jql": "updated >= 1762059600000 AND updated < 1762066800000",
            "fields": "updated",
            "maxResults": "100",
        },
    )
    offsets = {i["fields"]["updated"][-5:] for i in reply.json()["issues"]}
    assert offsets == {"-0400", "-0500"}
    crowded: list[Any] = [
        r
        for r in jira.control.issue_refs()
        if jira.control.issue(r.id).updated_ms // 60_000 == 1762351620000 // 60_000
    ]
    assert len(crowded) == 120 // 10
