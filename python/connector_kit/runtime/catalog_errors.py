"""Catalog error messages that name the file, the entry and what is wrong.

An entry is written the way a reader finds it in the file:
`captures."acmeCo/source-x".bindings[2].target`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from connector_kit.errors import ConfigError

_BARE_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_MAX_REPORTED = 8


def entry_location(parts: Sequence[str | int]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _BARE_NAME.match(part):
            text += f".{part}" if text else part
        else:
            quoted = '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'
            text += f".{quoted}" if text else quoted
    return text


def _reason(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a setting Flow catalogs have here; check its spelling and indentation"
    if kind == "value_error":
        ctx = error.get("ctx") or {}
        return str(ctx.get("error", error["msg"]))
    message = error["msg"]
    if message.startswith("Input "):
        message = message[len("Input ") :]
    return message


def invalid_entries(
    err: ValidationError, *, file: Path, prefix: Sequence[str | int] = ()
) -> ConfigError:
    """One ConfigError listing every problem pydantic found in `file`."""
    problems = []
    for error in err.errors()[:_MAX_REPORTED]:
        where = entry_location([*prefix, *error["loc"]]) or "the file"
        problems.append(f"  {where}: {_reason(error)}")
    more = err.error_count() - _MAX_REPORTED
    if more > 0:
        problems.append(f"  … and {more} more")
    return ConfigError(f"catalog {file} is invalid:\n" + "\n".join(problems))


def invalid_entry(*, file: Path, location: Sequence[str | int], reason: str) -> ConfigError:
    return ConfigError(f"catalog {file} is invalid:\n  {entry_location(location)}: {reason}")
