"""Reading and rewriting the YAML and JSON files a catalog is made of.

Files are read as YAML 1.2 (JSON is a subset), the way Flow's loader reads them:
`yes`/`on` stay strings and timestamps stay the strings they were written as,
so a value means the same thing here as under flowctl. Rewrites go through
ruamel's round-trip mode, so comments, order and quoting elsewhere survive.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from connector_kit.errors import ConfigError


class _JsonCompatibleConstructor(SafeConstructor):
    """A safe constructor that leaves timestamps as strings (JSON has no timestamp type)."""

    yaml_constructors = dict(SafeConstructor.yaml_constructors)


_JsonCompatibleConstructor.add_constructor(
    "tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str
)


def _safe_yaml() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.Constructor = _JsonCompatibleConstructor
    return yaml


def _round_trip_yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def parse_yaml(text: str, *, origin: str) -> Any:
    """The JSON-compatible value `text` holds, or a ConfigError naming `origin` and the line."""
    try:
        return _safe_yaml().load(text)
    except MarkedYAMLError as err:
        mark = err.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(
            f"{origin} is not valid YAML or JSON{where}: {err.problem or err}"
        ) from None
    except YAMLError as err:
        raise ConfigError(f"{origin} is not valid YAML or JSON: {err}") from None


def read_yaml_file(path: Path, *, what: str, referenced_at: str | None = None) -> Any:
    """Read and parse `path`; a missing file names whatever referenced it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        by = f" (referenced by {referenced_at})" if referenced_at else ""
        raise ConfigError(f"{what} {path} does not exist{by}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read {what} {path}: {err}") from None
    return parse_yaml(text, origin=f"{what} {path}")


def load_round_trip(path: Path) -> Any:
    """The file as an editable tree that remembers comments, order and style."""
    try:
        return _round_trip_yaml().load(path.read_text(encoding="utf-8"))
    except YAMLError as err:
        raise ConfigError(f"catalog {path} is not valid YAML: {err}") from None


def dump_round_trip(data: Any) -> str:
    buffer = io.StringIO()
    _round_trip_yaml().dump(data, buffer)
    return buffer.getvalue()


def dump_yaml(value: Any) -> str:
    """Plain YAML for a JSON value (a schema file), keys in their given order."""
    yaml = _round_trip_yaml()
    yaml.default_flow_style = False
    buffer = io.StringIO()
    yaml.dump(value, buffer)
    return buffer.getvalue()
