from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector_kit.protocol.state import encode_state_key, merge_patch, reduce_state


@pytest.mark.parametrize(
    ("path", "backfill", "key"),
    [
        (["public", "users"], 2, "public%2Fusers.v2"),
        (["things"], 0, "things"),
        (["some path"], 1, "some%20path.v1"),
        (["Ünïcødé", "a-b_c+d.e=f"], 0, "Ünïcødé%2Fa-b_c+d.e=f"),
        (["a:b?c#d"], 0, "a%3Ab%3Fc%23d"),
    ],
)
def test_state_key_matches_the_runtime_encoding(path: list[str], backfill: int, key: str) -> None:
    assert encode_state_key(path, backfill) == key


# RFC 7396 appendix A.
@pytest.mark.parametrize(
    ("target", "patch", "result"),
    [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_follows_rfc_7396(target: Any, patch: Any, result: Any) -> None:
    assert merge_patch(target, patch) == result


def test_replacing_checkpoint_drops_all_other_state() -> None:
    state = {"bindingStateV1": {"a": {"cursor": 1}, "b": {"cursor": 2}}}
    assert reduce_state(state, updated={"bindingStateV1": {"a": {"cursor": 3}}}, merge=False) == {
        "bindingStateV1": {"a": {"cursor": 3}}
    }
    assert reduce_state(state, updated={"bindingStateV1": {"a": {"cursor": 3}}}, merge=True) == {
        "bindingStateV1": {"a": {"cursor": 3}, "b": {"cursor": 2}}
    }


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=10,
)


@given(target=json_values, patch=json_values)
def test_merge_patch_leaves_its_inputs_untouched(target: Any, patch: Any) -> None:
    import copy

    before = copy.deepcopy((target, patch))
    merge_patch(target, patch)
    assert (target, patch) == before
