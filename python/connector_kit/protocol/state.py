"""How the runtime reduces connector state: RFC 7396 JSON merge patch, and state keys."""

from __future__ import annotations

import copy
import urllib.parse
from typing import Any

from connector_kit.protocol.base import JsonValue

_STATE_KEY_SAFE = "-_+.="


def merge_patch(target: JsonValue, patch: JsonValue) -> JsonValue:
    """Apply `patch` to `target` by RFC 7396; neither argument is modified."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result: dict[str, Any] = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def reduce_state(state: JsonValue, *, updated: JsonValue, merge: bool) -> JsonValue:
    """The persisted state after a checkpoint: merged, or replaced when `merge` is false."""
    return merge_patch(state if merge else None, updated)


def encode_state_key(resource_path: list[str], backfill: int) -> str:
    """The `stateKey` the runtime gives a binding: path parts joined by `/`, escaped.

    Unicode letters and digits and `-_+.=` are kept; everything else, `/` included,
    is percent-encoded as UTF-8. A non-zero backfill counter appends `.v{backfill}`.
    """
    joined = "/".join(resource_path)
    key = "".join(
        ch if ch.isalnum() or ch in _STATE_KEY_SAFE else urllib.parse.quote(ch, safe="")
        for ch in joined
    )
    return f"{key}.v{backfill}" if backfill else key
