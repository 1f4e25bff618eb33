"""A JSON schema compiled into a fast yes/no check, for validating documents on the hot path.

`jsonschema` takes over a hundred microseconds for a small document, which would
make schema validation the whole cost of a pipeline. Most collection schemas use
a handful of keywords (`type`, `properties`, `required`, `items`, `enum`, `if`/
`then`, local `$ref`s, …); `compile_predicate` turns such a schema into nested
closures that answer "is this document valid?" in a few microseconds.

The predicate agrees with `jsonschema` on every keyword it supports (same type
rules: booleans are not numbers, 1.0 is an integer; same equality for `enum` and
`const`; formats checked by the same format checker). A schema using anything
else compiles to None, and the caller validates with `jsonschema` alone. A
document the predicate rejects is re-checked by `jsonschema`, which names the
error, so the predicate only ever decides the common case: valid.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence, Sized
from typing import Any

Predicate = Callable[[Any], bool]

_DRAFT_2020 = "https://json-schema.org/draft/2020-12/schema"
_DRAFT_2019 = "https://json-schema.org/draft/2019-09/schema"
_MODERN = {_DRAFT_2020, _DRAFT_2019}
_SUPPORTED_DIALECTS = {
    _DRAFT_2020,
    _DRAFT_2019,
    "http://json-schema.org/draft-07/schema",
    "http://json-schema.org/draft-06/schema",
}

# Keywords that only annotate (or hold subschemas for $ref) and never fail a document.
_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "definitions",
        "$vocabulary",
        "title",
        "description",
        "default",
        "examples",
        "readOnly",
        "writeOnly",
        "deprecated",
        "contentEncoding",
        "contentMediaType",
        "contentSchema",
    }
)
# Keywords jsonschema asserts that this module does not compile: their presence means None.
_UNSUPPORTED = frozenset(
    {
        "prefixItems",
        "additionalItems",
        "contains",
        "minContains",
        "maxContains",
        "uniqueItems",
        "unevaluatedItems",
        "unevaluatedProperties",
        "dependentRequired",
        "dependentSchemas",
        "dependencies",
        "$dynamicRef",
        "$dynamicAnchor",
        "$recursiveRef",
        "$recursiveAnchor",
        "$anchor",
        "extends",
        "disallow",
        "divisibleBy",
    }
)


class Unsupported(Exception):
    """The schema uses something the compiler does not handle; use jsonschema instead."""


def compile_predicate(
    schema: Any, *, format_check: Callable[[Any, str], bool] | None = None
) -> Predicate | None:
    """A validity check for `schema`, or None when it uses unsupported keywords.

    `format_check(value, format)` answers whether a string conforms to a format, as
    the format checker given to jsonschema would (formats it does not know pass).
    """
    dialect = schema.get("$schema", _DRAFT_2020) if isinstance(schema, dict) else _DRAFT_2020
    if not isinstance(dialect, str) or dialect.rstrip("#") not in _SUPPORTED_DIALECTS:
        return None
    try:
        return _Compiler(
            root=schema,
            modern=dialect.rstrip("#") in _MODERN,
            format_check=format_check,
        ).compile(schema, "")
    except (Unsupported, re.error, TypeError, ValueError):
        return None


class _Compiler:
    def __init__(
        self,
        *,
        root: Any,
        modern: bool,
        format_check: Callable[[Any, str], bool] | None,
    ) -> None:
        self._root = root
        self._modern = modern
        self._format_check = format_check
        self._by_pointer: dict[str, Predicate] = {}

    def compile(self, schema: Any, pointer: str) -> Predicate:
        if schema is True or schema == {}:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise Unsupported(f"a schema at {pointer!r} is neither an object nor a boolean")
        unsupported = _UNSUPPORTED.intersection(schema)
        if unsupported:
            raise Unsupported(f"keywords {sorted(unsupported)}")
        if pointer and "$id" in schema:
            raise Unsupported("nested $id changes how references resolve")
        checks: list[Predicate] = []
        if "$ref" in schema:
            if not self._modern:
                # Before 2019-09 a $ref replaces its siblings; jsonschema handles that.
                raise Unsupported("$ref in a draft-07 or older schema")
            checks.append(self._reference(schema["$ref"]))
        type_check = _type_check(schema.get("type"))
        if type_check is not None:
            checks.append(type_check)
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS or keyword in ("$ref", "type", "if", "then", "else"):
                continue
            build = _KEYWORDS.get(keyword)
            if build is not None:
                checks.append(build(self, schema, value, f"{pointer}/{keyword}"))
        if "if" in schema:
            checks.append(self._conditional(schema, pointer))
        return _all_of(checks)

    # --- applicators --------------------------------------------------------------

    def _reference(self, reference: Any) -> Predicate:
        if not isinstance(reference, str) or not reference.startswith("#"):
            raise Unsupported("only references within the same schema (#/…) are compiled")
        pointer = reference[1:]
        if pointer and not pointer.startswith("/"):
            raise Unsupported("anchor references")
        cached = self._by_pointer.get(pointer)
        if cached is not None:
            return cached
        target = _resolve(self._root, pointer)
        slot: list[Predicate] = []

        def deferred(value: Any) -> bool:
            return slot[0](value)

        # Registered before compiling, so a recursive schema refers back to itself.
        self._by_pointer[pointer] = deferred
        slot.append(self.compile(target, pointer))
        self._by_pointer[pointer] = slot[0]
        return slot[0]

    def _conditional(self, schema: dict[str, Any], pointer: str) -> Predicate:
        condition = self.compile(schema["if"], f"{pointer}/if")
        then = self.compile(schema.get("then", True), f"{pointer}/then")
        otherwise = self.compile(schema.get("else", True), f"{pointer}/else")

        def check(value: Any) -> bool:
            return then(value) if condition(value) else otherwise(value)

        return check

    def properties(self, schema: dict[str, Any], value: Any, pointer: str) -> Predicate:
        if not isinstance(value, dict):
            raise Unsupported("properties must be an object")
        children = tuple(
            (name, self.compile(child, f"{pointer}/{name}"))
            for name, child in value.items()
            if child is not True and child != {}
        )

        def check(instance: Any) -> bool:
            if type(instance) is not dict:
                return True
            for name, child in children:
                if name in instance and not child(instance[name]):
                    return False
            return True

        return check

    def additional_properties(self, schema: dict[str, Any], value: Any, pointer: str) -> Predicate:
        declared = frozenset(schema.get("properties") or ())
        patterns = tuple(re.compile(p) for p in schema.get("patternProperties") or ())
        child = self.compile(value, pointer)

        def check(instance: Any) -> bool:
            if type(instance) is not dict:
                return True
            for name, item in instance.items():
                if name in declared or any(p.search(name) for p in patterns):
                    continue
                if not child(item):
                    return False
            return True

        return check

    def pattern_properties(self, schema: dict[str, Any], value: Any, pointer: str) -> Predicate:
        if not isinstance(value, dict):
            raise Unsupported("patternProperties must be an object")
        compiled = tuple(
            (re.compile(pattern), self.compile(child, f"{pointer}/{pattern}"))
            for pattern, child in value.items()
        )

        def check(instance: Any) -> bool:
            if type(instance) is not dict:
                return True
            for pattern, child in compiled:
                for name, item in instance.items():
                    if pattern.search(name) and not child(item):
                        return False
            return True

        return check

    def property_names(self, schema: dict[str, Any], value: Any, pointer: str) -> Predicate:
        child = self.compile(value, pointer)

        def check(instance: Any) -> bool:
            return type(instance) is not dict or all(child(name) for name in instance)

        return check

    def items(self, schema: dict[str, Any], value: Any, pointer: str) -> Predicate:
        if isinstance(value, list):
            raise Unsupported("array-form items")
        child = self.compile(value, pointer)

        def check(instance: Any) -> bool:
            return type(instance) is not list or all(map(child, instance))

        return check

    def all_of(self, schema: dict[str, Any], value: Any, pointer: str) -> Predicate:
        return _all_of([self.compile(s, f"{pointer}/{i}") for i, s in enumerate(_list(value))])

    def any_of(self, schema: dict[str, Any], value: Any, pointer: str) -> Predicate:
        options = tuple(self.compile(s, f"{pointer}/{i}") for i, s in enumerate(_list(value)))

        def check(instance: Any) -> bool:
            return any(option(instance) for option in options)

        return check

    def one_of(self, schema: dict[str, Any], value: Any, pointer: str) -> Predicate:
        options = tuple(self.compile(s, f"{pointer}/{i}") for i, s in enumerate(_list(value)))

        def check(instance: Any) -> bool:
            return sum(1 for option in options if option(instance)) == 1

        return check

    def not_(self, schema: dict[str, Any], value: Any, pointer: str) -> Predicate:
        inner = self.compile(value, pointer)

        def check(instance: Any) -> bool:
            return not inner(instance)

        return check

    # --- assertions ---------------------------------------------------------------

    def format(self, schema: dict[str, Any], value: Any, pointer: str) -> Predicate:
        conforms = self._format_check
        if conforms is None or not isinstance(value, str):
            return _always

        def check(instance: Any) -> bool:
            return conforms(instance, value)

        return check


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise Unsupported("an applicator needs a non-empty array of schemas")
    return value


def _resolve(root: Any, pointer: str) -> Any:
    target = root
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(target, dict) and token in target:
            target = target[token]
        elif isinstance(target, list) and token.isdigit() and int(token) < len(target):
            target = target[int(token)]
        else:
            raise Unsupported(f"unresolvable reference #{pointer}")
    return target


def _always(value: Any) -> bool:
    return True


def _never(value: Any) -> bool:
    return False


def _all_of(checks: Sequence[Predicate]) -> Predicate:
    checks = [c for c in checks if c is not _always]
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda value: first(value) and second(value)
    frozen = tuple(checks)

    def check(value: Any) -> bool:
        for one in frozen:
            if not one(value):
                break
        else:
            return True
        return False

    return check


# --- type ---------------------------------------------------------------------------


def _is_integer(value: Any) -> bool:
    kind = type(value)
    return kind is int or (kind is float and value.is_integer())


def _is_number(value: Any) -> bool:
    kind = type(value)
    return kind is int or kind is float


_TYPE_CHECKS: Mapping[str, Predicate] = {
    "string": lambda v: type(v) is str,
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda v: type(v) is bool,
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
    "null": lambda v: v is None,
}
_EXACT_TYPES: Mapping[str, type] = {
    "string": str,
    "boolean": bool,
    "object": dict,
    "array": list,
    "null": type(None),
}


def _type_check(declared: Any) -> Predicate | None:
    if declared is None:
        return None
    names = [declared] if isinstance(declared, str) else declared
    if not isinstance(names, list) or not all(n in _TYPE_CHECKS for n in names):
        raise Unsupported(f"type {declared!r}")
    if len(names) == 1:
        return _TYPE_CHECKS[names[0]]
    exact = frozenset(_EXACT_TYPES[n] for n in names if n in _EXACT_TYPES)
    numeric = _is_number if "number" in names else _is_integer if "integer" in names else None
    if numeric is None:
        return lambda v: type(v) in exact
    return lambda v: type(v) in exact or numeric(v)


# --- value assertions ---------------------------------------------------------------


def json_equal(one: Any, two: Any) -> bool:
    """Equality as JSON schema means it: 1 == 1.0, but true != 1, deeply."""
    if type(one) is str or type(two) is str:
        return bool(one == two)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(json_equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(json_equal(one[k], two[k]) for k in one)
    if type(one) is bool or type(two) is bool:
        return type(one) is type(two) and one == two
    return bool(one == two)


def _enum(compiler: _Compiler, schema: dict[str, Any], value: Any, pointer: str) -> Predicate:
    if not isinstance(value, list):
        raise Unsupported("enum must be an array")
    options = tuple(value)
    return lambda instance: any(json_equal(instance, option) for option in options)


def _const(compiler: _Compiler, schema: dict[str, Any], value: Any, pointer: str) -> Predicate:
    return lambda instance: json_equal(instance, value)


def _required(compiler: _Compiler, schema: dict[str, Any], value: Any, pointer: str) -> Predicate:
    if not isinstance(value, list):
        raise Unsupported("required must be an array")
    names = frozenset(value)
    if not names:
        return _always
    return lambda instance: type(instance) is not dict or names <= instance.keys()


def _number_bound(
    compare: Callable[[Any, Any], bool],
) -> Callable[[_Compiler, dict[str, Any], Any, str], Predicate]:
    def build(compiler: _Compiler, schema: dict[str, Any], value: Any, pointer: str) -> Predicate:
        if type(value) not in (int, float):
            raise Unsupported("a numeric bound that is not a number (draft-04 style?)")
        return lambda instance: not _is_number(instance) or compare(instance, value)

    return build


def _multiple_of(
    compiler: _Compiler, schema: dict[str, Any], value: Any, pointer: str
) -> Predicate:
    if type(value) not in (int, float) or value <= 0:
        raise Unsupported("multipleOf must be a positive number")

    def check(instance: Any) -> bool:
        if not _is_number(instance):
            return True
        if isinstance(value, float):
            quotient = instance / value
            try:
                return bool(int(quotient) == quotient)
            except OverflowError:
                return True
        return not instance % value

    return check


def _length_bound(
    kind: type[Sized], compare: Callable[[int, int], bool]
) -> Callable[[_Compiler, dict[str, Any], Any, str], Predicate]:
    def build(compiler: _Compiler, schema: dict[str, Any], value: Any, pointer: str) -> Predicate:
        if type(value) is not int:
            raise Unsupported("a length bound must be an integer")
        return lambda instance: type(instance) is not kind or compare(len(instance), value)

    return build


def _pattern(compiler: _Compiler, schema: dict[str, Any], value: Any, pointer: str) -> Predicate:
    compiled = re.compile(value)
    return lambda instance: type(instance) is not str or compiled.search(instance) is not None


def _method(name: str) -> Callable[[_Compiler, dict[str, Any], Any, str], Predicate]:
    def build(compiler: _Compiler, schema: dict[str, Any], value: Any, pointer: str) -> Predicate:
        method: Callable[[dict[str, Any], Any, str], Predicate] = getattr(compiler, name)
        return method(schema, value, pointer)

    return build


_KEYWORDS: Mapping[str, Callable[[_Compiler, dict[str, Any], Any, str], Predicate]] = {
    "properties": _method("properties"),
    "additionalProperties": _method("additional_properties"),
    "patternProperties": _method("pattern_properties"),
    "propertyNames": _method("property_names"),
    "items": _method("items"),
    "allOf": _method("all_of"),
    "anyOf": _method("any_of"),
    "oneOf": _method("one_of"),
    "not": _method("not_"),
    "format": _method("format"),
    "enum": _enum,
    "const": _const,
    "required": _required,
    "minimum": _number_bound(lambda a, b: a >= b),
    "maximum": _number_bound(lambda a, b: a <= b),
    "exclusiveMinimum": _number_bound(lambda a, b: a > b),
    "exclusiveMaximum": _number_bound(lambda a, b: a < b),
    "multipleOf": _multiple_of,
    "minLength": _length_bound(str, lambda n, bound: n >= bound),
    "maxLength": _length_bound(str, lambda n, bound: n <= bound),
    "minItems": _length_bound(list, lambda n, bound: n >= bound),
    "maxItems": _length_bound(list, lambda n, bound: n <= bound),
    "minProperties": _length_bound(dict, lambda n, bound: n >= bound),
    "maxProperties": _length_bound(dict, lambda n, bound: n <= bound),
    "pattern": _pattern,
}
