"""Enhanced JQL search: bounded queries, token paging, short and empty pages.

Results are computed over the lagging search index (see `site.Site`), restricted to the
projects the account may browse, ordered, and cached per query until the index changes.
`nextPageToken` is opaque to clients; here it carries the query's fingerprint and either
the sort values of the last issue handed out (keyset) or an offset.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import json
import random
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .jql import CompileContext, JqlError, Ordering, compile_where, parse
from .records import Account, Issue
from .site import Site

UNBOUNDED_MESSAGE = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
BAD_TOKEN_MESSAGE = "Invalid format of nextPageToken"
_CACHE_SIZE = 16


@dataclass(frozen=True, slots=True)
class ResultSet:
    ordering: Ordering
    keys: list[tuple[Any, ...]]
    raws: list[list[Any]]
    issues: list[Issue]


@dataclass(frozen=True, slots=True)
class SearchPage:
    issues: list[Issue]
    next_page_token: str | None


def _fingerprint(jql: str) -> str:
    return hashlib.sha256(" ".join(jql.split()).encode()).hexdigest()[:16]


def _encode_token(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise JqlError(BAD_TOKEN_MESSAGE) from exc
    if not isinstance(payload, dict) or "q" not in payload:
        raise JqlError(BAD_TOKEN_MESSAGE)
    return payload


class SearchEngine:
    def __init__(self, *, site: Site) -> None:
        self.site = site
        self._cache: OrderedDict[tuple[Any, ...], ResultSet] = OrderedDict()

    def _results(self, *, jql: str, account: Account, reconcile: tuple[int, ...]) -> ResultSet:
        site = self.site
        query = parse(jql)
        if not query.bounded:
            raise JqlError(UNBOUNDED_MESSAGE)
        ordering = Ordering.of(query)
        now_ms = site.clock.now_ms()
        with site.lock:
            view = site.index_view()
            cache_key = (
                account.user.account_id,
                " ".join(jql.split()),
                site.index_generation,
                reconcile,
                now_ms // 60_000,
            )
            cached = self._cache.get(cache_key)
            if cached is not None:
                self._cache.move_to_end(cache_key)
                return cached
            ctx = CompileContext(
                site=site,
                account=account,
                now_ms=now_ms,
                ambiguous=site.settings.ambiguous_local_time,
            )
            predicate = compile_where(query, ctx)
            candidates: Mapping[int, Issue] = view
            if reconcile:
                # Read-after-write: these ids are evaluated as GET issue sees them.
                overrides = dict(view)
                for issue_id in reconcile:
                    current = site.current.get(issue_id)
                    if current is None:
                        overrides.pop(issue_id, None)
                    else:
                        overrides[issue_id] = current
                candidates = overrides
            matched = [
                i for i in candidates.values() if account.can_browse(i.project_id) and predicate(i)
            ]
        rows = sorted(
            (
                (ordering.comparable(raw), raw, issue)
                for issue in matched
                for raw in (ordering.raw(issue),)
            ),
            key=lambda row: row[0],
        )
        result = ResultSet(
            ordering=ordering,
            keys=[r[0] for r in rows],
            raws=[r[1] for r in rows],
            issues=[r[2] for r in rows],
        )
        self._cache[cache_key] = result
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return result

    def count(self, *, jql: str, account: Account) -> int:
        return len(self._results(jql=jql, account=account, reconcile=()).issues)

    def page(
        self,
        *,
        jql: str,
        account: Account,
        token: str | None,
        max_results: int,
        ids_only: bool,
        reconcile: tuple[int, ...] = (),
    ) -> SearchPage:
        settings = self.site.settings.search
        fingerprint = _fingerprint(jql)
        payload: dict[str, Any] | None = None
        if token:
            payload = _decode_token(token)
            if payload.get("q") != fingerprint:
                raise JqlError(BAD_TOKEN_MESSAGE)
            issued = payload.get("t")
            if not isinstance(issued, int) or (
                self.site.clock.now_ms() - issued > settings.token_ttl_s * 1000
            ):
                raise JqlError("The provided next page token has expired.")
        results = self._results(jql=jql, account=account, reconcile=reconcile)
        cap = settings.ids_only_page_cap if ids_only else settings.fields_page_cap
        size = max(1, min(max_results, cap))
        if settings.jitter_page_sizes:
            rng = random.Random(f"{fingerprint}:{token or ''}")
            size = rng.randint(max(1, size // 3), size)
        if payload is None:
            start = 0
        elif settings.token_mode == "offset":
            offset = payload.get("o")
            if not isinstance(offset, int) or offset < 0:
                raise JqlError(BAD_TOKEN_MESSAGE)
            start = offset
        else:
            last = payload.get("k")
            if not isinstance(last, list):
                raise JqlError(BAD_TOKEN_MESSAGE)
            try:
                start = bisect.bisect_right(results.keys, results.ordering.comparable(last))
            except TypeError as exc:
                raise JqlError(BAD_TOKEN_MESSAGE) from exc
        end = min(start + size, len(results.issues))
        issues = results.issues[start:end] if start < len(results.issues) else []
        more = end < len(results.issues)
        if not more and settings.empty_last_page and issues and len(issues) == size:
            # Jira cannot always tell that a full page was the last one: it hands out a
            # token whose page is empty.
            more = True
        next_token: str | None = None
        if more:
            state: dict[str, Any] = {"q": fingerprint, "t": self.site.clock.now_ms()}
            if settings.token_mode == "offset":
                state["o"] = end
            else:
                state["k"] = results.raws[end - 1]
            next_token = _encode_token(state)
        return SearchPage(issues=issues, next_page_token=next_token)
