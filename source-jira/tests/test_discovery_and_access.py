"""Discovery offers what the credentials can read; auth and the project filter."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from connector_kit.errors import ConfigError
from jira_emulator import EmulatorHandle

from .conftest import config_for
from .session import capture, run
from .site_data import latest_issues, site_issues

AGILE_STREAMS = {"boards", "sprints", "sprint_issues", "board_issues"}
ADMIN_STREAMS = {"workflows", "screens"}
USER_STREAMS = {"users", "groups"}


async def discover(config: dict[str, Any]) -> list[dict[str, Any]]:
    output = await run([{"discover": {"connectorType": "LOCAL", "config": config}}])
    if output.error is not None:
        raise output.error
    bindings: list[dict[str, Any]] = output.lines[0]["discovered"]["bindings"]
    return bindings


async def test_an_admin_discovers_every_stream_with_the_costly_ones_disabled(
    jira: EmulatorHandle,
) -> None:
    bindings = await discover(config_for(jira))
    names = [b["recommendedName"] for b in bindings]
    keys = {b["recommendedName"]: b["key"] for b in bindings}
    disabled = {b["recommendedName"] for b in bindings if b.get("disable")}

    assert len(names) >= 25
    assert keys["issues"] == ["/id"]
    for child in ("issue_comments", "issue_worklogs", "issue_changelogs", "issue_transitions"):
        assert keys[child] == ["/id", "/issueId"]
    assert keys["users"] == ["/accountId"]
    assert keys["labels"] == ["/label"]
    assert keys["permissions"] == ["/key"]
    assert set(names) >= AGILE_STREAMS | ADMIN_STREAMS | USER_STREAMS
    assert disabled == {
        "issue_worklogs",
        "issue_changelogs",
        "issue_transitions",
        "sprint_issues",
        "board_issues",
    }


async def test_a_token_without_jira_software_discovers_no_boards_or_sprints_and_captures(
    jira: EmulatorHandle,
) -> None:
    limited = jira.control.accounts[1]
    assert not limited.jira_software
    assert not limited.admin
    config = config_for(
        jira,
        credentials={
            "auth_type": "api_token",
            "email": limited.user.email,
            "api_token": limited.api_token,
        },
    )
    names = {b["recommendedName"] for b in await discover(config)}
    assert not names & (AGILE_STREAMS | ADMIN_STREAMS | USER_STREAMS)
    assert {"issues", "projects", "issue_comments", "labels"} <= names

    output = await capture(config, sorted(names), site=jira)
    issues = output.documents("issues")
    assert issues
    assert {d["key"].split("-")[0] for d in issues} == {"CORE"}
    assert {d["key"] for d in output.documents("projects")} == {"CORE"}


async def test_the_project_filter_accepts_keys_and_ids_and_captures_only_those(
    jira: EmulatorHandle,
) -> None:
    projects = {p.key: p.id for p in jira.emulator.site.projects.values()}
    config = config_for(jira, projects=["core", str(projects["OPS"])])
    output = await capture(config, ["issues", "projects"], site=jira)

    assert {d["key"].split("-")[0] for d in output.documents("issues")} == {"CORE", "OPS"}
    assert {d["key"] for d in output.documents("projects")} == {"CORE", "OPS"}


async def test_an_unknown_project_is_a_config_error_naming_it(jira: EmulatorHandle) -> None:
    with pytest.raises(ConfigError, match=r"NOPE.*it sees: CORE, OPS, WEB"):
        await discover(config_for(jira, projects=["CORE", "NOPE"]))


async def test_oauth2_refresh_token_captures_through_the_gateway(jira: EmulatorHandle) -> None:
    account = jira.control.accounts[0]
    refresh_token = account.oauth_refresh_token
    settings = jira.emulator.settings
    config = config_for(
        jira,
        credentials={
            "auth_type": "oauth2",
            "cloud_id": jira.cloud_id,
            "client_id": settings.oauth_client_id,
            "client_secret": settings.oauth_client_secret,
            "refresh_token": refresh_token,
            "api_url": jira.base_url,
            "token_url": f"{jira.base_url}/oauth/token",
        },
    )
    output = await capture(config, ["issues"], site=jira)

    assert latest_issues(output.documents("issues")) == site_issues(jira)
    assert account.oauth_refresh_token != refresh_token  # The token was exchanged.
    assert jira.control.request_count(path_contains="/oauth/token") == 1


async def test_an_oauth2_access_token_alone_is_used_as_a_bearer_token(jira: EmulatorHandle) -> None:
    config = config_for(
        jira,
        credentials={
            "auth_type": "oauth2",
            "cloud_id": jira.cloud_id,
            "access_token": jira.oauth_access_token,
            "api_url": jira.base_url,
        },
    )
    output = await capture(config, ["issue_types"], site=jira)
    assert output.documents("issue_types")


async def test_every_stream_captures_documents_that_match_its_schema_and_key(
    jira: EmulatorHandle,
) -> None:
    bindings = await discover(config_for(jira))
    streams = [b["recommendedName"] for b in bindings]
    output = await capture(config_for(jira), streams, site=jira)

    for binding in bindings:
        name = binding["recommendedName"]
        docs = output.documents(name)
        assert docs, f"{name} captured nothing"
        validator = jsonschema.Draft202012Validator(binding["documentSchema"])
        for doc in docs:
            errors = [e.message for e in validator.iter_errors(doc)]
            assert not errors, f"{name}: {errors[:3]}"
        keys = [tuple(_at(doc, pointer) for pointer in binding["key"]) for doc in docs]
        assert all(None not in key for key in keys), name
        assert len(set(keys)) == len(keys), f"{name} repeats a key within one session"


def _at(doc: dict[str, Any], pointer: str) -> Any:
    value: Any = doc
    for part in pointer.strip("/").split("/"):
        value = value.get(part) if isinstance(value, dict) else None
    return value
