"""One small airbyte-cdk source through the shim on both CDK lines.

airbyte-cdk 0.x models are pydantic v1, which cannot share a process with
connector-kit (pydantic v2): that line runs as a command beside the shim. The
dataclass line (6.x, from airbyte-source-faker's environment) runs in-process.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from .driver import ShimRun, airbyte_shim_argv, open_request, run_shim, shim_env
from .venvs import bin_path

pytestmark = pytest.mark.slow

SOURCES = str(Path(__file__).parent / "sources")
SECRET = "counting-secret-4242"
CONFIG = {"count": 5, "api_key": SECRET}
NUMBERS = {"resource": {"stream": "numbers", "syncMode": "incremental", "cursorField": ["n"]}}
LETTERS = {"resource": {"stream": "letters", "syncMode": "full_refresh"}, "key": ["/_meta/row_id"]}


def in_process_argv(venv: Path) -> list[str]:
    return [
        bin_path(venv, "python"),
        "-m",
        "connector_kit.shims.airbyte",
        "--source",
        "counting_source:CountingSource",
    ]


def executable_argv(venv: Path) -> list[str]:
    return airbyte_shim_argv(bin_path(venv, "python"), "-m", "counting_source")


def run(argv: list[str], requests: list[dict[str, Any]], *, keep_open: bool = True) -> ShimRun:
    path = shim_env()["PYTHONPATH"] + os.pathsep + SOURCES
    return run_shim(argv, requests, env={"PYTHONPATH": path}, keep_stdin_open=keep_open)


def sync(argv: list[str], *, config: dict[str, Any] = CONFIG, state: Any = None) -> ShimRun:
    request = open_request(
        config=config, bindings=[NUMBERS, LETTERS], path_keys=["stream"], state=state
    )
    return run(argv, [request])


@pytest.fixture(params=["cdk0-command", "cdk6-in-process"])
def argv(request: pytest.FixtureRequest) -> list[str]:
    if request.param == "cdk0-command":
        return executable_argv(request.getfixturevalue("cdk0_venv"))
    return in_process_argv(request.getfixturevalue("faker_venv"))


def test_spec_and_discover_agree_across_cdk_lines(argv: list[str]) -> None:
    out = run(
        argv,
        [{"spec": {"connectorType": "IMAGE"}}, {"discover": {"config": CONFIG}}],
        keep_open=False,
    )
    assert out.code == 0, out.stderr[-3000:]
    spec = out.of("spec")[0]
    assert spec["configSchema"]["properties"]["api_key"]["secret"] is True
    assert spec["documentationUrl"] == "https://example.com/counting"
    numbers, letters = out.of("discovered")[0]["bindings"]
    assert numbers["key"] == ["/id"]
    assert numbers["resourceConfig"] == {
        "stream": "numbers",
        "syncMode": "incremental",
        "cursorField": ["n"],
    }
    assert letters["key"] == ["/_meta/row_id"]
    assert letters["resourceConfig"] == {"stream": "letters", "syncMode": "full_refresh"}


def test_validate_reports_the_sources_failed_check(argv: list[str]) -> None:
    request = {
        "validate": {
            "config": {**CONFIG, "api_key": "wrong-key-123"},
            "bindings": [{"resourceConfig": NUMBERS["resource"], "collection": {"name": "a/n"}}],
        }
    }
    out = run(argv, [request], keep_open=False)
    assert out.code == 1
    assert "the API key was rejected" in out.last_error


def test_capture_resumes_from_its_own_state_without_reemitting(argv: list[str]) -> None:
    first = sync(argv)
    assert first.code == 0, first.stderr[-3000:]
    assert [d["id"] for d in first.documents_of(0)] == [1, 2, 3, 4, 5]
    assert [d["_meta"]["row_id"] for d in first.documents_of(1)] == [0, 1, 2]
    state = first.final_state()
    assert state["bindingStateV1"]["numbers"]["airbyteState"] == '{"n":5}'
    second = sync(argv, config={**CONFIG, "count": 7}, state=state)
    assert second.code == 0, second.stderr[-3000:]
    assert [d["id"] for d in second.documents_of(0)] == [6, 7]
    assert SECRET not in first.stderr + second.stderr


def test_in_process_source_writing_to_stdout_cannot_corrupt_the_protocol(
    faker_venv: Path,
) -> None:
    out = sync(in_process_argv(faker_venv), config={**CONFIG, "noisy": True})
    assert out.code == 0, out.stderr[-3000:]
    # Every stdout line parsed as a capture response (run_shim checks); the noise went to stderr.
    assert set(out.stray_stderr) >= {
        "noise from print()",
        "noise on sys.__stdout__",
        "noise on fd 1",
    }
    assert "a log line from the source" in out.messages("info"), "CDK logs come out as JSON"
    assert [d["id"] for d in out.documents_of(0)] == [1, 2, 3, 4, 5]
