"""JSON schema inference → DuckDB column types, and which type changes DuckDB can absorb.

| inference | DuckDB |
|---|---|
| integer | BIGINT, or HUGEINT when its bounds exceed 64 bits |
| number | DOUBLE |
| boolean | BOOLEAN |
| object, array, several types, no type | JSON |
| string, format integer | HUGEINT (maxLength ≤ 38), else VARCHAR |
| string, format number | DOUBLE (`NaN`, `Infinity` included) |
| string, format date / date-time / time | DATE / TIMESTAMPTZ / TIME (VARCHAR for keys) |
| string, format uuid | UUID |
| string, contentEncoding base64 | BLOB |
| other strings | VARCHAR |

Date and time keys stay VARCHAR so that a key compares exactly as Flow packed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connector_kit.materialize import FieldRole, SelectedField
from connector_kit.protocol.flow import Inference

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
HUGEINT_DIGITS = 38

_STRING_FORMATS = {"date": "DATE", "date-time": "TIMESTAMPTZ", "time": "TIME", "uuid": "UUID"}

# (existing column type, new field type) pairs the existing column can be altered to hold.
_WIDENINGS = {
    ("BIGINT", "HUGEINT"): "HUGEINT",
    ("BIGINT", "DOUBLE"): "DOUBLE",
    ("HUGEINT", "DOUBLE"): "DOUBLE",
}
# Types whose values keep their meaning as text, so a VARCHAR column can hold them.
_TEXTUAL = {"BIGINT", "HUGEINT", "DOUBLE", "BOOLEAN", "DATE", "TIMESTAMPTZ", "TIME", "UUID"}
# Types whose SQL-to-JSON cast gives the JSON value of the same thing.
_JSON_SAFE = {"BIGINT", "HUGEINT", "DOUBLE", "BOOLEAN", "JSON"}


@dataclass(frozen=True)
class ColumnType:
    sql: str
    not_null: bool


def column_type(field: SelectedField) -> ColumnType:
    """The DuckDB type for a selected field, NOT NULL where every document has a value."""
    if field.role is FieldRole.DOCUMENT:
        return ColumnType("JSON", not_null=True)
    return ColumnType(
        _value_type(field.inference, is_key=field.role is FieldRole.KEY),
        not_null=field.must_exist,
    )


def type_of_inference(inference: Inference, *, is_key: bool) -> str:
    return _value_type(inference, is_key=is_key)


def _value_type(inference: Inference, *, is_key: bool) -> str:
    types = set(inference.types) - {"null"}
    if len(types) != 1:
        return "JSON"
    (kind,) = types
    if kind == "integer":
        return "HUGEINT" if _exceeds_int64(inference.numeric) else "BIGINT"
    if kind == "number":
        return "DOUBLE"
    if kind == "boolean":
        return "BOOLEAN"
    if kind == "string":
        return _string_type(inference, is_key=is_key)
    return "JSON"


def _string_type(inference: Inference, *, is_key: bool) -> str:
    string = inference.string
    if string is None:
        return "VARCHAR"
    if string.content_encoding == "base64":
        return "BLOB"
    if string.format == "integer":
        fits = string.max_length is not None and string.max_length <= HUGEINT_DIGITS
        return "HUGEINT" if fits else "VARCHAR"
    if string.format == "number":
        return "DOUBLE"
    if string.format in _STRING_FORMATS:
        if is_key and string.format != "uuid":
            return "VARCHAR"
        return _STRING_FORMATS[string.format]
    return "VARCHAR"


def _exceeds_int64(numeric: Any) -> bool:
    if not isinstance(numeric, dict):
        return False
    low = numeric.get("minimum") if numeric.get("hasMinimum") else None
    high = numeric.get("maximum") if numeric.get("hasMaximum") else None
    return any(
        isinstance(bound, int | float) and not INT64_MIN <= bound <= INT64_MAX
        for bound in (low, high)
    )


def can_hold(existing: str, new: str) -> bool:
    """Whether a column of type `existing` already stores values of type `new` faithfully."""
    if existing == new:
        return True
    if existing == "VARCHAR":
        return new in _TEXTUAL
    if existing == "JSON":
        return new in _JSON_SAFE
    return (existing, new) in {("HUGEINT", "BIGINT"), ("DOUBLE", "BIGINT"), ("DOUBLE", "HUGEINT")}


def widened(existing: str, new: str) -> str | None:
    """The type an `existing` column must be altered to so it holds `new` values, if any."""
    widened_to = _WIDENINGS.get((existing, new))
    if widened_to is not None:
        return widened_to
    if new == "VARCHAR" and existing in _TEXTUAL:
        return "VARCHAR"
    if new == "JSON" and existing in _JSON_SAFE:
        return "JSON"
    return None
