"""Reads a Dockerfile into stages of instructions, and expands build arguments in them.

Covers what our Dockerfiles use: comments, `\\` line continuations, global and per-stage
`ARG` with defaults, `ENV KEY=VALUE`, `$NAME`, `${NAME}` and `${NAME:-default}`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    """Upper-cased, e.g. `RUN`."""
    text: str
    """Everything after the keyword, continuations joined."""
    line: int


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def of(self, keyword: str) -> list[Instruction]:
        return [instruction for instruction in self.instructions if instruction.keyword == keyword]


@dataclass
class Dockerfile:
    path: Path
    global_args: dict[str, str | None]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]


def read_dockerfile(path: Path) -> Dockerfile:
    global_args: dict[str, str | None] = {}
    stages: list[Stage] = []
    for instruction in _instructions(path.read_text()):
        if instruction.keyword == "FROM":
            words = instruction.text.split()
            words = [word for word in words if not word.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif not stages:
            if instruction.keyword == "ARG":
                global_args.update(_declared_args(instruction.text))
        else:
            stages[-1].instructions.append(instruction)
    return Dockerfile(path=path, global_args=global_args, stages=stages)


def stage_variables(
    dockerfile: Dockerfile, stage: Stage, *, build_args: dict[str, str], upto: Instruction
) -> dict[str, str]:
    """The ARG and ENV values in force in `stage` just before `upto`."""
    values: dict[str, str] = {}
    for instruction in stage.instructions:
        if instruction is upto:
            break
        if instruction.keyword == "ARG":
            for name, default in _declared_args(instruction.text).items():
                value = build_args.get(name, default)
                if value is None:
                    value = dockerfile.global_args.get(name)
                values[name] = expand(value or "", values)
        elif instruction.keyword == "ENV":
            for pair in shlex.split(instruction.text):
                name, _, value = pair.partition("=")
                values[name] = expand(value, values)
    return values


def expand(text: str, values: dict[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        default = match.group(2)
        value = values.get(name, "")
        return value if value or default is None else default

    return _VARIABLE.sub(substitute, text)


def labels(text: str, values: dict[str, str]) -> dict[str, str]:
    """The labels of one `LABEL key=value ...` instruction."""
    return {
        key: expand(value, values)
        for key, _, value in (pair.partition("=") for pair in shlex.split(text))
    }


def _declared_args(text: str) -> dict[str, str | None]:
    declared: dict[str, str | None] = {}
    for word in shlex.split(text):
        name, sep, default = word.partition("=")
        declared[name] = default if sep else None
    return declared


def _instructions(text: str) -> list[Instruction]:
    instructions = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue
        if not pending:
            start = number
        continued = stripped.endswith("\\")
        pending.append(stripped[:-1] if continued else stripped)
        if continued:
            continue
        keyword, _, rest = " ".join(pending).strip().partition(" ")
        instructions.append(Instruction(keyword=keyword.upper(), text=rest.strip(), line=start))
        pending = []
    return instructions
