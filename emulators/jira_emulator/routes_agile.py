"""Jira Software (agile) endpoints: boards, sprints, and the issues on them.

Documented in the Jira Software Cloud REST API 1.0
(https://developer.atlassian.com/cloud/jira/software/rest/api-group-board/ and
api-group-sprint/): 403 "Returned if the user does not a have valid license", 404 when the
board or sprint does not exist or cannot be viewed, and a 400 with "The board does not
support sprints" for the sprints of a kanban board. A site without Jira Software has no
agile resource at all: Jira answers with its HTML "dead link" page.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .appstate import Route, account_of, render_context, state_of
from .jql import CompileContext, JqlError, compile_where, parse
from .records import BoardRecord, Issue, SprintRecord
from .render_common import RenderContext, avatar_urls, sprint
from .render_issue import FieldSelection, issue_json, parse_expand
from .responses import error, ok, paging

NO_LICENSE = "The user does not have a valid Jira Software license."
NO_SPRINTS = "The board does not support sprints"
DEAD_LINK_PAGE = (
    "<!DOCTYPE html><html><head><title>Oops, you&#39;ve found a dead link. - Jira</title>"
    "</head><body><h1>Oops, you&#39;ve found a dead link.</h1></body></html>"
)


def _gate(request: web.Request) -> web.Response | None:
    if not state_of(request).site.settings.software_installed:
        return web.Response(status=404, text=DEAD_LINK_PAGE, content_type="text/html")
    if not account_of(request).jira_software:
        return error(403, NO_LICENSE)
    return None


def _board_json(ctx: RenderContext, board: BoardRecord) -> dict[str, Any]:
    project = ctx.site.projects[board.project_id]
    return {
        "id": board.id,
        "self": f"{ctx.base}/rest/agile/1.0/board/{board.id}",
        "name": board.name,
        "type": board.type,
        "location": {
            "projectId": project.id,
            "displayName": f"{project.name} ({project.key})",
            "projectName": project.name,
            "projectKey": project.key,
            "projectTypeKey": project.project_type,
            "avatarURI": avatar_urls(ctx.base, "project", str(project.id))["48x48"],
            "name": f"{project.name} ({project.key})",
        },
        "isPrivate": False,
    }


def _visible_boards(ctx: RenderContext) -> list[BoardRecord]:
    return [b for b in ctx.site.boards if ctx.account.can_browse(b.project_id)]


def _board_for(request: web.Request) -> BoardRecord | web.Response:
    ctx = render_context(request)
    ref = request.match_info["boardId"]
    board = next((b for b in _visible_boards(ctx) if str(b.id) == ref), None)
    if board is None:
        return error(404, f"Board {ref} does not exist or you do not have permission to see it.")
    return board


def _values_page(values: list[Any], start_at: int, max_results: int) -> dict[str, Any]:
    chunk = values[start_at : start_at + max_results]
    return {
        "maxResults": max_results,
        "startAt": start_at,
        "total": len(values),
        "isLast": start_at + len(chunk) >= len(values),
        "values": chunk,
    }


# Board — getAllBoards, GET /rest/agile/1.0/board
async def boards(request: web.Request) -> web.StreamResponse:
    gated = _gate(request)
    if gated is not None:
        return gated
    window = paging(request, default=50)
    if isinstance(window, web.Response):
        return window
    ctx = render_context(request)
    found = _visible_boards(ctx)
    wanted_type = request.query.get("type")
    if wanted_type:
        found = [b for b in found if b.type in wanted_type.split(",")]
    project_ref = request.query.get("projectKeyOrId")
    if project_ref:
        project = ctx.site.project_by_key_or_id(project_ref)
        found = [b for b in found if project is not None and b.project_id == project.id]
    return ok(_values_page([_board_json(ctx, b) for b in found], *window))


# Board — getBoard, GET /rest/agile/1.0/board/{boardId}
async def board(request: web.Request) -> web.StreamResponse:
    gated = _gate(request)
    if gated is not None:
        return gated
    found = _board_for(request)
    if isinstance(found, web.Response):
        return found
    return ok(_board_json(render_context(request), found))


# Board — getAllSprints, GET /rest/agile/1.0/board/{boardId}/sprint
async def board_sprints(request: web.Request) -> web.StreamResponse:
    gated = _gate(request)
    if gated is not None:
        return gated
    found = _board_for(request)
    if isinstance(found, web.Response):
        return found
    if found.type != "scrum":
        return error(400, NO_SPRINTS)
    window = paging(request, default=50)
    if isinstance(window, web.Response):
        return window
    ctx = render_context(request)
    states = request.query.get("state")
    sprints = [s for s in ctx.site.sprints if s.board_id == found.id]
    if states:
        sprints = [s for s in sprints if s.state in states.split(",")]
    body = _values_page([sprint(ctx, s) for s in sprints], *window)
    body.pop("total")
    return ok(body)


def _issues_page(
    request: web.Request, issues: list[Issue], *, start_at: int, max_results: int
) -> web.Response:
    ctx = render_context(request)
    site = ctx.site
    selection = FieldSelection.parse(
        request.query.getall("fields", []), default="*navigable", by_keys=False
    )
    expand = parse_expand(request.query.getall("expand", []))
    ordered = sorted(issues, key=lambda i: (i.project_key, i.number))
    chunk = ordered[start_at : start_at + max_results]
    with site.lock:
        payload = [
            issue_json(
                ctx,
                i,
                selection=selection,
                expand=expand,
                limits=site.settings.search_embedded,
                minimal_when_only_id=False,
            )
            for i in chunk
        ]
    return ok(
        {
            "expand": "schema,names",
            "startAt": start_at,
            "maxResults": max_results,
            "total": len(ordered),
            "issues": payload,
        }
    )


def _filter_by_jql(request: web.Request, issues: list[Issue]) -> list[Issue] | web.Response:
    jql = request.query.get("jql")
    if not jql:
        return issues
    state = state_of(request)
    try:
        predicate = compile_where(
            parse(jql),
            CompileContext(
                site=state.site,
                account=account_of(request),
                now_ms=state.site.clock.now_ms(),
                ambiguous=state.site.settings.ambiguous_local_time,
            ),
        )
    except JqlError as exc:
        return error(400, str(exc))
    return [i for i in issues if predicate(i)]


# Board — getIssuesForBoard, GET /rest/agile/1.0/board/{boardId}/issue
async def board_issues(request: web.Request) -> web.StreamResponse:
    gated = _gate(request)
    if gated is not None:
        return gated
    found = _board_for(request)
    if isinstance(found, web.Response):
        return found
    window = paging(request, default=50)
    if isinstance(window, web.Response):
        return window
    site = state_of(request).site
    with site.lock:
        issues = [i for i in site.index_view().values() if i.project_id == found.project_id]
    filtered = _filter_by_jql(request, issues)
    if isinstance(filtered, web.Response):
        return filtered
    return _issues_page(request, filtered, start_at=window[0], max_results=window[1])


def _sprint_for(request: web.Request) -> SprintRecord | web.Response:
    ctx = render_context(request)
    ref = request.match_info["sprintId"]
    record = next((s for s in ctx.site.sprints if str(s.id) == ref), None)
    board_ok = record is not None and any(b.id == record.board_id for b in _visible_boards(ctx))
    if record is None or not board_ok:
        return error(
            404, f"Sprint with id {ref} does not exist or you do not have permission to see it."
        )
    return record


# Sprint — getSprint, GET /rest/agile/1.0/sprint/{sprintId}
async def get_sprint(request: web.Request) -> web.StreamResponse:
    gated = _gate(request)
    if gated is not None:
        return gated
    found = _sprint_for(request)
    if isinstance(found, web.Response):
        return found
    return ok(sprint(render_context(request), found))


# Sprint — getIssuesForSprint, GET /rest/agile/1.0/sprint/{sprintId}/issue
async def sprint_issues(request: web.Request) -> web.StreamResponse:
    gated = _gate(request)
    if gated is not None:
        return gated
    found = _sprint_for(request)
    if isinstance(found, web.Response):
        return found
    window = paging(request, default=50)
    if isinstance(window, web.Response):
        return window
    site = state_of(request).site
    with site.lock:
        issues = [i for i in site.index_view().values() if found.id in i.sprint_ids]
    filtered = _filter_by_jql(request, issues)
    if isinstance(filtered, web.Response):
        return filtered
    return _issues_page(request, filtered, start_at=window[0], max_results=window[1])


def routes() -> list[Route]:
    agile = "/rest/agile/1.0"
    return [
        Route("GET", agile + "/board", boards),
        Route("GET", agile + "/board/{boardId}", board),
        Route("GET", agile + "/board/{boardId}/sprint", board_sprints),
        Route("GET", agile + "/board/{boardId}/issue", board_issues),
        Route("GET", agile + "/sprint/{sprintId}", get_sprint),
        Route("GET", agile + "/sprint/{sprintId}/issue", sprint_issues),
    ]
