"""Every platform endpoint's response is valid against the published OpenAPI response
schema of its operation (Jira Software agile endpoints are not in that document)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from jira_emulator import EmulatorHandle

from .jira_http import JiraHttp
from .jira_openapi import OpenApiResponses

ALL_EXPANDS = "renderedFields,names,schema,transitions,operations,editmeta,changelog"


@dataclass(frozen=True)
class Case:
    spec_path: str
    method: str
    url: str
    params: dict[str, str] | None = None
    body: Any = None
    status: int = 200


def _heavy_issue(jira: EmulatorHandle) -> str:
    issues = [jira.control.issue(r.key) for r in jira.control.issue_refs()]
    heavy = max(issues, key=lambda i: len(i.comments) + len(i.worklogs) + len(i.histories))
    return heavy.key


def _cases(issue_key: str, worklog_ids: list[int]) -> list[Case]:
    api = "/rest/api/3"
    issue = f"{api}/issue/{issue_key}"
    return [
        Case(f"{api}/myself", "get", f"{api}/myself", {"expand": "groups,applicationRoles"}),
        Case(f"{api}/serverInfo", "get", f"{api}/serverInfo"),
        Case(
            f"{api}/mypermissions",
            "get",
            f"{api}/mypermissions",
            {"permissions": "BROWSE_PROJECTS,ADMINISTER,EDIT_ISSUES"},
        ),
        Case(f"{api}/mypermissions", "get", f"{api}/mypermissions", status=400),
        Case(f"{api}/permissions", "get", f"{api}/permissions"),
        Case(f"{api}/search/jql", "get", f"{api}/search/jql", {"jql": "project = CORE"}),
        Case(
            f"{api}/search/jql",
            "get",
            f"{api}/search/jql",
            {
                "jql": "project in (CORE, WEB) ORDER BY updated ASC",
                "fields": "*all",
                "expand": ALL_EXPANDS,
                "maxResults": "30",
            },
        ),
        Case(
            f"{api}/search/jql",
            "post",
            f"{api}/search/jql",
            body={
                "jql": "updated >= '2025-10-01 00:00'",
                "fields": ["*navigable", "comment"],
                "expand": "renderedFields,versionedRepresentations",
                "maxResults": 10,
            },
        ),
        Case("/rest/api/3/issue/{issueIdOrKey}", "get", issue),
        Case("/rest/api/3/issue/{issueIdOrKey}", "get", issue, {"expand": ALL_EXPANDS}),
        Case(
            "/rest/api/3/issue/{issueIdOrKey}/comment",
            "get",
            f"{issue}/comment",
            {"expand": "renderedBody", "maxResults": "7", "startAt": "3"},
        ),
        Case("/rest/api/3/issue/{issueIdOrKey}/worklog", "get", f"{issue}/worklog"),
        Case(
            "/rest/api/3/issue/{issueIdOrKey}/changelog",
            "get",
            f"{issue}/changelog",
            {"maxResults": "5", "startAt": "2"},
        ),
        Case("/rest/api/3/issue/{issueIdOrKey}/transitions", "get", f"{issue}/transitions"),
        Case(f"{api}/worklog/updated", "get", f"{api}/worklog/updated", {"since": "0"}),
        Case(f"{api}/worklog/list", "post", f"{api}/worklog/list", body={"ids": worklog_ids}),
        Case(
            f"{api}/project/search",
            "get",
            f"{api}/project/search",
            {"expand": "description,lead,issueTypes,url,insight", "maxResults": "2"},
        ),
        Case("/rest/api/3/project/{projectIdOrKey}/version", "get", f"{api}/project/CORE/version"),
        Case(
            "/rest/api/3/project/{projectIdOrKey}/versions", "get", f"{api}/project/CORE/versions"
        ),
        Case(
            "/rest/api/3/project/{projectIdOrKey}/components",
            "get",
            f"{api}/project/CORE/components",
        ),
        Case("/rest/api/3/project/{projectIdOrKey}", "get", f"{api}/project/WEB"),
        Case(f"{api}/users/search", "get", f"{api}/users/search", {"maxResults": "100"}),
        Case(f"{api}/group/bulk", "get", f"{api}/group/bulk"),
        Case(f"{api}/field", "get", f"{api}/field"),
        Case(f"{api}/issuetype", "get", f"{api}/issuetype"),
        Case(f"{api}/priority/search", "get", f"{api}/priority/search", {"maxResults": "2"}),
        Case(f"{api}/resolution/search", "get", f"{api}/resolution/search"),
        Case(f"{api}/statuses/search", "get", f"{api}/statuses/search"),
        Case(f"{api}/status", "get", f"{api}/status"),
        Case(f"{api}/statuscategory", "get", f"{api}/statuscategory"),
        Case(f"{api}/label", "get", f"{api}/label"),
        Case(
            f"{api}/filter/search",
            "get",
            f"{api}/filter/search",
            {
                "expand": "description,owner,jql,viewUrl,searchUrl,favourite,favouritedCount,"
                "sharePermissions,editPermissions,subscriptions,approximateLastUsed"
            },
        ),
        Case(f"{api}/dashboard", "get", f"{api}/dashboard", {"maxResults": "2"}),
        Case(
            f"{api}/workflows/search",
            "get",
            f"{api}/workflows/search",
            {"expand": "values.transitions"},
        ),
        Case(f"{api}/screens", "get", f"{api}/screens"),
    ]


async def test_every_platform_response_matches_its_openapi_schema(
    jira: EmulatorHandle, http: JiraHttp, openapi: OpenApiResponses
) -> None:
    key = _heavy_issue(jira)
    worklog_ids = [
        w.id for i in jira.control.issue_refs()[:40] for w in jira.control.issue(i.key).worklogs
    ][:5]
    assert worklog_ids, "the seeded site should carry worklogs"
    problems: dict[str, list[str]] = {}
    for case in _cases(key, worklog_ids):
        if case.method == "get":
            reply = await http.get(case.url, params=case.params)
        else:
            reply = await http.post(case.url, body=case.body)
        label = f"{case.method.upper()} {case.url} {case.params or case.body or ''}"
        assert reply.status == case.status, f"{label}: {reply.status} {reply.text[:300]}"
        errors = openapi.errors(case.spec_path, case.method, case.status, reply.json())
        if errors:
            problems[label] = errors[:5]
    assert not problems, problems


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/rest/api/3/search/jql?jql=ORDER%20BY%20key%20DESC", 400),
        ("/rest/api/3/search?jql=project%20%3D%20CORE", 410),
        ("/rest/api/3/issue/NOPE-999", 404),
        ("/rest/api/3/project/NOPE", 404),
        ("/rest/api/3/issue/CORE-1/comment?orderBy=updated", 400),
    ],
)
async def test_error_bodies_are_error_collections(
    http: JiraHttp, openapi: OpenApiResponses, url: str, status: int
) -> None:
    reply = await http.get(url)
    assert reply.status == status
    body = reply.json()
    assert body["errorMessages"]
    assert body["errors"] == {}
    assert not list(openapi.component_validator("ErrorCollection").iter_errors(body))


async def test_issue_bean_fields_follow_the_field_catalogue(
    http: JiraHttp, openapi: OpenApiResponses
) -> None:
    fields = (await http.get("/rest/api/3/field")).json()
    reply = await http.get("/rest/api/3/issue/CORE-2", params={"expand": "names,schema"})
    issue = reply.json()
    assert set(issue["fields"]) == {f["id"] for f in fields}
    assert set(issue["names"]) == set(issue["fields"])
    json_type = openapi.component_validator("JsonTypeBean")
    for field_id, schema in issue["schema"].items():
        assert not list(json_type.iter_errors(schema)), field_id
    user = openapi.component_validator("UserDetails")
    assert not list(user.iter_errors(issue["fields"]["reporter"]))
    assert not list(
        openapi.component_validator("StatusDetails").iter_errors(issue["fields"]["status"])
    )
