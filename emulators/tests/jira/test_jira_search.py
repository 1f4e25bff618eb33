"""Enhanced JQL search: token paging, short and empty pages, fields/expand semantics,
bounded queries, the retired endpoint, and permission-limited projects."""

from __future__ import annotations

from typing import Any

import pytest

from jira_emulator import EmulatorHandle, EmulatorSettings, SearchSettings, SeedSettings

from .jira_http import JiraHttp

ALL_ISSUES = "updated >= '2025-01-01 00:00' ORDER BY updated ASC, key"


async def _page_through(
    http: JiraHttp, *, jql: str, max_results: int, fields: str | None = None, post: bool = False
) -> tuple[list[list[dict[str, Any]]], list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    replies: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        if post:
            body: dict[str, Any] = {"jql": jql, "maxResults": max_results}
            if fields:
                body["fields"] = fields.split(",")
            if token:
                body["nextPageToken"] = token
            reply = await http.post("/rest/api/3/search/jql", body=body)
        else:
            params = {"jql": jql, "maxResults": str(max_results)}
            if fields:
                params["fields"] = fields
            if token:
                params["nextPageToken"] = token
            reply = await http.get("/rest/api/3/search/jql", params=params)
        assert reply.status == 200, reply.text
        data = reply.json()
        pages.append(data["issues"])
        replies.append(data)
        token = data.get("nextPageToken")
        assert data["isLast"] is (token is None)
        if token is None:
            return pages, replies
        assert len(pages) < 500, "paging never ends"


async def test_token_paging_with_short_and_empty_pages_returns_every_issue_once(
    site_factory: Any,
) -> None:
    settings = EmulatorSettings(
        seed=SeedSettings(seed=3, issues=250),
        search=SearchSettings(fields_page_cap=40, jitter_page_sizes=True, empty_last_page=True),
    )
    jira: EmulatorHandle = await site_factory(settings)
    import aiohttp

    async with aiohttp.ClientSession(headers=jira.basic_auth_header()) as session:
        http = JiraHttp(session, base_url=jira.base_url)
        pages, _ = await _page_through(http, jql=ALL_ISSUES, max_results=100, fields="updated")
    ids = [issue["id"] for page in pages for issue in page]
    assert sorted(ids) == sorted(r.id for r in jira.control.issue_refs())
    assert len(ids) == len(set(ids))
    sizes = [len(p) for p in pages]
    assert max(sizes) <= 40, "pages with fields are capped below maxResults"
    assert any(0 < s < 40 for s in sizes[:-1]), f"a short non-last page occurs: {sizes}"
    updated = [issue["fields"]["updated"] for page in pages for issue in page]
    assert len(updated) == len(ids)


async def test_a_full_final_page_is_followed_by_an_empty_last_page(
    jira: EmulatorHandle, http: JiraHttp
) -> None:
    total = len(jira.control.issue_refs(project="CORE"))
    pages, replies = await _page_through(http, jql="project = CORE", max_results=total)
    assert [len(p) for p in pages] == [total, 0]
    assert replies[-1] == {"issues": [], "isLast": True}


async def test_offset_tokens_page_through_the_same_results(
    jira: EmulatorHandle, http: JiraHttp
) -> None:
    keyset, _ = await _page_through(http, jql=ALL_ISSUES, max_results=17)
    jira.control.configure_search(token_mode="offset")
    offset, _ = await _page_through(http, jql=ALL_ISSUES, max_results=17, post=True)
    assert [i["id"] for p in keyset for i in p] == [i["id"] for p in offset for i in p]


async def test_default_fields_return_ids_only(http: JiraHttp) -> None:
    reply = await http.get(
        "/rest/api/3/search/jql", params={"jql": "project = WEB", "maxResults": "3"}
    )
    issues = reply.json()["issues"]
    assert issues
    assert all(set(i) == {"id"} for i in issues)


async def test_ids_only_pages_reach_5000_and_field_pages_stop_at_the_cap(
    jira: EmulatorHandle, http: JiraHttp
) -> None:
    total = len(jira.control.issue_refs())
    ids = await http.get("/rest/api/3/search/jql", params={"jql": ALL_ISSUES, "maxResults": "9999"})
    assert len(ids.json()["issues"]) == total
    full = await http.get(
        "/rest/api/3/search/jql", params={"jql": ALL_ISSUES, "maxResults": "9999", "fields": "*all"}
    )
    assert len(full.json()["issues"]) == 100


async def test_fields_and_expand_shape_the_issue(http: JiraHttp) -> None:
    reply = await http.get(
        "/rest/api/3/search/jql",
        params={
            "jql": "project = CORE",
            "maxResults": "2",
            "fields": "summary,-summary,status,customfield_10030",
            "expand": "names,renderedFields,transitions",
        },
    )
    data = reply.json()
    issue = data["issues"][0]
    assert set(issue["fields"]) == {"status", "customfield_10030"}
    assert data["names"] == {"status": "Status", "customfield_10030": "Customer 🌍 Région"}
    assert "renderedFields" in issue
    assert "transitions" in issue
    assert "changelog" not in issue
    excluded = await http.get(
        "/rest/api/3/search/jql",
        params={"jql": "project = CORE", "maxResults": "1", "fields": "*all,-comment,-worklog"},
    )
    fields = excluded.json()["issues"][0]["fields"]
    assert "comment" not in fields
    assert "worklog" not in fields
    assert "summary" in fields


async def test_fields_by_keys_selects_app_fields_by_their_key(http: JiraHttp) -> None:
    by_key = await http.get(
        "/rest/api/3/search/jql",
        params={
            "jql": "project = CORE",
            "maxResults": "1",
            "fields": "acme-risk__risk-score",
            "fieldsByKeys": "true",
        },
    )
    assert set(by_key.json()["issues"][0]["fields"]) == {"customfield_10060"}
    by_id = await http.get(
        "/rest/api/3/search/jql",
        params={"jql": "project = CORE", "maxResults": "1", "fields": "acme-risk__risk-score"},
    )
    assert set(by_id.json()["issues"][0]) == {"expand", "id", "self", "key", "fields"}
    assert by_id.json()["issues"][0]["fields"] == {}


@pytest.mark.parametrize("jql", ["", "ORDER BY key DESC", "  order by updated asc  "])
async def test_unbounded_jql_is_refused_with_400(http: JiraHttp, jql: str) -> None:
    reply = await http.get("/rest/api/3/search/jql", params={"jql": jql})
    assert reply.status == 400
    assert reply.json() == {
        "errorMessages": [
            "Unbounded JQL queries are not allowed here. Please add a search restriction to "
            "your query."
        ],
        "errors": {},
    }


async def test_retired_search_answers_410_with_the_migration_body(http: JiraHttp) -> None:
    for reply in (
        await http.get("/rest/api/3/search", params={"jql": "project = CORE"}),
        await http.post("/rest/api/3/search", body={"jql": "project = CORE"}),
    ):
        assert reply.status == 410
        assert reply.json() == {
            "errorMessages": [
                "The requested API has been removed. Please migrate to the /rest/api/3/search/jql "
                "API. A full migration guideline is available at "
                "https://developer.atlassian.com/changelog/#CHANGE-2046"
            ],
            "errors": {},
        }


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("colour = red", "Field 'colour' does not exist or you do not have permission to view it."),
        (
            "updated >= 'yesterday-ish'",
            "Date value 'yesterday-ish' for field 'updated' is invalid.",
        ),
        ("project = CORE AND", "Error in the JQL Query: Expecting a field name but got the end"),
    ],
)
async def test_invalid_jql_is_a_400_naming_the_problem(
    http: JiraHttp, jql: str, message: str
) -> None:
    reply = await http.get("/rest/api/3/search/jql", params={"jql": jql})
    assert reply.status == 400
    assert reply.json()["errorMessages"][0].startswith(message)


async def test_a_token_from_another_query_or_garbage_is_refused(http: JiraHttp) -> None:
    first = await http.get("/rest/api/3/search/jql", params={"jql": ALL_ISSUES, "maxResults": "5"})
    token = first.json()["nextPageToken"]
    other = await http.get(
        "/rest/api/3/search/jql", params={"jql": "project = CORE", "nextPageToken": token}
    )
    garbage = await http.get(
        "/rest/api/3/search/jql", params={"jql": ALL_ISSUES, "nextPageToken": "%%%not-a-token"}
    )
    for reply in (other, garbage):
        assert reply.status == 400
        assert reply.json()["errorMessages"] == ["Invalid format of nextPageToken"]


async def test_project_lists_and_ordering(jira: EmulatorHandle, http: JiraHttp) -> None:
    reply = await http.get(
        "/rest/api/3/search/jql",
        params={
            "jql": "project in (CORE, WEB) ORDER BY created DESC",
            "maxResults": "5000",
            "fields": "created,project",
        },
    )
    issues = reply.json()["issues"]
    expected = {r.id for r in jira.control.issue_refs(project="CORE")} | {
        r.id for r in jira.control.issue_refs(project="WEB")
    }
    assert {i["id"] for i in issues} == expected
    created = [jira.control.issue(i["id"]).created_ms for i in issues]
    assert created == sorted(created, reverse=True)


@pytest.mark.parametrize(
    ("order", "sort_key"),
    [
        ("key DESC", lambda i: (i.project_key, i.number)),
        ("updated DESC, key ASC", lambda i: (i.updated_ms, i.project_key, i.number)),
    ],
)
async def test_keyset_paging_follows_the_order_by_clause(
    jira: EmulatorHandle, http: JiraHttp, order: str, sort_key: Any
) -> None:
    pages, _ = await _page_through(
        http, jql=f"project in (CORE, WEB) ORDER BY {order}", max_results=7
    )
    seen = [jira.control.issue(i["id"]) for page in pages for i in page]
    if order.startswith("key"):
        assert [sort_key(i) for i in seen] == sorted((sort_key(i) for i in seen), reverse=True)
    else:
        updated = [i.updated_ms for i in seen]
        assert updated == sorted(updated, reverse=True)
    assert len({i.id for i in seen}) == len(seen)


async def test_approximate_count_and_post_body_validation(
    jira: EmulatorHandle, http: JiraHttp, openapi: Any
) -> None:
    count = await http.post("/rest/api/3/search/approximate-count", body={"jql": "project = OPS"})
    assert count.json() == {"count": len(jira.control.issue_refs(project="OPS"))}
    assert not openapi.errors("/rest/api/3/search/approximate-count", "post", 200, count.json())
    unknown = await http.post("/rest/api/3/search/jql", body={"jql": "project = OPS", "startAt": 5})
    assert unknown.status == 400
    assert unknown.json()["errorMessages"] == ['Unrecognized field "startAt".']
