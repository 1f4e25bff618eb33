"""Print what the demo materialized: rows per table and a few rows of each.

Usage: python demo/query.py demo/out/demo.duckdb
"""

from __future__ import annotations

import sys

import duckdb

SAMPLES = {
    "issues": """
        SELECT key,
               flow_document->'fields'->>'summary' AS summary,
               flow_document->'fields'->'status'->>'name' AS status,
               flow_document->'fields'->>'updated' AS updated
        FROM issues ORDER BY key LIMIT 5""",
    "issue_comments": """
        SELECT "issueKey" AS issue, id,
               flow_document->'author'->>'displayName' AS author,
               flow_document->>'created' AS created
        FROM issue_comments ORDER BY "issueKey", id LIMIT 5""",
    "notes": """
        SELECT id, title, stars, "author/name" AS author, updated_at::VARCHAR AS updated_at
        FROM notes ORDER BY id LIMIT 5""",
}


def main(database: str) -> None:
    connection = duckdb.connect(database, read_only=True)
    tables = [
        row[0]
        for row in connection.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_name NOT IN ('flow_checkpoints_v1', 'flow_backfills_v1') "
            "ORDER BY table_name"
        ).fetchall()
    ]
    print(f"{'table':<20} {'rows':>8}")
    for table in tables:
        ((count,),) = connection.table(table).aggregate("count(*)").fetchall()
        print(f"{table:<20} {count:>8}")
    for table, query in SAMPLES.items():
        if table not in tables:
            continue
        result = connection.execute(query)
        columns = [d[0] for d in result.description]
        print(f"\n{table}:")
        print("  " + " | ".join(columns))
        for row in result.fetchall():
            print("  " + " | ".join(_short(value) for value in row))


def _short(value: object, width: int = 48) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


if __name__ == "__main__":
    main(sys.argv[1])
