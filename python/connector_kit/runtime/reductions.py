"""Combining two documents of the same key by the collection schema's `reduce` annotations.

As in Flow, the strategy at each location comes from the schema locations that
apply to the newer (right-hand) document: a `reduce` keyword on the location
itself, in an `allOf` member or local `$ref` target, or in the `then`/`else`
branch of an `if` that the right-hand value passes or fails. The last one found
wins, so a conditional branch overrides its parent's default. Without any
annotation a location is `lastWriteWins`.

Strategies: lastWriteWins, firstWriteWins, merge (objects by property; arrays by
index, or as sorted arrays merged on `key`), append, sum, minimize and maximize
(on the whole value or on `key`). `delete: true` on the document root's
strategy (estuary-cdk writes it for `_meta/op == "d"`) makes the reduced
document a deletion: `is_deletion` says so, and the runtime stores it with
`delete: true`. A later document that is not a deletion starts afresh rather
than merging into the deleted one, since the deleted document's content is
gone. `set` and nested `delete` are refused with a ConfigError when the
collection is loaded, rather than reduced wrongly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from connector_kit.errors import ConfigError, SourceError
from connector_kit.runtime.schema_predicate import Predicate, compile_predicate

_STRATEGIES = frozenset(
    {"lastWriteWins", "firstWriteWins", "merge", "append", "sum", "minimize", "maximize"}
)


class ReductionError(SourceError):
    """Two documents cannot be reduced as the schema says (e.g. `sum` of a string)."""


@dataclass(frozen=True)
class Strategy:
    name: str
    key: tuple[str, ...] = ()
    delete: bool = False


LAST_WRITE_WINS = Strategy("lastWriteWins")


@dataclass
class _Node:
    """The reduction-relevant parts of one schema object."""

    strategy: Strategy | None = None
    properties: dict[str, _Node] = field(default_factory=dict)
    patterns: list[tuple[re.Pattern[str], _Node]] = field(default_factory=list)
    additional: _Node | None = None
    items: _Node | None = None
    members: list[_Node] = field(default_factory=list)
    """allOf members and $ref targets: they apply wherever this node applies."""
    choices: list[tuple[Predicate, _Node]] = field(default_factory=list)
    """anyOf/oneOf members: they apply where the value passes them."""
    conditions: list[tuple[Predicate, _Node | None, _Node | None]] = field(default_factory=list)


class Reducer:
    """Reduces documents of one collection; build one per collection schema."""

    def __init__(self, schema: Any, *, collection: str) -> None:
        self.collection = collection
        self.trivial = not _mentions_reduce(schema)
        """No annotation anywhere: every reduction keeps the newer document."""
        self._root = _NodeBuilder(schema, collection=collection).build(schema, "", depth=0)
        self._delete_possible = not self.trivial and _mentions_delete(schema)

    def is_deletion(self, document: Any) -> bool:
        """Whether `document` is a deletion: its root strategy carries `delete: true`."""
        if not self._delete_possible:
            return False
        return _strategy(_applicable([self._root], document)).delete

    def reduce(self, lhs: Any, rhs: Any) -> Any:
        """`rhs` reduced into the earlier `lhs`; `lhs` may be reused, `rhs` is not modified."""
        if self.trivial:
            return rhs
        try:
            return _reduce(lhs, rhs, [self._root], "")
        except ReductionError as err:
            raise ReductionError(f"collection {self.collection}: {err}") from None


def _mentions_reduce(schema: Any) -> bool:
    if isinstance(schema, dict):
        return "reduce" in schema or any(_mentions_reduce(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_mentions_reduce(v) for v in schema)
    return False


def _mentions_delete(schema: Any) -> bool:
    if isinstance(schema, dict):
        reduce = schema.get("reduce")
        if isinstance(reduce, dict) and reduce.get("delete"):
            return True
        return any(_mentions_delete(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_mentions_delete(v) for v in schema)
    return False


class _NodeBuilder:
    def __init__(self, root: Any, *, collection: str) -> None:
        self._root = root
        self._collection = collection
        self._refs: dict[str, _Node] = {}

    def build(self, schema: Any, pointer: str, *, depth: int) -> _Node:
        node = _Node()
        if not isinstance(schema, dict):
            return node
        if "reduce" in schema:
            node.strategy = self._strategy(schema["reduce"], pointer, depth=depth)
        for name, child in (schema.get("properties") or {}).items():
            node.properties[name] = self.build(
                child, f"{pointer}/properties/{name}", depth=depth + 1
            )
        for pattern, child in (schema.get("patternProperties") or {}).items():
            node.patterns.append(
                (
                    re.compile(pattern),
                    self.build(child, f"{pointer}/patternProperties/{pattern}", depth=depth + 1),
                )
            )
        if isinstance(schema.get("additionalProperties"), dict):
            node.additional = self.build(
                schema["additionalProperties"], f"{pointer}/additionalProperties", depth=depth + 1
            )
        if isinstance(schema.get("items"), dict):
            node.items = self.build(schema["items"], f"{pointer}/items", depth=depth + 1)
        for i, member in enumerate(schema.get("allOf") or ()):
            node.members.append(self.build(member, f"{pointer}/allOf/{i}", depth=depth))
        for keyword in ("anyOf", "oneOf"):
            for i, member in enumerate(schema.get(keyword) or ()):
                where = f"{pointer}/{keyword}/{i}"
                node.choices.append(
                    (self._predicate(member, where), self.build(member, where, depth=depth))
                )
        if isinstance(schema.get("$ref"), str):
            node.members.append(self._reference(schema["$ref"], pointer, depth=depth))
        if "if" in schema:
            then = schema.get("then")
            otherwise = schema.get("else")
            node.conditions.append(
                (
                    self._predicate(schema["if"], f"{pointer}/if"),
                    self.build(then, f"{pointer}/then", depth=depth) if then else None,
                    self.build(otherwise, f"{pointer}/else", depth=depth) if otherwise else None,
                )
            )
        return node

    def _reference(self, reference: str, pointer: str, *, depth: int) -> _Node:
        if not reference.startswith("#/") and reference != "#":
            if _mentions_reduce(self._root):
                raise self._error(
                    pointer,
                    f"$ref {reference!r} points outside the schema; reductions follow only "
                    "references within the collection schema (#/$defs/…)",
                )
            return _Node()
        cached = self._refs.get(reference)
        if cached is not None:
            return cached
        target: Any = self._root
        for token in reference[2:].split("/") if reference != "#" else []:
            token = token.replace("~1", "/").replace("~0", "~")
            target = target.get(token) if isinstance(target, dict) else None
        node = _Node()
        self._refs[reference] = node  # recursive schemas refer back to this node
        built = self.build(target, reference[1:], depth=depth)
        node.__dict__.update(built.__dict__)
        return node

    def _predicate(self, schema: Any, pointer: str) -> Predicate:
        compiled = compile_predicate(schema)
        if compiled is not None:
            return compiled
        validator_class = jsonschema.validators.validator_for(
            schema, default=jsonschema.Draft202012Validator
        )
        checker: Callable[[Any], bool] = validator_class(schema).is_valid
        return checker

    def _strategy(self, value: Any, pointer: str, *, depth: int) -> Strategy:
        if not isinstance(value, dict) or not isinstance(value.get("strategy"), str):
            raise self._error(pointer, "`reduce` must be an object with a `strategy`")
        name = value["strategy"]
        if name not in _STRATEGIES:
            raise self._error(
                pointer,
                f"reduction strategy {name!r} is not supported by the local runtime "
                f"(supported: {', '.join(sorted(_STRATEGIES))})",
            )
        unknown = set(value) - {"strategy", "key", "delete"}
        if unknown:
            raise self._error(pointer, f"`reduce` has unknown settings {sorted(unknown)}")
        key = value.get("key", [])
        if not isinstance(key, list) or not all(isinstance(k, str) for k in key):
            raise self._error(pointer, "`reduce.key` must be a list of JSON pointers")
        delete = value.get("delete", False)
        if delete and name not in ("merge", "lastWriteWins"):
            raise self._error(pointer, "`delete: true` goes with `merge` or `lastWriteWins` only")
        if delete and depth > 0:
            raise self._error(
                pointer,
                "`delete: true` below the document root is not supported by the local runtime",
            )
        return Strategy(name=name, key=tuple(key), delete=bool(delete))

    def _error(self, pointer: str, reason: str) -> ConfigError:
        return ConfigError(
            f"the schema of collection {self._collection} at {pointer or 'its root'}: {reason}"
        )


# --- applying strategies ------------------------------------------------------------


def _applicable(nodes: list[_Node], value: Any) -> list[_Node]:
    """`nodes` and every node their conditions, members and choices bring in for `value`."""
    found: list[_Node] = []
    pending = list(nodes)
    while pending:
        node = pending.pop(0)
        found.append(node)
        pending.extend(node.members)
        for passes, member in node.choices:
            if passes(value):
                pending.append(member)
        for condition, then, otherwise in node.conditions:
            branch = then if condition(value) else otherwise
            if branch is not None:
                pending.append(branch)
    return found


def _strategy(nodes: list[_Node]) -> Strategy:
    chosen = LAST_WRITE_WINS
    for node in nodes:
        if node.strategy is not None:
            chosen = node.strategy
    return chosen


def _property_nodes(nodes: list[_Node], name: str) -> list[_Node]:
    found = []
    for node in nodes:
        if name in node.properties:
            found.append(node.properties[name])
            continue
        matched = [child for pattern, child in node.patterns if pattern.search(name)]
        if matched:
            found.extend(matched)
        elif node.additional is not None:
            found.append(node.additional)
    return found


def _item_nodes(nodes: list[_Node]) -> list[_Node]:
    return [node.items for node in nodes if node.items is not None]


def _reduce(lhs: Any, rhs: Any, nodes: list[_Node], location: str) -> Any:
    applicable = _applicable(nodes, rhs)
    strategy = _strategy(applicable)
    name = strategy.name
    if name == "lastWriteWins":
        return rhs
    if name == "firstWriteWins":
        return lhs
    if name == "merge":
        return _merge(lhs, rhs, applicable, strategy.key, location)
    if name == "sum":
        if not _is_number(lhs) or not _is_number(rhs):
            raise ReductionError(f"'sum' strategy expects numbers, while reducing {location!r}")
        return lhs + rhs
    if name == "append":
        if lhs is None and isinstance(rhs, list):
            return None
        if not isinstance(lhs, list) or not isinstance(rhs, list):
            raise ReductionError(f"'append' strategy expects arrays, while reducing {location!r}")
        return [*lhs, *rhs]
    order = _compare_on(strategy.key, lhs, rhs)
    if name == "maximize":
        order = -order
    if order < 0:
        return lhs
    if order > 0 or not strategy.key:
        return rhs
    return _merge(lhs, rhs, applicable, (), location)


def _merge(lhs: Any, rhs: Any, nodes: list[_Node], key: tuple[str, ...], location: str) -> Any:
    if isinstance(lhs, dict) and isinstance(rhs, dict):
        merged = dict(lhs)
        for name, value in rhs.items():
            if name in merged:
                merged[name] = _reduce(
                    merged[name], value, _property_nodes(nodes, name), f"{location}/{name}"
                )
            else:
                merged[name] = value
        return merged
    if isinstance(lhs, list) and isinstance(rhs, list):
        items = _item_nodes(nodes)
        if not key:
            merged_items = [
                _reduce(left, right, items, f"{location}/{i}")
                for i, (left, right) in enumerate(zip(lhs, rhs, strict=False))
            ]
            longer = lhs if len(lhs) > len(rhs) else rhs
            return merged_items + longer[len(merged_items) :]
        return _merge_sorted(lhs, rhs, items, key, location)
    if lhs is None and isinstance(rhs, dict | list):
        return None
    raise ReductionError(f"'merge' strategy expects objects or arrays, while reducing {location!r}")


def _merge_sorted(
    lhs: list[Any], rhs: list[Any], items: list[_Node], key: tuple[str, ...], location: str
) -> list[Any]:
    merged: list[Any] = []
    i = j = 0
    while i < len(lhs) and j < len(rhs):
        order = _compare_on(key, lhs[i], rhs[j])
        if order < 0:
            merged.append(lhs[i])
            i += 1
        elif order > 0:
            merged.append(rhs[j])
            j += 1
        else:
            merged.append(_reduce(lhs[i], rhs[j], items, f"{location}/{j}"))
            i += 1
            j += 1
    return merged + lhs[i:] + rhs[j:]


# --- ordering of JSON values (Flow's document ordering) ------------------------------


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _rank(value: Any) -> int:
    if value is None:
        return 0
    if type(value) is bool:
        return 1
    if _is_number(value):
        return 2
    if isinstance(value, str):
        return 3
    if isinstance(value, list):
        return 4
    return 5


def compare_json(lhs: Any, rhs: Any) -> int:
    """-1, 0 or 1: null < booleans < numbers < strings < arrays < objects, then by value."""
    left, right = _rank(lhs), _rank(rhs)
    if left != right:
        return -1 if left < right else 1
    if left == 4:
        for a, b in zip(lhs, rhs, strict=False):
            order = compare_json(a, b)
            if order:
                return order
        return (len(lhs) > len(rhs)) - (len(lhs) < len(rhs))
    if left == 5:
        for a, b in zip(sorted(lhs.items()), sorted(rhs.items()), strict=False):
            order = (a[0] > b[0]) - (a[0] < b[0]) or compare_json(a[1], b[1])
            if order:
                return order
        return (len(lhs) > len(rhs)) - (len(lhs) < len(rhs))
    return int((lhs > rhs) - (lhs < rhs))


def _lookup(value: Any, pointer: str) -> tuple[bool, Any]:
    if pointer == "":
        return True, value
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            return False, None
    return True, value


def _compare_on(key: tuple[str, ...], lhs: Any, rhs: Any) -> int:
    """Order `lhs` and `rhs` on `key` (the whole value when empty); absent sorts first."""
    for pointer in key or ("",):
        (has_left, left), (has_right, right) = _lookup(lhs, pointer), _lookup(rhs, pointer)
        if has_left and has_right:
            order = compare_json(left, right)
        else:
            order = int(has_left) - int(has_right)
        if order:
            return order
    return 0
