"""Reading JSON schemas as the contract tests need: local $refs, pointers, secret paths."""

from __future__ import annotations

from typing import Any


def resolve(schema: dict[str, Any], node: Any) -> Any:
    """Follow a local `$ref` (`#/$defs/...`) from `node`, repeatedly."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return node
        target: Any = schema
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _branches(schema: dict[str, Any], node: Any) -> list[dict[str, Any]]:
    """The node itself and each alternative it allows (allOf/anyOf/oneOf, if/then/else)."""
    node = resolve(schema, node)
    if not isinstance(node, dict):
        return []
    out = [node]
    for keyword in ("allOf", "anyOf", "oneOf"):
        for child in node.get(keyword) or []:
            out.extend(_branches(schema, child))
    for keyword in ("then", "else"):
        if isinstance(node.get(keyword), dict):
            out.extend(_branches(schema, node[keyword]))
    return out


def declares_pointer(schema: dict[str, Any], pointer: str) -> bool:
    """Whether the schema declares a property at JSON pointer `pointer`."""
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
    nodes: list[Any] = [schema]
    for token in tokens:
        found = []
        for node in nodes:
            for branch in _branches(schema, node):
                props = branch.get("properties") or {}
                if token in props:
                    found.append(props[token])
        if not found:
            return False
        nodes = found
    return True


def secret_values(schema: dict[str, Any], config: Any) -> set[str]:
    """The config's values at every property its schema marks `secret: true`."""
    found: set[str] = set()

    def walk(node: Any, value: Any) -> None:
        if not isinstance(value, dict):
            return
        for branch in _branches(schema, node):
            for name, prop in (branch.get("properties") or {}).items():
                if name not in value:
                    continue
                resolved = resolve(schema, prop)
                is_secret = isinstance(resolved, dict) and (
                    resolved.get("secret") is True or resolved.get("airbyte_secret") is True
                )
                if is_secret and isinstance(value[name], str | int | float):
                    found.add(str(value[name]))
                else:
                    walk(prop, value[name])

    walk(schema, config)
    return {s for s in found if len(s) >= 4}
