"""Settings of an emulated Jira Cloud site: seed data, paging, truncation and time semantics."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

TokenMode = Literal["keyset", "offset"]
AmbiguousTime = Literal["later", "earlier"]


@dataclass(frozen=True, kw_only=True)
class SeedSettings:
    """What the deterministic generator puts on the site."""

    seed: int = 1
    issues: int = 200
    projects: int = 3
    users: int = 12
    # Issues whose last update falls inside the America/New_York fall-back hour
    # (2025-11-02 01:00-01:59 local, which happens twice).
    dst_fallback_issues: int | None = None
    # Issues whose `updated` shares one single minute (2025-11-05 14:07 UTC).
    same_minute_issues: int | None = None
    # Fraction of issues whose comment/worklog/changelog lists exceed what Jira embeds.
    heavy_fraction: float = 0.06
    timeline_start: datetime = datetime(2025, 10, 1, tzinfo=UTC)
    timeline_end: datetime = datetime(2025, 11, 10, tzinfo=UTC)

    def dst_count(self) -> int:
        return (
            self.dst_fallback_issues if self.dst_fallback_issues is not None else self.issues // 10
        )

    def same_minute_count(self) -> int:
        if self.same_minute_issues is not None:
            return self.same_minute_issues
        return self.issues // 10


@dataclass(frozen=True, kw_only=True)
class EmbeddedLimits:
    """How many child items Jira embeds in an issue payload before truncating."""

    comments: int
    worklogs: int
    changelog: int


@dataclass(frozen=True, kw_only=True)
class SearchSettings:
    """Paging behaviour of `/rest/api/3/search/jql`."""

    # Jira returns at most 5000 issues per page when only ids/keys are requested and
    # "may return fewer items per page" otherwise; 100 is what real sites answer for
    # `fields=*all`.
    ids_only_page_cap: int = 5000
    fields_page_cap: int = 100
    # Draw every page size pseudo-randomly in [cap // 3, cap]: short non-last pages.
    jitter_page_sizes: bool = False
    # When the final page is full, hand out a token anyway; the next call answers
    # `{"issues": [], "isLast": true}`.
    empty_last_page: bool = True
    token_mode: TokenMode = "keyset"
    token_ttl_s: float = 7 * 24 * 3600.0


@dataclass(frozen=True, kw_only=True)
class AccountSettings:
    """One credential set of the site (API token and/or OAuth access token)."""

    email: str
    display_name: str
    time_zone: str = "America/New_York"
    locale: str = "en_US"
    api_token: str | None = None
    oauth_access_token: str | None = None
    oauth_refresh_token: str | None = None
    admin: bool = True
    browse_users: bool = True
    jira_software: bool = True
    # Project keys the account may browse; None means every project.
    projects: tuple[str, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class EmulatorSettings:
    """Everything that shapes one emulated site."""

    seed: SeedSettings = field(default_factory=SeedSettings)
    accounts: tuple[AccountSettings, ...] | None = None
    site_name: str = "connector-kit-emulated"
    site_time_zone: str = "America/New_York"
    cloud_id: str | None = None
    oauth_client_id: str = "emulator-client"
    oauth_client_secret: str = "emulator-secret"
    oauth_access_token_ttl_s: float = 3600.0
    search: SearchSettings = field(default_factory=SearchSettings)
    # Enhanced search embeds at most 20 comments, worklogs and changelog entries.
    search_embedded: EmbeddedLimits = field(
        default_factory=lambda: EmbeddedLimits(comments=20, worklogs=20, changelog=20)
    )
    # GET issue embeds 20 worklogs and the 100 most recent changelog entries.
    issue_embedded: EmbeddedLimits = field(
        default_factory=lambda: EmbeddedLimits(comments=5000, worklogs=20, changelog=100)
    )
    consistency_delay_s: float = 0.0
    # How a JQL wall-clock time inside a DST fall-back overlap resolves: "later" is
    # java.util.Calendar's choice (standard time), the one Jira exhibits.
    ambiguous_local_time: AmbiguousTime = "later"
    software_installed: bool = True
    # The emulated clock starts here (and then ticks); None means the real time.
    start_time: datetime | None = None
