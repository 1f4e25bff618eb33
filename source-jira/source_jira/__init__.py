"""Captures a Jira Cloud site: issues incrementally, with their comments, worklogs,
changelogs and transitions, and Jira's reference data as snapshots."""

from __future__ import annotations

from connector_kit.capture import CaptureConnector
from source_jira.models import EndpointConfig
from source_jira.resources import check, http_client, resources

connector = CaptureConnector(
    endpoint_config=EndpointConfig,
    resources=resources,
    http_client=http_client,
    check=check,
    documentation_url="https://developer.atlassian.com/cloud/jira/platform/rest/v3/",
)
