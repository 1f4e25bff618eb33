"""The site's configuration and shared objects, as a capture snapshots them: fields, issue
types, priorities, resolutions, statuses, labels, filters, dashboards, workflows, screens.

Each handler names the Jira Cloud platform REST v3 operation (OpenAPI `operationId`) it
emulates; the documentation lives at
https://developer.atlassian.com/cloud/jira/platform/rest/v3/ under the group named here.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import catalog
from .appstate import Route, account_of, render_context, state_of
from .jiratime import format_timestamp
from .render_common import (
    RenderContext,
    issue_type,
    status_category,
    status_details,
    user_details,
    user_full,
)
from .render_issue import parse_expand
from .responses import error, ok, page_bean, paged, paging

ADMIN_REQUIRED = (
    "You are not authorized to perform this action. Administrator privileges are required."
)


def _field_json(field: catalog.FieldDef) -> dict[str, Any]:
    return {
        "id": field.id,
        "key": field.field_key,
        "name": field.name,
        "custom": field.custom,
        "orderable": field.orderable,
        "navigable": field.navigable,
        "searchable": field.searchable,
        "clauseNames": list(field.clause_names),
        "schema": dict(field.schema),
    }


# Group "Issue fields" — operationId getFields, GET /rest/api/3/field (array of FieldDetails)
async def fields(request: web.Request) -> web.StreamResponse:
    return ok([_field_json(f) for f in catalog.FIELDS])


# Group "Issue types" — operationId getIssueAllTypes, GET /rest/api/3/issuetype
async def issue_types(request: web.Request) -> web.StreamResponse:
    ctx = render_context(request)
    return ok([issue_type(ctx, t.id) for t in catalog.ISSUE_TYPES])


def _priority_json(ctx: RenderContext, item: catalog.PriorityDef) -> dict[str, Any]:
    return {
        "self": ctx.api(f"priority/{item.id}"),
        "statusColor": item.color,
        "description": item.description,
        "iconUrl": f"{ctx.base}/images/icons/priorities/{item.icon}.svg",
        "name": item.name,
        "id": item.id,
        "isDefault": item.default,
    }


# Group "Issue priorities" — operationId searchPriorities, GET /rest/api/3/priority/search
async def search_priorities(request: web.Request) -> web.StreamResponse:
    ctx = render_context(request)
    return paged(request, [_priority_json(ctx, p) for p in catalog.PRIORITIES], default=50)


# Group "Issue resolutions" — operationId searchResolutions, GET /rest/api/3/resolution/search
async def search_resolutions(request: web.Request) -> web.StreamResponse:
    ctx = render_context(request)
    values = [
        {
            "self": ctx.api(f"resolution/{r.id}"),
            "id": r.id,
            "description": r.description,
            "name": r.name,
            "default": r.default,
        }
        for r in catalog.RESOLUTIONS
    ]
    return paged(request, values, default=50)


# Group "Status" — operationId search, GET /rest/api/3/statuses/search (PageOfStatuses)
async def search_statuses(request: web.Request) -> web.StreamResponse:
    values = [
        {
            "id": s.id,
            "name": s.name,
            "description": s.description,
            "scope": {"type": "GLOBAL"},
            "statusCategory": next(
                c.search_key for c in catalog.STATUS_CATEGORIES if c.id == s.category_id
            ),
        }
        for s in catalog.STATUSES
    ]
    return paged(request, values, default=200)


# Group "Workflow statuses" — operationId getStatuses, GET /rest/api/3/status
async def statuses(request: web.Request) -> web.StreamResponse:
    ctx = render_context(request)
    return ok([status_details(ctx, s.id) for s in catalog.STATUSES])


# Group "Workflow status categories" — operationId getStatusCategories,
# GET /rest/api/3/statuscategory
async def status_categories(request: web.Request) -> web.StreamResponse:
    ctx = render_context(request)
    return ok([status_category(ctx, c.id) for c in catalog.STATUS_CATEGORIES])


# Group "Labels" — operationId getAllLabels, GET /rest/api/3/label (PageBeanString)
async def labels(request: web.Request) -> web.StreamResponse:
    return paged(request, state_of(request).site.labels(), default=1000)


_FILTER_EXPANDABLE = (
    "description,owner,jql,viewUrl,searchUrl,favourite,favouritedCount,sharePermissions,"
    "editPermissions,isWritable,approximateLastUsed,subscriptions"
)


# Group "Filters" — operationId getFiltersPaginated, GET /rest/api/3/filter/search
async def search_filters(request: web.Request) -> web.StreamResponse:
    ctx = render_context(request)
    expand = parse_expand(request.query.getall("expand", []))
    values = []
    for item in ctx.site.filters:
        out: dict[str, Any] = {
            "expand": _FILTER_EXPANDABLE,
            "self": ctx.api(f"filter/{item.id}"),
            "id": str(item.id),
            "name": item.name,
        }
        extras: dict[str, Any] = {
            "description": item.description,
            "owner": user_full(ctx, item.owner_id, expand=set()),
            "jql": item.jql,
            "viewUrl": f"{ctx.base}/issues/?filter={item.id}",
            "searchUrl": ctx.api(f"search/jql?jql={item.jql}"),
            "favourite": False,
            "favouritedCount": item.favourite_count,
            "sharePermissions": [],
            "editPermissions": [],
            "subscriptions": [],
            "approximateLastUsed": (
                None if item.last_used_ms is None else format_timestamp(item.last_used_ms, ctx.tz)
            ),
        }
        out.update({k: v for k, v in extras.items() if k in expand})
        values.append(out)
    return paged(request, values, default=50)


# Group "Dashboards" — operationId getAllDashboards, GET /rest/api/3/dashboard (PageOfDashboards)
async def dashboards(request: web.Request) -> web.StreamResponse:
    ctx = render_context(request)
    window = paging(request, default=20)
    if isinstance(window, web.Response):
        return window
    start_at, max_results = window
    items = []
    for item in ctx.site.dashboards:
        out: dict[str, Any] = {
            "id": str(item.id),
            "isFavourite": False,
            "name": item.name,
            "popularity": item.popularity,
            "self": ctx.api(f"dashboard/{item.id}"),
            "sharePermissions": [{"type": "global"}],
            "editPermissions": [],
            "view": f"{ctx.base}/jira/dashboards/{item.id}",
            "systemDashboard": item.system,
            "isWritable": not item.system,
        }
        if item.description:
            out["description"] = item.description
        if item.owner_id is not None:
            owner = user_details(ctx, item.owner_id) or {}
            out["owner"] = {
                k: owner[k] for k in ("self", "accountId", "displayName", "active", "avatarUrls")
            }
        items.append(out)
    chunk = items[start_at : start_at + max_results]
    body: dict[str, Any] = {
        "startAt": start_at,
        "maxResults": max_results,
        "total": len(items),
        "dashboards": chunk,
    }
    if start_at + len(chunk) < len(items):
        body["next"] = ctx.api(
            f"dashboard?startAt={start_at + max_results}&maxResults={max_results}"
        )
    if start_at > 0:
        body["prev"] = ctx.api(
            f"dashboard?startAt={max(0, start_at - max_results)}&maxResults={max_results}"
        )
    return ok(body)


def _workflow_json(expand: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": catalog.WORKFLOW_ID,
        "name": catalog.WORKFLOW_NAME,
        "description": "Generated by Jira Software version 1001.0.0-SNAPSHOT.",
        "isEditable": True,
        "scope": {"type": "GLOBAL"},
        "startPointLayout": {"x": -100.0, "y": -150.0},
        "statuses": [
            {
                "statusReference": s.id,
                "deprecated": False,
                "layout": {"x": 120.0 * n, "y": 0.0},
                "properties": {},
            }
            for n, s in enumerate(catalog.STATUSES)
        ],
        "version": {"id": "8f6fdc1c-2cb2-4c7c-9d0f-0d0e4b7a6f1e", "versionNumber": 3},
        "created": "2025-09-01T10:00:00.000+0000",
        "updated": "2025-10-15T16:20:00.000+0000",
    }
    if "values.transitions" in expand:
        out["transitions"] = [
            {
                "id": s.transition_id,
                "name": s.name,
                "description": "",
                "type": "GLOBAL",
                "toStatusReference": s.id,
                "links": [],
                "actions": [],
                "validators": [],
                "triggers": [],
                "properties": {},
            }
            for s in catalog.STATUSES
        ]
    return out


# Group "Workflows" — operationId searchWorkflows, GET /rest/api/3/workflows/search
async def search_workflows(request: web.Request) -> web.StreamResponse:
    ctx = render_context(request)
    expand = parse_expand(request.query.getall("expand", []))
    # Without Administer Jira a user sees no company-managed (global) workflows.
    values = [_workflow_json(expand)] if ctx.account.admin else []
    window = paging(request, default=50)
    if isinstance(window, web.Response):
        return window
    start_at, max_results = window
    body = page_bean(
        request, base=ctx.base, values=values, start_at=start_at, max_results=max_results
    )
    body["statuses"] = (
        [
            {
                "id": s.id,
                "name": s.name,
                "description": s.description,
                "scope": {"type": "GLOBAL"},
                "statusCategory": next(
                    c.search_key for c in catalog.STATUS_CATEGORIES if c.id == s.category_id
                ),
                "statusReference": s.id,
            }
            for s in catalog.STATUSES
        ]
        if values
        else []
    )
    return ok(body)


# Group "Screens" — operationId getScreens, GET /rest/api/3/screens (PageBeanScreen)
async def screens(request: web.Request) -> web.StreamResponse:
    if not account_of(request).admin:
        return error(403, ADMIN_REQUIRED)
    values = [{"id": i, "name": name, "description": text} for i, name, text in catalog.SCREENS]
    return paged(request, values, default=100)


def routes() -> list[Route]:
    api = "/rest/api/3"
    return [
        Route("GET", api + "/field", fields),
        Route("GET", api + "/issuetype", issue_types),
        Route("GET", api + "/priority/search", search_priorities),
        Route("GET", api + "/resolution/search", search_resolutions),
        Route("GET", api + "/statuses/search", search_statuses),
        Route("GET", api + "/status", statuses),
        Route("GET", api + "/statuscategory", status_categories),
        Route("GET", api + "/label", labels),
        Route("GET", api + "/filter/search", search_filters),
        Route("GET", api + "/dashboard", dashboards),
        Route("GET", api + "/workflows/search", search_workflows),
        Route("GET", api + "/screens", screens),
    ]
