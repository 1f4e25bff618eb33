"""Catalogs around the hand-written fake capture, and running `connector-kit` on them."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FAKE_CAPTURE = Path(__file__).parent / "connectors" / "fake_capture.py"
FAKE_MATERIALIZE = Path(__file__).parent / "connectors" / "fake_materialize.py"

USERS_SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
    "required": ["id"],
}


def write_catalog(
    directory: Path,
    *,
    env: dict[str, str] | None = None,
    config: Any = None,
    bindings: list[dict[str, Any]] | None = None,
    collections: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """A test.flow.yaml (written as JSON, which is YAML) capturing with the fake connector."""
    capture: dict[str, Any] = {
        "endpoint": {
            "local": {
                "command": [sys.executable, str(FAKE_CAPTURE)],
                "config": {"host": "example.com"} if config is None else config,
                "env": {"FAKE_RECORD": str(directory / "requests.jsonl"), **(env or {})},
            }
        },
        "bindings": [{"resource": {"name": "users"}, "target": "acmeCo/users"}]
        if bindings is None
        else bindings,
        **(extra or {}),
    }
    catalog = {
        "captures": {"acmeCo/source-fake": capture},
        "collections": {"acmeCo/users": {"schema": USERS_SCHEMA, "key": ["/id"]}}
        if collections is None
        else collections,
    }
    path = directory / "test.flow.yaml"
    path.write_text(json.dumps(catalog, indent=2))
    return path


def write_run_catalog(
    directory: Path,
    *,
    capture_env: dict[str, str] | None = None,
    materialize_env: dict[str, str] | None = None,
    collections: dict[str, Any] | None = None,
    fields: dict[str, Any] | None = None,
) -> Path:
    """A catalog capturing with the fake capture and materializing with the fake materialization.

    The materialization's rows and checkpoint live in `tables.json`; its requests are
    recorded in `materialize-requests.jsonl`, the capture's in `requests.jsonl`.
    """
    path = write_catalog(directory, env=capture_env, collections=collections)
    catalog = json.loads(path.read_text())
    binding: dict[str, Any] = {"resource": {"table": "users"}, "source": "acmeCo/users"}
    if fields is not None:
        binding["fields"] = fields
    catalog["materializations"] = {
        "acmeCo/fake-mat": {
            "endpoint": {
                "local": {
                    "command": [sys.executable, str(FAKE_MATERIALIZE)],
                    "config": {"warehouse": "fake"},
                    "env": {
                        "FAKE_RECORD": str(directory / "materialize-requests.jsonl"),
                        "FAKE_TABLES": str(directory / "tables.json"),
                        **(materialize_env or {}),
                    },
                }
            },
            "bindings": [binding],
        }
    }
    path.write_text(json.dumps(catalog, indent=2))
    return path


def fake_tables(directory: Path) -> dict[str, Any]:
    """The fake materialization's committed rows (`rows`) and `checkpoint`."""
    path = directory / "tables.json"
    return json.loads(path.read_text()) if path.exists() else {"checkpoint": None, "rows": {}}


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[Any]:
        return [json.loads(line) for line in self.stdout.splitlines()]

    @property
    def logs(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stderr.splitlines() if line.startswith("{")]

    @property
    def error(self) -> str:
        errors = [entry["msg"] for entry in self.logs if entry["level"] == "error"]
        return errors[-1] if errors else ""


def connector_kit(*args: str | Path, cwd: Path | None = None) -> Run:
    completed = subprocess.run(
        [sys.executable, "-m", "connector_kit.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
    )
    return Run(code=completed.returncode, stdout=completed.stdout, stderr=completed.stderr)


def recorded_requests(directory: Path, name: str = "requests.jsonl") -> list[dict[str, Any]]:
    path = directory / name
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
