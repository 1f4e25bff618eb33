"""Site-level endpoints: the current user, server info, permissions, users, groups, and
projects with their versions and components.

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
from .records import ProjectRecord
from .render_common import (
    RenderContext,
    avatar_urls,
    component,
    issue_type,
    project_category,
    user_details,
    user_full,
    version,
)
from .render_issue import parse_expand
from .responses import error, list_param, ok, paged, paging

BROWSE_USERS_REQUIRED = "You do not have the permission to browse users and groups."


# Group "Myself" — operationId getCurrentUser, GET /rest/api/3/myself (User)
async def myself(request: web.Request) -> web.StreamResponse:
    ctx = render_context(request)
    expand = {e.lower() for e in parse_expand(request.query.getall("expand", []))}
    return ok(user_full(ctx, ctx.account.user.account_id, expand=expand))


# Group "Server info" — operationId getServerInfo, GET /rest/api/3/serverInfo (ServerInformation)
async def server_info(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    site = state.site
    now_ms = site.clock.now_ms()
    base = f"{request.scheme}://{request.host}"
    return ok(
        {
            "baseUrl": base,
            "displayUrl": base,
            "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0],
            "deploymentType": "Cloud",
            "buildNumber": 100290,
            "buildDate": "2025-10-28T00:00:00.000+0000",
            "serverTime": format_timestamp(now_ms, site.settings.site_time_zone),
            "scmInfo": "6b4d2d8c0bf6f3a70b2b1e3e46d7d1e1c0a2b3c4",
            "serverTitle": site.settings.site_name,
            "serverTimeZone": site.settings.site_time_zone,
        }
    )


def _permission_json(permission: catalog.PermissionDef) -> dict[str, Any]:
    return {
        "key": permission.key,
        "name": permission.name,
        "type": permission.type,
        "description": permission.description,
    }


# Group "Permissions" — operationId getAllPermissions, GET /rest/api/3/permissions (Permissions)
async def all_permissions(request: web.Request) -> web.StreamResponse:
    return ok({"permissions": {p.key: _permission_json(p) for p in catalog.PERMISSIONS}})


# Group "Permissions" — operationId getMyPermissions, GET /rest/api/3/mypermissions (Permissions)
async def my_permissions(request: web.Request) -> web.StreamResponse:
    account = account_of(request)
    site = state_of(request).site
    wanted = list_param(request, "permissions")
    if not wanted:
        return error(400, "The permissions parameter is required.")
    unknown = [k for k in wanted if k not in catalog.PERMISSIONS_BY_KEY]
    if unknown:
        return error(400, f"Permission key '{unknown[0]}' does not exist.")
    project_ref = request.query.get("projectId") or request.query.get("projectKey")
    project: ProjectRecord | None = None
    if project_ref:
        project = site.project_by_key_or_id(project_ref)
        if project is None or not account.can_browse(project.id):
            return error(404, f"No project could be found with key or id '{project_ref}'.")
    visible = site.visible_projects(account)
    out: dict[str, Any] = {}
    for key in wanted:
        permission = catalog.PERMISSIONS_BY_KEY[key]
        if permission.type == "GLOBAL":
            have = account.admin or (key == "USER_PICKER" and account.browse_users)
        elif key in ("ADMINISTER_PROJECTS",):
            have = account.admin
        else:
            have = bool(visible) if project is None else account.can_browse(project.id)
        out[key] = {**_permission_json(permission), "id": permission.id, "havePermission": have}
    return ok({"permissions": out})


def _project_json(
    ctx: RenderContext, project: ProjectRecord, *, expand: set[str]
) -> dict[str, Any]:
    site = ctx.site
    out: dict[str, Any] = {
        "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
        "self": ctx.api(f"project/{project.id}"),
        "id": str(project.id),
        "key": project.key,
        "name": project.name,
        "avatarUrls": avatar_urls(ctx.base, "project", str(project.id)),
        "projectTypeKey": project.project_type,
        "simplified": project.simplified,
        "style": "next-gen" if project.simplified else "classic",
        "isPrivate": False,
        "properties": {},
    }
    category = project_category(ctx, project)
    if category is not None:
        out["projectCategory"] = category
    if "description" in expand:
        out["description"] = project.description
    if "lead" in expand:
        out["lead"] = user_details(ctx, project.lead_id)
    if "issuetypes" in expand:
        out["issueTypes"] = [issue_type(ctx, t.id) for t in catalog.ISSUE_TYPES]
    if "url" in expand:
        out["url"] = f"{ctx.base}/browse/{project.key}"
    if "insight" in expand:
        with site.lock:
            issues = [i for i in site.current.values() if i.project_id == project.id]
        last = max((i.updated_ms for i in issues), default=None)
        insight: dict[str, Any] = {"totalIssueCount": len(issues)}
        if last is not None:
            insight["lastIssueUpdateTime"] = format_timestamp(last, ctx.tz)
        out["insight"] = insight
    return out


# Group "Projects" — operationId searchProjects, GET /rest/api/3/project/search (PageBeanProject)
async def search_projects(request: web.Request) -> web.StreamResponse:
    ctx = render_context(request)
    expand = {e.lower() for e in parse_expand(request.query.getall("expand", []))}
    projects = ctx.site.visible_projects(ctx.account)
    keys = {k.upper() for k in list_param(request, "keys")}
    ids = set(list_param(request, "id"))
    if keys:
        projects = [p for p in projects if p.key.upper() in keys]
    if ids:
        projects = [p for p in projects if str(p.id) in ids]
    query = request.query.get("query", "").lower()
    if query:
        projects = [p for p in projects if query in p.key.lower() or query in p.name.lower()]
    order = request.query.get("orderBy", "key")
    descending = order.startswith("-")
    field = order.lstrip("+-")
    sort_key = {"name": lambda p: p.name.lower(), "key": lambda p: p.key}.get(
        field, lambda p: p.key
    )
    projects = sorted(projects, key=sort_key, reverse=descending)
    # "If a value greater than 100 is provided, the maxResults parameter will default to 100."
    values = [_project_json(ctx, p, expand=expand) for p in projects]
    return paged(request, values, default=50, cap=100)


def _project_for(request: web.Request) -> ProjectRecord | web.Response:
    ref = request.match_info["projectIdOrKey"]
    ctx = render_context(request)
    project = ctx.site.project_by_key_or_id(ref)
    if project is None or not ctx.account.can_browse(project.id):
        kind = "id" if ref.isdigit() else "key"
        return error(404, f"No project could be found with {kind} '{ref}'.")
    return project


# Group "Projects" — operationId getProject, GET /rest/api/3/project/{projectIdOrKey} (Project)
async def get_project(request: web.Request) -> web.StreamResponse:
    project = _project_for(request)
    if isinstance(project, web.Response):
        return project
    expand = {e.lower() for e in parse_expand(request.query.getall("expand", []))}
    expand |= {"description", "lead", "issuetypes", "url"}
    return ok(_project_json(render_context(request), project, expand=expand))


def _versions(request: web.Request, project: ProjectRecord) -> list[dict[str, Any]]:
    ctx = render_context(request)
    return [version(ctx, v) for v in ctx.site.versions if v.project_id == project.id]


# Group "Project versions" — operationId getProjectVersionsPaginated,
# GET /rest/api/3/project/{projectIdOrKey}/version (PageBeanVersion)
async def project_versions_paged(request: web.Request) -> web.StreamResponse:
    project = _project_for(request)
    if isinstance(project, web.Response):
        return project
    return paged(request, _versions(request, project), default=50)


# Group "Project versions" — operationId getProjectVersions,
# GET /rest/api/3/project/{projectIdOrKey}/versions (array of Version)
async def project_versions(request: web.Request) -> web.StreamResponse:
    project = _project_for(request)
    if isinstance(project, web.Response):
        return project
    return ok(_versions(request, project))


# Group "Project components" — operationId getProjectComponents,
# GET /rest/api/3/project/{projectIdOrKey}/components (array of ProjectComponent)
async def project_components(request: web.Request) -> web.StreamResponse:
    project = _project_for(request)
    if isinstance(project, web.Response):
        return project
    ctx = render_context(request)
    return ok(
        [component(ctx, c, full=True) for c in ctx.site.components if c.project_id == project.id]
    )


# Group "Users" — operationId getAllUsers, GET /rest/api/3/users/search (a bare array)
async def search_users(request: web.Request) -> web.StreamResponse:
    ctx = render_context(request)
    if not ctx.account.browse_users:
        return error(403, BROWSE_USERS_REQUIRED)
    window = paging(request, default=50, cap=1000)
    if isinstance(window, web.Response):
        return window
    start_at, max_results = window
    users = list(ctx.site.users.values())[start_at : start_at + max_results]
    return ok([user_full(ctx, u.account_id, expand=set()) for u in users])


# Group "Groups" — operationId bulkGetGroups, GET /rest/api/3/group/bulk (PageBeanGroupDetails)
async def bulk_groups(request: web.Request) -> web.StreamResponse:
    ctx = render_context(request)
    if not ctx.account.browse_users:
        return error(403, BROWSE_USERS_REQUIRED)
    groups = [{"groupId": g.group_id, "name": g.name} for g in ctx.site.groups]
    return paged(request, groups, default=50)


def routes() -> list[Route]:
    api = "/rest/api/3"
    project = api + "/project/{projectIdOrKey}"
    return [
        Route("GET", api + "/myself", myself),
        Route("GET", api + "/serverInfo", server_info, anonymous=True),
        Route("GET", api + "/permissions", all_permissions),
        Route("GET", api + "/mypermissions", my_permissions),
        Route("GET", api + "/project/search", search_projects),
        Route("GET", project, get_project),
        Route("GET", project + "/version", project_versions_paged),
        Route("GET", project + "/versions", project_versions),
        Route("GET", project + "/components", project_components),
        Route("GET", api + "/users/search", search_users),
        Route("GET", api + "/group/bulk", bulk_groups),
    ]
