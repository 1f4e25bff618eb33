"""The demo pipeline end to end: emulated Jira → source-jira → `connector-kit run` → DuckDB.

Each check compares the DuckDB tables with the emulated site itself: every issue
(id, key, summary) and the number of comments, exactly, with no key twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from jira_emulator import EmulatorSettings, SeedSettings
from jira_emulator.testing import EmulatorHandle, EmulatorThread

REPO = Path(__file__).resolve().parents[2]
JIRA_COLLECTIONS = REPO / "source-jira" / "acmeCo" / "flow.yaml"
RUN_LIMIT_SECONDS = 240


@dataclass(frozen=True)
class Pipeline:
    catalog: Path
    state: Path
    database: Path
    jira: EmulatorHandle

    def run(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self._command(), *extra],
            capture_output=True,
            text=True,
            timeout=RUN_LIMIT_SECONDS,
            check=False,
        )

    def start(self, *extra: str, stderr: Path) -> subprocess.Popen[bytes]:
        with stderr.open("wb") as err:
            return subprocess.Popen(
                [*self._command(), *extra], stdout=subprocess.DEVNULL, stderr=err
            )

    def _command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "connector_kit.cli",
            "run",
            "--source",
            str(self.catalog),
            "--state-dir",
            str(self.state),
            "--timeout",
            "2s",
        ]

    def table(self, sql: str) -> list[tuple[Any, ...]]:
        connection = duckdb.connect(str(self.database), read_only=True)
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()

    def site_issues(self) -> set[tuple[str, str, str]]:
        control = self.jira.control
        return {(ref.id, ref.key, control.issue(ref.key).summary) for ref in control.issue_refs()}

    def site_comments(self) -> int:
        control = self.jira.control
        return sum(len(control.issue(ref.key).comments) for ref in control.issue_refs())

    def assert_matches_the_site(self) -> None:
        issues = self.table(
            "SELECT id, key, flow_document->'fields'->>'summary' FROM issues ORDER BY id"
        )
        assert len(issues) == len({row[0] for row in issues}), "an issue was stored twice"
        assert set(issues) == self.site_issues()
        comments = self.table(
            'SELECT count(*), count(DISTINCT (id, "issueId")) FROM issue_comments'
        )
        assert comments == [(self.site_comments(), self.site_comments())]


def catalog_for(directory: Path, jira: EmulatorHandle) -> Path:
    catalog = {
        "import": [str(JIRA_COLLECTIONS)],
        "captures": {
            "acmeCo/source-jira": {
                "endpoint": {
                    "local": {
                        "command": [sys.executable, "-m", "source_jira"],
                        "config": {
                            "site": jira.base_url,
                            "credentials": {
                                "auth_type": "api_token",
                                "email": jira.email,
                                "api_token": jira.api_token,
                            },
                            "start_date": "2000-01-01T00:00:00Z",
                        },
                    }
                },
                "bindings": [
                    {"resource": {"name": "issues", "interval": "PT5M"}, "target": "acmeCo/issues"},
                    {
                        "resource": {"name": "issue_comments", "interval": "PT5M"},
                        "target": "acmeCo/issue_comments",
                    },
                ],
            }
        },
        "materializations": {
            "acmeCo/duckdb": {
                "endpoint": {
                    "local": {
                        "command": [sys.executable, "-m", "materialize_duckdb"],
                        "config": {"database": str(directory / "jira.duckdb")},
                    }
                },
                "bindings": [
                    {"resource": {"table": "issues"}, "source": "acmeCo/issues"},
                    {"resource": {"table": "issue_comments"}, "source": "acmeCo/issue_comments"},
                ],
            }
        },
    }
    path = directory / "pipeline.flow.yaml"
    path.write_text(json.dumps(catalog, indent=2))
    return path


def pipeline(tmp_path: Path, issues: int) -> Iterator[Pipeline]:
    emulator = EmulatorThread(EmulatorSettings(seed=SeedSettings(seed=3, issues=issues)))
    jira = emulator.start()
    try:
        yield Pipeline(
            catalog=catalog_for(tmp_path, jira),
            state=tmp_path / "state",
            database=tmp_path / "jira.duckdb",
            jira=jira,
        )
    finally:
        emulator.stop()


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Pipeline]:
    yield from pipeline(tmp_path, issues=25)


@pytest.fixture
def larger(tmp_path: Path) -> Iterator[Pipeline]:
    yield from pipeline(tmp_path, issues=120)


def stored_documents(stderr: str, table: str) -> int:
    """Documents the run stored into `table`'s binding, from its summary line."""
    for line in stderr.splitlines():
        entry = json.loads(line) if line.startswith("{") else {}
        fields = entry.get("fields", {})
        if (
            "in total" in entry.get("msg", "")
            and fields.get("kind") == "materialization"
            and fields.get("collection") == f"acmeCo/{table}"
        ):
            return int(fields["documents"])
    raise AssertionError(f"no summary for {table} in:\n{stderr[-3000:]}")


def test_the_tables_equal_the_site_and_a_second_run_takes_only_what_changed(
    small: Pipeline,
) -> None:
    first = small.run()
    assert first.returncode == 0, first.stderr[-3000:]
    small.assert_matches_the_site()

    control = small.jira.control
    refs = control.issue_refs()
    control.update_issue(refs[0].key, summary="Renamed between runs")
    control.update_issue(refs[1].key, status="Done")
    control.create_issue(project=refs[0].key.split("-")[0], summary="Filed between runs")
    # source-jira leaves changes younger than a minute to its next pass (search needs a
    # moment to show them), so the emulated site's clock moves on past that.
    control.clock.advance(120)

    second = small.run()

    assert second.returncode == 0, second.stderr[-3000:]
    small.assert_matches_the_site()
    # Only the changed issues (source-jira re-reads a changed issue's comments, which
    # leaves them as they were).
    assert stored_documents(second.stderr, "issues") == 3

    third = small.run()
    assert third.returncode == 0, third.stderr[-3000:]
    assert stored_documents(third.stderr, "issues") == 0
    small.assert_matches_the_site()


def test_a_run_killed_with_sigkill_mid_way_is_completed_exactly_by_the_next(
    larger: Pipeline, tmp_path: Path
) -> None:
    stderr = tmp_path / "killed.log"
    process = larger.start("--txn-docs", "15", stderr=stderr)
    record = larger.state / "materializations" / "acmeCo%2Fduckdb.json"
    try:
        deadline = time.monotonic() + RUN_LIMIT_SECONDS
        while not record.exists():
            assert process.poll() is None, stderr.read_text()[-3000:]
            assert time.monotonic() < deadline, "the run never committed a transaction"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
    issues_at_kill = larger.table("SELECT count(*) FROM issues")[0][0]
    assert issues_at_kill < len(larger.jira.control.issue_refs()), "killed before the end"

    rerun = larger.run("--txn-docs", "15")

    assert rerun.returncode == 0, rerun.stderr[-3000:]
    larger.assert_matches_the_site()
