"""Scripted delegates: write what a fake source or tap says, then read what it was given."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


@dataclass
class Scenario:
    folder: Path
    steps: dict[str, Any] = field(default_factory=dict)

    @property
    def file(self) -> Path:
        return self.folder / "scenario.json"

    @property
    def calls_file(self) -> Path:
        return self.folder / "calls.jsonl"

    def on(
        self, command: str, *stdout: Any, stderr: list[str] | None = None, exit: int = 0
    ) -> None:
        self.steps[command] = {"stdout": list(stdout), "stderr": stderr or [], "exit": exit}
        self.file.write_text(json.dumps({**self.steps, "calls": str(self.calls_file)}))

    @property
    def env(self) -> dict[str, str]:
        return {"FAKE_SOURCE_SCENARIO": str(self.file)}

    def calls(self, command: str | None = None) -> list[dict[str, Any]]:
        if not self.calls_file.exists():
            return []
        calls = [json.loads(line) for line in self.calls_file.read_text().splitlines()]
        return [c for c in calls if command in (None, c["command"])]

    def airbyte_command(self) -> list[str]:
        return [sys.executable, str(HERE / "fake_airbyte_source.py")]

    def singer_command(self) -> list[str]:
        return [sys.executable, str(HERE / "fake_singer_tap.py")]
