"""The files of this repository that the image tests look at: connectors, Dockerfiles, scripts."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# Hidden folders hold tool state and environments, except these two, which hold CI.
_VISIBLE_HIDDEN_DIRS = frozenset({".ci", ".github"})
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules"})


@dataclass(frozen=True)
class Connector:
    """A connector folder at the repository root, as build-local.sh sees it."""

    name: str
    folder: Path

    @property
    def protocol(self) -> str:
        """The FLOW_RUNTIME_PROTOCOL its image carries."""
        return "capture" if self.name.startswith("source-") else "materialize"

    @property
    def own_dockerfile(self) -> Path | None:
        path = self.folder / "Dockerfile"
        return path if path.is_file() else None


def connectors(root: Path = REPO_ROOT) -> list[Connector]:
    """Every Python connector folder: `source-*` and `materialize-*` with a pyproject.toml."""
    found = [
        *root.glob("source-*/pyproject.toml"),
        *root.glob("materialize-*/pyproject.toml"),
    ]
    return sorted(
        (Connector(name=path.parent.name, folder=path.parent) for path in found),
        key=lambda connector: connector.name,
    )


def repo_files(predicate: Callable[[Path], bool], *, root: Path = REPO_ROOT) -> list[Path]:
    """Files of the project itself (not virtual environments, caches or tool state)."""
    matches: list[Path] = []
    for directory, subdirs, files in os.walk(root):
        here = Path(directory)
        subdirs[:] = sorted(
            name
            for name in subdirs
            if name not in _SKIPPED_DIRS
            and (not name.startswith(".") or name in _VISIBLE_HIDDEN_DIRS)
            and not (here / name / "pyvenv.cfg").exists()
        )
        matches.extend(here / name for name in sorted(files) if predicate(here / name))
    return matches


def is_dockerfile(path: Path) -> bool:
    name = path.name
    return name == "Dockerfile" or name.endswith(".Dockerfile") or name.startswith("Dockerfile.")


def is_shell_script(path: Path) -> bool:
    return path.suffix == ".sh" or (path.parent.name == ".ci" and path.name == "run")


def relative(path: Path, root: Path = REPO_ROOT) -> str:
    return path.relative_to(root).as_posix()
