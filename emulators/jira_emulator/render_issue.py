"""Issue payloads (`IssueBean`) and their children: comments, worklogs, changelog histories.

Implements the `fields` selection (`*all`, `*navigable`, `-field` exclusions, ids or keys
with `fieldsByKeys`), the `expand` options, and Jira's truncation of embedded lists: the
`comment` and `worklog` fields and the `changelog` expansion carry at most a fixed number
of items, with `total` telling the client how many exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from . import adf, catalog
from .jiratime import format_period, format_rendered, format_timestamp
from .records import ChangeItem, Comment, History, Issue, Worklog
from .render_common import (
    RenderContext,
    component,
    issue_type,
    priority,
    project_details,
    resolution,
    sprint,
    status_details,
    user_details,
    version,
)
from .settings import EmbeddedLimits

ISSUE_EXPANDABLE = (
    "renderedFields",
    "names",
    "schema",
    "operations",
    "editmeta",
    "changelog",
    "versionedRepresentations",
)


@dataclass(frozen=True, slots=True)
class FieldSelection:
    field_ids: tuple[str, ...]
    # Only `id` was asked for: search answers `{"id": ...}` per issue.
    minimal: bool

    @property
    def ids_only(self) -> bool:
        """Nothing beyond id/key: Jira's largest pages (5000) apply."""
        return not self.field_ids

    @classmethod
    def parse(cls, raw: Iterable[str], *, default: str, by_keys: bool) -> FieldSelection:
        tokens = [t.strip() for chunk in raw for t in chunk.split(",") if t.strip()]
        if not tokens:
            tokens = [default]
        lookup = catalog.FIELDS_BY_KEY if by_keys else catalog.FIELDS_BY_ID
        chosen: set[str] = set()
        excluded: set[str] = set()
        positive = False
        for token in tokens:
            if token.startswith("-"):
                found = lookup.get(token[1:])
                if found is not None:
                    excluded.add(found.id)
                continue
            positive = True
            if token == "*all":
                chosen.update(f.id for f in catalog.FIELDS)
            elif token == "*navigable":
                chosen.update(f.id for f in catalog.FIELDS if f.navigable)
            elif token not in ("id", "key"):
                found = lookup.get(token)
                # Jira silently ignores names that are not fields.
                if found is not None:
                    chosen.add(found.id)
        if not positive:
            chosen.update(f.id for f in catalog.FIELDS if f.navigable)
        ordered = tuple(f.id for f in catalog.FIELDS if f.id in chosen - excluded)
        return cls(ordered, minimal=all(t == "id" for t in tokens))


def parse_expand(raw: Iterable[str]) -> set[str]:
    return {t.strip() for chunk in raw for t in chunk.split(",") if t.strip()}


# -- children --------------------------------------------------------------------------


def comment_json(ctx: RenderContext, item: Comment, *, rendered: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "self": ctx.api(f"issue/{item.issue_id}/comment/{item.id}"),
        "id": str(item.id),
        "author": user_details(ctx, item.author_id),
        "body": adf.document(item.text),
        "updateAuthor": user_details(ctx, item.update_author_id),
        "created": format_timestamp(item.created_ms, ctx.tz),
        "updated": format_timestamp(item.updated_ms, ctx.tz),
        "jsdPublic": True,
    }
    if item.visibility_role is not None:
        role = item.visibility_role
        out["visibility"] = {"type": "role", "value": role, "identifier": role}
    if rendered:
        out["renderedBody"] = adf.render_html(item.text)
    return out


def worklog_json(ctx: RenderContext, item: Worklog, *, rendered: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "self": ctx.api(f"issue/{item.issue_id}/worklog/{item.id}"),
        "author": user_details(ctx, item.author_id),
        "updateAuthor": user_details(ctx, item.update_author_id),
        "created": format_timestamp(item.created_ms, ctx.tz),
        "updated": format_timestamp(item.updated_ms, ctx.tz),
        "started": format_timestamp(item.started_ms, ctx.tz),
        "timeSpent": format_period(item.seconds),
        "timeSpentSeconds": item.seconds,
        "id": str(item.id),
        "issueId": str(item.issue_id),
    }
    if item.text is not None:
        out["comment"] = adf.render_html(item.text) if rendered else adf.document(item.text)
    return out


def _change_item(item: ChangeItem) -> dict[str, Any]:
    return {
        "field": item.field,
        "fieldtype": item.fieldtype,
        "fieldId": item.field_id,
        "from": item.from_id,
        "fromString": item.from_string,
        "to": item.to_id,
        "toString": item.to_string,
    }


def history_json(ctx: RenderContext, item: History) -> dict[str, Any]:
    return {
        "id": str(item.id),
        "author": user_details(ctx, item.author_id),
        "created": format_timestamp(item.created_ms, ctx.tz),
        "items": [_change_item(i) for i in item.items],
    }


def comment_page(
    ctx: RenderContext, issue: Issue, *, limit: int, rendered: bool = False
) -> dict[str, Any]:
    shown = issue.comments[:limit]
    return {
        "comments": [comment_json(ctx, c, rendered=rendered) for c in shown],
        "self": ctx.api(f"issue/{issue.id}/comment"),
        "maxResults": len(shown),
        "total": len(issue.comments),
        "startAt": 0,
    }


def worklog_page(
    ctx: RenderContext, issue: Issue, *, limit: int, rendered: bool = False
) -> dict[str, Any]:
    shown = issue.worklogs[:limit]
    return {
        "startAt": 0,
        "maxResults": limit,
        "total": len(issue.worklogs),
        "worklogs": [worklog_json(ctx, w, rendered=rendered) for w in shown],
    }


def embedded_changelog(ctx: RenderContext, issue: Issue, *, limit: int) -> dict[str, Any]:
    # The `changelog` expansion lists the most recent entries first.
    recent = list(reversed(issue.histories))[:limit]
    return {
        "startAt": 0,
        "maxResults": len(recent),
        "total": len(issue.histories),
        "histories": [history_json(ctx, h) for h in recent],
    }


# -- fields ----------------------------------------------------------------------------


def _ts(ms: int | None, ctx: RenderContext) -> str | None:
    return None if ms is None else format_timestamp(ms, ctx.tz)


def _custom_value(ctx: RenderContext, issue: Issue, field_id: str) -> Any:
    if field_id == "customfield_10020":
        records = [s for s in ctx.site.sprints if s.id in issue.sprint_ids]
        if not records:
            return None
        return [
            {
                "id": s.id,
                "name": s.name,
                "state": s.state,
                "boardId": s.board_id,
                "goal": s.goal,
                **{k: v for k, v in sprint(ctx, s).items() if k.endswith("Date")},
            }
            for s in records
        ]
    raw = issue.custom.get(field_id)
    if raw is None:
        return None
    if field_id == "customfield_10010":
        name = dict(catalog.TEAM_OPTIONS)[raw]
        return {"self": ctx.api(f"customFieldOption/{raw}"), "value": name, "id": raw}
    if field_id == "customfield_10021":
        return [
            {"self": ctx.api(f"customFieldOption/{o}"), "value": "Impediment", "id": o} for o in raw
        ]
    if field_id == "customfield_10041":
        return format_timestamp(raw, ctx.tz)
    if field_id == "customfield_10050":
        return user_details(ctx, raw)
    return raw


def _time_spent(issue: Issue) -> int | None:
    total = sum(w.seconds for w in issue.worklogs)
    return total or None


FieldRenderer = Callable[[RenderContext, Issue, EmbeddedLimits], Any]

_FIELD_RENDERERS: dict[str, FieldRenderer] = {
    "summary": lambda ctx, i, lim: i.summary,
    "description": lambda ctx, i, lim: adf.document(i.description) if i.description else None,
    "environment": lambda ctx, i, lim: None,
    "issuetype": lambda ctx, i, lim: issue_type(ctx, i.issue_type_id),
    "project": lambda ctx, i, lim: project_details(ctx, ctx.site.projects[i.project_id]),
    "status": lambda ctx, i, lim: status_details(ctx, i.status_id),
    "statuscategorychangedate": lambda ctx, i, lim: _ts(i.status_changed_ms, ctx),
    "priority": lambda ctx, i, lim: priority(ctx, i.priority_id),
    "resolution": lambda ctx, i, lim: resolution(ctx, i.resolution_id),
    "resolutiondate": lambda ctx, i, lim: _ts(i.resolution_ms, ctx),
    "assignee": lambda ctx, i, lim: user_details(ctx, i.assignee_id),
    "reporter": lambda ctx, i, lim: user_details(ctx, i.reporter_id),
    "creator": lambda ctx, i, lim: user_details(ctx, i.creator_id),
    "labels": lambda ctx, i, lim: list(i.labels),
    "components": lambda ctx, i, lim: [
        component(ctx, c, full=False) for c in ctx.site.components if c.id in i.component_ids
    ],
    "fixVersions": lambda ctx, i, lim: [
        version(ctx, v) for v in ctx.site.versions if v.id in i.fix_version_ids
    ],
    "versions": lambda ctx, i, lim: [],
    "created": lambda ctx, i, lim: _ts(i.created_ms, ctx),
    "updated": lambda ctx, i, lim: _ts(i.updated_ms, ctx),
    "lastViewed": lambda ctx, i, lim: None,
    "duedate": lambda ctx, i, lim: i.due_date,
    "timespent": lambda ctx, i, lim: _time_spent(i),
    "timeoriginalestimate": lambda ctx, i, lim: None,
    "timeestimate": lambda ctx, i, lim: None,
    "issuelinks": lambda ctx, i, lim: [],
    "subtasks": lambda ctx, i, lim: [],
    "watches": lambda ctx, i, lim: {
        "self": ctx.api(f"issue/{i.key}/watchers"),
        "watchCount": 1,
        "isWatching": False,
    },
    "votes": lambda ctx, i, lim: {
        "self": ctx.api(f"issue/{i.key}/votes"),
        "votes": 0,
        "hasVoted": False,
    },
    "attachment": lambda ctx, i, lim: [],
    "comment": lambda ctx, i, lim: comment_page(ctx, i, limit=lim.comments),
    "worklog": lambda ctx, i, lim: worklog_page(ctx, i, limit=lim.worklogs),
}


def field_value(ctx: RenderContext, issue: Issue, field_id: str, limits: EmbeddedLimits) -> Any:
    renderer = _FIELD_RENDERERS.get(field_id)
    if renderer is not None:
        return renderer(ctx, issue, limits)
    return _custom_value(ctx, issue, field_id)


def _rendered_value(ctx: RenderContext, issue: Issue, field_id: str, limits: EmbeddedLimits) -> Any:
    if field_id == "description":
        return adf.render_html(issue.description) if issue.description else None
    if field_id in ("created", "updated", "resolutiondate", "statuscategorychangedate"):
        attr = {
            "created": issue.created_ms,
            "updated": issue.updated_ms,
            "resolutiondate": issue.resolution_ms,
            "statuscategorychangedate": issue.status_changed_ms,
        }[field_id]
        return None if attr is None else format_rendered(attr, ctx.tz)
    if field_id == "comment":
        return comment_page(ctx, issue, limit=limits.comments, rendered=True)
    if field_id == "worklog":
        return worklog_page(ctx, issue, limit=limits.worklogs, rendered=True)
    if field_id == "timespent":
        spent = _time_spent(issue)
        return None if spent is None else format_period(spent)
    if field_id == "customfield_10030":
        return issue.custom.get(field_id)
    return None


def field_names(field_ids: Sequence[str]) -> dict[str, str]:
    return {f: catalog.FIELDS_BY_ID[f].name for f in field_ids}


def field_schemas(field_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    return {f: dict(catalog.FIELDS_BY_ID[f].schema) for f in field_ids}


def transitions_for(ctx: RenderContext, issue: Issue) -> list[dict[str, Any]]:
    """The simplified workflow: a global transition into every other status."""
    return [
        {
            "id": status.transition_id,
            "name": status.name,
            "to": status_details(ctx, status.id),
            "hasScreen": False,
            "isGlobal": True,
            "isInitial": False,
            "isAvailable": True,
            "isConditional": False,
            "isLooped": False,
        }
        for status in catalog.STATUSES
        if status.id != issue.status_id
    ]


def issue_json(
    ctx: RenderContext,
    issue: Issue,
    *,
    selection: FieldSelection,
    expand: set[str],
    limits: EmbeddedLimits,
    minimal_when_only_id: bool,
    properties_requested: bool = False,
) -> dict[str, Any]:
    """`IssueBean`, shaped by `fields` and `expand` as Jira shapes it."""
    if minimal_when_only_id and selection.minimal and not expand:
        return {"id": str(issue.id)}
    remaining = [e for e in ISSUE_EXPANDABLE if e not in expand]
    out: dict[str, Any] = {
        "expand": ",".join(remaining),
        "id": str(issue.id),
        "self": ctx.api(f"issue/{issue.id}"),
        "key": issue.key,
    }
    values = {f: field_value(ctx, issue, f, limits) for f in selection.field_ids}
    if "versionedRepresentations" in expand:
        out["versionedRepresentations"] = {f: {"1": v} for f, v in values.items()}
    else:
        out["fields"] = values
    if "renderedFields" in expand:
        out["renderedFields"] = {
            f: _rendered_value(ctx, issue, f, limits) for f in selection.field_ids
        }
    if "names" in expand:
        out["names"] = field_names(selection.field_ids)
    if "schema" in expand:
        out["schema"] = field_schemas(selection.field_ids)
    if "transitions" in expand:
        out["transitions"] = transitions_for(ctx, issue)
    if "operations" in expand:
        out["operations"] = {"linkGroups": []}
    if "editmeta" in expand:
        out["editmeta"] = {"fields": {}}
    if "changelog" in expand:
        out["changelog"] = embedded_changelog(ctx, issue, limit=limits.changelog)
    if properties_requested:
        out["properties"] = {}
    return out
