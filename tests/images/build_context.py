"""The Docker build context of this repository: what `docker build .` sends, after .dockerignore.

Follows Docker's rules: patterns are matched against slash-separated paths relative
to the context root; `*` and `?` stay within one path element, `**` spans any number
of them; a pattern that matches a parent folder matches everything in it; `!` re-includes;
the last matching pattern decides.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class IgnoreRule:
    pattern: str
    regex: re.Pattern[str]
    excludes: bool
    """False for a `!` rule, which puts matching paths back into the context."""

    def matches(self, path: str) -> bool:
        parts = path.split("/")
        return any(
            self.regex.fullmatch("/".join(parts[:depth])) for depth in range(1, len(parts) + 1)
        )


def read_ignore_rules(dockerignore: Path) -> list[IgnoreRule]:
    if not dockerignore.is_file():
        return []
    rules = []
    for raw in dockerignore.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        excludes = not line.startswith("!")
        pattern = posixpath.normpath(line.removeprefix("!").strip().lstrip("/"))
        rules.append(IgnoreRule(pattern=pattern, regex=_compile(pattern), excludes=excludes))
    return rules


def is_ignored(path: str, rules: list[IgnoreRule]) -> bool:
    ignored = False
    for rule in rules:
        if rule.matches(path):
            ignored = rule.excludes
    return ignored


def copy_build_context(root: Path, destination: Path) -> Path:
    """Copies the files `docker build root` would send into `destination`."""
    rules = read_ignore_rules(root / ".dockerignore")
    # An ignored folder can be skipped whole unless a `!` rule reaches below the top
    # level or spans folders; this repository's rules never do, and that keeps the
    # walk out of virtual environments.
    deep_exceptions = any(
        not rule.excludes and ("/" in rule.pattern or "**" in rule.pattern) for rule in rules
    )
    destination.mkdir(parents=True, exist_ok=True)
    for directory, subdirs, files in os.walk(root):
        here = Path(directory)
        kept = []
        for name in sorted(subdirs):
            path = (here / name).relative_to(root).as_posix()
            if deep_exceptions or not is_ignored(path, rules):
                kept.append(name)
        subdirs[:] = kept
        for name in files:
            source = here / name
            path = source.relative_to(root).as_posix()
            if is_ignored(path, rules):
                continue
            target = destination / path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
    return destination


def _compile(pattern: str) -> re.Pattern[str]:
    regex = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            regex.append("(?:.*/)?")
            index += 3
            continue
        if pattern.startswith("**", index):
            regex.append(".*")
            index += 2
            continue
        if char == "*":
            regex.append("[^/]*")
        elif char == "?":
            regex.append("[^/]")
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end < 0:
                raise ValueError(
                    f"unterminated character class in .dockerignore pattern {pattern!r}"
                )
            body = pattern[index + 1 : end]
            regex.append("[" + ("^" + body[1:] if body.startswith("^") else body) + "]")
            index = end
        elif char == "\\" and index + 1 < len(pattern):
            index += 1
            regex.append(re.escape(pattern[index]))
        else:
            regex.append(re.escape(char))
        index += 1
    return re.compile("".join(regex))
