"""The endpoint config: site addresses, credentials and defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from source_jira import connector
from source_jira.models import DEFAULT_LOOKBACK, EndpointConfig

TOKEN = {"auth_type": "api_token", "email": "ada@example.com", "api_token": "t0k3n-value"}


def parse(**values: Any) -> EndpointConfig:
    return EndpointConfig.model_validate(
        {"site": "acme.atlassian.net", "credentials": TOKEN, **values}
    )


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        ("acme.atlassian.net", "https://acme.atlassian.net"),
        ("  https://ACME.atlassian.net/  ", "https://acme.atlassian.net"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:9000/", "http://localhost:9000"),
    ],
)
def test_the_site_is_normalized_to_its_origin(given: str, normalized: str) -> None:
    assert parse(site=given).site == normalized


@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        ("http://acme.atlassian.net", "plain http"),
        ("https://acme.atlassian.net/jira/software", "has a path"),
        ("https://user:pw@acme.atlassian.net", "without credentials"),
        ("ftp://acme.atlassian.net", "not a site address"),
        ("", "not a site address"),
    ],
)
def test_an_unusable_site_is_refused_with_the_reason(given: str, complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        parse(site=given)


def test_defaults_start_30_days_ago_and_look_back_a_few_hours() -> None:
    config = parse()
    age = datetime.now(UTC) - config.start_date
    assert timedelta(days=29, hours=23) < age < timedelta(days=30, minutes=2)
    assert config.lookback_horizon == DEFAULT_LOOKBACK == timedelta(hours=3)
    assert config.projects == []


def test_a_refresh_token_needs_the_client_credentials() -> None:
    oauth = {"auth_type": "oauth2", "cloud_id": "abc-123", "refresh_token": "r"}
    with pytest.raises(ValidationError, match="client_id and client_secret"):
        parse(credentials=oauth)
    with pytest.raises(ValidationError, match="or an access_token"):
        parse(credentials={"auth_type": "oauth2", "cloud_id": "abc-123"})
    config = parse(credentials={**oauth, "client_id": "c", "client_secret": "s"})
    assert config.credentials.auth_type == "oauth2"


def test_project_filters_are_keys_or_ids() -> None:
    assert parse(projects=["CORE", "10002"]).projects == ["CORE", "10002"]
    with pytest.raises(ValidationError, match="projects"):
        parse(projects=['CORE" OR project = "X'])


def test_the_spec_marks_every_credential_secret() -> None:
    schema = connector.spec().config_schema
    defs = schema["$defs"]
    assert defs["ApiTokenCredentials"]["properties"]["api_token"]["secret"] is True
    oauth = defs["OAuth2Credentials"]["properties"]
    for name in ("client_secret", "refresh_token", "access_token"):
        assert oauth[name]["secret"] is True, name
    assert "secret" not in oauth["client_id"]
    assert schema["required"] == ["site", "credentials"]
