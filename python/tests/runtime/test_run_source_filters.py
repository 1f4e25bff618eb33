"""`connector-kit run` honours a binding's `source` narrowing: partitions and publish times."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from connector_kit.tuple import unpack

from .fake_catalog import USERS_SCHEMA, connector_kit, fake_tables, recorded_requests
from .fake_catalog import write_run_catalog as _write_run_catalog

PARTITIONED = {
    "acmeCo/users": {
        "schema": USERS_SCHEMA,
        "key": ["/id"],
        "projections": {"who": {"location": "/name", "partition": True}},
    }
}


def catalog_with_source(directory: Path, source: dict[str, Any]) -> Path:
    path = _write_run_catalog(directory, collections=PARTITIONED)
    catalog = json.loads(path.read_text())
    binding = catalog["materializations"]["acmeCo/fake-mat"]["bindings"][0]
    binding["source"] = {"name": "acmeCo/users", **source}
    path.write_text(json.dumps(catalog, indent=2))
    return path


def stored_keys(directory: Path) -> list[tuple[Any, ...]]:
    table = fake_tables(directory)["rows"].get("users", {})
    return sorted(unpack(base64.b64decode(key)) for key in table)


def run(catalog: Path, directory: Path) -> Any:
    return connector_kit("run", "--source", catalog, "--state-dir", directory / "state")


@pytest.mark.parametrize(
    ("partitions", "expected"),
    [
        ({"include": {"who": ["user-1", "user-3"]}}, [(1,), (3,)]),
        ({"exclude": {"who": ["user-2"]}}, [(1,), (3,), (4,)]),
        ({"include": {"who": ["user-1", "user-2"]}, "exclude": {"who": ["user-2"]}}, [(1,)]),
    ],
)
def test_a_partition_selector_reads_only_the_selected_documents(
    tmp_path: Path, partitions: dict[str, Any], expected: list[tuple[int]]
) -> None:
    result = run(catalog_with_source(tmp_path, {"partitions": partitions}), tmp_path)
    assert result.code == 0, result.stderr
    assert stored_keys(tmp_path) == expected


def test_a_selector_on_a_field_that_is_no_partition_is_refused_naming_it(tmp_path: Path) -> None:
    catalog = catalog_with_source(tmp_path, {"partitions": {"include": {"name": ["user-1"]}}})
    result = run(catalog, tmp_path)
    assert result.code != 0
    assert "materialization acmeCo/fake-mat binding 0" in result.error
    assert "'name', which is not a logical partition of collection acmeCo/users" in result.error
    assert "its partitions: who" in result.error


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ({"notBefore": "2000-01-01T00:00:00Z"}, [(1,), (2,), (3,), (4,)]),
        ({"notBefore": "2999-01-01T00:00:00Z"}, []),
        ({"notAfter": "2000-01-01T00:00:00+02:00"}, []),
        (
            {"notBefore": "2000-01-01T00:00:00Z", "notAfter": "2999-12-31T23:59:59Z"},
            [(1,), (2,), (3,), (4,)],
        ),
    ],
)
def test_publish_time_bounds_read_only_documents_published_within_them(
    tmp_path: Path, bounds: dict[str, str], expected: list[tuple[int]]
) -> None:
    result = run(catalog_with_source(tmp_path, bounds), tmp_path)
    assert result.code == 0, result.stderr
    assert stored_keys(tmp_path) == expected
    opened = next(
        r["open"] for r in recorded_requests(tmp_path, "materialize-requests.jsonl") if "open" in r
    )
    (binding,) = opened["materialization"]["bindings"]
    assert {k: binding[k] for k in bounds} == bounds, "the connector sees the bounds too"


def test_skipped_documents_still_move_the_read_position(tmp_path: Path) -> None:
    """A second run does not read the skipped documents again, nor lose the later ones."""
    catalog = catalog_with_source(tmp_path, {"partitions": {"exclude": {"who": ["user-2"]}}})
    assert run(catalog, tmp_path).code == 0
    second = run(catalog, tmp_path)
    assert second.code == 0, second.stderr
    assert stored_keys(tmp_path) == [(1,), (3,), (4,), (5,), (6,), (7,), (8,)]


def test_a_publish_time_that_is_not_rfc3339_is_a_catalog_error(tmp_path: Path) -> None:
    result = run(catalog_with_source(tmp_path, {"notBefore": "yesterday"}), tmp_path)
    assert result.code != 0
    assert "notBefore" in result.error
    assert "'yesterday' is not an RFC 3339 time" in result.error
