"""Bulk worklog endpoints, deterministic seeding, and the ways to run the emulator."""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from jira_emulator import (
    EmulatorHandle,
    EmulatorSettings,
    EmulatorThread,
    JiraEmulator,
    SeedSettings,
)
from jira_emulator.testing import threaded_emulator_fixture

from .jira_http import JiraHttp

jira_thread = threaded_emulator_fixture(EmulatorSettings(seed=SeedSettings(issues=8)))


async def test_worklog_updated_pages_and_list_returns_details(
    jira: EmulatorHandle, http: JiraHttp
) -> None:
    all_ids: list[int] = []
    since = 0
    for _ in range(50):
        page = (await http.get("/rest/api/3/worklog/updated", params={"since": str(since)})).json()
        assert [v["updatedTime"] for v in page["values"]] == sorted(
            v["updatedTime"] for v in page["values"]
        )
        assert all(v["updatedTime"] >= since for v in page["values"])
        all_ids += [v["worklogId"] for v in page["values"] if v["worklogId"] not in all_ids]
        assert page["nextPage"].endswith(f"since={page['until']}")
        if page["lastPage"]:
            break
        since = page["until"]
    expected = {w.id for r in jira.control.issue_refs() for w in jira.control.issue(r.key).worklogs}
    assert set(all_ids) == expected

    details = await http.post("/rest/api/3/worklog/list", body={"ids": all_ids[:3]})
    assert [int(w["id"]) for w in details.json()] == sorted(all_ids[:3])
    assert {"issueId", "timeSpentSeconds", "started", "author"} <= set(details.json()[0])
    assert (await http.post("/rest/api/3/worklog/list", body={"ids": []})).status == 400
    assert (
        await http.post("/rest/api/3/worklog/list", body={"ids": list(range(1001))})
    ).status == 400


async def test_worklogs_from_the_last_minute_are_held_back(
    jira: EmulatorHandle, http: JiraHttp
) -> None:
    now = datetime.fromtimestamp(jira.control.clock.now(), UTC)
    worklog_id = int(jira.control.add_worklog("CORE-2", seconds=1800, created=now))
    since = str(int(now.timestamp() * 1000) - 1000)
    recent = (await http.get("/rest/api/3/worklog/updated", params={"since": since})).json()
    assert worklog_id not in {v["worklogId"] for v in recent["values"]}
    jira.control.clock.advance(61)
    later = (await http.get("/rest/api/3/worklog/updated", params={"since": since})).json()
    assert worklog_id in {v["worklogId"] for v in later["values"]}


def test_the_same_seed_builds_the_same_site() -> None:
    settings = EmulatorSettings(seed=SeedSettings(seed=11, issues=60))
    first, second = JiraEmulator(settings), JiraEmulator(settings)
    assert first.site.current == second.site.current
    assert first.site.cloud_id == second.site.cloud_id
    other = JiraEmulator(EmulatorSettings(seed=SeedSettings(seed=12, issues=60)))
    assert other.site.current != first.site.current


def test_seeded_users_live_in_several_zones_with_unicode_names() -> None:
    site = JiraEmulator(EmulatorSettings(seed=SeedSettings(issues=10))).site
    zones = {u.time_zone for u in site.users.values()}
    assert {"America/New_York", "Asia/Kolkata", "Europe/Berlin", "UTC"} <= zones
    assert any(not u.display_name.isascii() for u in site.users.values())
    assert any(u.account_type == "app" for u in site.users.values())
    assert any(u.email is None for u in site.users.values())


def test_the_emulator_runs_in_a_background_thread_for_synchronous_callers() -> None:
    with EmulatorThread(EmulatorSettings(seed=SeedSettings(issues=20))) as handle:
        token = base64.b64encode(f"{handle.email}:{handle.api_token}".encode()).decode()
        request = urllib.request.Request(
            f"{handle.base_url}/rest/api/3/search/jql?jql=project%20%3D%20CORE",
            headers={"Authorization": f"Basic {token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.load(response)
        handle.control.create_issue(project="CORE")
        assert body["isLast"] is True
        assert handle.control.request_count(path_contains="/search/jql") == 1


def test_python_dash_m_prints_the_base_url_and_credentials() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "jira_emulator", "--port", "0", "--issues", "15"],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        banner = [process.stderr.readline() for _ in range(3)]
        assert banner[0].startswith("Jira emulator serving 15 issues at http://127.0.0.1:")
        base_url = banner[0].rsplit(" ", 1)[-1].strip()
        email = banner[1].split(":", 1)[1].strip()
        api_token = banner[2].split(":", 1)[1].strip()
        token = base64.b64encode(f"{email}:{api_token}".encode()).decode()
        request = urllib.request.Request(
            f"{base_url}/rest/api/3/myself", headers={"Authorization": f"Basic {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.load(response)["emailAddress"] == email
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.stdout is not None
    assert process.stdout.read() == ""


def test_the_threaded_fixture_serves_synchronous_tests(jira_thread: EmulatorHandle) -> None:
    request = urllib.request.Request(
        f"{jira_thread.base_url}/rest/api/3/myself", headers=jira_thread.basic_auth_header()
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.load(response)["timeZone"] == "America/New_York"
    assert len(jira_thread.control.issue_refs()) == 8


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 and its key."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_the_emulator_serves_https_for_clients_that_only_speak_it(
    self_signed: tuple[Path, Path],
) -> None:
    cert, key = self_signed
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    emulator = JiraEmulator(EmulatorSettings(seed=SeedSettings(issues=5)))
    base_url = await emulator.start(ssl_context=served)
    try:
        assert base_url.startswith("https://127.0.0.1:")
        account = emulator.primary_account
        trusted = ssl.create_default_context(cafile=str(cert))
        headers = {
            "Authorization": aiohttp.encode_basic_auth(account.user.email, account.api_token)
        }
        async with (
            aiohttp.ClientSession(headers=headers) as http,
            http.get(f"{base_url}/rest/api/3/myself", ssl=trusted) as response,
        ):
            assert response.status == 200
            assert (await response.json())["emailAddress"] == account.user.email
    finally:
        await emulator.stop()
