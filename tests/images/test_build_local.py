"""`build-local.sh`: which image it builds, with which Dockerfile and arguments, and its errors."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from .image_replay import build_local_environment
from .repo_files import REPO_ROOT

BUILD = "docker buildx build --platform linux/amd64 --load"
REGISTRY = "ghcr.io/connector-kit"
BASE_BUILD = f"{BUILD} --tag {REGISTRY}/base-image:local base-image"


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def commands(self) -> list[str]:
        return self.stdout.splitlines()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with build-local.sh and connector folders of every kind."""
    shutil.copy2(REPO_ROOT / "build-local.sh", tmp_path / "build-local.sh")
    for folder in ("python", "base-image", "source-alpha", "materialize-beta", "source-gamma"):
        (tmp_path / folder).mkdir()
    (tmp_path / "python" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "source-alpha" / "pyproject.toml").write_text("[project]\nname = 'source-alpha'\n")
    (tmp_path / "materialize-beta" / "pyproject.toml").write_text("[project]\n")
    (tmp_path / "source-gamma" / "Dockerfile").write_text("FROM scratch\n")
    return tmp_path


def build_local(repo: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    completed = subprocess.run(
        ["bash", str(repo / "build-local.sh"), *args],
        capture_output=True,
        text=True,
        cwd=repo,
        env={**build_local_environment(), **(env or {})},
        timeout=60,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def connector_build(dockerfile: str, name: str, protocol: str, module: str) -> str:
    return (
        f"{BUILD} --file {dockerfile} --build-arg BASE_IMAGE={REGISTRY}/base-image:local "
        f"--build-arg CONNECTOR_NAME={name} --build-arg CONNECTOR_TYPE={protocol} "
        f"--build-arg MODULE={module} --build-arg USAGE_RATE=1.0 --tag {REGISTRY}/{name}:local ."
    )


def test_dry_run_prints_the_base_build_then_the_capture_build(repo: Path) -> None:
    result = build_local(repo, "--dry-run", "source-alpha")

    assert result.code == 0, result.stderr
    assert result.commands == [
        BASE_BUILD,
        connector_build("python/Dockerfile", "source-alpha", "capture", "source_alpha"),
    ]


def test_materialize_folder_gets_the_materialize_protocol(repo: Path) -> None:
    result = build_local(repo, "materialize-beta/", "--dry-run")

    assert result.code == 0, result.stderr
    assert result.commands[-1] == connector_build(
        "python/Dockerfile", "materialize-beta", "materialize", "materialize_beta"
    )


def test_a_connector_dockerfile_wins_over_the_common_one(repo: Path) -> None:
    result = build_local(repo, "--dry-run", "source-gamma")

    assert result.code == 0, result.stderr
    assert result.commands[-1] == connector_build(
        "source-gamma/Dockerfile", "source-gamma", "capture", "source_gamma"
    )


def test_a_dockerfile_argument_wins_over_both(repo: Path) -> None:
    (repo / "custom.Dockerfile").write_text("FROM scratch\n")

    result = build_local(repo, "--dry-run", "source-gamma", str(repo / "custom.Dockerfile"))

    assert result.code == 0, result.stderr
    assert result.commands[-1] == connector_build(
        "custom.Dockerfile", "source-gamma", "capture", "source_gamma"
    )


def test_registry_module_usage_rate_and_python_image_come_from_the_environment(
    repo: Path,
) -> None:
    env = {
        "REGISTRY": "registry.example/team",
        "MODULE": "alpha_main",
        "USAGE_RATE": "0.0",
        "PYTHON_IMAGE": "python:3.12-slim@sha256:" + "a" * 64,
    }

    result = build_local(repo, "--dry-run", "source-alpha", env=env)

    assert result.code == 0, result.stderr
    assert result.commands == [
        f"{BUILD} --build-arg PYTHON_IMAGE=python:3.12-slim@sha256:{'a' * 64} "
        "--tag registry.example/team/base-image:local base-image",
        f"{BUILD} --file python/Dockerfile "
        "--build-arg BASE_IMAGE=registry.example/team/base-image:local "
        "--build-arg CONNECTOR_NAME=source-alpha --build-arg CONNECTOR_TYPE=capture "
        "--build-arg MODULE=alpha_main --build-arg USAGE_RATE=0.0 "
        "--tag registry.example/team/source-alpha:local .",
    ]


def test_a_given_base_image_is_used_instead_of_building_one(repo: Path) -> None:
    result = build_local(
        repo, "--dry-run", "source-alpha", env={"BASE_IMAGE": "ghcr.io/connector-kit/base-image:v1"}
    )

    assert result.code == 0, result.stderr
    assert len(result.commands) == 1
    assert "--build-arg BASE_IMAGE=ghcr.io/connector-kit/base-image:v1 " in result.commands[0]


def test_an_unknown_connector_folder_is_named_with_the_known_ones(repo: Path) -> None:
    result = build_local(repo, "--dry-run", "source-missing")

    assert result.code == 1
    assert result.stdout == ""
    assert "no connector folder 'source-missing'" in result.stderr
    assert "source-alpha source-gamma materialize-beta" in result.stderr


def test_a_name_without_a_connector_prefix_is_refused(repo: Path) -> None:
    (repo / "emulators").mkdir()

    result = build_local(repo, "--dry-run", "emulators")

    assert result.code == 1
    assert "cannot tell what 'emulators' is" in result.stderr
    assert "source-<name> (captures) or materialize-<name>" in result.stderr


def test_a_folder_with_nothing_to_build_is_refused(repo: Path) -> None:
    (repo / "source-empty").mkdir()

    result = build_local(repo, "--dry-run", "source-empty")

    assert result.code == 1
    assert "'source-empty' has neither a Dockerfile nor a pyproject.toml" in result.stderr


def test_a_missing_dockerfile_argument_is_refused(repo: Path) -> None:
    result = build_local(repo, "--dry-run", "source-alpha", "nowhere/Dockerfile")

    assert result.code == 1
    assert "no Dockerfile at 'nowhere/Dockerfile'" in result.stderr


def test_no_arguments_prints_the_usage(repo: Path) -> None:
    result = build_local(repo)

    assert result.code == 2
    assert result.stderr.startswith("usage: ./build-local.sh [--dry-run] <connector> [Dockerfile]")


def test_building_without_a_docker_engine_says_so(repo: Path) -> None:
    # An engine that cannot answer, even on machines that have a real one.
    result = build_local(repo, "source-alpha", env={"DOCKER_HOST": f"unix://{repo}/no-engine.sock"})

    assert result.code == 1
    assert result.stdout == ""
    assert (
        "no Docker engine answers 'docker info'" in result.stderr
        or "docker is not installed" in result.stderr
    )
