"""The example wrappers in examples/ work as they stand, and their images follow the layout."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .driver import REPO, run_shim, shim_env
from .venvs import bin_path

pytestmark = pytest.mark.slow

EXAMPLES = REPO / "examples"


def example_env(name: str) -> dict[str, str]:
    return {"PYTHONPATH": shim_env()["PYTHONPATH"] + os.pathsep + str(EXAMPLES / name)}


@pytest.mark.parametrize(
    ("folder", "module"),
    [("airbyte-wrapped", "airbyte_wrapped"), ("singer-wrapped", "singer_wrapped")],
)
def test_wrapper_is_under_twenty_lines_and_its_image_follows_the_layout(
    folder: str, module: str
) -> None:
    code = (EXAMPLES / folder / module / "__init__.py").read_text().splitlines()
    assert len(code) < 20
    dockerfile = (EXAMPLES / folder / "Dockerfile").read_text()
    assert re.search(r"^FROM \$\{PYTHON_IMAGE\} AS build$", dockerfile, re.M)
    assert "ARG PYTHON_IMAGE=python:3.12-slim" in dockerfile
    assert "LABEL FLOW_RUNTIME_PROTOCOL=capture" in dockerfile
    assert "LABEL FLOW_RUNTIME_CODEC=json" in dockerfile
    assert "python -m venv /opt/venv" in dockerfile
    assert re.search(r"^USER 10001:10001$", dockerfile, re.M)
    assert dockerfile.rstrip().endswith(f'ENTRYPOINT ["python", "-m", "{module}"]')


def test_airbyte_example_serves_spec_and_discover(faker_venv: Path) -> None:
    run = run_shim(
        [bin_path(faker_venv, "python"), "-m", "airbyte_wrapped"],
        [{"spec": {"connectorType": "IMAGE"}}, {"discover": {"config": {"count": 1}}}],
        env=example_env("airbyte-wrapped"),
        keep_stdin_open=False,
    )
    assert run.code == 0, run.stderr[-3000:]
    assert run.of("spec")[0]["documentationUrl"].endswith("/sources/faker")
    names = [b["recommendedName"] for b in run.of("discovered")[0]["bindings"]]
    assert names == ["products", "users", "purchases"]


def test_singer_example_serves_spec_and_discover(jsonl_venv: Path, tmp_path: Path) -> None:
    (tmp_path / "rows.jsonl").write_text('{"id": 1}\n')
    config = {"path": f"{tmp_path}/*.jsonl", "stream_name": "rows"}
    run = run_shim(
        [bin_path(jsonl_venv, "python"), "-m", "singer_wrapped"],
        [{"spec": {"connectorType": "IMAGE"}}, {"discover": {"config": config}}],
        env=example_env("singer-wrapped"),
        keep_stdin_open=False,
    )
    assert run.code == 0, run.stderr[-3000:]
    assert "path" in run.of("spec")[0]["configSchema"]["properties"]
    assert [b["recommendedName"] for b in run.of("discovered")[0]["bindings"]] == ["rows"]
