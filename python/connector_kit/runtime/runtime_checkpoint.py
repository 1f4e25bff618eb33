"""The runtime checkpoint a materialization commits: how far it has read each journal.

It is gazette's `consumer.Checkpoint` in JSON, as Flow's runtime sends it in
StartCommit: `{"sources": {"<journal>;<read suffix>": {"readThrough": "<offset>"}}}`.
Connectors treat it as opaque; the runtime reads it back from Opened (or from its
own record) to know where to continue.
"""

from __future__ import annotations

from typing import Any

import orjson

from connector_kit.errors import ConfigError


def read_positions(checkpoint: Any) -> dict[str, int]:
    """`<journal>;<suffix>` → byte offset, from a runtime checkpoint (None: nothing read)."""
    if checkpoint is None:
        return {}
    sources = checkpoint.get("sources") if isinstance(checkpoint, dict) else None
    if not isinstance(sources, dict):
        raise ConfigError(
            f"the runtime checkpoint {orjson.dumps(checkpoint).decode()[:200]} has no `sources`; "
            "it was not written by connector-kit"
        )
    positions = {}
    for source, progress in sources.items():
        through = progress.get("readThrough", "0") if isinstance(progress, dict) else None
        try:
            positions[source] = int(through) if through is not None else 0
        except (TypeError, ValueError):
            raise ConfigError(
                f"the runtime checkpoint's source {source!r} has readThrough {through!r}, "
                "which is not a byte offset"
            ) from None
    return positions
