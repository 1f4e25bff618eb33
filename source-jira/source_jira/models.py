"""The endpoint config (the spec's JSON Schema) and the shapes of the Jira responses we read.

Response models name only the fields the connector's logic reads, and require them,
so a change in Jira's API fails loudly at the response that changed. Documents pass
through as Jira sent them; their discovered schemas are in `documents.py`.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SkipValidation,
    field_validator,
    model_validator,
)

DEFAULT_LOOKBACK = timedelta(hours=3)
_PROJECT_PATTERN = r"^([A-Za-z][A-Za-z0-9_]*|[0-9]+)$"
_LOOPBACK_NAMES = {"localhost"}


def _secret(description: str) -> Any:
    return Field(description=description, json_schema_extra={"secret": True})


def _optional_secret(description: str) -> Any:
    return Field(default=None, description=description, json_schema_extra={"secret": True})


class ApiTokenCredentials(BaseModel):
    model_config = ConfigDict(title="Email and API token", extra="forbid")

    auth_type: Literal["api_token"] = "api_token"
    email: str = Field(
        description="Email address of the Atlassian account the connector signs in as.",
        pattern=r"^[^@\s]+@[^@\s]+$",
    )
    api_token: str = _secret(
        "API token of that account, from https://id.atlassian.com/manage-profile/security/api-tokens."
    )


class OAuth2Credentials(BaseModel):
    model_config = ConfigDict(title="OAuth 2.0 (3LO)", extra="forbid")

    auth_type: Literal["oauth2"] = "oauth2"
    cloud_id: str = Field(
        description="Cloud ID of the site (https://<site>.atlassian.net/_edge/tenant_info).",
        pattern=r"^[A-Za-z0-9-]+$",
    )
    client_id: str | None = Field(default=None, description="OAuth 2.0 client ID of the app.")
    client_secret: str | None = _optional_secret("OAuth 2.0 client secret of the app.")
    refresh_token: str | None = _optional_secret(
        "Refresh token (scope offline_access); access tokens are refreshed with it."
    )
    access_token: str | None = _optional_secret(
        "An access token, used as is when no refresh token is given."
    )
    api_url: str = Field(
        default="https://api.atlassian.com",
        description="The Atlassian API gateway that serves /ex/jira/{cloud_id}.",
        json_schema_extra={"advanced": True},
    )
    token_url: str = Field(
        default="https://auth.atlassian.com/oauth/token",
        description="The endpoint that exchanges the refresh token for access tokens.",
        json_schema_extra={"advanced": True},
    )

    @model_validator(mode="after")
    def _refreshable_or_access_token(self) -> OAuth2Credentials:
        refresh = (self.refresh_token, self.client_id, self.client_secret)
        if any(refresh) and not all(refresh):
            raise ValueError(
                "a refresh token needs the app's client_id and client_secret: give all three"
            )
        if not self.refresh_token and not self.access_token:
            raise ValueError(
                "give a refresh_token (with client_id and client_secret) or an access_token"
            )
        return self

    @property
    def gateway_url(self) -> str:
        return f"{self.api_url.rstrip('/')}/ex/jira/{self.cloud_id}"


Credentials = Annotated[ApiTokenCredentials | OAuth2Credentials, Field(discriminator="auth_type")]


def _thirty_days_ago() -> datetime:
    return (datetime.now(UTC) - timedelta(days=30)).replace(second=0, microsecond=0)


class EndpointConfig(BaseModel):
    model_config = ConfigDict(title="Jira Cloud", extra="forbid")

    site: str = Field(
        description="Your Jira Cloud site, e.g. acme.atlassian.net or https://acme.atlassian.net.",
        examples=["acme.atlassian.net"],
    )
    credentials: Credentials = Field(description="How the connector signs in to Jira.")
    start_date: AwareDatetime = Field(
        default_factory=_thirty_days_ago,
        description="Capture issues updated at or after this time (default: 30 days ago).",
    )
    projects: list[Annotated[str, Field(pattern=_PROJECT_PATTERN)]] = Field(
        default_factory=list,
        description="Only these projects (keys or numeric ids); empty means every project.",
        examples=[["CORE", "10002"]],
    )
    lookback_horizon: timedelta = Field(
        default=DEFAULT_LOOKBACK,
        ge=timedelta(0),
        description=(
            "How long after a change Jira's search index may still be catching up; changes "
            "this young are read a second time (ISO 8601 duration, default PT3H)."
        ),
    )

    @field_validator("site")
    @classmethod
    def _normalized_site(cls, value: str) -> str:
        return normalize_site(value)


def normalize_site(value: str) -> str:
    """`https://host[:port]` for a site given as a host name or URL; ValueError if unusable."""
    text = value.strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(f"{value!r} is not a site address; write e.g. acme.atlassian.net")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError(f"{value!r}: give only the site address, without credentials or query")
    if parts.path.strip("/"):
        raise ValueError(
            f"{value!r} has a path; give only the site address, e.g. https://{parts.netloc}"
        )
    if parts.scheme == "http" and not _is_loopback(host):
        raise ValueError(f"{value!r} uses plain http; Jira Cloud sites are served over https")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Myself(BaseModel):
    model_config = ConfigDict(extra="ignore")

    accountId: str
    timeZone: str


class ServerInfo(BaseModel):
    model_config = ConfigDict(extra="ignore")

    serverTime: AwareDatetime


class SearchPage(BaseModel):
    """A page of `/rest/api/3/search/jql` (SearchAndReconcileResults)."""

    model_config = ConfigDict(extra="ignore")

    issues: list[dict[str, Any]]
    nextPageToken: str | None = None
    isLast: bool | None = None


class IssueHeadFields(BaseModel):
    model_config = ConfigDict(extra="ignore")

    updated: AwareDatetime


class IssueHead(BaseModel):
    """What the capture reads of every issue it sees."""

    model_config = ConfigDict(extra="ignore")

    id: str
    key: str
    fields: IssueHeadFields


class EmbeddedList(BaseModel):
    """An embedded comment, worklog or changelog page; `total` beyond its length = truncated."""

    model_config = ConfigDict(extra="ignore")

    # Passed through as parsed, not copied: each item becomes a document as it is.
    items: list[Annotated[dict[str, Any], SkipValidation]]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.items)


class ProjectRef(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    key: str


class BoardRef(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    type: str = ""


class SprintRef(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int


class PermissionGrant(BaseModel):
    model_config = ConfigDict(extra="ignore")

    havePermission: bool


class MyPermissions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    permissions: dict[str, PermissionGrant]
