"""The emulated site's data: immutable records of users, projects, issues and their children.

Times are epoch milliseconds; they are rendered in the requesting user's zone on the way
out. An issue is an immutable value: every change makes a new version, which is what lets
the search index lag behind GET issue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True, slots=True)
class UserRecord:
    account_id: str
    display_name: str
    email: str | None
    time_zone: str
    locale: str = "en_US"
    account_type: str = "atlassian"
    active: bool = True
    groups: tuple[str, ...] = ()


@dataclass(slots=True)
class Account:
    """A credential set bound to a user, with what that user may see."""

    user: UserRecord
    api_token: str | None
    oauth_access_token: str | None
    oauth_refresh_token: str | None
    admin: bool
    browse_users: bool
    jira_software: bool
    project_ids: frozenset[int] | None
    oauth_expires_at: float | None = None

    def can_browse(self, project_id: int) -> bool:
        return self.project_ids is None or project_id in self.project_ids


@dataclass(frozen=True, slots=True)
class GroupRecord:
    group_id: str
    name: str


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    id: int
    key: str
    name: str
    description: str
    lead_id: str
    project_type: str = "software"
    simplified: bool = False
    category: tuple[str, str, str] | None = None  # id, name, description


@dataclass(frozen=True, slots=True)
class VersionRecord:
    id: int
    project_id: int
    name: str
    description: str
    released: bool
    archived: bool
    start_date: str | None
    release_date: str | None


@dataclass(frozen=True, slots=True)
class ComponentRecord:
    id: int
    project_id: int
    name: str
    description: str
    lead_id: str | None


@dataclass(frozen=True, slots=True)
class ChangeItem:
    field: str
    fieldtype: str
    field_id: str
    from_id: str | None
    from_string: str | None
    to_id: str | None
    to_string: str | None


@dataclass(frozen=True, slots=True)
class History:
    id: int
    author_id: str
    created_ms: int
    items: tuple[ChangeItem, ...]


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    issue_id: int
    author_id: str
    update_author_id: str
    text: str
    created_ms: int
    updated_ms: int
    visibility_role: str | None = None


@dataclass(frozen=True, slots=True)
class Worklog:
    id: int
    issue_id: int
    author_id: str
    update_author_id: str
    text: str | None
    created_ms: int
    updated_ms: int
    started_ms: int
    seconds: int


def _frozen(values: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True, slots=True)
class Issue:
    id: int
    project_id: int
    project_key: str
    number: int
    summary: str
    description: str | None
    issue_type_id: str
    status_id: str
    priority_id: str
    resolution_id: str | None
    resolution_ms: int | None
    assignee_id: str | None
    reporter_id: str
    creator_id: str
    labels: tuple[str, ...]
    component_ids: tuple[int, ...]
    fix_version_ids: tuple[int, ...]
    created_ms: int
    updated_ms: int
    status_changed_ms: int
    due_date: str | None
    sprint_ids: tuple[int, ...]
    custom: Mapping[str, Any] = field(default_factory=_frozen)
    comments: tuple[Comment, ...] = ()
    worklogs: tuple[Worklog, ...] = ()
    histories: tuple[History, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.project_key}-{self.number}"


def frozen_mapping(values: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return _frozen(values)


@dataclass(frozen=True, slots=True)
class BoardRecord:
    id: int
    name: str
    type: str  # scrum | kanban | simple
    project_id: int


@dataclass(frozen=True, slots=True)
class SprintRecord:
    id: int
    board_id: int
    name: str
    state: str  # closed | active | future
    goal: str
    start_ms: int | None
    end_ms: int | None
    complete_ms: int | None
    created_ms: int


@dataclass(frozen=True, slots=True)
class FilterRecord:
    id: int
    name: str
    description: str
    jql: str
    owner_id: str
    favourite_count: int
    last_used_ms: int | None


@dataclass(frozen=True, slots=True)
class DashboardRecord:
    id: int
    name: str
    description: str
    owner_id: str | None
    popularity: int
    system: bool = False
