"""A `test.flow.yaml` for a shimmed connector, so the runtime and contract suite can drive it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson


def write_catalog(
    folder: Path,
    *,
    name: str,
    command: Sequence[str],
    env: Mapping[str, str],
    config: Mapping[str, Any],
    bindings: Sequence[Mapping[str, Any]],
) -> Path:
    """A catalog capturing every discovered binding into `acmeCo/<recommendedName>`."""
    catalog = {
        "captures": {
            name: {
                "endpoint": {
                    "local": {"command": list(command), "config": dict(config), "env": dict(env)}
                },
                "bindings": [
                    {
                        "resource": b["resourceConfig"],
                        "target": f"acmeCo/{b['recommendedName']}",
                    }
                    for b in bindings
                ],
            }
        },
        "collections": {
            f"acmeCo/{b['recommendedName']}": {"schema": b["documentSchema"], "key": b["key"]}
            for b in bindings
        },
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "test.flow.yaml"
    # JSON is YAML, and keeps the schemas byte-exact.
    path.write_bytes(orjson.dumps(catalog, option=orjson.OPT_INDENT_2))
    return path
