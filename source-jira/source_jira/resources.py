"""The streams of a Jira site: which ones the credentials may read, and how each is fetched."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from connector_kit.capture import Incremental, Resource, Snapshot
from connector_kit.http import BasicAuth, BearerAuth, HTTPClient, OAuth2RefreshAuth, RetryPolicy
from source_jira import api, documents, lists
from source_jira.access import Need, discover_access, resolve_projects
from source_jira.changes import DocumentsOf, IssueChanges, SearchShape
from source_jira.children import CHANGELOGS, COMMENTS, TRANSITIONS, WORKLOGS, ChildList, children_of
from source_jira.jql import user_zone
from source_jira.models import ApiTokenCredentials, EndpointConfig, IssueHead

INCREMENTAL_INTERVAL = timedelta(minutes=5)
SNAPSHOT_INTERVAL = timedelta(hours=1)
USER_AGENT = "connector-kit source-jira/0.1"
ISSUE_FIELDS = "*all,-comment,-worklog"
"""Every field but the child lists search cuts at 20 entries: their streams hold them whole."""


def http_client(config: EndpointConfig) -> HTTPClient:
    credentials = config.credentials
    retry = RetryPolicy(max_attempts=10, max_server_wait_s=300.0)
    if isinstance(credentials, ApiTokenCredentials):
        auth: BasicAuth | BearerAuth | OAuth2RefreshAuth = BasicAuth(
            username=credentials.email, password=credentials.api_token
        )
        return HTTPClient(base_url=config.site, auth=auth, retry=retry, user_agent=USER_AGENT)
    if credentials.refresh_token and credentials.client_id and credentials.client_secret:
        auth = OAuth2RefreshAuth(
            token_url=credentials.token_url,
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
            refresh_token=credentials.refresh_token,
            body_format="json",
        )
    else:
        auth = BearerAuth(token=credentials.access_token or "")
    return HTTPClient(
        base_url=credentials.gateway_url, auth=auth, retry=retry, user_agent=USER_AGENT
    )


async def check(config: EndpointConfig, http: HTTPClient) -> None:
    user_zone((await api.fetch_myself(http)).timeZone)


def _the_issue(issue: Mapping[str, Any], head: IssueHead) -> list[Any]:
    return [issue]


def _issue_stream(
    *,
    name: str,
    document: type[documents.JiraDocument],
    http: HTTPClient,
    config: EndpointConfig,
    projects: Sequence[str],
    child: ChildList | None,
    disable: bool,
) -> Resource:
    documents_of: DocumentsOf
    if child is None:
        shape = SearchShape(fields=ISSUE_FIELDS)
        documents_of = _the_issue
    else:
        shape = SearchShape(fields=child.fields, expand=child.expand)

        def children(issue: Mapping[str, Any], head: IssueHead) -> list[Any] | Awaitable[list[Any]]:
            return children_of(http, kind=child, issue=issue, head=head)

        documents_of = children

    changes = IssueChanges(
        http=http,
        shape=shape,
        documents_of=documents_of,
        projects=projects,
        horizon=config.lookback_horizon,
        start=config.start_date,
        stream=name,
    )
    return Resource(
        name=name,
        key=["/id"] if child is None else ["/id", "/issueId"],
        document=document,
        incremental=Incremental(fetch=changes.fetch, start=changes.start),
        disable=disable,
        interval=INCREMENTAL_INTERVAL,
    )


@dataclass(frozen=True, kw_only=True)
class ReferenceStream:
    name: str
    key: list[str]
    document: type[documents.JiraDocument]
    fetch: Callable[[], AsyncIterator[dict[str, Any]]]
    needs: Need = Need.NOTHING
    costly: bool = False


def _reference_streams(http: HTTPClient, *, only: Collection[str]) -> list[ReferenceStream]:
    def listed(path: str, **options: Any) -> Callable[[], AsyncIterator[dict[str, Any]]]:
        return lambda: lists.list_pages(http, path=f"{api.API}{path}", **options)

    def array(path: str) -> Callable[[], AsyncIterator[dict[str, Any]]]:
        return lambda: lists.list_array(http, path=f"{api.API}{path}")

    def in_projects(
        fetch: Callable[..., AsyncIterator[dict[str, Any]]],
    ) -> Callable[[], AsyncIterator[dict[str, Any]]]:
        return lambda: fetch(http, only=only)

    stream, d, software = ReferenceStream, documents, Need.JIRA_SOFTWARE
    return [
        stream(name="projects", key=["/id"], document=d.Project,
               fetch=in_projects(api.snapshot_projects)),
        stream(name="project_versions", key=["/id"], document=d.ProjectVersion,
               fetch=in_projects(api.snapshot_project_versions)),
        stream(name="project_components", key=["/id"], document=d.ProjectComponent,
               fetch=in_projects(api.snapshot_project_components)),
        stream(name="users", key=["/accountId"], document=d.User, needs=Need.BROWSE_USERS,
               fetch=lambda: lists.list_array_pages(
                   http, path=f"{api.API}/users/search", page_size=1000)),
        stream(name="groups", key=["/groupId"], document=d.Group, needs=Need.BROWSE_USERS,
               fetch=listed("/group/bulk", page_size=50)),
        stream(name="issue_fields", key=["/id"], document=d.IssueField, fetch=array("/field")),
        stream(name="issue_types", key=["/id"], document=d.IssueType, fetch=array("/issuetype")),
        stream(name="issue_priorities", key=["/id"], document=d.IssuePriority,
               fetch=listed("/priority/search")),
        stream(name="issue_resolutions", key=["/id"], document=d.IssueResolution,
               fetch=listed("/resolution/search")),
        stream(name="statuses", key=["/id"], document=d.Status, fetch=array("/status")),
        stream(name="status_categories", key=["/id"], document=d.StatusCategory,
               fetch=array("/statuscategory")),
        stream(name="labels", key=["/label"], document=d.Label,
               fetch=lambda: api.snapshot_labels(http)),
        stream(name="filters", key=["/id"], document=d.Filter,
               fetch=listed("/filter/search", params={"expand": "description,owner,jql"})),
        stream(name="dashboards", key=["/id"], document=d.Dashboard,
               fetch=listed("/dashboard", items="dashboards", page_size=50)),
        stream(name="workflows", key=["/id"], document=d.Workflow, needs=Need.ADMINISTER,
               fetch=listed("/workflows/search", params={"expand": "values.transitions"})),
        stream(name="permissions", key=["/key"], document=d.Permission,
               fetch=lambda: api.snapshot_permissions(http)),
        stream(name="screens", key=["/id"], document=d.Screen, needs=Need.ADMINISTER,
               fetch=listed("/screens")),
        stream(name="boards", key=["/id"], document=d.Board, needs=software,
               fetch=in_projects(api.snapshot_boards)),
        stream(name="sprints", key=["/id"], document=d.Sprint, needs=software,
               fetch=in_projects(api.snapshot_sprints)),
        stream(name="sprint_issues", key=["/id"], document=d.SprintIssue, needs=software,
               costly=True, fetch=in_projects(api.snapshot_sprint_issues)),
        stream(name="board_issues", key=["/boardId", "/id"], document=d.BoardIssue,
               needs=software, costly=True, fetch=in_projects(api.snapshot_board_issues)),
    ]  # fmt: skip


async def resources(config: EndpointConfig, http: HTTPClient) -> list[Resource]:
    access = await discover_access(http)
    projects = await resolve_projects(http, wanted=config.projects)
    only = frozenset(projects)

    def issue_stream(
        name: str,
        document: type[documents.JiraDocument],
        *,
        child: ChildList | None = None,
        costly: bool = False,
    ) -> Resource:
        return _issue_stream(
            name=name,
            document=document,
            http=http,
            config=config,
            projects=projects,
            child=child,
            disable=costly,
        )

    # Each child stream re-reads the changed issues with its own narrow search, so the
    # ones most captures do not need are off until chosen.
    streams = [
        issue_stream("issues", documents.Issue),
        issue_stream("issue_comments", documents.IssueComment, child=COMMENTS),
        issue_stream("issue_worklogs", documents.IssueWorklog, child=WORKLOGS, costly=True),
        issue_stream("issue_changelogs", documents.IssueChangelog, child=CHANGELOGS, costly=True),
        issue_stream(
            "issue_transitions", documents.IssueTransition, child=TRANSITIONS, costly=True
        ),
    ]
    for reference in _reference_streams(http, only=only):
        if access.allows(reference.needs):
            streams.append(
                Resource(
                    name=reference.name,
                    key=reference.key,
                    document=reference.document,
                    snapshot=Snapshot(fetch=reference.fetch),
                    disable=reference.costly,
                    interval=SNAPSHOT_INTERVAL,
                )
            )
    return streams
