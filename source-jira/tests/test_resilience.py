"""Rate limits, server errors, vanished items and refused credentials."""

from __future__ import annotations

import logging

import pytest

from connector_kit.errors import ConfigError
from jira_emulator import EmulatorHandle

from .conftest import config_for
from .session import capture, run
from .site_data import child_keys, latest_issues, site_children, site_issues


async def test_a_429_storm_with_retry_after_2_is_waited_out_and_the_capture_completes(
    jira: EmulatorHandle,
) -> None:
    jira.control.faults.rate_limit_storm(count=3, retry_after_s=2, path_contains="/search/jql")
    output = await capture(config_for(jira), ["issues"], site=jira)

    assert latest_issues(output.documents("issues")) == site_issues(jira)
    assert jira.control.faults.served[429] == 3
    # Every retry waited for the Retry-After: none came early (which Jira punishes).
    assert jira.control.faults.early_retries == 0


async def test_503_with_retry_after_and_500s_are_retried(jira: EmulatorHandle) -> None:
    jira.control.faults.unavailable(count=2, retry_after_s=1, path_contains="/search/jql")
    jira.control.faults.server_errors(count=2, path_contains="/comment")
    jira.control.faults.server_errors(count=1, status=502, path_contains="/serverInfo")
    output = await capture(config_for(jira), ["issues", "issue_comments"], site=jira)

    assert latest_issues(output.documents("issues")) == site_issues(jira)
    assert child_keys(output.documents("issue_comments")) == site_children(jira, "comments")
    assert jira.control.faults.served[503] == 2
    assert jira.control.faults.served[500] == 2


async def test_an_issue_deleted_between_search_and_fetch_is_skipped_with_a_warning(
    jira: EmulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    heavy = [
        ref for ref in jira.control.issue_refs() if len(jira.control.issue(ref.id).comments) > 20
    ]
    gone, kept = heavy[0], heavy[1]
    # The search index still lists the issue; fetching its comments answers 404.
    jira.control.set_consistency_delay(3600)
    jira.control.delete_issue(gone.key)

    with caplog.at_level(logging.WARNING, logger="source_jira"):
        output = await capture(config_for(jira), ["issue_comments"], site=jira)

    captured = child_keys(output.documents("issue_comments"))
    assert {issue for _, issue in captured} >= {kept.id}
    assert gone.id not in {issue for _, issue in captured}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"comments of issue {gone.id}" in w for w in warnings), warnings


async def test_rejected_credentials_fail_validation_with_what_to_fix(
    jira: EmulatorHandle,
) -> None:
    token = "ATATT-not-the-right-token"
    config = config_for(
        jira, credentials={"auth_type": "api_token", "email": jira.email, "api_token": token}
    )
    output = await run([{"validate": {"name": "acmeCo/source-jira", "config": config}}])

    assert isinstance(output.error, ConfigError)
    message = str(output.error)
    assert "401" in message
    assert "API token" in message
    assert token not in message
