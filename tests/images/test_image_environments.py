"""Each connector image's environment, rebuilt without Docker exactly as its Dockerfile builds it,
answers `spec` through the image's ENTRYPOINT."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from .build_context import copy_build_context
from .dockerfile import read_dockerfile
from .image_replay import ImageEnvironment, InstallFailed, install_run, planned_build, replay
from .repo_files import REPO_ROOT, Connector, connectors

PROTOCOL = 3032023
SPEC_REQUEST = {"spec": {"connectorType": "IMAGE", "config": {}}}
SPEC_TIMEOUT_SECONDS = 120

EXAMPLE_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "source-notes"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["connector-kit"]

[tool.setuptools.packages.find]
include = ["source_notes*"]
"""


@pytest.fixture(scope="module")
def build_context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_build_context(REPO_ROOT, tmp_path_factory.mktemp("context"))


@pytest.fixture(scope="module")
def example_context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build context plus `source-notes`, the example capture packaged as a connector,
    and build-local.sh to plan its build."""
    context = copy_build_context(REPO_ROOT, tmp_path_factory.mktemp("example-context"))
    folder = context / "source-notes"
    shutil.copytree(REPO_ROOT / "python" / "examples" / "source_notes", folder / "source_notes")
    (folder / "pyproject.toml").write_text(EXAMPLE_PYPROJECT)
    shutil.copy2(REPO_ROOT / "build-local.sh", context / "build-local.sh")
    return context


def spec_through(image: ImageEnvironment, *, cwd: Path) -> dict[str, Any]:
    """The one response line the image's ENTRYPOINT writes for a Spec request."""
    completed = subprocess.run(
        image.argv,
        input=json.dumps(SPEC_REQUEST) + "\n",
        capture_output=True,
        text=True,
        cwd=cwd,
        env=image.env,
        timeout=SPEC_TIMEOUT_SECONDS,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) == 1, completed.stdout
    response = json.loads(lines[0])
    assert isinstance(response, dict)
    return response


def test_build_context_leaves_out_local_state_and_tests(build_context: Path) -> None:
    assert (build_context / "python" / "pyproject.toml").is_file()
    assert (build_context / "python" / "docker-install.sh").is_file()
    for connector in connectors():
        assert (build_context / connector.name / "pyproject.toml").is_file()
        assert not (build_context / connector.name / "tests").exists()
    sent = {path.relative_to(build_context).as_posix() for path in build_context.rglob("*")}
    assert not {".git", ".venv", "python/tests", "emulators", "Makefile"} & sent
    assert not [path for path in sent if "__pycache__" in path or ".egg-info" in path]


@pytest.mark.slow
@pytest.mark.parametrize("connector", connectors(), ids=lambda connector: connector.name)
def test_connector_image_environment_answers_spec(
    connector: Connector, build_context: Path, tmp_path: Path
) -> None:
    build = planned_build(connector.name)
    try:
        install_run(read_dockerfile(build.dockerfile))
    except LookupError as no_install_step:
        pytest.skip(
            f"{connector.name} builds with {build.dockerfile.name}, which does not install through "
            f"python/docker-install.sh ({no_install_step}); the engine test covers it"
        )

    image = replay(
        build, context=build_context, stage_root=tmp_path / "image", python=sys.executable
    )
    workdir = tmp_path / "workdir"
    workdir.mkdir()

    response = spec_through(image, cwd=workdir)

    assert response["spec"]["protocol"] == PROTOCOL
    assert image.labels["FLOW_RUNTIME_PROTOCOL"] == connector.protocol
    assert image.labels["FLOW_RUNTIME_CODEC"] == "json"
    assert image.user
    assert image.user.split(":")[0] not in {"0", "root"}
    installed = {path.name.split("-")[0].lower() for path in image.venv.rglob("*.dist-info")}
    assert connector.name.replace("-", "_") in installed
    assert not {"pip", "setuptools"} & installed
    extras = "[arrow]" if declares_arrow(connector) else ""
    assert f"installing connector-kit{extras} and {connector.name} into" in image.install_log


def declares_arrow(connector: Connector) -> bool:
    """Whether the connector's own dependencies name pyarrow or connector-kit[arrow]."""
    with (connector.folder / "pyproject.toml").open("rb") as pyproject:
        dependencies = tomllib.load(pyproject)["project"].get("dependencies", [])
    return any(
        re.match(r"\s*pyarrow\b", dependency, re.IGNORECASE)
        or re.match(r"\s*connector[-_.]kit\s*\[[^\]]*\barrow\b", dependency, re.IGNORECASE)
        for dependency in dependencies
    )


@pytest.mark.slow
def test_install_fails_the_build_when_the_module_is_not_installed(
    example_context: Path, tmp_path: Path
) -> None:
    build = planned_build("source-notes", root=example_context, env={"MODULE": "source_nowhere"})

    with pytest.raises(InstallFailed, match="installs no runnable module 'source_nowhere'"):
        replay(build, context=example_context, stage_root=tmp_path, python=sys.executable)


def test_install_refuses_a_module_name_that_python_cannot_run(
    example_context: Path, tmp_path: Path
) -> None:
    build = planned_build("source-notes", root=example_context, env={"MODULE": "source-notes"})

    with pytest.raises(InstallFailed, match="'source-notes' is not a dotted Python module name"):
        replay(build, context=example_context, stage_root=tmp_path, python=sys.executable)
