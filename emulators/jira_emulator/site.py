"""The emulated site's state, and the lagging search index over its issues.

GET issue reads `current`; JQL search reads `indexed`, which receives each new issue
version only `consistency_delay_s` seconds after the change happened, the way Jira
Cloud's search index trails writes. Every access happens under `lock`, because the
control API may be driven from another thread than the server's event loop.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .clock import EmulatorClock
from .records import (
    Account,
    BoardRecord,
    ComponentRecord,
    DashboardRecord,
    FilterRecord,
    GroupRecord,
    Issue,
    ProjectRecord,
    SprintRecord,
    UserRecord,
    VersionRecord,
    Worklog,
)
from .settings import EmulatorSettings


@dataclass(slots=True)
class IdCounters:
    issue: int = 10000
    comment: int = 10000
    worklog: int = 10000
    history: int = 10000

    def next_issue(self) -> int:
        self.issue += 1
        return self.issue

    def next_comment(self) -> int:
        self.comment += 1
        return self.comment

    def next_worklog(self) -> int:
        self.worklog += 1
        return self.worklog

    def next_history(self) -> int:
        self.history += 1
        return self.history


@dataclass(slots=True)
class WorklogIndex:
    generation: int
    by_id: dict[int, Worklog]
    by_updated: list[Worklog]


@dataclass
class Site:
    settings: EmulatorSettings
    clock: EmulatorClock
    cloud_id: str
    lock: threading.RLock = field(default_factory=threading.RLock)
    users: dict[str, UserRecord] = field(default_factory=dict)
    accounts: list[Account] = field(default_factory=list)
    groups: list[GroupRecord] = field(default_factory=list)
    projects: dict[int, ProjectRecord] = field(default_factory=dict)
    versions: list[VersionRecord] = field(default_factory=list)
    components: list[ComponentRecord] = field(default_factory=list)
    boards: list[BoardRecord] = field(default_factory=list)
    sprints: list[SprintRecord] = field(default_factory=list)
    filters: list[FilterRecord] = field(default_factory=list)
    dashboards: list[DashboardRecord] = field(default_factory=list)
    ids: IdCounters = field(default_factory=IdCounters)
    project_numbers: dict[int, int] = field(default_factory=dict)
    consistency_delay_s: float = 0.0
    current: dict[int, Issue] = field(default_factory=dict)
    indexed: dict[int, Issue] = field(default_factory=dict)
    index_generation: int = 0
    data_generation: int = 0
    _keys: dict[str, int] = field(default_factory=dict)
    _pending: list[tuple[float, int, Issue | None]] = field(default_factory=list)
    _worklogs: WorklogIndex | None = None

    # -- issues --------------------------------------------------------------------

    def put_issue(self, issue: Issue, *, index_now: bool = False) -> None:
        """Store a new version of an issue; search sees it after the consistency delay."""
        with self.lock:
            self.current[issue.id] = issue
            self._keys[issue.key.upper()] = issue.id
            self.data_generation += 1
            if index_now or self.consistency_delay_s <= 0:
                self.indexed[issue.id] = issue
                self.index_generation += 1
            else:
                self._pending.append((self.clock.now(), issue.id, issue))

    def remove_issue(self, issue_id: int) -> None:
        with self.lock:
            issue = self.current.pop(issue_id, None)
            if issue is None:
                return
            self._keys.pop(issue.key.upper(), None)
            self.data_generation += 1
            if self.consistency_delay_s <= 0:
                self.indexed.pop(issue_id, None)
                self.index_generation += 1
            else:
                self._pending.append((self.clock.now(), issue_id, None))

    def settle_index(self) -> None:
        """Apply to the search index every change older than the consistency delay."""
        with self.lock:
            if not self._pending:
                return
            horizon = self.clock.now() - self.consistency_delay_s
            ready = [p for p in self._pending if p[0] <= horizon]
            if not ready:
                return
            self._pending = [p for p in self._pending if p[0] > horizon]
            for _, issue_id, version in ready:
                if version is None:
                    self.indexed.pop(issue_id, None)
                else:
                    self.indexed[issue_id] = version
            self.index_generation += 1

    def set_consistency_delay(self, seconds: float) -> None:
        with self.lock:
            self.consistency_delay_s = max(0.0, seconds)
            if self.consistency_delay_s == 0:
                self.settle_index()

    def find_issue(self, id_or_key: str) -> Issue | None:
        with self.lock:
            if id_or_key.isdigit():
                return self.current.get(int(id_or_key))
            issue_id = self._keys.get(id_or_key.upper())
            return None if issue_id is None else self.current.get(issue_id)

    def next_issue_number(self, project_id: int) -> int:
        with self.lock:
            number = self.project_numbers.get(project_id, 0) + 1
            self.project_numbers[project_id] = number
            return number

    # -- lookups -------------------------------------------------------------------

    def project_by_key_or_id(self, value: str) -> ProjectRecord | None:
        if value.isdigit():
            return self.projects.get(int(value))
        for project in self.projects.values():
            if project.key.upper() == value.upper():
                return project
        return None

    def visible_projects(self, account: Account) -> list[ProjectRecord]:
        return [p for p in self.projects.values() if account.can_browse(p.id)]

    def account_by_basic(self, email: str, token: str) -> Account | None:
        for account in self.accounts:
            if (
                account.api_token is not None
                and account.user.email == email
                and secrets.compare_digest(account.api_token, token)
            ):
                return account
        return None

    def account_by_bearer(self, token: str) -> Account | None:
        for account in self.accounts:
            if account.oauth_access_token is not None and account.oauth_access_token == token:
                return account
        return None

    def labels(self) -> list[str]:
        with self.lock:
            found: set[str] = set()
            for issue in self.current.values():
                found.update(issue.labels)
            return sorted(found)

    def worklog_index(self) -> WorklogIndex:
        """All current worklogs by id and by update time, rebuilt after data changes."""
        with self.lock:
            cached = self._worklogs
            if cached is not None and cached.generation == self.data_generation:
                return cached
            worklogs: Iterable[Worklog] = (w for i in self.current.values() for w in i.worklogs)
            by_id = {w.id: w for w in worklogs}
            ordered = sorted(by_id.values(), key=lambda w: (w.updated_ms, w.id))
            self._worklogs = WorklogIndex(self.data_generation, by_id, ordered)
            return self._worklogs

    def index_view(self) -> Mapping[int, Issue]:
        self.settle_index()
        return self.indexed
