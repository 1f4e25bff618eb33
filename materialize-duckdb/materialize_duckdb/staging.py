"""Store batches → typed rows → Parquet files (zstd, level 1) staged for the next commit.

Level 1 because a staged file lives for one transaction: zstd's default level costs
twice the CPU of the whole projection for a few percent less disk.

A batch is the raw Store lines. For a binding that selects the document field,
DuckDB parses each document once (`json_transform`) into every selected document
field: numbers, dates, timestamps and UUIDs straight into their column's type,
anything else as text (or JSON) then cast. A line the framework cut at its document
(`connector_kit.materialize.framing`) has its document parsed alone and its short
opening for the other Store fields, and keeps the document's text as sent; any other
line is parsed whole. A value the parser could not convert comes out NULL, so a
NULL from it is checked against the document: a value that does not fit its column
fails loudly instead of turning NULL. For
a binding without documents (delta updates that leave the document out), DuckDB
extracts the packed keys and values, Python decodes them, and the same casts
follow. A line DuckDB cannot read is handed to `StoreBatch.rows`, which names it.

The document's publish time (`flow_published_at`) is the timestamp of its v1
UUID; from a document it is computed here, packed values carry it already.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import orjson
import pyarrow as pa

from connector_kit.errors import ConnectorError
from connector_kit.materialize import FieldRole, StoreBatch
from connector_kit.materialize.batches import unpack_column
from connector_kit.materialize.framing import OPENING_END, STAND_IN
from connector_kit.tuple import TupleValue
from materialize_duckdb.identifiers import fold, quote_identifier, sql_string
from materialize_duckdb.tables import DELETE_COLUMN, REPLACES_COLUMN, Column

BATCH_VIEW = "flow_store_lines"
PACKED_VIEW = "flow_store_packed"
_WIDER_THAN_PARQUET = frozenset({"HUGEINT", "UHUGEINT"})
# Types DuckDB's JSON parser converts to as strictly as a cast from text, except that it
# turns a value it cannot convert into NULL (see `_checked`). Converting numbers and
# timestamps to text only to cast them back costs more than the parse itself.
_PARSED_AS_TYPED = frozenset({"BIGINT", "INTEGER", "DOUBLE", "DATE", "TIMESTAMPTZ", "UUID"})
SCAN_CHUNK_ROWS = 2048
STAGED_FORMAT = (
    "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, "
    # Row groups of 8192 rows let DuckDB's threads encode and compress a file's row groups
    # side by side (one row group per file is encoded on one thread), and the commit reads
    # them side by side. Staged values are nearly all distinct: dictionaries would not pay.
    "ROW_GROUP_SIZE 8192, DICTIONARY_SIZE_LIMIT 0)"
)

# 100 ns intervals from the UUID epoch (1582-10-15) to the Unix epoch.
_UUID_EPOCH_OFFSET = 0x01B21DD213814000
UUID_TIME_MACRO = (
    "CREATE OR REPLACE TEMP MACRO flow_uuid_time(u) AS make_timestamp("
    "((('0x' || substr(u, 16, 3) || substr(u, 10, 4) || substr(u, 1, 8))::UBIGINT // 16 * 16"
    f" - {_UUID_EPOCH_OFFSET}) // 10)::BIGINT)::TIMESTAMPTZ"
)


@dataclass(frozen=True, kw_only=True)
class StagedColumn:
    """A table column as it exists now, and where its values come from."""

    column: Column
    type: str
    """The column's current type in the table (which may be wider than the field's)."""

    @property
    def is_json(self) -> bool:
        return self.type == "JSON"

    def cast(self, text: str) -> str:
        """SQL turning `text` (VARCHAR, or JSON for JSON columns) into a value of the column."""
        if self.is_json or self.type == "VARCHAR":
            return text
        if self.type == "BLOB":
            return f"from_base64({text})"
        return f"CAST({text} AS {self.type})"

    @property
    def parsed_type(self) -> str:
        """The type this column's field is parsed into from a Store line."""
        if self.is_json:
            return "JSON"
        if self.column.is_publish_time or self.type not in _PARSED_AS_TYPED:
            return "VARCHAR"
        return self.type

    @property
    def staged_as_text(self) -> bool:
        # Parquet has no 128-bit integers: DuckDB would write them as DOUBLE and lose digits.
        return self.type in _WIDER_THAN_PARQUET

    def to_stage(self, text: str) -> str:
        """SQL for the value as written to the staged file."""
        return f"CAST({self.cast(text)} AS VARCHAR)" if self.staged_as_text else self.cast(text)

    def from_stage(self, name: str) -> str:
        """SQL for the column's value, read back from a staged file's column `name`."""
        return f"CAST({name} AS {self.type})" if self.staged_as_text else name


@dataclass(frozen=True)
class StagedFile:
    path: Path
    rows: int
    deletes: int
    replaces: int
    """Rows whose key may already be in the table (see `REPLACES_COLUMN`)."""


def stage_batch(
    connection: duckdb.DuckDBPyConnection,
    *,
    tables: Sequence[Sequence[StagedColumn]],
    batch: StoreBatch,
    path_for: Callable[[int], Path],
) -> list[StagedFile | None]:
    """Write each binding's rows of `batch` as one zstd Parquet file of typed columns.

    Returns a file (or None, when it has no rows) per binding. A line that is not a
    valid Store for these bindings is a ProtocolError naming it.
    """
    columns: dict[str, pa.ChunkedArray | pa.Array] = {
        "line": batch.lines,
        "line_no": pa.array(np.frombuffer(batch.line_numbers, dtype=np.int64)),  # no copy
    }
    if any(_has_document(binding) for binding in tables):
        if batch.framed is None:
            raise ConnectorError("a binding stores documents, but its Store lines were not framed")
        for name, field in _FRAMED_COLUMNS.items():
            columns[name] = getattr(batch.framed, field)
    whole = pa.table(columns)
    # DuckDB hands each record batch of an Arrow table to one of its threads: one big batch
    # would be parsed by one thread. Slices share the arrays' memory.
    lines = pa.Table.from_batches(whole.to_batches(max_chunksize=SCAN_CHUNK_ROWS), whole.schema)
    connection.register(BATCH_VIEW, lines)
    try:
        staged = [
            _stage_binding(connection, binding, columns, path_for(binding))
            for binding, columns in enumerate(tables)
        ]
    except duckdb.Error as err:
        batch.rows()  # names the offending line, if a line is what DuckDB choked on
        first, last = batch.line_numbers[0], batch.line_numbers[-1]
        raise ConnectorError(
            f"staging the rows of request lines {first}-{last} failed: {type(err).__name__}: {err}"
        ) from None
    finally:
        connection.unregister(BATCH_VIEW)
    if sum(f.rows for f in staged if f is not None) != len(batch):
        batch.rows()  # some line names no binding of ours, or is no Store at all
        raise ConnectorError("the engine read fewer Store rows than the runtime sent")
    return staged


def _stage_binding(
    connection: duckdb.DuckDBPyConnection,
    binding: int,
    columns: Sequence[StagedColumn],
    path: Path,
) -> StagedFile | None:
    if _has_document(columns):
        try:
            return _copy(
                connection, _document_projection(columns, binding, source=BATCH_VIEW), path
            )
        except duckdb.Error:
            # Some line was not cut right: a field unknown today follows its document, or the
            # line is malformed. Such lines are parsed whole, which tells which.
            query = _document_projection(columns, binding, source=_FRAMED_IF_CUT_RIGHT)
            return _copy(connection, query, path)
    connection.register(PACKED_VIEW, _packed_table(connection, columns, binding))
    try:
        return _copy(connection, _packed_projection(columns), path)
    finally:
        connection.unregister(PACKED_VIEW)


def _copy(connection: duckdb.DuckDBPyConnection, query: str, path: Path) -> StagedFile | None:
    written = connection.execute(
        f"COPY ({query}) TO {sql_string(str(path))} {STAGED_FORMAT[:-1]}, RETURN_STATS)"
    ).fetchall()
    rows = sum(int(file[1]) for file in written)
    if rows == 0:
        path.unlink(missing_ok=True)
        return None
    # The file's statistics tell whether any row deletes or replaces; only then are they
    # counted (and whenever the statistics do not say).
    maxima = {
        name.strip('"'): stats.get("max")
        for file in written
        for name, stats in (file[4] or {}).items()
    }
    if all(maxima.get(flag) in ("0", "false") for flag in (DELETE_COLUMN, REPLACES_COLUMN)):
        return StagedFile(path=path, rows=rows, deletes=0, replaces=0)
    counts = connection.execute(
        f"SELECT count(*) FILTER (WHERE {quote_identifier(DELETE_COLUMN)}), "  # noqa: S608 - quoted
        f"count(*) FILTER (WHERE {quote_identifier(REPLACES_COLUMN)}) "
        f"FROM read_parquet({sql_string(str(path))})"
    ).fetchall()
    deletes, replaces = (int(counts[0][0]), int(counts[0][1])) if counts else (0, 0)
    return StagedFile(path=path, rows=rows, deletes=deletes, replaces=replaces)


def _has_document(columns: Sequence[StagedColumn]) -> bool:
    return any(c.column.field.role is FieldRole.DOCUMENT for c in columns)


def _envelope(structure: dict[str, Any]) -> str:
    """SQL parsing a whole line into a struct of the Store fields (and document fields)."""
    store: dict[str, Any] = {"binding": "JSON", "delete": "JSON", "exists": "JSON", **structure}
    text = sql_string(orjson.dumps({"store": store}).decode())
    return f"struct_extract(json_transform(line, {text}), 'store')"


@dataclass(frozen=True)
class _StoreFields:
    """SQL for a Store's `binding` (as text), `delete` and `exists`, read from the first of
    some parsed structs that has each. The runtime leaves out a zero binding and false
    flags, as proto3 JSON does with defaults."""

    binding: str
    delete: str
    exists: str

    @classmethod
    def of(cls, *structs: str) -> _StoreFields:
        def first(name: str) -> str:
            return "coalesce(" + ", ".join(f"struct_extract({s}, '{name}')" for s in structs) + ")"

        return cls(
            binding=f"coalesce(CAST({first('binding')} AS VARCHAR), '0')",
            delete=f"coalesce({first('delete')}, 'false') = 'true'",
            exists=f"coalesce({first('exists')}, 'false') = 'true'",
        )


def _flags(*, delete: str, exists: str) -> str:
    return f"{delete} AS {DELETE_COLUMN}, ({exists} OR {delete}) AS {REPLACES_COLUMN}"


# A line cut at its document (`StoreBatch.framed`), as staged columns.
_FRAMED_COLUMNS = {
    "framed": "documents",
    "framed_opening": "openings",
    "framed_exists": "exists",
    "framed_delete": "deletes",
}
_OPENED = f"framed_opening || {sql_string(OPENING_END)}"
"""A cut line's opening made a whole Store (see `connector_kit.materialize.framing`)."""
_OPENING_FIELDS = sql_string(
    orjson.dumps(
        {"store": {"binding": "JSON", "delete": "JSON", "exists": "JSON", "doc": "JSON"}}
    ).decode()
)
_CUT_RIGHT = (
    f"CASE WHEN json_valid(framed) AND json_valid({_OPENED}) "
    f"THEN json_extract({_OPENED}, '$.store.doc') = {sql_string(STAND_IN)} END"
)
_IF_CUT_RIGHT = ", ".join(
    f"CASE WHEN cut_right THEN {name} END AS {name}" for name in _FRAMED_COLUMNS
)
_FRAMED_IF_CUT_RIGHT = (
    f"(SELECT line_no, line, {_IF_CUT_RIGHT} FROM ("  # noqa: S608 - no identifiers
    f"SELECT *, coalesce({_CUT_RIGHT}, false) AS cut_right FROM {BATCH_VIEW}))"
)
"""The lines, framed only where they were cut right: the slower pass for a batch in which
some line was not."""


def _document_projection(columns: Sequence[StagedColumn], binding: int, *, source: str) -> str:
    """The binding's rows from the lines of `source`: a framed line's document is parsed alone
    and kept as sent; any other line is parsed whole and its document extracted by pointer."""
    fields: dict[str, Any] = {}
    selects = []
    for staged in columns:
        column = staged.column
        if column.field.role is FieldRole.DOCUMENT:
            # A Store without a document is refused here, before anything is committed.
            selects.append(
                "CASE WHEN doc IS NULL OR doc = 'null' THEN error('store without doc on line ' "
                f"|| line_no) ELSE doc END AS {column.ident}"
            )
            continue
        parsed = _extract(staged, fields)
        if parsed is None:
            text = _by_pointer(staged)
        elif staged.parsed_type != "VARCHAR" and not staged.is_json:
            selects.append(f"{_checked(parsed, staged)} AS {column.ident}")
            continue
        else:
            text = parsed
        if column.is_publish_time and staged.type == "TIMESTAMPTZ":
            value = f"flow_uuid_time({text})"
        else:
            value = staged.to_stage(text)
        selects.append(f"{value} AS {column.ident}")
    parsed_fields, fields_of = "", ""
    if fields:
        structure = sql_string(orjson.dumps(fields).decode())
        parsed_fields = (
            f", CASE WHEN framed IS NOT NULL THEN json_transform(framed, {structure}) END "
            "AS framed_fields"
        )
        fields_of = ", coalesce(framed_fields, struct_extract(s, 'doc')) AS d"
    envelope = _envelope({"doc": fields} if fields else {})
    opening = f"struct_extract(json_transform({_OPENED}, {_OPENING_FIELDS}), 'store')"
    # A line cut at its document gives its Store fields from its opening (`o`), any other
    # line from being parsed whole (`s`); a cut that was not right fails the statement,
    # and the batch is staged again without it (see `_stage_binding`).
    document = (
        "CASE WHEN framed IS NULL THEN json_extract(unframed, '/store/doc') "
        f"WHEN struct_extract(o, 'doc') = {sql_string(STAND_IN)} THEN framed "
        "ELSE error('request line ' || line_no || ': its document was cut wrongly') END"
    )
    store = _StoreFields.of("o", "s")
    # Each line is parsed once: DuckDB computes what `parsed` holds in one projection that
    # every column reads (a MATERIALIZED CTE would buffer all of it, for 10-15% more CPU).
    # Only lines that were not cut carry their text further.
    return (
        "WITH parsed AS ("  # noqa: S608 - identifiers are quoted
        "SELECT line_no, framed, framed_exists, framed_delete, "
        "CASE WHEN framed IS NULL THEN line END AS unframed, "
        f"CASE WHEN framed IS NULL THEN {envelope} END AS s, "
        f"CASE WHEN framed IS NOT NULL THEN {opening} END AS o{parsed_fields} "
        f"FROM {source}), "
        f"documents AS (SELECT line_no, {document} AS doc{fields_of}, "
        f"{store.binding} AS binding, "
        f"{store.delete} OR coalesce(framed_delete, false) AS is_delete, "
        f"{store.exists} OR coalesce(framed_exists, false) AS is_exists FROM parsed) "
        f"SELECT {', '.join(selects)}, {_flags(delete='is_delete', exists='is_exists')} "
        f"FROM documents WHERE binding = '{binding}'"
    )


def _extract(staged: StagedColumn, fields: dict[str, Any]) -> str | None:
    """SQL for the field's value (of its `parsed_type`) from the parsed struct, or None when
    the struct cannot hold its path."""
    ptr = staged.column.field.ptr
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in ptr.split("/")[1:]]
    if not ptr.startswith("/") or not _claim(fields, tokens, staged.parsed_type):
        return None
    access = "d"
    for token in tokens:
        access = f"struct_extract({access}, {sql_string(token)})"
    return access


def _by_pointer(staged: StagedColumn) -> str:
    """SQL for the field's value as text (or JSON), read from the document by pointer: array
    indices, and paths the parsed struct cannot hold as wanted."""
    function = "json_extract" if staged.is_json else "json_extract_string"
    return f"{function}(doc, {_pointer(staged)})"


def _pointer(staged: StagedColumn) -> str:
    return sql_string(staged.column.field.ptr)


def _checked(parsed: str, staged: StagedColumn) -> str:
    """SQL failing the statement when the parser turned a present, non-null value into NULL:
    a value that does not fit the column."""
    pointer = _pointer(staged)
    message = (
        f"'request line ' || line_no || ': ' || {sql_string(staged.column.field.ptr)} || "
        f"' is ' || json_extract(doc, {pointer}) || ', which does not fit column ' || "
        f"{sql_string(staged.column.name + ' (' + staged.type + ')')}"
    )
    return (
        f"CASE WHEN {parsed} IS NULL AND json_extract_string(doc, {pointer}) IS NOT NULL "
        f"THEN error({message}) ELSE {parsed} END"
    )


def _claim(node: dict[str, Any], tokens: list[str], kind: str) -> bool:
    """Add a path to the struct of document fields; False if it cannot be a struct path."""
    for depth, token in enumerate(tokens):
        if not token or token.isdigit():
            return False  # Struct fields need names; a digit may be an array index.
        # Struct fields compare case-insensitively, so `Group` and `group` cannot both be one.
        if any(fold(k) == fold(token) and k != token for k in node):
            return False
        leaf = depth == len(tokens) - 1
        child = node.setdefault(token, kind if leaf else {})
        if leaf:
            return bool(child == kind)
        if not isinstance(child, dict):
            return False
        node = child
    return False


def _packed_table(
    connection: duckdb.DuckDBPyConnection, columns: Sequence[StagedColumn], binding: int
) -> pa.Table:
    """This binding's rows decoded from their packed keys and values, as text columns."""
    structure = {"keyPacked": "VARCHAR", "valuesPacked": "VARCHAR"}
    store = _StoreFields.of("s")
    flags = _flags(delete=store.delete, exists=store.exists)
    packed = connection.execute(
        "SELECT line_no, struct_extract(s, 'keyPacked') AS k, "  # noqa: S608 - no identifiers
        f"struct_extract(s, 'valuesPacked') AS v, {flags} "
        f"FROM (SELECT line_no, {_envelope(structure)} AS s FROM {BATCH_VIEW}) "
        f"WHERE {store.binding} = '{binding}'"
    ).to_arrow_table()
    assert packed is not None, "a query result converts to an Arrow table"
    lines = packed.column("line_no").to_pylist()
    keys = unpack_column(packed.column("k").to_pylist(), lines, what="keyPacked")
    values = unpack_column(packed.column("v").to_pylist(), lines, what="valuesPacked")
    arrays: dict[str, pa.Array] = {}
    for index, staged in enumerate(columns):
        field = staged.column.field
        rows: list[tuple[TupleValue, ...]] = keys if field.role is FieldRole.KEY else values
        arrays[f"c{index}"] = text_column(
            [row[field.position] for row in rows], json=staged.is_json
        )
    arrays[DELETE_COLUMN] = packed.column(DELETE_COLUMN).combine_chunks()
    arrays[REPLACES_COLUMN] = packed.column(REPLACES_COLUMN).combine_chunks()
    return pa.table(arrays)


def _packed_projection(columns: Sequence[StagedColumn]) -> str:
    selects = [
        f"{staged.to_stage(f'c{index}')} AS {staged.column.ident}"
        for index, staged in enumerate(columns)
    ]
    selects.append(quote_identifier(DELETE_COLUMN))
    selects.append(quote_identifier(REPLACES_COLUMN))
    return f"SELECT {', '.join(selects)} FROM {PACKED_VIEW}"  # noqa: S608 - identifiers are quoted


def text_column(values: Sequence[TupleValue], *, json: bool) -> pa.Array:
    """Packed values as the text `StagedColumn.cast` expects: JSON text for JSON columns."""
    return pa.array([_to_text(v, json=json) for v in values], pa.string())


def _to_text(value: Any, *, json: bool) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):  # objects and arrays arrive as their JSON text
        return value.decode()
    if json:
        return orjson.dumps(value, default=str).decode()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | uuid.UUID):
        return str(value)
    return orjson.dumps(value, default=str).decode()
