"""Incremental issues never miss an update: DST, crowded minutes, restarts, a lagging index."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from jira_emulator import EmulatorHandle, SearchSettings, SeedSettings
from jira_emulator.jiratime import parse_date_literal

from .conftest import SITE_NOW, StartSite, config_for, site_settings
from .session import capture
from .site_data import child_keys, latest_issues, site_children, site_issues, updated_ms

FALL_BACK_START = datetime(2025, 11, 2, 5, 0, tzinfo=UTC)  # 01:00 EDT, the hour that repeats


async def test_updates_across_the_new_york_fall_back_hour_are_all_captured(
    start_site: StartSite,
) -> None:
    # The account's time zone is America/New_York; 80 issues change during the hour
    # that happens twice. Sessions stop every 20 minutes, so windows start and end
    # at wall-clock times that name two instants.
    jira = await start_site(
        site_settings(
            seed=SeedSettings(seed=11, issues=120, dst_fallback_issues=80, same_minute_issues=0),
            start_time=FALL_BACK_START,
        )
    )
    assert jira.control.accounts[0].user.time_zone == "America/New_York"
    config = config_for(jira, start_date="2025-11-01T00:00:00Z", lookback_horizon="PT0S")
    # Jira reads "01:09" as 01:09 EST (06:09 UTC): a naive lower bound at 05:09 UTC
    # would skip the changes of the next hour. Make sure the data has some.
    ambiguous = parse_date_literal("2025/11/02 01:09", tz_name="America/New_York", now_ms=0)
    assert ambiguous is not None
    hazard = [
        ms
        for ms in site_issues(jira).values()
        if FALL_BACK_START.timestamp() * 1000 + 9 * 60_000 <= ms < ambiguous
    ]
    assert ambiguous == int(datetime(2025, 11, 2, 6, 9, tzinfo=UTC).timestamp() * 1000)
    assert len(hazard) > 10

    captured: list[dict[str, Any]] = []
    state = None
    stops = [FALL_BACK_START + timedelta(minutes=m) for m in (10, 30, 50, 70, 90, 110, 130)]
    for stop in [*stops, SITE_NOW]:
        jira.control.clock.set(stop)
        output = await capture(config, ["issues"], site=jira, state=state)
        captured += output.documents("issues")
        state = output.final_state(state)

    expected = site_issues(jira, since=datetime(2025, 11, 1, tzinfo=UTC))
    assert latest_issues(captured) == expected


async def test_600_issues_in_one_minute_survive_a_restart_mid_page_without_duplicates(
    start_site: StartSite,
) -> None:
    jira = await start_site(
        site_settings(
            seed=SeedSettings(
                seed=12, issues=700, dst_fallback_issues=0, same_minute_issues=600, heavy_fraction=0
            ),
            search=SearchSettings(fields_page_cap=100, jitter_page_sizes=True),
        )
    )
    config = config_for(jira)
    expected = site_issues(jira)
    crowded = datetime(2025, 11, 5, 14, 7, tzinfo=UTC)

    full = await capture(config, ["issues"], site=jira)
    assert Counter(doc["id"] for doc in full.documents("issues")) == Counter(set(expected))
    cursors = [
        cp["updated"]["bindingStateV1"]["issues"]["inc"]["cursor"][0] for cp in full.checkpoints
    ]
    # No checkpoint falls inside the crowded minute: its 600 issues span many pages and
    # are committed together, after the last checkpoint before it.
    inside = [
        c for c in cursors if crowded < datetime.fromisoformat(c) < crowded + timedelta(minutes=1)
    ]
    assert not inside
    assert jira.control.request_count(path_contains="/search/jql") >= 8

    for n in range(1, len(full.checkpoints) + 1):
        committed = full.through_checkpoint(n)
        restarted = await capture(config, ["issues"], site=jira, state=committed.final_state())
        ids = [d["id"] for d in committed.documents("issues") + restarted.documents("issues")]
        repeated = [i for i, count in Counter(ids).items() if count > 1]
        assert not repeated, f"restart after checkpoint {n} repeated {len(repeated)} issues"
        assert set(ids) == set(expected), f"restart after checkpoint {n} lost issues"


async def test_an_update_search_shows_late_is_captured_by_the_lookback(
    start_site: StartSite,
) -> None:
    for horizon, caught in (("PT30M", True), ("PT0S", False)):
        jira = await start_site(site_settings())
        config = config_for(jira, lookback_horizon=horizon)
        first = await capture(config, ["issues"], site=jira)
        state = first.final_state()

        # An edit at 12:01 reaches the search index ten minutes later.
        late = jira.control.issue_refs()[0]
        jira.control.set_consistency_delay(600)
        jira.control.clock.set(SITE_NOW + timedelta(minutes=1))
        edited_at = SITE_NOW + timedelta(minutes=1)
        jira.control.update_issue(
            late.key, summary="Edited while the index lagged", updated=edited_at
        )

        jira.control.clock.set(SITE_NOW + timedelta(minutes=3))
        second = await capture(config, ["issues"], site=jira, state=state)
        state = second.final_state(state)
        assert late.id not in {d["id"] for d in second.documents("issues")}

        jira.control.clock.set(SITE_NOW + timedelta(minutes=45))
        third = await capture(config, ["issues"], site=jira, state=state)
        versions = [updated_ms(d) for d in third.documents("issues") if d["id"] == late.id]
        assert (int(edited_at.timestamp() * 1000) in versions) is caught, horizon


async def test_restart_from_every_checkpoint_captures_exactly_the_site(
    jira: EmulatorHandle,
) -> None:
    config = config_for(jira)
    streams = ["issues", "issue_comments", "issue_worklogs", "issue_changelogs"]
    full = await capture(config, streams, site=jira)
    assert len(full.checkpoints) >= 8
    expected = {
        "issue_comments": site_children(jira, "comments"),
        "issue_worklogs": site_children(jira, "worklogs"),
        "issue_changelogs": site_children(jira, "changelogs"),
    }
    # Some issues hold more children than search embeds: those were fetched whole.
    assert jira.control.request_count(path_contains="/comment") > 0

    for n in range(1, len(full.checkpoints) + 1):
        committed = full.through_checkpoint(n)
        restarted = await capture(config, streams, site=jira, state=committed.final_state())
        issues = committed.documents("issues") + restarted.documents("issues")
        assert latest_issues(issues) == site_issues(jira), f"after checkpoint {n}"
        for stream, keys in expected.items():
            union = child_keys(committed.documents(stream) + restarted.documents(stream))
            assert union == keys, f"{stream} after checkpoint {n}"
