"""airbyte-source-faker 7.2.1 (airbyte-cdk 6) through the Airbyte shim, fully offline.

It runs in its own throwaway environment, both in-process (`--source`) and as its
own `source-faker` command, as subprocesses of the test, exactly as the Flow
runtime starts a connector.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from syrupy.assertion import SnapshotAssertion

from connector_kit.testing import CaptureContract

from .catalogs import write_catalog
from .driver import PYTHON_DIR, ShimRun, airbyte_shim_argv, open_request, run_shim
from .venvs import bin_path

pytestmark = pytest.mark.slow

CONFIG = {"count": 5, "seed": 42, "records_per_slice": 2, "parallelism": 1, "always_updated": False}
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?")
MODES = ["in-process", "command"]


def shim_argv(venv: Path, mode: str) -> list[str]:
    if mode == "in-process":
        return [
            bin_path(venv, "python"),
            "-m",
            "connector_kit.shims.airbyte",
            "--source",
            "source_faker:SourceFaker",
        ]
    return airbyte_shim_argv(bin_path(venv, "source-faker"))


def time_free(value: Any) -> Any:
    """`value` with every timestamp replaced by a placeholder.

    Faker stamps `updated_at` with the wall clock, and draws its other dates from
    2000 up to the current year, so they shift when the year does.
    """
    return orjson.loads(TIMESTAMP.sub("<time>", orjson.dumps(value).decode()))


def discovered(venv: Path, mode: str) -> list[dict[str, Any]]:
    run = run_shim(shim_argv(venv, mode), [{"discover": {"config": CONFIG}}], keep_stdin_open=False)
    assert run.code == 0, run.stderr[-3000:]
    bindings: list[dict[str, Any]] = run.of("discovered")[0]["bindings"]
    return bindings


@pytest.fixture(scope="module")
def faker_bindings(faker_venv: Path) -> dict[str, list[dict[str, Any]]]:
    """Each mode's discovered bindings (asked once: every faker start imports airbyte-cdk)."""
    return {mode: discovered(faker_venv, mode) for mode in MODES}


def capture(venv: Path, mode: str, bindings: list[dict[str, Any]], *, state: Any = None) -> ShimRun:
    bound = [
        {"resource": b["resourceConfig"], "key": b["key"], "schema": b["documentSchema"]}
        for b in bindings
    ]
    request = open_request(config=CONFIG, bindings=bound, path_keys=["stream"], state=state)
    run = run_shim(shim_argv(venv, mode), [request])
    assert run.code == 0, run.stderr[-3000:]
    return run


def test_spec_matches_snapshot(faker_venv: Path, snapshot: SnapshotAssertion) -> None:
    specs = []
    for mode in MODES:
        run = run_shim(
            shim_argv(faker_venv, mode),
            [{"spec": {"connectorType": "IMAGE"}}],
            keep_stdin_open=False,
        )
        assert run.code == 0, run.stderr[-3000:]
        specs.append(run.of("spec")[0])
    assert specs[0] == specs[1], "in-process and command modes answer the same spec"
    assert specs[0] == snapshot


def test_discover_matches_snapshot(
    faker_bindings: dict[str, list[dict[str, Any]]], snapshot: SnapshotAssertion
) -> None:
    bindings = [faker_bindings[mode] for mode in MODES]
    assert bindings[0] == bindings[1]
    assert [b["key"] for b in bindings[0]] == [["/id"], ["/id"], ["/id"]]
    assert bindings[0] == snapshot


@pytest.mark.parametrize("mode", MODES)
def test_capture_matches_snapshot_and_resumes_without_reemitting(
    faker_venv: Path,
    faker_bindings: dict[str, list[dict[str, Any]]],
    mode: str,
    snapshot: SnapshotAssertion,
) -> None:
    first = capture(faker_venv, mode, faker_bindings[mode])
    assert first.lines[0] == {"opened": {}}
    assert time_free(first.lines) == snapshot
    assert first.stray_stderr == [], "every stderr line is a JSON log record"
    assert [u["id"] for u in first.documents_of(1)] == [1, 2, 3, 4, 5]
    assert all("_meta" not in u for u in first.documents), "keyed records pass through untouched"
    second = capture(faker_venv, mode, faker_bindings[mode], state=first.final_state())
    assert second.documents == [], "a session resumed from the emitted state emits nothing new"
    assert time_free(second.final_state(first.final_state())) == time_free(first.final_state())


@pytest.fixture(scope="class")
def contract_catalog(
    faker_venv: Path,
    faker_bindings: dict[str, list[dict[str, Any]]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    # In-process only: the command mode maps messages with the same code (tested above),
    # and every faker start costs seconds of airbyte-cdk imports.
    return write_catalog(
        tmp_path_factory.mktemp("faker"),
        name="acmeCo/source-faker",
        command=shim_argv(faker_venv, "in-process"),
        env={"PYTHONPATH": str(PYTHON_DIR)},
        config=CONFIG,
        bindings=faker_bindings["in-process"],
    )


class TestFakerContract(CaptureContract):
    """The contract every capture passes, through the local runtime."""

    # Silence while the source imports airbyte-cdk (seconds on a busy machine) is not idleness.
    idle_timeout = 60.0
