"""The one way an identifier or a string literal reaches DuckDB SQL.

DuckDB matches identifiers case-insensitively but keeps their case, so a name is
left bare only when it is plain lower-case ASCII and no keyword; everything else
(keywords, upper case, quotes, dots, spaces, unicode, control characters) is
double-quoted with `"` doubled. An empty name cannot be an identifier at all.
"""

from __future__ import annotations

import re

from materialize_duckdb.keywords import DUCKDB_KEYWORDS

_BARE = re.compile(r"[a-z_][a-z0-9_]*")


def quote_identifier(name: str) -> str:
    if not name:
        raise ValueError("an SQL identifier cannot be empty")
    if _BARE.fullmatch(name) and name not in DUCKDB_KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified_name(schema: str, table: str) -> str:
    return f"{quote_identifier(schema)}.{quote_identifier(table)}"


def sql_string(value: str) -> str:
    """A single-quoted SQL string literal (for file paths and other non-parameter positions)."""
    return "'" + value.replace("'", "''") + "'"


def fold(name: str) -> str:
    """The form under which DuckDB treats two identifiers as the same."""
    return name.lower()


def unique_names(wanted: list[str], *, taken: set[str] | None = None) -> list[str]:
    """`wanted`, with `_` appended to each name until no two fold to the same identifier.

    Names in `taken` (folded) are already claimed, e.g. by columns we reserve.
    An empty name becomes `_`.
    """
    claimed = set(taken or ())
    result = []
    for name in wanted:
        candidate = name or "_"
        while fold(candidate) in claimed:
            candidate += "_"
        claimed.add(fold(candidate))
        result.append(candidate)
    return result
