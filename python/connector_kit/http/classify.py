"""What a failed request means, decided once, in tables.

Every failure ends in one verdict: RETRY (it may pass), FAIL (a `SourceError`:
retrying will not help) or CONFIG (a `ConfigError`: the user must change the
endpoint config). The tables carry the user-facing explanation with the verdict,
so the message a user reads is chosen in the same place as the behaviour.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import aiohttp
import orjson

from connector_kit.errors import ConfigError, ConnectorError, SourceError


class Verdict(enum.Enum):
    RETRY = "retry"
    FAIL = "fail"
    CONFIG = "config"


@dataclass(frozen=True)
class Rule:
    verdict: Verdict
    explanation: str


RETRY, FAIL, CONFIG = Verdict.RETRY, Verdict.FAIL, Verdict.CONFIG

STATUS_RULES: Mapping[int, Rule] = MappingProxyType(
    {
        401: Rule(
            CONFIG,
            "the credentials were rejected (401 Unauthorized): check the API token and the "
            "email or username (or the OAuth client and refresh token) in the endpoint config",
        ),
        403: Rule(
            CONFIG,
            "the credentials lack permission for this URL (403 Forbidden): grant the account "
            "access to it, or leave this resource out of the capture",
        ),
        408: Rule(RETRY, "the server timed out waiting for the request (408 Request Timeout)"),
        425: Rule(RETRY, "the server declined to process the request yet (425 Too Early)"),
        429: Rule(RETRY, "the source is rate limiting us (429 Too Many Requests)"),
        500: Rule(RETRY, "the source had an internal error (500 Internal Server Error)"),
        502: Rule(RETRY, "a gateway in front of the source failed (502 Bad Gateway)"),
        503: Rule(RETRY, "the source is unavailable (503 Service Unavailable)"),
        504: Rule(RETRY, "a gateway timed out waiting for the source (504 Gateway Timeout)"),
    }
)

# Google APIs (BigQuery) name the cause in `error.errors[0].reason`; these override the
# status, e.g. a 403 `rateLimitExceeded` is a rate limit, not a permission problem.
ERROR_REASON_RULES: Mapping[str, Rule] = MappingProxyType(
    {
        "rateLimitExceeded": Rule(RETRY, "the source is rate limiting us (rateLimitExceeded)"),
        "userRateLimitExceeded": Rule(
            RETRY, "the source is rate limiting us (userRateLimitExceeded)"
        ),
        "backendError": Rule(RETRY, "the source had a backend error (backendError)"),
        "internalError": Rule(RETRY, "the source had an internal error (internalError)"),
        "badGateway": Rule(RETRY, "a gateway in front of the source failed (badGateway)"),
        "quotaExceeded": Rule(
            FAIL,
            "the project's quota at the source is used up (quotaExceeded): wait for it to "
            "reset or raise the quota",
        ),
    }
)

# Checked in order: the first class the exception is an instance of decides.
EXCEPTION_RULES: tuple[tuple[type[BaseException], Rule], ...] = (
    (
        aiohttp.ClientConnectorCertificateError,
        Rule(
            CONFIG,
            "the server's TLS certificate was not accepted: check the configured URL "
            "(and any proxy in between)",
        ),
    ),
    (
        aiohttp.NonHttpUrlClientError,
        Rule(CONFIG, "the URL is not an http(s) URL: check the configured domain or base URL"),
    ),
    (
        aiohttp.InvalidURL,
        Rule(CONFIG, "the URL is not valid: check the configured domain or base URL"),
    ),
    (
        aiohttp.ClientConnectorDNSError,
        Rule(RETRY, "the host name could not be resolved: check the configured domain"),
    ),
    (aiohttp.ConnectionTimeoutError, Rule(RETRY, "timed out connecting to the server")),
    (aiohttp.SocketTimeoutError, Rule(RETRY, "timed out waiting for the server to answer")),
    (aiohttp.ServerTimeoutError, Rule(RETRY, "timed out talking to the server")),
    (TimeoutError, Rule(RETRY, "the request took longer than its total timeout")),
    (aiohttp.ClientConnectorError, Rule(RETRY, "could not connect to the server")),
    (
        aiohttp.ServerDisconnectedError,
        Rule(RETRY, "the server closed the connection before answering"),
    ),
    (aiohttp.ClientPayloadError, Rule(RETRY, "the response body was cut off")),
    (aiohttp.ClientConnectionError, Rule(RETRY, "the connection to the server failed")),
    (aiohttp.ClientError, Rule(FAIL, "the HTTP request failed")),
)

_UNLISTED_EXCEPTION = Rule(FAIL, "the HTTP request failed")


def _error_reason(body: bytes) -> str | None:
    if not body.lstrip().startswith(b"{"):
        return None
    try:
        document: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    error = document.get("error") if isinstance(document, dict) else None
    errors = error.get("errors") if isinstance(error, dict) else None
    first = errors[0] if isinstance(errors, list) and errors else None
    reason = first.get("reason") if isinstance(first, dict) else None
    return reason if isinstance(reason, str) else None


def classify_status(*, status: int, reason: str, body: bytes) -> Rule:
    """The rule for a response that was not a success."""
    error_reason = _error_reason(body)
    if error_reason is not None and error_reason in ERROR_REASON_RULES:
        return ERROR_REASON_RULES[error_reason]
    if status in STATUS_RULES:
        return STATUS_RULES[status]
    status_line = f"{status} {reason}".rstrip()
    if 400 <= status < 500:
        return Rule(FAIL, f"the source refused the request ({status_line})")
    if status >= 500:
        return Rule(FAIL, f"the source failed ({status_line})")
    return Rule(FAIL, f"the source answered with an unexpected status ({status_line})")


def classify_exception(exc: BaseException) -> Rule:
    for exception_class, rule in EXCEPTION_RULES:
        if isinstance(exc, exception_class):
            return rule
    return _UNLISTED_EXCEPTION


def error_for(rule: Rule, message: str) -> ConnectorError:
    """The exception to raise when a rule's failure is final."""
    return ConfigError(message) if rule.verdict is Verdict.CONFIG else SourceError(message)
