"""The one quoting function against hostile names, in a real DuckDB."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from materialize_duckdb.identifiers import fold, quote_identifier, sql_string, unique_names
from materialize_duckdb.keywords import DUCKDB_KEYWORDS

names = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40)
HOSTILE = [
    '"',
    '""',
    "a.b",
    "select",
    "SELECT",
    "Group",
    "x y",
    "naïve",
    "空白",
    "a\x00b",
    "--",
    "'; DROP TABLE t; --",
    "\n",
    "1abc",
    "$x",
]


@pytest.fixture(scope="module")
def connection() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


@settings(max_examples=150, deadline=None)
@given(schema=names, table=names, column=names)
def test_any_name_round_trips_through_ddl_and_the_catalog(
    connection: duckdb.DuckDBPyConnection, schema: str, table: str, column: str
) -> None:
    q_schema, q_table, q_column = (quote_identifier(n) for n in (schema, table, column))
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {q_schema}")
    connection.execute(f"CREATE OR REPLACE TABLE {q_schema}.{q_table} ({q_column} VARCHAR)")
    connection.execute(
        f"INSERT INTO {q_schema}.{q_table} ({q_column}) VALUES ({sql_string(column)})"
    )
    # DuckDB matches names case-insensitively: `MAIN` is the schema `main`.
    found = [
        name
        for in_schema, in_table, name in connection.execute(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
            "WHERE database_name = current_database()"
        ).fetchall()
        if fold(in_schema) == fold(schema) and fold(in_table) == fold(table)
    ]
    assert found == [column]
    assert connection.execute(f"SELECT {q_column} FROM {q_schema}.{q_table}").fetchall() == [
        (column,)
    ]
    connection.execute(f"DROP TABLE {q_schema}.{q_table}")
    if fold(schema) != "main":
        # Schemas differing only in case are one schema: none may outlive its example.
        connection.execute(f"DROP SCHEMA {q_schema} CASCADE")


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_quoted(name: str) -> None:
    quoted = quote_identifier(name)
    assert quoted.startswith('"')
    assert quoted.endswith('"')
    assert quoted[1:-1].replace('""', '"') == name


def test_plain_names_stay_bare_and_every_keyword_is_quoted() -> None:
    assert quote_identifier("user_id") == "user_id"
    assert all(quote_identifier(k).startswith('"') for k in DUCKDB_KEYWORDS)


def test_an_empty_identifier_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be empty"):
        quote_identifier("")


@given(
    st.lists(st.text(max_size=6), max_size=12), st.sets(st.text(max_size=6).map(fold), max_size=4)
)
def test_unique_names_never_fold_together_and_keep_their_stem(
    wanted: list[str], taken: set[str]
) -> None:
    result = unique_names(wanted, taken=taken)
    folded = [fold(n) for n in result]
    assert len(set(folded)) == len(folded)
    assert not set(folded) & taken
    for original, name in zip(wanted, result, strict=True):
        assert name.startswith(original or "_")
        assert set(name[len(original or "_") :]) <= {"_"}
