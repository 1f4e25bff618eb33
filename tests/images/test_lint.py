"""Static checks of what CI and images are made of: Dockerfiles (hadolint), shell scripts and
workflow `run:` steps (shellcheck), workflows (GitHub's workflow schema), and the connector
matrix (one entry per connector folder)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .repo_files import (
    REPO_ROOT,
    connectors,
    is_dockerfile,
    is_shell_script,
    relative,
    repo_files,
)

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
CONNECTORS_WORKFLOW = REPO_ROOT / ".github" / "workflows" / "connectors.yml"
# GitHub expressions are replaced by a plain word before shellcheck reads a step.
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def tool(name: str) -> str:
    """A lint program installed from requirements-dev.txt (beside this Python, or on PATH)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found is not None, f"`{name}` is missing: run `make install` (requirements-dev.txt)"
    return found


def lint(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in argv],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("dockerfile", repo_files(is_dockerfile), ids=relative)
def test_dockerfile_passes_hadolint(dockerfile: Path) -> None:
    result = lint(tool("hadolint"), "--no-color", dockerfile)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("script", repo_files(is_shell_script), ids=relative)
def test_shell_script_passes_shellcheck(script: Path) -> None:
    result = lint(tool("shellcheck"), "--external-sources", script)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=relative)
def test_workflow_matches_the_github_workflow_schema(workflow: Path) -> None:
    result = lint(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", workflow)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=relative)
def test_workflow_run_steps_pass_shellcheck(workflow: Path, tmp_path: Path) -> None:
    jobs = yaml.safe_load(workflow.read_text())["jobs"]
    steps = [
        (job_name, index, step)
        for job_name, job in jobs.items()
        for index, step in enumerate(job.get("steps", []))
        if "run" in step
    ]
    failures = []
    for job_name, index, step in steps:
        # GitHub runs steps as `bash --noprofile --norc -eo pipefail {0}`.
        script = tmp_path / f"{job_name}-{index}.sh"
        script.write_text(
            "#!/usr/bin/env bash\nset -eo pipefail\n" + _EXPRESSION.sub("EXPRESSION", step["run"])
        )
        result = lint(tool("shellcheck"), "--shell=bash", script)
        if result.returncode != 0:
            failures.append(f"job {job_name}, step {step.get('name', index)}:\n{result.stdout}")

    assert steps
    assert not failures, "\n".join(failures)


def test_connectors_workflow_builds_every_connector_folder() -> None:
    workflow = yaml.safe_load(CONNECTORS_WORKFLOW.read_text())
    entries: list[dict[str, Any]] = workflow["jobs"]["connector"]["strategy"]["matrix"]["include"]
    by_name = {entry["connector"]: entry for entry in entries}

    assert len(by_name) == len(entries), "a connector is listed twice"
    missing = [connector.name for connector in connectors() if connector.name not in by_name]
    assert not missing, f"add a matrix entry to {relative(CONNECTORS_WORKFLOW)} for {missing}"
    for name, entry in by_name.items():
        expected = "capture" if name.startswith("source-") else "materialization"
        assert name.startswith(("source-", "materialize-")), name
        assert entry["connector_type"] == expected, entry
        folder = REPO_ROOT / name
        if folder.exists():
            assert entry["python"] is (folder / "pyproject.toml").exists(), entry
