"""Issue endpoints: enhanced JQL search, the retired search, one issue and its children,
and the bulk worklog endpoints.

Each handler names the Jira Cloud platform REST v3 operation it emulates (OpenAPI
`operationId`, documented at
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/ and
the sibling groups "Issues", "Issue comments", "Issue worklogs").
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from .appstate import Route, account_of, render_context, state_of
from .jql import JqlError
from .records import Issue
from .render_common import RenderContext
from .render_issue import (
    FieldSelection,
    comment_json,
    field_names,
    field_schemas,
    history_json,
    issue_json,
    parse_expand,
    transitions_for,
    worklog_json,
)
from .responses import error, int_param, list_param, ok

REMOVED_SEARCH_MESSAGE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)
ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."
SEARCH_MAX_RESULTS = 5000
_SEARCH_BODY_KEYS = {
    "jql",
    "nextPageToken",
    "maxResults",
    "fields",
    "expand",
    "properties",
    "fieldsByKeys",
    "failFast",
    "reconcileIssues",
}


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _visible_issue(request: web.Request) -> Issue | web.Response:
    state = state_of(request)
    issue = state.site.find_issue(request.match_info["issueIdOrKey"])
    if issue is None or not account_of(request).can_browse(issue.project_id):
        return error(404, ISSUE_NOT_FOUND)
    return issue


async def _run_search(
    request: web.Request,
    *,
    jql: str,
    token: str | None,
    max_results: int,
    fields: list[str],
    expand: set[str],
    by_keys: bool,
    properties: bool,
    reconcile: tuple[int, ...],
) -> web.Response:
    state = state_of(request)
    ctx = render_context(request)
    selection = FieldSelection.parse(fields, default="id", by_keys=by_keys)
    ids_only = selection.ids_only and not expand
    try:
        page = state.engine.page(
            jql=jql,
            account=ctx.account,
            token=token,
            max_results=max(1, min(max_results, SEARCH_MAX_RESULTS)),
            ids_only=ids_only,
            reconcile=reconcile,
        )
    except JqlError as exc:
        return error(400, str(exc))
    per_issue_expand = expand - {"names", "schema"}
    with state.site.lock:
        issues = [
            issue_json(
                ctx,
                issue,
                selection=selection,
                expand=per_issue_expand,
                limits=state.site.settings.search_embedded,
                minimal_when_only_id=True,
                properties_requested=properties,
            )
            for issue in page.issues
        ]
    body: dict[str, Any] = {"issues": issues}
    if page.next_page_token is not None:
        body["nextPageToken"] = page.next_page_token
    body["isLast"] = page.next_page_token is None
    if "names" in expand:
        body["names"] = field_names(selection.field_ids)
    if "schema" in expand:
        body["schema"] = field_schemas(selection.field_ids)
    return ok(body)


def _reconcile_ids(values: list[str]) -> tuple[int, ...] | web.Response:
    if not all(v.isdigit() for v in values):
        return error(400, "reconcileIssues accepts issue ids (numbers) only.")
    if len(values) > 50:
        return error(400, "reconcileIssues accepts at most 50 issue ids.")
    return tuple(int(v) for v in values)


# operationId searchAndReconsileIssuesUsingJql — GET /rest/api/3/search/jql
async def search_jql_get(request: web.Request) -> web.StreamResponse:
    max_results = int_param(request, "maxResults", default=50, minimum=1)
    if isinstance(max_results, web.Response):
        return max_results
    reconcile = _reconcile_ids(list_param(request, "reconcileIssues"))
    if isinstance(reconcile, web.Response):
        return reconcile
    return await _run_search(
        request,
        jql=request.query.get("jql", ""),
        token=request.query.get("nextPageToken") or None,
        max_results=max_results,
        fields=request.query.getall("fields", []),
        expand=parse_expand(request.query.getall("expand", [])),
        by_keys=_truthy(request.query.get("fieldsByKeys")),
        properties=bool(list_param(request, "properties")),
        reconcile=reconcile,
    )


# operationId searchAndReconsileIssuesUsingJqlPost — POST /rest/api/3/search/jql
# (request body SearchAndReconcileRequestBean).
async def search_jql_post(request: web.Request) -> web.StreamResponse:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return error(400, "The request body is not valid JSON.")
    if not isinstance(body, dict):
        return error(400, "The request body must be a JSON object.")
    unknown = sorted(set(body) - _SEARCH_BODY_KEYS)
    if unknown:
        return error(400, f'Unrecognized field "{unknown[0]}".')
    fields = body.get("fields") or []
    max_results = body.get("maxResults", 50)
    if not isinstance(fields, list) or not isinstance(max_results, int):
        return error(400, "The request body could not be read: check `fields` and `maxResults`.")
    reconcile = _reconcile_ids([str(v) for v in body.get("reconcileIssues") or []])
    if isinstance(reconcile, web.Response):
        return reconcile
    return await _run_search(
        request,
        jql=str(body.get("jql") or ""),
        token=body.get("nextPageToken") or None,
        max_results=max_results,
        fields=[str(f) for f in fields],
        expand=parse_expand([str(body.get("expand") or "")]),
        by_keys=_truthy(body.get("fieldsByKeys")),
        properties=bool(body.get("properties")),
        reconcile=reconcile,
    )


# operationId countIssues — POST /rest/api/3/search/approximate-count
async def approximate_count(request: web.Request) -> web.StreamResponse:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return error(400, "The request body is not valid JSON.")
    jql = str(body.get("jql") or "") if isinstance(body, dict) else ""
    try:
        count = state_of(request).engine.count(jql=jql, account=account_of(request))
    except JqlError as exc:
        return error(400, str(exc))
    return ok({"count": count})


# operationId searchForIssuesUsingJql / searchForIssuesUsingJqlPost — GET|POST
# /rest/api/3/search: removed (CHANGE-2046), answers 410 Gone with this body.
async def removed_search(request: web.Request) -> web.StreamResponse:
    return error(410, REMOVED_SEARCH_MESSAGE)


# operationId getIssue — GET /rest/api/3/issue/{issueIdOrKey}
async def get_issue(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    found = _visible_issue(request)
    if isinstance(found, web.Response):
        return found
    selection = FieldSelection.parse(
        request.query.getall("fields", []),
        default="*all",
        by_keys=_truthy(request.query.get("fieldsByKeys")),
    )
    expand = parse_expand(request.query.getall("expand", []))
    with state.site.lock:
        body = issue_json(
            render_context(request),
            found,
            selection=selection,
            expand=expand,
            limits=state.site.settings.issue_embedded,
            minimal_when_only_id=False,
            properties_requested=bool(list_param(request, "properties")),
        )
    return ok(body)


# operationId getComments — GET /rest/api/3/issue/{issueIdOrKey}/comment (PageOfComments)
async def get_comments(request: web.Request) -> web.StreamResponse:
    found = _visible_issue(request)
    if isinstance(found, web.Response):
        return found
    start_at = int_param(request, "startAt", default=0)
    max_results = int_param(request, "maxResults", default=100, minimum=0)
    if isinstance(start_at, web.Response):
        return start_at
    if isinstance(max_results, web.Response):
        return max_results
    order = request.query.get("orderBy")
    if order not in (None, "created", "+created", "-created"):
        return error(400, f"Invalid orderBy value '{order}'; only 'created' is supported.")
    comments = list(found.comments)
    if order == "-created":
        comments.reverse()
    rendered = "renderedBody" in parse_expand(request.query.getall("expand", []))
    ctx = render_context(request)
    chunk = comments[start_at : start_at + max_results]
    return ok(
        {
            "startAt": start_at,
            "maxResults": max_results,
            "total": len(comments),
            "comments": [comment_json(ctx, c, rendered=rendered) for c in chunk],
        }
    )


# operationId getIssueWorklog — GET /rest/api/3/issue/{issueIdOrKey}/worklog (PageOfWorklogs)
async def get_worklogs(request: web.Request) -> web.StreamResponse:
    found = _visible_issue(request)
    if isinstance(found, web.Response):
        return found
    numbers: dict[str, int] = {}
    for name, default in (("startAt", 0), ("maxResults", 5000)):
        raw = request.query.get(name, str(default))
        if not raw.lstrip("-").isdigit():
            # The documented answer to a non-numeric startAt/maxResults is 404.
            return error(404, f"The '{name}' parameter must be a number.")
        numbers[name] = max(0, int(raw))
    bounds: dict[str, int | None] = {}
    for name in ("startedAfter", "startedBefore"):
        bound = request.query.get(name)
        if bound is not None and not bound.isdigit():
            return error(400, f"The '{name}' parameter must be epoch milliseconds.")
        bounds[name] = None if bound is None else int(bound)
    after, before = bounds["startedAfter"], bounds["startedBefore"]
    worklogs = [
        w
        for w in found.worklogs
        if (after is None or w.started_ms >= after) and (before is None or w.started_ms < before)
    ]
    start_at, max_results = numbers["startAt"], min(numbers["maxResults"], 5000)
    ctx = render_context(request)
    return ok(
        {
            "startAt": start_at,
            "maxResults": max_results,
            "total": len(worklogs),
            "worklogs": [worklog_json(ctx, w) for w in worklogs[start_at : start_at + max_results]],
        }
    )


# operationId getChangeLogs — GET /rest/api/3/issue/{issueIdOrKey}/changelog (PageBeanChangelog)
async def get_changelog(request: web.Request) -> web.StreamResponse:
    found = _visible_issue(request)
    if isinstance(found, web.Response):
        return found
    start_at = int_param(request, "startAt", default=0)
    max_results = int_param(request, "maxResults", default=100, minimum=1)
    if isinstance(start_at, web.Response):
        return start_at
    if isinstance(max_results, web.Response):
        return max_results
    max_results = min(max_results, 100)
    ctx = render_context(request)
    histories = found.histories
    chunk = histories[start_at : start_at + max_results]
    is_last = start_at + len(chunk) >= len(histories)
    path = f"issue/{request.match_info['issueIdOrKey']}/changelog"
    body: dict[str, Any] = {
        "self": ctx.api(f"{path}?{urlencode({'startAt': start_at, 'maxResults': max_results})}"),
        "maxResults": max_results,
        "startAt": start_at,
        "total": len(histories),
        "isLast": is_last,
        "values": [history_json(ctx, h) for h in chunk],
    }
    if not is_last:
        next_query = urlencode({"startAt": start_at + len(chunk), "maxResults": max_results})
        body["nextPage"] = ctx.api(f"{path}?{next_query}")
    return ok(body)


# operationId getTransitions — GET /rest/api/3/issue/{issueIdOrKey}/transitions (Transitions)
async def get_transitions(request: web.Request) -> web.StreamResponse:
    found = _visible_issue(request)
    if isinstance(found, web.Response):
        return found
    transitions = transitions_for(render_context(request), found)
    wanted = request.query.get("transitionId")
    if wanted:
        transitions = [t for t in transitions if t["id"] == wanted]
    return ok({"expand": "transitions", "transitions": transitions})


def _worklog_visible(ctx: RenderContext, issue_id: int) -> bool:
    issue = ctx.site.current.get(issue_id)
    return issue is not None and ctx.account.can_browse(issue.project_id)


# operationId getIdsOfWorklogsModifiedSince — GET /rest/api/3/worklog/updated (ChangedWorklogs)
async def worklogs_updated(request: web.Request) -> web.StreamResponse:
    since = int_param(request, "since", default=0)
    if isinstance(since, web.Response):
        return since
    state = state_of(request)
    ctx = render_context(request)
    # "This resource does not return worklogs updated during the minute preceding the request."
    horizon = state.site.clock.now_ms() - 60_000
    with state.site.lock:
        index = state.site.worklog_index()
        eligible = [
            w
            for w in index.by_updated
            if since <= w.updated_ms <= horizon and _worklog_visible(ctx, w.issue_id)
        ]
    page = eligible[:1000]
    until = page[-1].updated_ms if page else since
    body = {
        "values": [
            {"worklogId": w.id, "updatedTime": w.updated_ms, "properties": []} for w in page
        ],
        "since": since,
        "until": until,
        "self": ctx.api(f"worklog/updated?since={since}"),
        "nextPage": ctx.api(f"worklog/updated?since={until}"),
        "lastPage": len(eligible) <= 1000,
    }
    return ok(body)


# operationId getWorklogsForIds — POST /rest/api/3/worklog/list (array of Worklog)
async def worklogs_by_id(request: web.Request) -> web.StreamResponse:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return error(400, "The request body is not valid JSON.")
    ids = body.get("ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids):
        return error(400, "Provide between 1 and 1000 worklog ids in `ids`.")
    if len(ids) > 1000:
        return error(400, "Provide between 1 and 1000 worklog ids in `ids`.")
    state = state_of(request)
    ctx = render_context(request)
    with state.site.lock:
        index = state.site.worklog_index()
        found = [index.by_id[i] for i in sorted(set(ids)) if i in index.by_id]
        visible = [w for w in found if _worklog_visible(ctx, w.issue_id)]
    return ok([worklog_json(ctx, w) for w in visible])


def routes() -> list[Route]:
    issue = "/rest/api/3/issue/{issueIdOrKey}"
    return [
        Route("GET", "/rest/api/3/search/jql", search_jql_get),
        Route("POST", "/rest/api/3/search/jql", search_jql_post),
        Route("POST", "/rest/api/3/search/approximate-count", approximate_count),
        Route("GET", "/rest/api/3/search", removed_search),
        Route("POST", "/rest/api/3/search", removed_search),
        Route("GET", issue, get_issue),
        Route("GET", issue + "/comment", get_comments),
        Route("GET", issue + "/worklog", get_worklogs),
        Route("GET", issue + "/changelog", get_changelog),
        Route("GET", issue + "/transitions", get_transitions),
        Route("GET", "/rest/api/3/worklog/updated", worklogs_updated),
        Route("POST", "/rest/api/3/worklog/list", worklogs_by_id),
    ]
