"""A small local Notes API for the example capture: token-paged, bearer-authenticated.

GET /v1/notes?updated_after=<RFC 3339>&limit=<n>&page_token=<t> answers
`{"notes": [...], "next_page_token": t | null}` with notes updated strictly after
`updated_after`, ordered by (updated_at, id). POST /v1/notes upserts a note and
stamps its `updated_at`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

TOKEN = "notes-demo-token"


@dataclass
class NotesStore:
    notes: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: int = 0

    def upsert(self, note: dict[str, Any], *, at: datetime | None = None) -> dict[str, Any]:
        stamped = {**note, "updated_at": (at or datetime.now(UTC)).isoformat()}
        self.notes[int(note["id"])] = stamped
        return stamped

    def changed_after(self, after: datetime) -> list[dict[str, Any]]:
        newer = [n for n in self.notes.values() if datetime.fromisoformat(n["updated_at"]) > after]
        return sorted(newer, key=lambda n: (datetime.fromisoformat(n["updated_at"]), n["id"]))


NOTES_KEY = web.AppKey("notes", NotesStore)


def seeded_store(count: int, *, seed: int = 7) -> NotesStore:
    rng = random.Random(seed)
    store = NotesStore()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(1, count + 1):
        store.upsert(
            {
                "id": i,
                "title": f"Note {i}",
                "body": rng.choice(["Buy milk", "Ship it", "Call Ada", "Ünïcødé ✓"]),
                "tags": rng.sample(["home", "work", "urgent", "later"], k=rng.randint(0, 2)),
                "author": {"name": rng.choice(["ada", "grace", "linus"])},
                "stars": rng.randint(0, 5),
            },
            at=start + timedelta(minutes=i),
        )
    return store


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _offset(token: str) -> int:
    return int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("o:"))


async def list_notes(request: web.Request) -> web.Response:
    store = request.app[NOTES_KEY]
    store.requests += 1
    if request.headers.get("Authorization") != f"Bearer {TOKEN}":
        return web.json_response({"error": "invalid token"}, status=401)
    try:
        after = datetime.fromisoformat(
            request.query.get("updated_after", "1970-01-01T00:00:00+00:00")
        )
        limit = min(int(request.query.get("limit", "50")), 100)
        offset = _offset(request.query["page_token"]) if "page_token" in request.query else 0
    except ValueError as err:
        return web.json_response({"error": f"bad query: {err}"}, status=400)
    notes = store.changed_after(after)
    page = notes[offset : offset + limit]
    more = offset + limit < len(notes)
    return web.json_response(
        {"notes": page, "next_page_token": _token(offset + limit) if more else None}
    )


async def upsert_note(request: web.Request) -> web.Response:
    store = request.app[NOTES_KEY]
    if request.headers.get("Authorization") != f"Bearer {TOKEN}":
        return web.json_response({"error": "invalid token"}, status=401)
    return web.json_response(store.upsert(await request.json()))


def make_app(store: NotesStore) -> web.Application:
    app = web.Application()
    app[NOTES_KEY] = store
    app.router.add_get("/v1/notes", list_notes)
    app.router.add_post("/v1/notes", upsert_note)
    return app


@contextlib.contextmanager
def serving(store: NotesStore, *, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `store` on a free port from a background thread; yields the base URL."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(make_app(store))
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, host, 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
