"""With a Docker engine: every connector image, built by build-local.sh, answers
`connector-kit raw spec` through a catalog whose `endpoint.connector.image` is its `:local` tag."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .image_replay import build_local_environment
from .repo_files import REPO_ROOT, Connector, connectors

BUILD_TIMEOUT_SECONDS = 1200
REGISTRY = "ghcr.io/connector-kit"


def engine_problem() -> str | None:
    """Why no Docker engine can be used here, or None when one answers."""
    docker = shutil.which("docker")
    if docker is None:
        return "the docker CLI is not installed"
    try:
        info = subprocess.run(
            [docker, "info"], capture_output=True, text=True, timeout=30, check=False
        )
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 30 s"
    if info.returncode != 0:
        lines = (info.stderr or info.stdout).strip().splitlines()
        return f"`docker info` failed ({lines[-1] if lines else 'no output'})"
    return None


pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def engine() -> None:
    problem = engine_problem()
    if problem is not None:
        pytest.skip(
            f"no Docker engine: {problem}; these tests build and run the images wherever "
            "an engine answers (CI runners), and tests/images/test_image_environments.py "
            "covers the images' environments without one"
        )


def inspect_image(image: str, template: str) -> str:
    completed = subprocess.run(
        [
            "docker",
            "image",
            "inspect",
            "--format",
            template,
            image,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return completed.stdout.strip()


@pytest.mark.usefixtures("engine")
@pytest.mark.parametrize("connector", connectors(), ids=lambda connector: connector.name)
def test_local_image_answers_raw_spec_through_a_catalog(
    connector: Connector, tmp_path: Path
) -> None:
    image = f"{REGISTRY}/{connector.name}:local"
    built = subprocess.run(
        ["bash", str(REPO_ROOT / "build-local.sh"), connector.name],
        capture_output=True,
        text=True,
        env={**build_local_environment(), "REGISTRY": REGISTRY},
        timeout=BUILD_TIMEOUT_SECONDS,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-4000:]
    labels = json.loads(inspect_image(image, "{{ json .Config.Labels }}"))
    assert labels["FLOW_RUNTIME_PROTOCOL"] == connector.protocol
    assert labels["FLOW_RUNTIME_CODEC"] == "json"
    assert inspect_image(image, "{{ .Config.User }}").split(":")[0] not in {"", "0", "root"}

    tasks = "captures" if connector.protocol == "capture" else "materializations"
    catalog = tmp_path / "flow.yaml"
    catalog.write_text(
        json.dumps(
            {
                tasks: {
                    f"acmeCo/{connector.name}": {
                        "endpoint": {"connector": {"image": image, "config": {}}},
                        "bindings": [],
                    }
                }
            }
        )
    )
    spec = subprocess.run(
        [sys.executable, "-m", "connector_kit.cli", "raw", "spec", "--source", str(catalog)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert spec.returncode == 0, spec.stderr[-4000:]
    lines = spec.stdout.splitlines()
    assert len(lines) == 1, spec.stdout
    assert json.loads(lines[0])["protocol"] == 3032023
