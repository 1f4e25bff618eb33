"""Rate limiting, failures and authentication behave as Jira Cloud documents them."""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from jira_emulator import AccountSettings, EmulatorHandle, EmulatorSettings, SeedSettings

from .jira_http import JiraHttp, basic_auth

RATE_HEADERS = (
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit-Reason",
)


async def test_a_429_storm_carries_jiras_rate_limit_headers(
    jira: EmulatorHandle, http: JiraHttp
) -> None:
    jira.control.faults.rate_limit_storm(count=2, retry_after_s=2, path_contains="/search/jql")
    params = {"jql": "project = CORE"}
    first = await http.get("/rest/api/3/search/jql", params=params)
    assert first.status == 429
    assert all(h in first.headers for h in RATE_HEADERS)
    assert first.headers["Retry-After"] == "2"
    assert first.headers["X-RateLimit-Remaining"] == "0"
    assert first.headers["RateLimit-Reason"] == "jira-cost-based"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", first.headers["X-RateLimit-Reset"])
    assert first.json()["errorMessages"]

    assert (await http.get("/rest/api/3/myself")).status == 200, "other paths are not limited"
    early = await http.get("/rest/api/3/search/jql", params=params)
    assert early.status == 429, "retrying before Retry-After elapses is refused again"
    assert jira.control.faults.early_retries == 1

    jira.control.clock.advance(2)
    assert (await http.get("/rest/api/3/search/jql", params=params)).status == 429
    jira.control.clock.advance(2)
    assert (await http.get("/rest/api/3/search/jql", params=params)).status == 200
    assert jira.control.request_count(path_contains="/search/jql", status=429) == 3


async def test_503_bursts_and_server_errors_then_recovery(
    jira: EmulatorHandle, http: JiraHttp
) -> None:
    jira.control.faults.unavailable(count=2, retry_after_s=5)
    jira.control.faults.server_errors(count=1, status=502)
    statuses = [(await http.get("/rest/api/3/myself")) for _ in range(4)]
    assert [r.status for r in statuses] == [503, 503, 502, 200]
    assert statuses[0].headers["Retry-After"] == "5"


async def test_a_request_budget_warns_near_the_limit_then_refuses(
    jira: EmulatorHandle, http: JiraHttp
) -> None:
    jira.control.faults.request_budget(limit=5, window_s=60)
    replies = [await http.get("/rest/api/3/serverInfo") for _ in range(6)]
    assert [r.status for r in replies] == [200, 200, 200, 200, 200, 429]
    assert "X-RateLimit-NearLimit" not in replies[0].headers
    assert replies[4].headers["X-RateLimit-NearLimit"] == "true"
    assert int(replies[5].headers["Retry-After"]) <= 60
    jira.control.clock.advance(61)
    assert (await http.get("/rest/api/3/serverInfo")).status == 200


async def test_requests_are_counted_per_issue(jira: EmulatorHandle, http: JiraHttp) -> None:
    jira.control.clear_requests()
    for suffix in ("", "/comment", "/worklog"):
        await http.get(f"/rest/api/3/issue/CORE-3{suffix}")
    await http.get("/rest/api/3/issue/CORE-4/changelog")
    assert jira.control.requests_per_issue() == {"CORE-3": 3, "CORE-4": 1}
    record = jira.control.requests()[-1]
    assert (record.method, record.path, record.status) == (
        "GET",
        "/rest/api/3/issue/CORE-4/changelog",
        200,
    )
    assert record.account == jira.email


async def test_wrong_or_missing_basic_credentials_get_401(
    jira: EmulatorHandle, anonymous: JiraHttp
) -> None:
    for headers in ({}, basic_auth(jira.email, "wrong-token"), {"Authorization": "Basic !!!"}):
        reply = await anonymous.get("/rest/api/3/myself", headers=headers)
        assert reply.status == 401
        assert reply.text == "Client must be authenticated to access this resource."
    assert (await anonymous.get("/rest/api/3/serverInfo")).status == 200


async def test_oauth_bearer_tokens_work_through_the_gateway_only(
    jira: EmulatorHandle, anonymous: JiraHttp
) -> None:
    bearer = jira.bearer_auth_header()
    gateway = jira.gateway_url.removeprefix(jira.base_url)
    me = await anonymous.get(f"{gateway}/rest/api/3/myself", headers=bearer)
    assert me.status == 200
    assert me.json()["emailAddress"] == jira.email
    issue = await anonymous.get(f"{gateway}/rest/api/3/issue/CORE-1", headers=bearer)
    assert issue.json()["self"].startswith(jira.gateway_url + "/rest/api/3/issue/")
    direct = await anonymous.get("/rest/api/3/myself", headers=bearer)
    assert direct.status == 401
    wrong_site = await anonymous.get("/ex/jira/not-a-cloud-id/rest/api/3/myself", headers=bearer)
    assert wrong_site.status == 404
    resources = await anonymous.get("/oauth/token/accessible-resources", headers=bearer)
    assert resources.json()[0]["id"] == jira.cloud_id


async def test_an_expired_access_token_is_refreshed_with_the_refresh_token(
    jira: EmulatorHandle, anonymous: JiraHttp
) -> None:
    gateway = jira.gateway_url.removeprefix(jira.base_url)
    jira.control.expire_access_tokens()
    expired = await anonymous.get(f"{gateway}/rest/api/3/myself", headers=jira.bearer_auth_header())
    assert expired.status == 401
    assert expired.json() == {"code": 401, "message": "Unauthorized"}
    refresh_token = jira.control.accounts[0].oauth_refresh_token
    settings = jira.emulator.settings
    refused = await anonymous.post(
        "/oauth/token",
        body={
            "grant_type": "refresh_token",
            "client_id": settings.oauth_client_id,
            "client_secret": settings.oauth_client_secret,
            "refresh_token": "stale",
        },
    )
    assert refused.status == 403
    granted = await anonymous.post(
        "/oauth/token",
        body={
            "grant_type": "refresh_token",
            "client_id": settings.oauth_client_id,
            "client_secret": settings.oauth_client_secret,
            "refresh_token": refresh_token,
        },
    )
    tokens = granted.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["refresh_token"] != refresh_token
    fresh = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await anonymous.get(f"{gateway}/rest/api/3/myself", headers=fresh)).status == 200


async def _as(handle: EmulatorHandle, account_index: int) -> tuple[aiohttp.ClientSession, JiraHttp]:
    account = handle.control.accounts[account_index]
    assert account.user.email
    assert account.api_token
    session = aiohttp.ClientSession(headers=basic_auth(account.user.email, account.api_token))
    return session, JiraHttp(session, base_url=handle.base_url)


async def test_a_limited_account_sees_its_projects_only_and_no_jira_software(
    jira: EmulatorHandle,
) -> None:
    session, limited = await _as(jira, 1)
    async with session:
        projects = (await limited.get("/rest/api/3/project/search")).json()["values"]
        assert [p["key"] for p in projects] == ["CORE"]
        reply = await limited.get(
            "/rest/api/3/search/jql", params={"jql": "updated >= -3650d", "fields": "project"}
        )
        assert {i["fields"]["project"]["key"] for i in reply.json()["issues"]} == {"CORE"}
        hidden = await limited.get("/rest/api/3/search/jql", params={"jql": "project = WEB"})
        assert hidden.status == 400
        assert hidden.json()["errorMessages"] == [
            "The value 'WEB' does not exist for the field 'project'."
        ]
        web_issue = jira.control.issue_refs(project="WEB")[0]
        assert (await limited.get(f"/rest/api/3/issue/{web_issue.key}")).status == 404
        for path in ("/rest/agile/1.0/board", "/rest/agile/1.0/board/1/sprint"):
            refused = await limited.get(path)
            assert refused.status == 403
            assert refused.json()["errorMessages"]
        assert (await limited.get("/rest/api/3/screens")).status == 403
        assert (await limited.get("/rest/api/3/users/search")).status == 403
        perms = await limited.get(
            "/rest/api/3/mypermissions", params={"permissions": "ADMINISTER,BROWSE_PROJECTS"}
        )
        have = {k: v["havePermission"] for k, v in perms.json()["permissions"].items()}
        assert have == {"ADMINISTER": False, "BROWSE_PROJECTS": True}
        workflows = (await limited.get("/rest/api/3/workflows/search")).json()
        assert workflows["values"] == []


async def test_a_site_without_jira_software_answers_agile_calls_with_a_dead_link(
    jira: EmulatorHandle, http: JiraHttp
) -> None:
    jira.control.set_software_installed(False)
    reply = await http.get("/rest/agile/1.0/board")
    assert reply.status == 404
    assert reply.headers["Content-Type"].startswith("text/html")
    assert "dead link" in reply.text


async def test_boards_sprints_and_board_issues(jira: EmulatorHandle, http: JiraHttp) -> None:
    boards = (await http.get("/rest/agile/1.0/board")).json()
    kinds = {b["id"]: b["type"] for b in boards["values"]}
    assert set(kinds.values()) == {"scrum", "kanban"}
    kanban = next(i for i, t in kinds.items() if t == "kanban")
    refused = await http.get(f"/rest/agile/1.0/board/{kanban}/sprint")
    assert refused.status == 400
    assert refused.json() == {"errorMessages": ["The board does not support sprints"], "errors": {}}
    sprints = (await http.get("/rest/agile/1.0/board/1/sprint")).json()["values"]
    assert {s["state"] for s in sprints} == {"closed", "active", "future"}
    sprint_issues = (await http.get(f"/rest/agile/1.0/sprint/{sprints[0]['id']}/issue")).json()
    for issue in sprint_issues["issues"]:
        assert sprints[0]["id"] in {s["id"] for s in issue["fields"]["customfield_10020"]}
    board_issues: list[Any] = []
    start = 0
    while True:
        page = (
            await http.get("/rest/agile/1.0/board/1/issue", params={"startAt": str(start)})
        ).json()
        board_issues += page["issues"]
        start += len(page["issues"])
        if start >= page["total"]:
            break
    assert len(board_issues) == len(jira.control.issue_refs(project="CORE"))


async def test_accounts_can_be_declared_in_settings(site_factory: Any) -> None:
    settings = EmulatorSettings(
        seed=SeedSettings(issues=5),
        accounts=(
            AccountSettings(
                email="solo@example.com",
                display_name="Solo",
                api_token="t0k",
                time_zone="Asia/Kolkata",
            ),
        ),
    )
    handle: EmulatorHandle = await site_factory(settings)
    async with aiohttp.ClientSession(headers=basic_auth("solo@example.com", "t0k")) as session:
        me = await JiraHttp(session, base_url=handle.base_url).get("/rest/api/3/myself")
    assert me.json()["timeZone"] == "Asia/Kolkata"
