"""The error families every part of connector-kit raises.

Each carries a message written for the person running the connector: what went
wrong, where, and what to do about it. The entry point turns any of them into
the final error log line and exit code 1; anything else is reported as an
internal error with its traceback.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """An error whose message is meant for the user as it stands."""


class ConfigError(ConnectorError):
    """The endpoint or resource configuration is invalid or is refused by the source."""


class ProtocolError(ConnectorError):
    """A message broke the Flow protocol: malformed, unexpected, or out of order."""


class SourceError(ConnectorError):
    """The source system failed in a way that retrying will not fix."""


class TransientError(SourceError):
    """The source failed in a way that may pass; raised after retries ran out."""
