"""The site's fixed configuration: issue types, statuses, priorities, fields, permissions.

These mirror a freshly provisioned Jira Software Cloud site (company-managed project
template) plus a handful of custom fields of the common kinds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True, slots=True)
class IssueTypeDef:
    id: str
    name: str
    description: str
    subtask: bool
    hierarchy_level: int
    avatar_id: int


@dataclass(frozen=True, slots=True)
class StatusCategoryDef:
    id: int
    key: str
    name: str
    color: str
    search_key: str  # the TODO / IN_PROGRESS / DONE form of /statuses/search


@dataclass(frozen=True, slots=True)
class StatusDef:
    id: str
    name: str
    description: str
    category_id: int
    transition_id: str


@dataclass(frozen=True, slots=True)
class PriorityDef:
    id: str
    name: str
    description: str
    color: str
    icon: str
    default: bool = False


@dataclass(frozen=True, slots=True)
class ResolutionDef:
    id: str
    name: str
    description: str
    default: bool = False


@dataclass(frozen=True, slots=True)
class FieldDef:
    id: str
    name: str
    schema: dict[str, Any]
    navigable: bool = True
    orderable: bool = True
    searchable: bool = True
    clause_names: tuple[str, ...] = ()
    key: str | None = None

    @property
    def custom(self) -> bool:
        return self.id.startswith("customfield_")

    @property
    def field_key(self) -> str:
        return self.key or self.id


@dataclass(frozen=True, slots=True)
class PermissionDef:
    key: str
    id: str
    name: str
    type: str  # GLOBAL | PROJECT
    description: str


ISSUE_TYPES: tuple[IssueTypeDef, ...] = (
    IssueTypeDef(
        "10000", "Epic", "A big user story that needs to be broken down.", False, 1, 10307
    ),
    IssueTypeDef(
        "10001", "Story", "Functionality or a feature expressed as a user goal.", False, 0, 10315
    ),
    IssueTypeDef("10002", "Task", "A small, distinct piece of work.", False, 0, 10318),
    IssueTypeDef("10003", "Bug", "A problem or error.", False, 0, 10303),
    IssueTypeDef(
        "10004", "Subtask", "A small piece of work that's part of a larger task.", True, -1, 10316
    ),
)

STATUS_CATEGORIES: tuple[StatusCategoryDef, ...] = (
    StatusCategoryDef(1, "undefined", "No Category", "medium-gray", "TODO"),
    StatusCategoryDef(2, "new", "To Do", "blue-gray", "TODO"),
    StatusCategoryDef(4, "indeterminate", "In Progress", "yellow", "IN_PROGRESS"),
    StatusCategoryDef(3, "done", "Done", "green", "DONE"),
)

STATUSES: tuple[StatusDef, ...] = (
    StatusDef("10000", "To Do", "Work that has not been started.", 2, "11"),
    StatusDef("3", "In Progress", "This issue is being actively worked on.", 4, "21"),
    StatusDef("10001", "In Review", "Awaiting peer review.", 4, "31"),
    StatusDef("10002", "Done", "Work that is finished.", 3, "41"),
)

PRIORITIES: tuple[PriorityDef, ...] = (
    PriorityDef("1", "Highest", "This problem will block progress.", "#d04437", "highest"),
    PriorityDef("2", "High", "Serious problem that could block progress.", "#f15C75", "high"),
    PriorityDef("3", "Medium", "Has the potential to affect progress.", "#f79232", "medium", True),
    PriorityDef("4", "Low", "Minor problem or easily worked around.", "#707070", "low"),
    PriorityDef("5", "Lowest", "Trivial problem with little or no impact.", "#999999", "lowest"),
)

RESOLUTIONS: tuple[ResolutionDef, ...] = (
    ResolutionDef("10000", "Done", "Work has been completed on this issue.", True),
    ResolutionDef("10001", "Won't Do", "This issue won't be actioned."),
    ResolutionDef("10002", "Duplicate", "The problem is a duplicate of an existing issue."),
    ResolutionDef("10003", "Cannot Reproduce", "All attempts at reproducing this issue failed."),
)


def _system(id_: str, name: str, type_: str, **extra: Any) -> FieldDef:
    schema: dict[str, Any] = {"type": type_, "system": id_}
    items = extra.pop("items", None)
    if items:
        schema["items"] = items
    clauses = extra.pop("clauses", (id_,))
    return FieldDef(id_, name, schema, clause_names=tuple(clauses), **extra)


def _custom(number: int, name: str, type_: str, plugin: str, **extra: Any) -> FieldDef:
    schema: dict[str, Any] = {
        "type": type_,
        "custom": f"com.atlassian.jira.plugin.system.customfieldtypes:{plugin}",
        "customId": number,
    }
    items = extra.pop("items", None)
    if items:
        schema["items"] = items
    if "custom" in extra:
        schema["custom"] = extra.pop("custom")
    id_ = f"customfield_{number}"
    return FieldDef(id_, name, schema, clause_names=(id_, f"cf[{number}]", name), **extra)


FIELDS: tuple[FieldDef, ...] = (
    _system("summary", "Summary", "string"),
    _system("description", "Description", "string"),
    _system("environment", "Environment", "string"),
    _system("issuetype", "Issue Type", "issuetype", clauses=("issuetype", "type")),
    _system("project", "Project", "project"),
    _system("status", "Status", "status", orderable=False),
    _system("statuscategorychangedate", "Status Category Changed", "datetime", orderable=False),
    _system("priority", "Priority", "priority"),
    _system("resolution", "Resolution", "resolution"),
    _system("resolutiondate", "Resolved", "datetime", orderable=False, clauses=("resolved",)),
    _system("assignee", "Assignee", "user"),
    _system("reporter", "Reporter", "user"),
    _system("creator", "Creator", "user", orderable=False),
    _system("labels", "Labels", "array", items="string"),
    _system("components", "Components", "array", items="component", clauses=("component",)),
    _system("fixVersions", "Fix versions", "array", items="version", clauses=("fixVersion",)),
    _system("versions", "Affects versions", "array", items="version", clauses=("affectedVersion",)),
    _system("created", "Created", "datetime", orderable=False, clauses=("created", "createdDate")),
    _system("updated", "Updated", "datetime", orderable=False, clauses=("updated", "updatedDate")),
    _system("lastViewed", "Last Viewed", "datetime", orderable=False),
    _system("duedate", "Due date", "date", clauses=("due", "duedate")),
    _system("timespent", "Time Spent", "number", orderable=False),
    _system("timeoriginalestimate", "Original estimate", "number", orderable=False),
    _system("timeestimate", "Remaining Estimate", "number", orderable=False),
    _system("issuelinks", "Linked Issues", "array", items="issuelinks", searchable=False),
    _system("subtasks", "Sub-tasks", "array", items="issuelinks", orderable=False),
    _system("watches", "Watchers", "watches", orderable=False),
    _system("votes", "Votes", "votes", orderable=False),
    _system("attachment", "Attachment", "array", items="attachment", navigable=False),
    _system(
        "comment", "Comment", "comments-page", navigable=False, orderable=True, searchable=True
    ),
    _system("worklog", "Log Work", "array", items="worklog", navigable=False),
    _custom(10010, "Team", "option", "select"),
    _custom(
        10016,
        "Story point estimate",
        "number",
        "float",
        custom="com.pyxis.greenhopper.jira:jsw-story-points",
    ),
    _custom(10019, "Rank", "any", "rank", custom="com.pyxis.greenhopper.jira:gh-lexo-rank"),
    _custom(
        10020,
        "Sprint",
        "array",
        "sprint",
        items="json",
        custom="com.pyxis.greenhopper.jira:gh-sprint",
    ),
    _custom(10021, "Flagged", "array", "multicheckboxes", items="option"),
    _custom(10030, "Customer 🌍 Région", "string", "textfield"),
    _custom(10040, "Go-live date", "date", "datepicker"),
    _custom(10041, "Incident start", "datetime", "datetime"),
    _custom(10050, "Reviewer", "user", "userpicker"),
    # Fields added by Connect apps have a key that differs from their id.
    FieldDef(
        "customfield_10060",
        "Risk score",
        {
            "type": "number",
            "custom": "ari:cloud:ecosystem::extension/acme-risk__risk-score",
            "customId": 10060,
        },
        clause_names=("cf[10060]", "Risk score"),
        key="acme-risk__risk-score",
    ),
)

FIELDS_BY_ID: Mapping[str, FieldDef] = MappingProxyType({f.id: f for f in FIELDS})
FIELDS_BY_KEY: Mapping[str, FieldDef] = MappingProxyType({f.field_key: f for f in FIELDS})

TEAM_OPTIONS: tuple[tuple[str, str], ...] = (
    ("10100", "Platform"),
    ("10101", "Growth"),
    ("10102", "Équipe Données"),
)

PERMISSIONS: tuple[PermissionDef, ...] = (
    PermissionDef(
        "ADMINISTER",
        "0",
        "Administer Jira",
        "GLOBAL",
        "Create and administer projects, issue types, fields and more.",
    ),
    PermissionDef(
        "USER_PICKER",
        "27",
        "Browse users and groups",
        "GLOBAL",
        "View and select users or groups from the user picker.",
    ),
    PermissionDef(
        "CREATE_SHARED_OBJECTS",
        "22",
        "Share dashboards and filters",
        "GLOBAL",
        "Share dashboards and filters with other users.",
    ),
    PermissionDef(
        "BULK_CHANGE", "33", "Make bulk changes", "GLOBAL", "Modify collections of issues at once."
    ),
    PermissionDef(
        "ADMINISTER_PROJECTS",
        "23",
        "Administer Projects",
        "PROJECT",
        "Ability to administer a project in Jira.",
    ),
    PermissionDef(
        "BROWSE_PROJECTS",
        "10",
        "Browse Projects",
        "PROJECT",
        "Ability to browse projects and the issues within them.",
    ),
    PermissionDef(
        "VIEW_DEV_TOOLS",
        "29",
        "View Development Tools",
        "PROJECT",
        "Allows users to view development-related information on the issue.",
    ),
    PermissionDef("CREATE_ISSUES", "11", "Create Issues", "PROJECT", "Ability to create issues."),
    PermissionDef("EDIT_ISSUES", "12", "Edit Issues", "PROJECT", "Ability to edit issues."),
    PermissionDef(
        "TRANSITION_ISSUES", "46", "Transition Issues", "PROJECT", "Ability to transition issues."
    ),
    PermissionDef("ADD_COMMENTS", "15", "Add Comments", "PROJECT", "Ability to comment on issues."),
    PermissionDef(
        "WORK_ON_ISSUES",
        "20",
        "Work On Issues",
        "PROJECT",
        "Ability to log work done against an issue.",
    ),
    PermissionDef(
        "VIEW_READONLY_WORKFLOW",
        "45",
        "View Read-Only Workflow",
        "PROJECT",
        "Users with this permission may view a read-only version of a workflow.",
    ),
)

PERMISSIONS_BY_KEY: Mapping[str, PermissionDef] = MappingProxyType({p.key: p for p in PERMISSIONS})

SCREENS: tuple[tuple[int, str, str], ...] = (
    (1, "Default Screen", "Allows to update all system fields."),
    (2, "Workflow Screen", "This screen is used in the workflow and enables you to assign issues"),
    (
        3,
        "Resolve Issue Screen",
        "Allows to set resolution, change fix versions and assign an issue.",
    ),
    (10000, "CORE: Scrum Default Issue Screen", ""),
    (10001, "CORE: Scrum Bug Screen", ""),
)

WORKFLOW_ID = "b9ff2384-d3b6-4d4e-9509-3ee19f607168"
WORKFLOW_NAME = "Software Simplified Workflow for Project CORE"
