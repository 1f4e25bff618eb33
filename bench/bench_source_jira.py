"""Backfill of an emulated Jira site with comments: source-jira against a per-issue client.

Run: `python bench/bench_source_jira.py [--issues 50000]`. The emulator serves the site
from its own process; each capture then backfills every issue and every comment:

* **source-jira**, as a subprocess speaking the Flow protocol, bindings `issues` and
  `issue_comments`: issues come from JQL search pages, comments side-loaded from a
  second, narrow search, and fetched from `/issue/{id}/comment` only when truncated;
* **per-issue client**, the straightforward way (Airbyte's `issue_comments` sub-stream):
  the same search pages for issues, then one `/issue/{id}/comment` request (or more,
  when paged) per issue, sequentially.

Airbyte's own source-jira is tried first, through connector-kit's Airbyte shim (its own
venv, `bench/.venv-airbyte-jira`, `pip install airbyte-source-jira==4.0.0`), against a
small emulated site served over TLS. Version 4.0.0 reads issues from
`GET /rest/api/3/search`, which Jira Cloud has removed (410 Gone, CHANGE-2046) and the
emulator has too: it captures nothing and retries the 410 until stopped, so the
per-issue client is the peer measured. `--skip-airbyte` skips the attempt.

Prints documents/s and HTTP requests per 1000 issues for both; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import orjson

START_DATE = "2025-09-01T00:00:00Z"


# -- the emulator, in its own process --------------------------------------------------------


def _serve(conn: Connection, issues: int, tls: tuple[str, str] | None = None) -> None:
    from jira_emulator import EmulatorSettings, JiraEmulator, SeedSettings

    async def serve() -> None:
        emulator = JiraEmulator(EmulatorSettings(seed=SeedSettings(seed=1, issues=issues)))
        context = None
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*tls)
        base_url = await emulator.start(ssl_context=context)
        account = emulator.primary_account
        comments = sum(len(i.comments) for i in emulator.site.current.values())
        conn.send((base_url, account.user.email, account.api_token, comments))
        answered = asyncio.Event()
        loop = asyncio.get_running_loop()

        def answer() -> None:
            while (asked := conn.recv()) != "stop":
                if asked == "count":
                    conn.send((emulator.control.request_count(), time.process_time()))
                else:  # "requests": what was asked, and how it was answered
                    requests = emulator.control.requests()
                    conn.send(Counter((r.method, r.path, r.status) for r in requests))
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
    server: Any

    def counters(self) -> tuple[int, float]:
        """Requests served so far, and the emulator's CPU seconds."""
        self.conn.send("count")
        count, cpu = self.conn.recv()
        return count, cpu

    def requests(self) -> Counter[tuple[str, str, int]]:
        """(method, path, status) of every request served so far."""
        self.conn.send("requests")
        served: Counter[tuple[str, str, int]] = self.conn.recv()
        return served

    def stop(self) -> None:
        self.conn.send("stop")
        self.server.join(timeout=60)


def start_site(issues: int, *, tls: tuple[str, str] | None = None) -> Site:
    """The emulated site in a process of its own (over TLS with `tls`: certificate, key)."""
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(child, issues, tls))
    server.start()
    base_url, email, token, comments = parent.recv()
    return Site(base_url, email, token, comments, parent, server)


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
    return open_request("acmeCo/source-jira", config, lambda name: {"name": name})


def open_request(task: str, config: Any, resource: Any) -> bytes:
    """The `open` of a capture of `issues` and `issue_comments`, each resource `resource(name)`."""
    bindings = [
        {
            "resourceConfig": resource(name),
            "resourcePath": [name],
            "collection": {"name": f"acmeCo/{name}", "key": ["/id"]},
            "stateKey": name,
        }
        for name in ("issues", "issue_comments")
    ]
    capture = {"name": task, "config": config, "bindings": bindings}
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


# -- Airbyte's source-jira, the peer tried first ---------------------------------------------

BENCH = Path(__file__).resolve().parent
AIRBYTE_PACKAGE = "airbyte-source-jira==4.0.0"
AIRBYTE_VENV = BENCH / ".venv-airbyte-jira"
AIRBYTE_SITE_ISSUES = 200
AIRBYTE_SECONDS = 60.0


def airbyte_source_jira() -> Path | None:
    """The Python of a venv holding Airbyte's source-jira (never the project's); None if it
    does not install."""
    python = AIRBYTE_VENV / "bin" / "python"
    if not (AIRBYTE_VENV / "bin" / "source-jira").exists():
        subprocess.run([sys.executable, "-m", "venv", str(AIRBYTE_VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", AIRBYTE_PACKAGE]
        if subprocess.run(pip, check=False).returncode != 0:
            return None
    return python


def _airbyte_open_request(site: Site) -> bytes:
    config = {
        "domain": site.base_url.removeprefix("https://"),
        "email": site.email,
        "api_token": site.token,
        "start_date": START_DATE,
    }
    return open_request(
        "acmeCo/airbyte-source-jira",
        config,
        lambda name: {"stream": name, "syncMode": "incremental"},
    )


def try_airbyte_source_jira() -> str:
    """Airbyte's source-jira through connector-kit's Airbyte shim, backfilling a small
    emulated site served over TLS (its sources only speak https), for at most
    AIRBYTE_SECONDS: what it captured and what it asked the site."""
    python = airbyte_source_jira()
    if python is None:
        return f"{AIRBYTE_PACKAGE}: does not install here; the peer is the per-issue client"
    with tempfile.TemporaryDirectory() as directory:
        cert, key = Path(directory) / "cert.pem", Path(directory) / "key.pem"
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
                *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
                *("-addext", "subjectAltName=IP:127.0.0.1"),
            ],
            check=True,
            capture_output=True,
        )
        site = start_site(AIRBYTE_SITE_ISSUES, tls=(str(cert), str(key)))
        command = [sys.executable, "-m", "connector_kit.shims.airbyte", "--", str(python)]
        command += [str(BENCH / "airbyte_trusting.py"), "source_jira.run:run"]
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "BENCH_TRUST_CERT": str(cert)},
        )
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(_airbyte_open_request(site))
        process.stdin.flush()
        captured = [0]

        def count() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                captured[0] += line.startswith(b'{"captured"')

        reader = threading.Thread(target=count, daemon=True)
        began = time.monotonic()
        reader.start()
        reader.join(timeout=AIRBYTE_SECONDS)
        seconds = time.monotonic() - began
        process.kill()
        process.wait()
        served = site.requests()
        site.stop()
    asked = ", ".join(
        f"{method} {path} → {status} {times} times"
        for (method, path, status), times in served.most_common(3)
    )
    return (
        f"{AIRBYTE_PACKAGE} through the Airbyte shim, {AIRBYTE_SITE_ISSUES} issues over TLS: "
        f"{captured[0]} documents in {seconds:.0f} s; it asked {asked or 'nothing'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues", type=int, default=50_000)
    parser.add_argument(
        "--rounds", type=int, default=1, help="run both clients this many times; keep the best"
    )
    parser.add_argument(
        "--skip-airbyte", action="store_true", help="do not try Airbyte's source-jira first"
    )
    args = parser.parse_args()

    if not args.skip_airbyte:
        print(try_airbyte_source_jira(), flush=True)
    seeding = time.monotonic()
    site = start_site(args.issues)
    print(
        f"emulated site: {args.issues} issues, {site.comments} comments "
        f"(seeded in {time.monotonic() - seeding:.0f} s)"
    )
    runs: dict[str, list[Result]] = {"source-jira": [], "per-issue client": []}
    for _ in range(args.rounds):
        runs["source-jira"].append(run_source_jira(site))
        runs["per-issue client"].append(run_per_issue_client(site))
    site.stop()

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
