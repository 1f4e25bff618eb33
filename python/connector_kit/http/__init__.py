"""One async HTTP client for every source connector: timeouts, bounded retries,
per-host rate limits, auth, pagination, and secrets kept out of logs and errors."""

from connector_kit.http.auth import (
    Auth,
    BasicAuth,
    BearerAuth,
    HeaderTokenAuth,
    OAuth2RefreshAuth,
    TokenRequester,
)
from connector_kit.http.classify import (
    ERROR_REASON_RULES,
    EXCEPTION_RULES,
    STATUS_RULES,
    Rule,
    Verdict,
    classify_exception,
    classify_status,
)
from connector_kit.http.client import HTTPClient, Params, Timeouts
from connector_kit.http.pagination import (
    Page,
    next_link,
    next_offset,
    next_token_from,
    offset_pages,
    paginate,
)
from connector_kit.http.ratelimit import HostRateLimiter, RateLimit
from connector_kit.http.read_ahead import read_ahead
from connector_kit.http.redact import Redactor, is_sensitive_parameter
from connector_kit.http.response import Response
from connector_kit.http.retry import RetryHook, RetryPolicy

__all__ = [
    "ERROR_REASON_RULES",
    "EXCEPTION_RULES",
    "STATUS_RULES",
    "Auth",
    "BasicAuth",
    "BearerAuth",
    "HTTPClient",
    "HeaderTokenAuth",
    "HostRateLimiter",
    "OAuth2RefreshAuth",
    "Page",
    "Params",
    "RateLimit",
    "Redactor",
    "Response",
    "RetryHook",
    "RetryPolicy",
    "Rule",
    "Timeouts",
    "TokenRequester",
    "Verdict",
    "classify_exception",
    "classify_status",
    "is_sensitive_parameter",
    "next_link",
    "next_offset",
    "next_token_from",
    "offset_pages",
    "paginate",
    "read_ahead",
]
