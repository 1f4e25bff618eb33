"""Backfill of an emulated Jira site with comments: source-jira against a per-issue client.

Run: `python bench/bench_source_jira.py [--issues 50000]`. The emulator serves the site
from its own process; each capture then backfills every issue and every comment:

* **source-jira**, as a subprocess speaking the Flow protocol, bindings `issues` and
  `issue_comments`: issues come from JQL search pages, comments side-loaded from a
  second, narrow search, and fetched from `/issue/{id}/comment` only when truncated;
* **per-issue client**, the straightforward way (Airbyte's `issue_comments` sub-stream):
  the same search pages for issues, then one `/issue/{id}/comment` request (or more,
  when paged) per issue, sequentially.

Prints documents/s and HTTP requests per 1000 issues for both; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
import orjson

START_DATE = "2025-09-01T00:00:00Z"


# -- the emulator, in its own process --------------------------------------------------------


def _serve(conn: Connection, issues: int) -> None:
    from jira_emulator import EmulatorSettings, JiraEmulator, SeedSettings

    async def serve() -> None:
        emulator = JiraEmulator(EmulatorSettings(seed=SeedSettings(seed=1, issues=issues)))
        base_url = await emulator.start()
        account = emulator.primary_account
        comments = sum(len(i.comments) for i in emulator.site.current.values())
        conn.send((base_url, account.user.email, account.api_token, comments))
        answered = asyncio.Event()
        loop = asyncio.get_running_loop()

        def answer() -> None:
            while conn.recv() == "count":
                cpu = time.process_time()
                conn.send((emulator.control.request_count(), cpu))
            loop.call_soon_threadsafe(answered.set)

        threading.Thread(target=answer, daemon=True).start()
        await answered.wait()
        await emulator.stop()

    asyncio.run(serve())


@dataclass
class Site:
    base_url: str
    email: str
    token: str
    comments: int
    conn: Connection

    def counters(self) -> tuple[int, float]:
        """Requests served so far, and the emulator's CPU seconds."""
        self.conn.send("count")
        count, cpu = self.conn.recv()
        return count, cpu


# -- the two clients -------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    documents: int
    seconds: float
    requests: int
    server_cpu: float
    client_cpu: float


def _open_request(site: Site) -> bytes:
    config = {
        "site": site.base_url,
        "credentials": {"auth_type": "api_token", "email": site.email, "api_token": site.token},
        "start_date": START_DATE,
    }
    bindings = [
        {
            "resourceConfig": {"name": name},
            "resourcePath": [name],
            "collection": {"name": f"acmeCo/{name}", "key": ["/id"]},
            "stateKey": name,
        }
        for name in ("issues", "issue_comments")
    ]
    capture = {"name": "acmeCo/source-jira", "config": config, "bindings": bindings}
    key_range = {"keyBegin": 0, "keyEnd": 4294967295, "rClockBegin": 0, "rClockEnd": 4294967295}
    request = {"open": {"capture": capture, "version": "bench", "range": key_range, "state": {}}}
    return orjson.dumps(request) + b"\n"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_source_jira(site: Site) -> Result:
    """Until both streams have checkpointed past the minute the capture began."""
    requests, server_cpu = site.counters()
    client_cpu = _children_cpu()
    began = time.monotonic()
    caught_up = (datetime.now(UTC) - timedelta(minutes=1)).replace(second=0, microsecond=0)
    process = subprocess.Popen(
        [sys.executable, "-m", "source_jira"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(_open_request(site))
    process.stdin.flush()
    documents = 0
    done: set[str] = set()
    for line in process.stdout:
        if line.startswith(b'{"captured"'):
            documents += 1
        elif line.startswith(b'{"checkpoint"'):
            state = orjson.loads(line)["checkpoint"]["state"]["updated"]["bindingStateV1"]
            for name, patch in state.items():
                if datetime.fromisoformat(patch["inc"]["cursor"][0]) >= caught_up:
                    done.add(name)
            if done == {"issues", "issue_comments"}:
                break
    seconds = time.monotonic() - began
    served, served_cpu = site.counters()
    process.stdin.close()
    process.wait(timeout=60)
    return Result(
        "source-jira",
        documents,
        seconds,
        served - requests,
        served_cpu - server_cpu,
        _children_cpu() - client_cpu,
    )


async def _per_issue_client(site: Site, sink: Any) -> int:
    documents = 0
    headers = {"Authorization": aiohttp.encode_basic_auth(site.email, site.token)}
    jql = f'updated >= "2025/09/01 00:00" AND updated <= "{datetime.now(UTC):%Y/%m/%d %H:%M}"'
    async with aiohttp.ClientSession(base_url=site.base_url, headers=headers) as http:
        token: str | None = None
        while True:
            params: dict[str, str | int] = {
                "jql": jql + " ORDER BY updated ASC",
                "fields": "*all",
                "maxResults": 100,
            }
            if token:
                params["nextPageToken"] = token
            async with http.get("/rest/api/3/search/jql", params=params) as response:
                page = orjson.loads(await response.read())
            for issue in page["issues"]:
                sink.write(orjson.dumps(issue) + b"\n")
                documents += 1
                start = 0
                while True:
                    path = f"/rest/api/3/issue/{issue['id']}/comment"
                    query = {"startAt": start, "maxResults": 100}
                    async with http.get(path, params=query) as response:
                        comments = orjson.loads(await response.read())
                    for comment in comments["comments"]:
                        sink.write(orjson.dumps({**comment, "issueId": issue["id"]}) + b"\n")
                        documents += 1
                    start += len(comments["comments"])
                    if not comments["comments"] or start >= comments["total"]:
                        break
            token = page.get("nextPageToken")
            if page.get("isLast") or not token:
                return documents


def run_per_issue_client(site: Site) -> Result:
    requests, server_cpu = site.counters()
    client_cpu = time.process_time()
    began = time.monotonic()
    with open(os.devnull, "wb") as sink:
        documents = asyncio.run(_per_issue_client(site, sink))
    seconds = time.monotonic() - began
    served, served_cpu = site.counters()
    return Result(
        "per-issue client",
        documents,
        seconds,
        served - requests,
        served_cpu - server_cpu,
        time.process_time() - client_cpu,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues", type=int, default=50_000)
    parser.add_argument(
        "--rounds", type=int, default=1, help="run both clients this many times; keep the best"
    )
    args = parser.parse_args()

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(child, args.issues))
    seeding = time.monotonic()
    server.start()
    base_url, email, token, comments = parent.recv()
    site = Site(base_url, email, token, comments, parent)
    print(
        f"emulated site: {args.issues} issues, {comments} comments "
        f"(seeded in {time.monotonic() - seeding:.0f} s)"
    )
    runs: dict[str, list[Result]] = {"source-jira": [], "per-issue client": []}
    for _ in range(args.rounds):
        runs["source-jira"].append(run_source_jira(site))
        runs["per-issue client"].append(run_per_issue_client(site))
    parent.send("stop")
    server.join(timeout=60)

    print(
        f"{'client':<18} {'documents':>10} {'seconds':>8} {'docs/s':>8} {'req/1000 issues':>16} "
        f"{'server CPU s':>13} {'client CPU s':>13}"
    )
    ours, peer = (min(results, key=lambda r: r.seconds) for results in runs.values())
    for r in (ours, peer):
        print(
            f"{r.name:<18} {r.documents:>10} {r.seconds:>8.1f} {r.documents / r.seconds:>8.0f} "
            f"{1000 * r.requests / args.issues:>16.1f} {r.server_cpu:>13.1f} {r.client_cpu:>13.1f}"
        )
    print(
        f"source-jira: {(ours.documents / ours.seconds) / (peer.documents / peer.seconds):.1f}x "
        f"the throughput, {peer.requests / ours.requests:.1f}x fewer requests "
        f"(best of {args.rounds} round{'s' if args.rounds != 1 else ''})"
    )


if __name__ == "__main__":
    main()
