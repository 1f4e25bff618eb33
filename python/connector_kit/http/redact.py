"""Remove secrets from URLs and text before they reach a log line or an error message.

Two kinds of secret are removed: the values this client knows (tokens, passwords,
client secrets, including their URL-encoded forms) wherever they appear, and the
values of query parameters, URL passwords, JSON fields and Authorization-style
credentials whose *name* marks them as sensitive, even when the value is unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

from yarl import URL

REDACTED = "***"

SENSITIVE_QUERY_PARAMETERS = frozenset(
    {
        "token",
        "key",
        "secret",
        "password",
        "passwd",
        "pwd",
        "signature",
        "sig",
        "code",
        "auth",
        "authorization",
        "access_token",
        "refresh_token",
        "id_token",
        "api_key",
        "apikey",
        "api-key",
        "client_secret",
        "private_key",
        "session_token",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
    }
)

# Parameter names containing one of these are sensitive whatever their prefix
# (`storageApiToken`, `aws_secret_access_key`, `db_password`); plain `token`
# suffixes are not matched so paging tokens (`pageToken`) stay readable.
SENSITIVE_NAME_FRAGMENTS = (
    "secret",
    "passw",
    "signature",
    "credential",
    "apikey",
    "api_key",
    "apitoken",
    "api_token",
    "access_token",
    "accesstoken",
    "refresh_token",
    "refreshtoken",
    "auth_token",
    "authtoken",
    "session_token",
    "private_key",
)

_JSON_SECRET_FIELD = re.compile(
    r'("(?:access_token|refresh_token|id_token|client_secret|password|api_key|apiKey|token|secret)"'
    r'\s*:\s*)"(?:[^"\\]|\\.)*"'
)
# `Authorization: <scheme> <credential>` in any quoting; and a bare `Bearer <token>`,
# matched case-sensitively and only for token-like words so prose such as
# "Basic authentication is disabled" survives.
_AUTHORIZATION_VALUE = re.compile(
    r"""(?i)(authorization["']?\s*[:=]\s*["']?)([A-Za-z]+\s+)?[^\s"',;]+"""
)
_BEARER_TOKEN = re.compile(r"\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}")

SecretSource = Callable[[], Iterable[str]]


def is_sensitive_parameter(name: str) -> bool:
    lowered = name.lower()
    return lowered in SENSITIVE_QUERY_PARAMETERS or any(
        fragment in lowered for fragment in SENSITIVE_NAME_FRAGMENTS
    )


def _encoded_forms(secret: str) -> set[str]:
    forms = {secret, quote(secret, safe=""), quote_plus(secret, safe="")}
    forms.add(URL.build(query={"v": secret}).raw_query_string.removeprefix("v="))
    forms.add(URL.build(path="/" + secret).raw_path.removeprefix("/"))
    return {form for form in forms if form}


class Redactor:
    """Cleans URLs and text of every secret it knows and every sensitive-looking value.

    Secrets come from fixed strings and from sources asked on each call, so a token
    that is refreshed later (OAuth) is still removed.
    """

    def __init__(
        self, *, secrets: Iterable[str] = (), sources: Iterable[SecretSource] = ()
    ) -> None:
        self._fixed = {secret for secret in secrets if secret}
        self._sources = list(sources)

    def add_secret(self, secret: str) -> None:
        if secret:
            self._fixed.add(secret)

    def add_source(self, source: SecretSource) -> None:
        self._sources.append(source)

    def known_secrets(self) -> set[str]:
        known = set(self._fixed)
        for source in self._sources:
            known.update(secret for secret in source() if secret)
        return known

    def text(self, text: str) -> str:
        forms: set[str] = set()
        for secret in self.known_secrets():
            forms.update(_encoded_forms(secret))
        # Longest first, so a secret containing another is removed whole.
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, REDACTED)
        text = _JSON_SECRET_FIELD.sub(rf'\1"{REDACTED}"', text)
        text = _AUTHORIZATION_VALUE.sub(lambda m: f"{m[1]}{m[2] or ''}{REDACTED}", text)
        return _BEARER_TOKEN.sub(rf"\1{REDACTED}", text)

    def url(self, url: str | URL) -> str:
        raw = str(url)
        parts = urlsplit(raw)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            user, has_password, _ = userinfo.partition(":")
            netloc = f"{user}:{REDACTED}@{hostport}" if has_password else netloc
        query = "&".join(_redact_query_item(item) for item in parts.query.split("&"))
        cleaned = urlunsplit((parts.scheme, netloc, parts.path, query if parts.query else "", ""))
        return self.text(cleaned)

    def snippet(self, body: bytes | str, *, limit: int = 500) -> str:
        """A one-line, redacted, truncated rendering of a response body for messages."""
        text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
        text = " ".join(self.text(text).split())
        return text if len(text) <= limit else text[: limit - 1] + "…"


def _redact_query_item(item: str) -> str:
    name, has_value, _ = item.partition("=")
    if has_value and is_sensitive_parameter(unquote_plus(name)):
        return f"{name}={REDACTED}"
    return item
