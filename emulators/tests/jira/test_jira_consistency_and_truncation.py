"""The search index lags behind GET issue; embedded child lists are truncated like Jira's,
and the child endpoints page through the rest."""

from __future__ import annotations

from datetime import UTC, datetime

from jira_emulator import EmulatorHandle

from .jira_http import JiraHttp

PROBE = "labels = lag-probe"


async def _updated_in_search(http: JiraHttp, jql: str) -> list[str]:
    reply = await http.get(
        "/rest/api/3/search/jql", params={"jql": jql, "fields": "updated", "maxResults": "50"}
    )
    assert reply.status == 200, reply.text
    return [i["fields"]["updated"] for i in reply.json()["issues"]]


async def test_an_update_reaches_search_only_after_the_consistency_delay(
    jira: EmulatorHandle, http: JiraHttp
) -> None:
    before = datetime(2025, 11, 6, 12, 0, tzinfo=UTC)
    after = datetime(2025, 11, 6, 12, 30, tzinfo=UTC)
    ref = jira.control.create_issue(project="WEB", labels=["lag-probe"], created=before)
    jira.control.set_consistency_delay(30)
    jira.control.update_issue(ref.key, updated=after, summary="Changed while the index lags")

    direct = await http.get(f"/rest/api/3/issue/{ref.key}", params={"fields": "updated,summary"})
    assert direct.json()["fields"]["updated"] == "2025-11-06T07:30:00.000-0500"
    assert await _updated_in_search(http, PROBE) == ["2025-11-06T07:00:00.000-0500"]
    assert await _updated_in_search(http, PROBE + " AND updated >= '2025-11-06 07:15'") == []

    jira.control.clock.advance(31)
    assert await _updated_in_search(http, PROBE) == ["2025-11-06T07:30:00.000-0500"]


async def test_new_and_deleted_issues_lag_in_search_but_not_in_get_issue(
    jira: EmulatorHandle, http: JiraHttp
) -> None:
    doomed = jira.control.create_issue(project="WEB", labels=["lag-probe"])
    jira.control.set_consistency_delay(10)
    fresh = jira.control.create_issue(project="WEB", labels=["lag-probe"])
    jira.control.delete_issue(doomed.key)

    reply = await http.get("/rest/api/3/search/jql", params={"jql": PROBE})
    assert [i["id"] for i in reply.json()["issues"]] == [doomed.id]
    gone = await http.get(f"/rest/api/3/issue/{doomed.id}")
    assert gone.status == 404
    assert gone.json() == {
        "errorMessages": ["Issue does not exist or you do not have permission to see it."],
        "errors": {},
    }
    assert (await http.get(f"/rest/api/3/issue/{fresh.key}")).status == 200

    reconciled = await http.get(
        "/rest/api/3/search/jql",
        params={"jql": PROBE, "reconcileIssues": f"{doomed.id},{fresh.id}"},
    )
    assert [i["id"] for i in reconciled.json()["issues"]] == [fresh.id]

    jira.control.clock.advance(11)
    settled = await http.get("/rest/api/3/search/jql", params={"jql": PROBE})
    assert [i["id"] for i in settled.json()["issues"]] == [fresh.id]


def _crowded_issue(jira: EmulatorHandle, attribute: str, more_than: int) -> str:
    for ref in jira.control.issue_refs():
        if len(getattr(jira.control.issue(ref.key), attribute)) > more_than:
            return ref.key
    raise AssertionError(f"the seed has no issue with more than {more_than} {attribute}")


async def test_search_embeds_at_most_20_comments_and_worklogs(
    jira: EmulatorHandle, http: JiraHttp
) -> None:
    key = _crowded_issue(jira, "comments", 20)
    total = len(jira.control.issue(key).comments)
    reply = await http.get(
        "/rest/api/3/search/jql",
        params={"jql": f"key = {key}", "fields": "comment,worklog", "expand": "changelog"},
    )
    issue = reply.json()["issues"][0]
    comments = issue["fields"]["comment"]
    assert len(comments["comments"]) == 20
    assert comments["total"] == total > comments["maxResults"] == 20
    assert len(issue["changelog"]["histories"]) <= 20

    page_ids: list[str] = []
    start = 0
    while True:
        page = (
            await http.get(
                f"/rest/api/3/issue/{key}/comment",
                params={"startAt": str(start), "maxResults": "8"},
            )
        ).json()
        assert page["total"] == total
        page_ids += [c["id"] for c in page["comments"]]
        start += len(page["comments"])
        if not page["comments"] or start >= page["total"]:
            break
    assert page_ids == [str(c.id) for c in jira.control.issue(key).comments]


async def test_get_issue_embeds_20_worklogs_and_the_100_latest_changelog_entries(
    jira: EmulatorHandle, http: JiraHttp
) -> None:
    worklog_key = _crowded_issue(jira, "worklogs", 20)
    issue = (
        await http.get(f"/rest/api/3/issue/{worklog_key}", params={"fields": "worklog"})
    ).json()
    worklog = issue["fields"]["worklog"]
    assert len(worklog["worklogs"]) == 20 < worklog["total"]
    full = (await http.get(f"/rest/api/3/issue/{worklog_key}/worklog")).json()
    assert len(full["worklogs"]) == full["total"] == worklog["total"]

    history_key = _crowded_issue(jira, "histories", 100)
    histories = jira.control.issue(history_key).histories
    expanded = (
        await http.get(
            f"/rest/api/3/issue/{history_key}", params={"expand": "changelog", "fields": "id"}
        )
    ).json()["changelog"]
    assert expanded["total"] == len(histories) > 100
    assert [h["id"] for h in expanded["histories"]] == [str(h.id) for h in reversed(histories)][
        :100
    ]

    seen: list[str] = []
    start = 0
    while True:
        page = (
            await http.get(
                f"/rest/api/3/issue/{history_key}/changelog", params={"startAt": str(start)}
            )
        ).json()
        seen += [h["id"] for h in page["values"]]
        if page["isLast"]:
            assert "nextPage" not in page
            break
        assert page["nextPage"].endswith(f"startAt={start + 100}&maxResults=100")
        start += len(page["values"])
    assert seen == [str(h.id) for h in histories]


async def test_comments_added_through_control_bump_the_issue_and_are_adf(
    jira: EmulatorHandle, http: JiraHttp
) -> None:
    ref = jira.control.create_issue(project="CORE", created=datetime(2025, 11, 1, tzinfo=UTC))
    at = datetime(2025, 11, 7, 9, 15, tzinfo=UTC)
    jira.control.add_comment(ref.key, body="*Ünïcode* comment 🚀\n\n- one\n- two", created=at)
    issue = (
        await http.get(f"/rest/api/3/issue/{ref.key}", params={"fields": "comment,updated"})
    ).json()
    assert issue["fields"]["updated"] == "2025-11-07T04:15:00.000-0500"
    body = issue["fields"]["comment"]["comments"][0]["body"]
    assert body["type"] == "doc"
    assert body["version"] == 1
    assert body["content"][0]["content"][0] == {
        "type": "text",
        "text": "Ünïcode",
        "marks": [{"type": "strong"}],
    }
    assert body["content"][1]["type"] == "bulletList"
    rendered = (
        await http.get(f"/rest/api/3/issue/{ref.key}/comment", params={"expand": "renderedBody"})
    ).json()
    assert rendered["comments"][0]["renderedBody"].startswith("<p><b>Ünïcode</b> comment 🚀</p>")
