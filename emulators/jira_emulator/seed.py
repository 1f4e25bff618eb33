"""Deterministic seed data: the same `SeedSettings` always builds the same site.

The data carries the cases that break Jira captures: users in non-UTC zones, unicode
and ADF text, custom fields with nulls and arrays, issues whose last update falls in the
America/New_York fall-back hour (which happens twice), many issues sharing one `updated`
minute, and issues with more comments, worklogs and changelog entries than Jira embeds.
"""

from __future__ import annotations

import gc
import hashlib
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from . import catalog
from .clock import EmulatorClock
from .records import (
    Account,
    BoardRecord,
    ChangeItem,
    Comment,
    ComponentRecord,
    DashboardRecord,
    FilterRecord,
    GroupRecord,
    History,
    Issue,
    ProjectRecord,
    SprintRecord,
    UserRecord,
    VersionRecord,
    Worklog,
    frozen_mapping,
)
from .settings import AccountSettings, EmulatorSettings
from .site import Site

DST_FALLBACK_START = datetime(2025, 11, 2, 5, 0, tzinfo=UTC)  # 01:00 EDT
DST_FALLBACK_END = datetime(2025, 11, 2, 7, 0, tzinfo=UTC)  # 02:00 EST
SAME_MINUTE = datetime(2025, 11, 5, 14, 7, tzinfo=UTC)
T = TypeVar("T")

_PERSONAS: tuple[tuple[str, str, str], ...] = (
    ("Zoë Ångström", "Europe/Stockholm", "sv_SE"),
    ("Marcus Lee", "America/New_York", "en_US"),
    ("李雷", "Asia/Shanghai", "zh_CN"),
    ("Priya Raghunathan", "Asia/Kolkata", "en_IN"),
    ("José Müller-Peña", "Europe/Berlin", "de_DE"),
    ("Ōkubo Hiroshi", "Asia/Tokyo", "ja_JP"),
    ("Chloé Dubois", "Europe/Paris", "fr_FR"),
    ("Sam O'Neil", "America/Los_Angeles", "en_US"),
    ("Aroha Ngata", "Pacific/Auckland", "en_NZ"),
    ("Fatima Al-Sayed", "Asia/Dubai", "ar_AE"),
    ("Noah Schwartz", "America/Chicago", "en_US"),
    ("Olga Ivanova", "Europe/Moscow", "ru_RU"),
)
_PROJECTS: tuple[tuple[str, str], ...] = (
    ("CORE", "Core Platform"),
    ("WEB", "Web Front-end — Ünïcode"),
    ("OPS", "Operations & SRE"),
    ("DATA", "Data Pipelines"),
    ("MOB", "Mobile Apps 📱"),
    ("SEC", "Security"),
    ("DOCS", "Documentation"),
    ("QA", "Quality Assurance"),
)
_SUMMARIES: tuple[str, ...] = (
    "Fix crash when saving a draft with emoji 🚀",
    "Ünïcode filenames break the export",
    "Add retry to the webhook dispatcher",
    "Dashboard widget shows stale totals",
    "Support 日本語 labels in search",
    "Timeout when loading the backlog",
    "Rename « Paramètres » page",
    "Upgrade the TLS library",
    "Sync job skips records around midnight",
    "Improve error message for invalid token",
)
_PARAGRAPHS: tuple[str, ...] = (
    "Steps to reproduce are below. The *first* run fails; the second succeeds.",
    "Seen in production at 01:30 local time, during the daylight-saving change.",
    "- open the settings page\n- click `Save`\n- observe the spinner never stops",
    "Переведено на русский язык для проверки Unicode.",
    "相关日志已附上\uff0c请查看。",
    "Ping @[{mention}] for context. Emoji check: ✅ 🐛 ⏱️",
)
_COMMENTS: tuple[str, ...] = (
    "Looks good to me 👍",
    "I could reproduce this on staging. Logs: `ERR_TIMEOUT`.",
    "Je m'en occupe demain matin.",
    "これは重複かもしれません。",
    "*Blocked* by the infrastructure change, see the linked issue.",
    "Moved to the next sprint, cc @[{mention}]",
)
_LABELS: tuple[str, ...] = (
    "backend",
    "frontend",
    "customer-reported",
    "tech-debt",
    "régression",
    "日本語",
    "p1",
)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _account_id(rng: random.Random) -> str:
    return "712020:" + str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _token(seed: int, purpose: str) -> str:
    digest = hashlib.sha256(f"{seed}:{purpose}".encode()).hexdigest()
    return f"ATATT3xFfGF0{digest[:40]}"


def default_accounts(seed: int) -> tuple[AccountSettings, ...]:
    """An admin in America/New_York, and a limited user without Jira Software."""
    return (
        AccountSettings(
            email="ada.admin@example.com",
            display_name="Ada Admin",
            time_zone="America/New_York",
            api_token=_token(seed, "admin-api"),
            oauth_access_token=_token(seed, "admin-oauth-access"),
            oauth_refresh_token=_token(seed, "admin-oauth-refresh"),
        ),
        AccountSettings(
            email="lim.ited@example.com",
            display_name="Lim Ited",
            time_zone="Europe/Berlin",
            locale="de_DE",
            api_token=_token(seed, "limited-api"),
            admin=False,
            browse_users=False,
            jira_software=False,
            projects=("CORE",),
        ),
    )


@dataclass(slots=True)
class _Draft:
    project: ProjectRecord
    created_ms: int
    updated_ms: int


class _IssueFactory:
    def __init__(self, *, site: Site, rng: random.Random, people: list[str]) -> None:
        self.site = site
        self.rng = rng
        self.people = people
        self.heavy = site.settings.seed.heavy_fraction

    # random.choice/randrange/randint cost several calls each; these keep seeding 50k
    # issues within seconds.
    def _below(self, n: int) -> int:
        return int(self.rng.random() * n)

    def _pick(self, options: Sequence[T]) -> T:
        return options[int(self.rng.random() * len(options))]

    def _between(self, low: int, high: int) -> int:
        return low + int(self.rng.random() * (high - low + 1))

    def _text(self, templates: tuple[str, ...], count: int) -> str:
        chosen = [self._pick(templates) for _ in range(count)]
        return "\n\n".join(t.replace("{mention}", self._pick(self.people)) for t in chosen)

    def _event_times(self, draft: _Draft, count: int) -> list[int]:
        span = max(draft.updated_ms - draft.created_ms, 1)
        times = sorted(draft.created_ms + self._below(span) for _ in range(count))
        if times:
            times[-1] = draft.updated_ms
        return times

    def _history_items(self, status_id: str) -> tuple[ChangeItem, ...]:
        kind = self._below(4)
        if kind == 0:
            old = self._pick(catalog.STATUSES)
            new = next(s for s in catalog.STATUSES if s.id == status_id)
            return (ChangeItem("status", "jira", "status", old.id, old.name, new.id, new.name),)
        if kind == 1:
            before, after = self.rng.sample(self.people, 2)
            names = self.site.users
            return (
                ChangeItem(
                    "assignee",
                    "jira",
                    "assignee",
                    before,
                    names[before].display_name,
                    after,
                    names[after].display_name,
                ),
            )
        if kind == 2:
            label = self._pick(_LABELS)
            return (ChangeItem("labels", "jira", "labels", None, "", None, label),)
        old_points, new_points = self.rng.sample([1, 2, 3, 5, 8, 13], 2)
        return (
            ChangeItem(
                "Story point estimate",
                "custom",
                "customfield_10016",
                None,
                str(old_points),
                None,
                str(new_points),
            ),
            ChangeItem("summary", "jira", "summary", None, "Draft", None, "Refined summary"),
        )

    def _counts(self) -> tuple[int, int, int]:
        rng = self.rng
        comments = self._between(21, 45) if rng.random() < self.heavy else self._between(0, 5)
        worklogs = self._between(21, 30) if rng.random() < self.heavy else self._between(0, 3)
        histories = (
            self._between(101, 130) if rng.random() < self.heavy / 2 else self._between(1, 4)
        )
        return comments, worklogs, histories

    def build(self, draft: _Draft, *, sprint_ids: tuple[int, ...]) -> Issue:
        rng, site = self.rng, self.site
        issue_id = site.ids.next_issue()
        number = site.next_issue_number(draft.project.id)
        status = self._pick(catalog.STATUSES)
        n_comments, n_worklogs, n_histories = self._counts()
        kinds = ["c"] * n_comments + ["w"] * n_worklogs + ["h"] * n_histories
        rng.shuffle(kinds)
        if kinds and "h" in kinds:
            # The issue's last event is a field change, so `updated` has a history entry.
            kinds.remove("h")
            kinds.append("h")
        comments: list[Comment] = []
        worklogs: list[Worklog] = []
        histories: list[History] = []
        for kind, at in zip(kinds, self._event_times(draft, len(kinds)), strict=True):
            author = self._pick(self.people)
            if kind == "c":
                edited = at + self._below(3_600_000) if rng.random() < 0.2 else at
                edited = min(edited, draft.updated_ms)
                comments.append(
                    Comment(
                        id=site.ids.next_comment(),
                        issue_id=issue_id,
                        author_id=author,
                        update_author_id=author,
                        text=self._text(_COMMENTS, self._between(1, 2)),
                        created_ms=at,
                        updated_ms=edited,
                        visibility_role="Developers" if rng.random() < 0.05 else None,
                    )
                )
            elif kind == "w":
                seconds = self._between(1, 16) * 900
                worklogs.append(
                    Worklog(
                        id=site.ids.next_worklog(),
                        issue_id=issue_id,
                        author_id=author,
                        update_author_id=author,
                        text=self._text(_COMMENTS, 1) if rng.random() < 0.7 else None,
                        created_ms=at,
                        updated_ms=at,
                        started_ms=at - seconds * 1000,
                        seconds=seconds,
                    )
                )
            else:
                histories.append(
                    History(site.ids.next_history(), author, at, self._history_items(status.id))
                )
        done = status.category_id == 3
        resolution = self._pick(catalog.RESOLUTIONS).id if done else None
        custom = {
            "customfield_10010": self._pick(catalog.TEAM_OPTIONS)[0]
            if rng.random() < 0.7
            else None,
            "customfield_10016": self._pick([1, 2, 3, 5, 8, 13, None]),
            "customfield_10019": f"0|i{issue_id:05x}:",
            "customfield_10021": ["10019"] if rng.random() < 0.1 else None,
            "customfield_10030": self._pick(["Café Münster", "東京支社", "Ωmega Ltd", None]),
            "customfield_10040": self._pick(["2025-11-02", "2025-12-24", None]),
            "customfield_10041": draft.created_ms if rng.random() < 0.3 else None,
            "customfield_10050": self._pick(self.people) if rng.random() < 0.4 else None,
            "customfield_10060": round(rng.random() * 10, 2) if rng.random() < 0.5 else None,
        }
        reporter = self._pick(self.people)
        return Issue(
            id=issue_id,
            project_id=draft.project.id,
            project_key=draft.project.key,
            number=number,
            summary=self._pick(_SUMMARIES),
            description=self._text(_PARAGRAPHS, self._between(1, 4))
            if rng.random() < 0.9
            else None,
            issue_type_id=self._pick(catalog.ISSUE_TYPES[:4]).id,
            status_id=status.id,
            priority_id=self._pick(catalog.PRIORITIES).id,
            resolution_id=resolution,
            resolution_ms=draft.updated_ms if resolution else None,
            assignee_id=self._pick(self.people) if rng.random() < 0.8 else None,
            reporter_id=reporter,
            creator_id=reporter,
            labels=tuple(sorted(set(rng.sample(_LABELS, self._between(0, 3))))),
            component_ids=tuple(
                c.id
                for c in site.components
                if c.project_id == draft.project.id and rng.random() < 0.3
            ),
            fix_version_ids=tuple(
                v.id
                for v in site.versions
                if v.project_id == draft.project.id and rng.random() < 0.25
            ),
            created_ms=draft.created_ms,
            updated_ms=draft.updated_ms,
            status_changed_ms=histories[-1].created_ms if histories else draft.created_ms,
            due_date=self._pick([None, "2025-11-30", "2026-01-15"]),
            sprint_ids=sprint_ids,
            custom=frozen_mapping(custom),
            comments=tuple(comments),
            worklogs=tuple(worklogs),
            histories=tuple(histories),
        )


def _seed_people(site: Site, rng: random.Random, accounts: tuple[AccountSettings, ...]) -> None:
    group_names = ("jira-admins", "jira-software-users", "site-admins", "Développeurs 🛠", "qa-team")
    site.groups = [
        GroupRecord(str(uuid.UUID(int=rng.getrandbits(128), version=4)), name)
        for name in group_names
    ]
    for index in range(site.settings.seed.users):
        name, tz, locale = _PERSONAS[index % len(_PERSONAS)]
        if index >= len(_PERSONAS):
            name = f"{name} {index // len(_PERSONAS) + 1}"
        slug = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum()) or f"user{index}"
        # Every fifth user hides their email address (profile visibility).
        email = None if index % 5 == 4 else f"{slug}.{index}@example.com"
        user = UserRecord(
            account_id=_account_id(rng),
            display_name=name,
            email=email,
            time_zone=tz,
            locale=locale,
            groups=("jira-software-users",) if index % 2 else ("jira-software-users", "qa-team"),
        )
        site.users[user.account_id] = user
    automation = UserRecord(
        account_id="557058:f58131cb-b67d-43c7-b30d-6b58d40bd077",
        display_name="Automation for Jira",
        email=None,
        time_zone="UTC",
        account_type="app",
    )
    former = UserRecord(
        account_id=_account_id(rng),
        display_name="Former Employee",
        email=None,
        time_zone="America/Denver",
        active=False,
    )
    site.users[automation.account_id] = automation
    site.users[former.account_id] = former
    for spec in accounts:
        user = UserRecord(
            account_id=_account_id(rng),
            display_name=spec.display_name,
            email=spec.email,
            time_zone=spec.time_zone,
            locale=spec.locale,
            groups=("jira-admins", "site-admins") if spec.admin else ("jira-software-users",),
        )
        site.users[user.account_id] = user
        site.accounts.append(
            Account(
                user=user,
                api_token=spec.api_token,
                oauth_access_token=spec.oauth_access_token,
                oauth_refresh_token=spec.oauth_refresh_token,
                admin=spec.admin,
                browse_users=spec.browse_users,
                jira_software=spec.jira_software,
                project_ids=None,
                oauth_expires_at=(
                    site.clock.now() + site.settings.oauth_access_token_ttl_s
                    if spec.oauth_access_token
                    else None
                ),
            )
        )


def _seed_projects(site: Site, rng: random.Random) -> None:
    leads = [u.account_id for u in site.users.values() if u.account_type == "atlassian"]
    version_id, component_id, sprint_id = 10000, 10000, 0
    for index in range(site.settings.seed.projects):
        key, name = _PROJECTS[index % len(_PROJECTS)]
        if index >= len(_PROJECTS):
            key, name = f"{key}{index}", f"{name} {index}"
        project = ProjectRecord(
            id=10000 + index,
            key=key,
            name=name,
            description=f"{name}: everything about {key.lower()}.",
            lead_id=leads[index % len(leads)],
            simplified=index % 4 == 3,
            category=("10000", "Engineering", "Product engineering") if index % 2 == 0 else None,
        )
        site.projects[project.id] = project
        for n, (released, archived) in enumerate(((True, False), (False, False), (True, True))):
            version_id += 1
            site.versions.append(
                VersionRecord(
                    id=version_id,
                    project_id=project.id,
                    name=f"{key} {n + 1}.0",
                    description=f"Release {n + 1} of {name}",
                    released=released,
                    archived=archived,
                    start_date=f"2025-{9 + n:02d}-01",
                    release_date=f"2025-{9 + n:02d}-28" if n != 1 else None,
                )
            )
        for n, label in enumerate(("API", "UI — Oberfläche", "Billing")):
            component_id += 1
            site.components.append(
                ComponentRecord(
                    id=component_id,
                    project_id=project.id,
                    name=label,
                    description=f"{label} of {key}",
                    lead_id=leads[(index + n) % len(leads)] if n != 2 else None,
                )
            )
        board_type = ("scrum", "kanban", "scrum")[index % 3]
        board = BoardRecord(
            id=index + 1, name=f"{key} board", type=board_type, project_id=project.id
        )
        site.boards.append(board)
        if board_type == "scrum" and index % 3 == 0:
            states = (("closed", -28), ("active", -7), ("future", 7))
            for name_n, (state, offset_days) in enumerate(states, start=1):
                sprint_id += 1
                start = _ms(site.settings.seed.timeline_end) + offset_days * 86_400_000
                site.sprints.append(
                    SprintRecord(
                        id=sprint_id,
                        board_id=board.id,
                        name=f"{key} Sprint {name_n}",
                        state=state,
                        goal="Ship the ✨ new importer" if state == "active" else "",
                        start_ms=start if state != "future" else None,
                        end_ms=start + 14 * 86_400_000 if state != "future" else None,
                        complete_ms=start + 14 * 86_400_000 if state == "closed" else None,
                        created_ms=start - 86_400_000,
                    )
                )
    first_user = leads[0]
    site.filters = [
        FilterRecord(
            10000,
            "All open bugs",
            "Lists all open bugs",
            "type = Bug and resolution is empty",
            first_user,
            3,
            None,
        ),
        FilterRecord(
            10001,
            "Mes tickets",
            "Issues assigned to me",
            "assignee = currentUser() order by updated desc",
            leads[1 % len(leads)],
            0,
            _ms(site.settings.seed.timeline_end),
        ),
        FilterRecord(
            10002,
            "CORE recently updated",
            "",
            "project = CORE AND updated >= -7d",
            first_user,
            1,
            None,
        ),
    ]
    site.dashboards = [
        DashboardRecord(10000, "Default dashboard", "", None, 0, system=True),
        DashboardRecord(10001, "Équipe Données — KPIs", "Team KPIs", leads[2 % len(leads)], 4),
        DashboardRecord(10002, "Release readiness", "", first_user, 1),
    ]


def _drafts(site: Site, rng: random.Random) -> list[_Draft]:
    seed = site.settings.seed
    start, end = _ms(seed.timeline_start), _ms(seed.timeline_end)
    projects = list(site.projects.values())
    dst_count = min(seed.dst_count(), seed.issues)
    same_count = min(seed.same_minute_count(), seed.issues - dst_count)
    drafts: list[_Draft] = []
    for index in range(seed.issues):
        project = projects[rng.randrange(len(projects))] if projects else None
        if project is None:
            break
        if index < dst_count:
            updated = rng.randrange(_ms(DST_FALLBACK_START), _ms(DST_FALLBACK_END))
        elif index < dst_count + same_count:
            updated = _ms(SAME_MINUTE) + rng.randrange(60_000)
        else:
            updated = rng.randrange(start, end)
        created = rng.randrange(start, updated) if updated > start else updated
        drafts.append(_Draft(project=project, created_ms=created, updated_ms=updated))
    drafts.sort(key=lambda d: d.created_ms)
    return drafts


def build_site(settings: EmulatorSettings, *, clock: EmulatorClock) -> Site:
    rng = random.Random(settings.seed.seed)
    cloud_id = settings.cloud_id or str(uuid.UUID(int=rng.getrandbits(128), version=4))
    site = Site(
        settings=settings,
        clock=clock,
        cloud_id=cloud_id,
        consistency_delay_s=settings.consistency_delay_s,
    )
    accounts = settings.accounts or default_accounts(settings.seed.seed)
    _seed_people(site, rng, accounts)
    _seed_projects(site, rng)
    for spec, account in zip(accounts, site.accounts, strict=True):
        if spec.projects is not None:
            wanted = {k.upper() for k in spec.projects}
            account.project_ids = frozenset(
                p.id for p in site.projects.values() if p.key.upper() in wanted
            )
    people = [u.account_id for u in site.users.values() if u.active]
    factory = _IssueFactory(site=site, rng=rng, people=people)
    sprints_by_project = {
        b.project_id: [s.id for s in site.sprints if s.board_id == b.id] for b in site.boards
    }
    # Seeding allocates millions of small immutable objects; the cyclic collector would
    # rescan the growing heap over and over (a 50k-issue site takes 3x longer).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for draft in _drafts(site, rng):
            candidates = sprints_by_project.get(draft.project.id) or []
            sprint_ids: tuple[int, ...] = ()
            if candidates and rng.random() < 0.6:
                sprint_ids = (rng.choice(candidates),)
            site.put_issue(factory.build(draft, sprint_ids=sprint_ids), index_now=True)
    finally:
        if collecting:
            gc.enable()
    # The seeded records are immutable and live as long as the site: keep the cyclic
    # collector from rescanning them on every collection while requests are served.
    gc.freeze()
    return site
