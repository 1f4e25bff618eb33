"""The Python control API tests use to shape the emulated site while it runs.

Create, update and delete issues with explicit timestamps, add comments and worklogs,
add accounts, change paging/truncation/consistency behaviour, arm faults, and read the
request log. Safe to call from another thread than the server's event loop.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import catalog
from .clock import EmulatorClock
from .faults import FaultPlan
from .records import (
    Account,
    ChangeItem,
    Comment,
    History,
    Issue,
    UserRecord,
    Worklog,
    frozen_mapping,
)
from .requestlog import RequestLog, RequestRecord
from .settings import EmbeddedLimits, SearchSettings
from .site import Site


@dataclass(frozen=True, slots=True)
class IssueRef:
    id: str
    key: str


def _ms(moment: datetime | None, clock: EmulatorClock) -> int:
    if moment is None:
        return clock.now_ms()
    if moment.tzinfo is None:
        raise ValueError(
            f"timestamp {moment!r} must carry a time zone (use datetime(..., tzinfo=UTC))"
        )
    return int(moment.timestamp() * 1000)


class EmulatorControl:
    def __init__(self, *, site: Site, faults: FaultPlan, log: RequestLog) -> None:
        self._site = site
        self.faults = faults
        self._log = log

    @property
    def clock(self) -> EmulatorClock:
        return self._site.clock

    @property
    def cloud_id(self) -> str:
        return self._site.cloud_id

    @property
    def accounts(self) -> list[Account]:
        return list(self._site.accounts)

    # -- behaviour ------------------------------------------------------------------

    def set_consistency_delay(self, seconds: float) -> None:
        """Issue changes reach JQL search only `seconds` after they happen."""
        self._site.set_consistency_delay(seconds)

    def configure_search(self, **changes: Any) -> SearchSettings:
        """Change `SearchSettings` fields (page caps, jitter, empty last page, token mode)."""
        with self._site.lock:
            search = dataclasses.replace(self._site.settings.search, **changes)
            self._site.settings = dataclasses.replace(self._site.settings, search=search)
            return search

    def set_embedded_limits(
        self, *, search: EmbeddedLimits | None = None, issue: EmbeddedLimits | None = None
    ) -> None:
        with self._site.lock:
            settings = self._site.settings
            if search is not None:
                settings = dataclasses.replace(settings, search_embedded=search)
            if issue is not None:
                settings = dataclasses.replace(settings, issue_embedded=issue)
            self._site.settings = settings

    def set_software_installed(self, installed: bool) -> None:
        with self._site.lock:
            self._site.settings = dataclasses.replace(
                self._site.settings, software_installed=installed
            )

    def expire_access_tokens(self) -> None:
        with self._site.lock:
            for account in self._site.accounts:
                if account.oauth_access_token is not None:
                    account.oauth_expires_at = self.clock.now() - 1

    # -- accounts -------------------------------------------------------------------

    def add_account(
        self,
        *,
        email: str,
        api_token: str | None = None,
        oauth_access_token: str | None = None,
        display_name: str | None = None,
        time_zone: str = "UTC",
        admin: bool = True,
        browse_users: bool = True,
        jira_software: bool = True,
        projects: Sequence[str] | None = None,
    ) -> Account:
        site = self._site
        with site.lock:
            account_id = f"712020:emulated-{len(site.users):04d}"
            user = UserRecord(
                account_id=account_id,
                display_name=display_name or email.split("@")[0],
                email=email,
                time_zone=time_zone,
                groups=("jira-admins",) if admin else ("jira-software-users",),
            )
            site.users[account_id] = user
            project_ids = None
            if projects is not None:
                wanted = {p.upper() for p in projects}
                project_ids = frozenset(
                    p.id for p in site.projects.values() if p.key.upper() in wanted
                )
            account = Account(
                user=user,
                api_token=api_token,
                oauth_access_token=oauth_access_token,
                oauth_refresh_token=None,
                admin=admin,
                browse_users=browse_users,
                jira_software=jira_software,
                project_ids=project_ids,
            )
            site.accounts.append(account)
            return account

    # -- issues ---------------------------------------------------------------------

    def _issue(self, ref: str) -> Issue:
        issue = self._site.find_issue(ref)
        if issue is None:
            raise KeyError(f"no issue {ref!r} on the emulated site")
        return issue

    def _author(self, author: str | None) -> str:
        return author or self._site.accounts[0].user.account_id

    def issue(self, ref: str) -> Issue:
        """The current version of an issue (what GET issue returns)."""
        with self._site.lock:
            return self._issue(ref)

    def issue_refs(self, *, project: str | None = None) -> list[IssueRef]:
        with self._site.lock:
            return [
                IssueRef(str(i.id), i.key)
                for i in sorted(self._site.current.values(), key=lambda i: i.id)
                if project is None or i.project_key == project.upper()
            ]

    def create_issue(
        self,
        *,
        project: str,
        summary: str = "Created by the control API",
        created: datetime | None = None,
        updated: datetime | None = None,
        description: str | None = None,
        labels: Sequence[str] = (),
        custom: Mapping[str, Any] | None = None,
        reporter: str | None = None,
    ) -> IssueRef:
        site = self._site
        with site.lock:
            record = site.project_by_key_or_id(project)
            if record is None:
                raise KeyError(f"no project {project!r} on the emulated site")
            created_ms = _ms(created, self.clock)
            updated_ms = _ms(updated, self.clock) if updated is not None else created_ms
            author = self._author(reporter)
            issue_id = site.ids.next_issue()
            issue = Issue(
                id=issue_id,
                project_id=record.id,
                project_key=record.key,
                number=site.next_issue_number(record.id),
                summary=summary,
                description=description,
                issue_type_id=catalog.ISSUE_TYPES[2].id,
                status_id=catalog.STATUSES[0].id,
                priority_id="3",
                resolution_id=None,
                resolution_ms=None,
                assignee_id=None,
                reporter_id=author,
                creator_id=author,
                labels=tuple(labels),
                component_ids=(),
                fix_version_ids=(),
                created_ms=created_ms,
                updated_ms=updated_ms,
                status_changed_ms=created_ms,
                due_date=None,
                sprint_ids=(),
                custom=frozen_mapping(custom),
            )
            site.put_issue(issue)
            return IssueRef(str(issue.id), issue.key)

    def update_issue(
        self,
        ref: str,
        *,
        updated: datetime | None = None,
        summary: str | None = None,
        status: str | None = None,
        labels: Sequence[str] | None = None,
        custom: Mapping[str, Any] | None = None,
        author: str | None = None,
    ) -> IssueRef:
        """A field change at `updated` (default: now), recorded in the changelog."""
        site = self._site
        with site.lock:
            issue = self._issue(ref)
            at = _ms(updated, self.clock)
            changes: dict[str, Any] = {"updated_ms": at}
            items: list[ChangeItem] = []
            if summary is not None and summary != issue.summary:
                items.append(
                    ChangeItem("summary", "jira", "summary", None, issue.summary, None, summary)
                )
                changes["summary"] = summary
            if status is not None:
                new = next((s for s in catalog.STATUSES if status in (s.id, s.name)), None)
                if new is None:
                    raise KeyError(
                        f"no status {status!r}; known: {[s.name for s in catalog.STATUSES]}"
                    )
                old = next(s for s in catalog.STATUSES if s.id == issue.status_id)
                items.append(
                    ChangeItem("status", "jira", "status", old.id, old.name, new.id, new.name)
                )
                changes["status_id"] = new.id
                changes["status_changed_ms"] = at
                done = new.category_id == 3
                changes["resolution_id"] = catalog.RESOLUTIONS[0].id if done else None
                changes["resolution_ms"] = at if done else None
            if labels is not None:
                items.append(
                    ChangeItem(
                        "labels",
                        "jira",
                        "labels",
                        None,
                        " ".join(issue.labels),
                        None,
                        " ".join(labels),
                    )
                )
                changes["labels"] = tuple(labels)
            if custom:
                merged = dict(issue.custom)
                for field_id, value in custom.items():
                    name = (
                        catalog.FIELDS_BY_ID[field_id].name
                        if field_id in catalog.FIELDS_BY_ID
                        else field_id
                    )
                    old_value = merged.get(field_id)
                    items.append(
                        ChangeItem(
                            name,
                            "custom",
                            field_id,
                            None,
                            None if old_value is None else str(old_value),
                            None,
                            None if value is None else str(value),
                        )
                    )
                    merged[field_id] = value
                changes["custom"] = frozen_mapping(merged)
            if items:
                history = History(site.ids.next_history(), self._author(author), at, tuple(items))
                changes["histories"] = (*issue.histories, history)
            new_version = dataclasses.replace(issue, **changes)
            site.put_issue(new_version)
            return IssueRef(str(issue.id), issue.key)

    def delete_issue(self, ref: str) -> None:
        with self._site.lock:
            self._site.remove_issue(self._issue(ref).id)

    def add_comment(
        self,
        ref: str,
        *,
        body: str,
        created: datetime | None = None,
        author: str | None = None,
    ) -> str:
        """Add a comment; like Jira, this also moves the issue's `updated`."""
        site = self._site
        with site.lock:
            issue = self._issue(ref)
            at = _ms(created, self.clock)
            who = self._author(author)
            comment = Comment(site.ids.next_comment(), issue.id, who, who, body, at, at)
            site.put_issue(
                dataclasses.replace(
                    issue, comments=(*issue.comments, comment), updated_ms=max(at, issue.updated_ms)
                )
            )
            return str(comment.id)

    def add_worklog(
        self,
        ref: str,
        *,
        seconds: int,
        started: datetime | None = None,
        created: datetime | None = None,
        comment: str | None = None,
        author: str | None = None,
    ) -> str:
        """Log work; like Jira, this also moves the issue's `updated`."""
        site = self._site
        with site.lock:
            issue = self._issue(ref)
            at = _ms(created, self.clock)
            who = self._author(author)
            started_ms = _ms(started, self.clock) if started is not None else at - seconds * 1000
            worklog = Worklog(
                site.ids.next_worklog(), issue.id, who, who, comment, at, at, started_ms, seconds
            )
            site.put_issue(
                dataclasses.replace(
                    issue, worklogs=(*issue.worklogs, worklog), updated_ms=max(at, issue.updated_ms)
                )
            )
            return str(worklog.id)

    # -- request log ----------------------------------------------------------------

    def requests(self) -> list[RequestRecord]:
        return self._log.records()

    def request_count(
        self,
        *,
        path_contains: str | None = None,
        method: str | None = None,
        status: int | None = None,
    ) -> int:
        return self._log.count(path_contains=path_contains, method=method, status=status)

    def requests_per_issue(self) -> Counter[str]:
        return self._log.per_issue()

    def clear_requests(self) -> None:
        self._log.clear()
