"""JSON shapes of the site's building blocks (users, projects, statuses, versions, ...).

Shapes follow the component schemas of the Jira Cloud platform OpenAPI document
(`UserDetails`, `User`, `ProjectDetails`, `StatusDetails`, `Version`, ...). Timestamps are
rendered in the requesting user's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from . import catalog
from .jiratime import format_utc_z
from .records import (
    Account,
    ComponentRecord,
    ProjectRecord,
    SprintRecord,
    UserRecord,
    VersionRecord,
)
from .site import Site


@dataclass(frozen=True, slots=True)
class RenderContext:
    site: Site
    account: Account
    base: str  # the site URL, or https://api.atlassian.com-style /ex/jira/{cloudId}

    @property
    def tz(self) -> str:
        return self.account.user.time_zone

    def api(self, path: str) -> str:
        return f"{self.base}/rest/api/3/{path}"


def avatar_urls(base: str, kind: str, owner: str) -> dict[str, str]:
    sizes = (("16x16", "xsmall"), ("24x24", "small"), ("32x32", "medium"), ("48x48", "large"))
    return {
        px: f"{base}/secure/{kind}avatar?size={name}&ownerId={quote(owner)}" for px, name in sizes
    }


@lru_cache(maxsize=8192)
def _user_json(base: str, user: UserRecord) -> dict[str, Any]:
    account_id = user.account_id
    out: dict[str, Any] = {
        "self": f"{base}/rest/api/3/user?accountId={quote(account_id)}",
        "accountId": account_id,
        "avatarUrls": avatar_urls(base, "user", account_id),
        "displayName": user.display_name,
        "active": user.active,
        "timeZone": user.time_zone,
        "accountType": user.account_type,
    }
    if user.email is not None:
        out["emailAddress"] = user.email
    return out


def user_details(ctx: RenderContext, account_id: str | None) -> dict[str, Any] | None:
    """`UserDetails`: how a user appears inside issues, comments and worklogs."""
    if account_id is None:
        return None
    user = ctx.site.users.get(account_id)
    if user is None:
        return None
    # Users repeat on every issue of a page; build each one once (copied: callers extend it).
    return dict(_user_json(ctx.base, user))


def user_full(ctx: RenderContext, account_id: str, *, expand: set[str]) -> dict[str, Any]:
    """`User`: /myself and /users/search."""
    user = ctx.site.users[account_id]
    out = user_details(ctx, account_id) or {}
    out["locale"] = user.locale
    if "groups" in expand:
        items = [
            {"name": g.name, "groupId": g.group_id, "self": ctx.api(f"group?groupId={g.group_id}")}
            for g in ctx.site.groups
            if g.name in user.groups
        ]
        out["groups"] = {"size": len(items), "items": items}
    else:
        out["groups"] = {"size": len(user.groups), "items": []}
    if "applicationroles" in expand:
        roles = [{"key": "jira-software", "name": "Jira Software"}]
        out["applicationRoles"] = {"size": len(roles), "items": roles}
    else:
        out["applicationRoles"] = {"size": 1, "items": []}
    out["expand"] = "groups,applicationRoles"
    return out


def project_details(ctx: RenderContext, project: ProjectRecord) -> dict[str, Any]:
    """`ProjectDetails`: the project reference embedded in an issue."""
    out: dict[str, Any] = {
        "self": ctx.api(f"project/{project.id}"),
        "id": str(project.id),
        "key": project.key,
        "name": project.name,
        "projectTypeKey": project.project_type,
        "simplified": project.simplified,
        "avatarUrls": avatar_urls(ctx.base, "project", str(project.id)),
    }
    if project.category is not None:
        out["projectCategory"] = project_category(ctx, project)
    return out


def project_category(ctx: RenderContext, project: ProjectRecord) -> dict[str, Any] | None:
    if project.category is None:
        return None
    category_id, name, description = project.category
    return {
        "self": ctx.api(f"projectCategory/{category_id}"),
        "id": category_id,
        "name": name,
        "description": description,
    }


def status_category(ctx: RenderContext, category_id: int) -> dict[str, Any]:
    category = next(c for c in catalog.STATUS_CATEGORIES if c.id == category_id)
    return {
        "self": ctx.api(f"statuscategory/{category.id}"),
        "id": category.id,
        "key": category.key,
        "colorName": category.color,
        "name": category.name,
    }


def status_details(ctx: RenderContext, status_id: str) -> dict[str, Any]:
    status = next(s for s in catalog.STATUSES if s.id == status_id)
    return {
        "self": ctx.api(f"status/{status.id}"),
        "description": status.description,
        "iconUrl": f"{ctx.base}/images/icons/statuses/generic.png",
        "name": status.name,
        "id": status.id,
        "statusCategory": status_category(ctx, status.category_id),
    }


def issue_type(ctx: RenderContext, type_id: str) -> dict[str, Any]:
    kind = next(t for t in catalog.ISSUE_TYPES if t.id == type_id)
    return {
        "self": ctx.api(f"issuetype/{kind.id}"),
        "id": kind.id,
        "description": kind.description,
        "iconUrl": f"{ctx.base}/rest/api/2/universal_avatar/view/type/issuetype/avatar/"
        f"{kind.avatar_id}?size=medium",
        "name": kind.name,
        "subtask": kind.subtask,
        "avatarId": kind.avatar_id,
        "hierarchyLevel": kind.hierarchy_level,
    }


def priority(ctx: RenderContext, priority_id: str) -> dict[str, Any]:
    found = next(p for p in catalog.PRIORITIES if p.id == priority_id)
    return {
        "self": ctx.api(f"priority/{found.id}"),
        "iconUrl": f"{ctx.base}/images/icons/priorities/{found.icon}.svg",
        "name": found.name,
        "id": found.id,
    }


def resolution(ctx: RenderContext, resolution_id: str | None) -> dict[str, Any] | None:
    if resolution_id is None:
        return None
    found = next(r for r in catalog.RESOLUTIONS if r.id == resolution_id)
    return {
        "self": ctx.api(f"resolution/{found.id}"),
        "id": found.id,
        "description": found.description,
        "name": found.name,
    }


def version(ctx: RenderContext, record: VersionRecord) -> dict[str, Any]:
    """`Version`."""
    out: dict[str, Any] = {
        "self": ctx.api(f"version/{record.id}"),
        "id": str(record.id),
        "description": record.description,
        "name": record.name,
        "archived": record.archived,
        "released": record.released,
        "projectId": record.project_id,
    }
    if record.start_date:
        out["startDate"] = record.start_date
    if record.release_date:
        out["releaseDate"] = record.release_date
        out["overdue"] = not record.released
    return out


def component(ctx: RenderContext, record: ComponentRecord, *, full: bool) -> dict[str, Any]:
    """`ProjectComponent` (full) or the short reference embedded in an issue."""
    out: dict[str, Any] = {
        "self": ctx.api(f"component/{record.id}"),
        "id": str(record.id),
        "name": record.name,
        "description": record.description,
    }
    if full:
        project = ctx.site.projects[record.project_id]
        out.update(
            {
                "assigneeType": "PROJECT_DEFAULT",
                "realAssigneeType": "PROJECT_DEFAULT",
                "isAssigneeTypeValid": False,
                "project": project.key,
                "projectId": project.id,
            }
        )
        if record.lead_id is not None:
            out["lead"] = user_details(ctx, record.lead_id)
            out["leadAccountId"] = record.lead_id
    return out


def sprint(ctx: RenderContext, record: SprintRecord) -> dict[str, Any]:
    """A Jira Software sprint (`/rest/agile/1.0/sprint/{id}` shape)."""
    out: dict[str, Any] = {
        "id": record.id,
        "self": f"{ctx.base}/rest/agile/1.0/sprint/{record.id}",
        "state": record.state,
        "name": record.name,
        "createdDate": format_utc_z(record.created_ms),
        "originBoardId": record.board_id,
        "goal": record.goal,
    }
    if record.start_ms is not None:
        out["startDate"] = format_utc_z(record.start_ms)
    if record.end_ms is not None:
        out["endDate"] = format_utc_z(record.end_ms)
    if record.complete_ms is not None:
        out["completeDate"] = format_utc_z(record.complete_ms)
    return out
