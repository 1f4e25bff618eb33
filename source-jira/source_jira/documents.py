"""The documents each stream captures: Jira's objects as Jira sends them.

Each model names the collection key and the few fields every document carries; any
other field Jira sends passes through (extra fields allowed), so a schema never
rejects what a newer Jira adds. Jira's own timestamps (`2025-11-02T01:30:00.000-0400`)
are not RFC 3339, so they are typed as strings.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class JiraDocument(BaseModel):
    model_config = ConfigDict(extra="allow")


class IssueFields(JiraDocument):
    updated: str = Field(description="When the issue last changed, in the user's time zone.")


class Issue(JiraDocument):
    """An issue with every field but `comment` and `worklog`: their streams hold them whole."""

    id: str
    key: str
    fields: IssueFields


class IssueChild(JiraDocument):
    """A comment, worklog, changelog entry or transition, with the issue it belongs to."""

    id: str
    issueId: str = Field(description="Id of the issue this belongs to.")
    issueKey: str = Field(description="Key of the issue this belongs to.")


class IssueComment(IssueChild):
    pass


class IssueWorklog(IssueChild):
    pass


class IssueChangelog(IssueChild):
    pass


class IssueTransition(IssueChild):
    pass


class StringId(JiraDocument):
    id: str


class IntegerId(JiraDocument):
    id: int


class Project(StringId):
    key: str


class ProjectVersion(StringId):
    projectId: int


class ProjectComponent(StringId):
    pass


class User(JiraDocument):
    accountId: str


class Group(JiraDocument):
    groupId: str
    name: str


class IssueField(StringId):
    pass


class IssueType(StringId):
    pass


class IssuePriority(StringId):
    pass


class IssueResolution(StringId):
    pass


class Status(StringId):
    pass


class StatusCategory(IntegerId):
    pass


class Label(JiraDocument):
    label: str


class Filter(StringId):
    pass


class Dashboard(StringId):
    pass


class Workflow(StringId):
    pass


class Permission(JiraDocument):
    key: str


class Screen(IntegerId):
    pass


class Board(IntegerId):
    pass


class Sprint(IntegerId):
    originBoardId: int | None = None


class SprintIssue(JiraDocument):
    id: str = Field(description="`{sprintId}-{issueId}`.")
    sprintId: int
    issueId: str
    issueKey: str


class BoardIssue(JiraDocument):
    boardId: int
    id: str = Field(description="Id of the issue.")
    key: str
