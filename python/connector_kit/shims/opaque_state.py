"""Delegate state kept inside Flow state, where merge patches cannot corrupt it.

Flow reduces every checkpoint into the stored state by RFC 7396 merge patch. A
delegate's state message means "replace", though: merging `{"a": 1}` into
`{"a": 0, "b": 2}` would keep a stale `b`, and a `null` inside it would delete
a key instead of storing a null. So each piece of delegate state is stored as
its JSON text, which a merge patch replaces whole and keeps byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from connector_kit.errors import ConfigError

BINDING_STATE = "bindingStateV1"


def encode(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def decode(text: Any, *, where: str) -> Any:
    """The delegate state stored at `where`, or None when there is none."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise ConfigError(
            f"the capture state at {where} is not the JSON text this shim stores; "
            "was the state written by another connector? Reset the binding's state to continue"
        )
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as err:
        raise ConfigError(f"the capture state at {where} is not valid JSON text: {err}") from None


def binding_states(open_state: Any) -> dict[str, dict[str, Any]]:
    """`bindingStateV1` of the state an Open request carries (empty on a first run)."""
    state = open_state if isinstance(open_state, Mapping) else {}
    bindings = state.get(BINDING_STATE) or {}
    if not isinstance(bindings, Mapping):
        raise ConfigError(f"the capture state's `{BINDING_STATE}` is not an object")
    return {k: dict(v) for k, v in bindings.items() if isinstance(v, Mapping)}


def stale_state_keys(open_state: Any, current: set[str]) -> list[str]:
    """State keys of bindings that no longer exist (removed, or re-backfilled under a new key)."""
    return sorted(k for k in binding_states(open_state) if k not in current)
