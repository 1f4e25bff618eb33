"""Running a connector folder's tests (the contract suite among them) with pytest.

The tests run in a subprocess of the current interpreter, in the folder, with the
folder on `PYTHONPATH` so its package imports without being installed.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from connector_kit.errors import ConfigError

REQUIRED_ENTRIES = ("pyproject.toml", "test.flow.yaml", "tests/")


@dataclass(frozen=True)
class PytestCommand:
    argv: list[str]
    cwd: Path
    env: dict[str, str] = field(repr=False)


def connector_test_command(folder: Path, *, pytest_args: Sequence[str] = ()) -> PytestCommand:
    """The pytest run for `folder`'s tests; ConfigError when it is not a connector folder."""
    folder = folder.resolve()
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a directory; give the path of a connector folder")
    missing = [entry for entry in REQUIRED_ENTRIES if not (folder / entry).exists()]
    if missing:
        raise ConfigError(
            f"{folder} is not a connector folder: it has no {_listed(missing, 'or')} "
            f"(a connector folder holds {_listed(REQUIRED_ENTRIES, 'and')}, as "
            "`connector-kit new source-<name>` creates them)"
        )
    python_path = os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))
    return PytestCommand(
        argv=[sys.executable, "-m", "pytest", str(folder / "tests"), *pytest_args],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": python_path},
    )


async def run_connector_tests(folder: Path, *, pytest_args: Sequence[str] = ()) -> int:
    """Run the folder's tests with pytest's output on ours; returns pytest's exit code."""
    command = connector_test_command(folder, pytest_args=pytest_args)
    process = await asyncio.create_subprocess_exec(*command.argv, cwd=command.cwd, env=command.env)
    return await process.wait()


def _listed(names: Sequence[str], conjunction: str) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {conjunction} {names[-1]}"
