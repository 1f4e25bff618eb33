"""Throwaway virtualenvs for third-party connectors, built once and cached in the repository.

Each connector pins libraries that clash with ours and with each other, so each
gets its own environment under `.cache/shim-venvs/` (git-ignored). Building one
needs the package registry; running the connector inside it needs nothing.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from .driver import REPO

CACHE = REPO / ".cache" / "shim-venvs"
READY = ".ready"
INSTALL_TIMEOUT_SECONDS = 900


def shim_venv(name: str, packages: Sequence[str]) -> Path:
    """The venv `name` with `packages` installed (built on first use); its folder."""
    folder = CACHE / name
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test workers build each venv once
        marker = folder / READY
        wanted = "\n".join(packages)
        if marker.exists() and marker.read_text() == wanted:
            return folder
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
        done = subprocess.run(
            [str(folder / "bin" / "python"), "-m", "pip", "install", "-q", *packages],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_SECONDS,
            check=False,
        )
        if done.returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            pytest.fail(f"cannot install {' '.join(packages)}: {done.stderr[-2000:]}")
        marker.write_text(wanted)
        return folder


def bin_path(venv: Path, name: str) -> str:
    return str(venv / "bin" / name)
