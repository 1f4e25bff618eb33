"""JSON schema inference → DuckDB column types, and which changes an existing column absorbs."""

from __future__ import annotations

from typing import Any

import pytest

from connector_kit.materialize import FieldRole, SelectedField
from connector_kit.protocol.flow import Projection
from materialize_duckdb.column_types import can_hold, column_type, widened


def field(inference: dict[str, Any], *, role: FieldRole = FieldRole.VALUE) -> SelectedField:
    projection = Projection.model_validate({"ptr": "/f", "field": "f", "inference": inference})
    return SelectedField(field="f", role=role, position=0, projection=projection)


@pytest.mark.parametrize(
    ("inference", "expected"),
    [
        ({"types": ["integer"], "exists": "MUST"}, ("BIGINT", True)),
        ({"types": ["integer", "null"], "exists": "MUST"}, ("BIGINT", False)),
        (
            {"types": ["integer"], "numeric": {"hasMaximum": True, "maximum": 2**70}},
            ("HUGEINT", False),
        ),
        ({"types": ["number"]}, ("DOUBLE", False)),
        ({"types": ["boolean"]}, ("BOOLEAN", False)),
        ({"types": ["object"]}, ("JSON", False)),
        ({"types": ["array"]}, ("JSON", False)),
        ({"types": ["integer", "string"]}, ("JSON", False)),
        (
            {"types": ["string"], "string": {"format": "integer", "maxLength": 38}},
            ("HUGEINT", False),
        ),
        ({"types": ["string"], "string": {"format": "integer"}}, ("VARCHAR", False)),
        ({"types": ["string"], "string": {"format": "number"}}, ("DOUBLE", False)),
        ({"types": ["string"], "string": {"format": "date"}}, ("DATE", False)),
        ({"types": ["string"], "string": {"format": "date-time"}}, ("TIMESTAMPTZ", False)),
        ({"types": ["string"], "string": {"format": "time"}}, ("TIME", False)),
        ({"types": ["string"], "string": {"format": "uuid"}}, ("UUID", False)),
        ({"types": ["string"], "string": {"contentEncoding": "base64"}}, ("BLOB", False)),
        ({"types": ["string"]}, ("VARCHAR", False)),
    ],
)
def test_value_types(inference: dict[str, Any], expected: tuple[str, bool]) -> None:
    kind = column_type(field(inference))
    assert (kind.sql, kind.not_null) == expected


def test_date_and_time_keys_stay_text_but_uuid_keys_do_not() -> None:
    for fmt, expected in [("date-time", "VARCHAR"), ("date", "VARCHAR"), ("uuid", "UUID")]:
        inference = {"types": ["string"], "string": {"format": fmt}, "exists": "MUST"}
        assert column_type(field(inference, role=FieldRole.KEY)).sql == expected


def test_the_document_is_required_json() -> None:
    kind = column_type(field({"types": ["object"]}, role=FieldRole.DOCUMENT))
    assert (kind.sql, kind.not_null) == ("JSON", True)


@pytest.mark.parametrize(
    ("existing", "new", "holds", "widens_to"),
    [
        ("BIGINT", "BIGINT", True, None),
        ("BIGINT", "DOUBLE", False, "DOUBLE"),
        ("BIGINT", "HUGEINT", False, "HUGEINT"),
        ("DOUBLE", "BIGINT", True, None),
        ("VARCHAR", "BIGINT", True, None),
        ("BIGINT", "VARCHAR", False, "VARCHAR"),
        ("BOOLEAN", "JSON", False, "JSON"),
        ("JSON", "VARCHAR", False, None),
        ("DATE", "BIGINT", False, None),
        ("JSON", "BIGINT", True, None),
    ],
)
def test_type_changes(existing: str, new: str, holds: bool, widens_to: str | None) -> None:
    assert can_hold(existing, new) is holds
    assert widened(existing, new) == widens_to
