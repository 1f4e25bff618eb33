"""The response the HTTP client hands back: fully read, immutable, with a redacted URL."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
import pydantic
from multidict import CIMultiDict, CIMultiDictProxy

from connector_kit.errors import SourceError
from connector_kit.http.redact import Redactor

M = TypeVar("M", bound=pydantic.BaseModel)


@dataclass(frozen=True, kw_only=True)
class Response:
    method: str
    url: str
    """The request URL with secrets removed; safe to log."""
    status: int
    reason: str
    headers: CIMultiDictProxy[str]
    body: bytes
    redactor: Redactor = field(default_factory=Redactor, repr=False, compare=False)

    @classmethod
    def from_parts(
        cls,
        *,
        status: int = 200,
        body: bytes = b"",
        headers: Iterable[tuple[str, str]] = (),
        url: str = "",
        method: str = "GET",
        reason: str = "",
    ) -> Response:
        """Build a response by hand, e.g. to test a paginator without a server."""
        return cls(
            method=method,
            url=url,
            status=status,
            reason=reason,
            headers=CIMultiDictProxy(CIMultiDict(headers)),
            body=body,
        )

    @property
    def request_line(self) -> str:
        return f"{self.method} {self.url}"

    @property
    def status_line(self) -> str:
        return f"{self.status} {self.reason}".rstrip()

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError as exc:
            content_type = self.headers.get("Content-Type", "no content type")
            raise SourceError(
                f"{self.request_line} returned {self.status_line} with a body that is not JSON "
                f"({content_type}; {exc.msg}): {self.redactor.snippet(self.body, limit=200)!r}"
            ) from None

    def parse_as(self, model: type[M]) -> M:
        """The body parsed into `model`; a mismatch is a SourceError naming the URL."""
        try:
            return model.model_validate_json(self.body)
        except pydantic.ValidationError as exc:
            errors = exc.errors(include_input=False, include_url=False)
            first = errors[0]
            where = ".".join(str(part) for part in first["loc"]) or "(the whole body)"
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise SourceError(
                f"{self.request_line} returned a body that does not match {model.__name__}: "
                f"{where}: {first['msg']}{more}; the body starts: "
                f"{self.redactor.snippet(self.body, limit=300)!r}"
            ) from None
