"""Ingest throughput of materialize-duckdb through the full protocol, next to its peers.

Run: `python bench/bench_materialize_duckdb.py [documents] [transactions] [rounds]` (default
1,000,000 documents in 4 transactions, best of 3 rounds). In one run, on the same documents
(20 fields of mixed types, an array and an object among them), it measures:

* materialize-duckdb: `apply`, then one process fed `open` and the transactions as Flow sends
  them (JSON lines, packed keys and values, the document, exactly-once commits), from process
  start to exit; its peak RSS; then a second session that Loads 100k existing keys.
  It and the `read_json` → INSERT peer run once per round, interleaved, each from a fresh
  database; the fastest run of each is reported.
* DuckDB's own reader, the practical limit: `read_json` → `INSERT` into the same table
  materialize-duckdb writes (created with the DDL it applied: typed columns plus the whole
  document as JSON), closing the database; and, for reference, `CREATE TABLE … AS SELECT *
  FROM read_json(file)`, which stores the columns alone.
* dlt's duckdb destination, run from `bench/.venv-dlt` (created on first use, never the
  project's venv).

Prints docs/s, CPU seconds and ratios; asserts nothing. `BENCH_SKIP_DLT=1` skips the dlt peer.
"""

from __future__ import annotations

import base64
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson
from duckdb_peer import run_apart

from connector_kit.tuple import pack

BENCH = Path(__file__).resolve().parent
DLT_VENV = BENCH / ".venv-dlt"
CONNECTOR = [sys.executable, "-m", "materialize_duckdb"]
LOAD_KEYS = 100_000
FIELDS: dict[str, dict[str, Any]] = {
    "id": {"type": "integer"},
    "name": {"type": "string"},
    "email": {"type": "string"},
    "age": {"type": "integer"},
    "score": {"type": "number"},
    "active": {"type": "boolean"},
    "created_at": {"type": "string", "format": "date-time"},
    "birthday": {"type": "string", "format": "date"},
    "country": {"type": "string"},
    "city": {"type": "string"},
    "zip": {"type": ["string", "null"]},
    "balance": {"type": "number"},
    "visits": {"type": "integer"},
    "ratio": {"type": "number"},
    "account": {"type": "string", "format": "uuid"},
    "note": {"type": "string"},
    "level": {"type": "integer"},
    "verified": {"type": ["boolean", "null"]},
    "tags": {"type": "array"},
    "address": {"type": "object"},
}
META_UUID = "8a2b5a80-a6a1-11ee-8c90-0242ac120002"


def document(i: int, rng: random.Random) -> dict[str, Any]:
    return {
        "id": i,
        "name": f"user {i}",
        "email": f"user{i}@example.com",
        "age": rng.randrange(18, 90),
        "score": rng.random() * 100,
        "active": rng.random() < 0.5,
        "created_at": f"2024-0{1 + i % 9}-1{i % 10}T0{i % 10}:1{i % 10}:00Z",
        "birthday": f"19{50 + i % 50}-0{1 + i % 9}-2{i % 8}",
        "country": rng.choice(["NL", "DE", "FR", "US"]),
        "city": rng.choice(["Amsterdam", "Berlin", "Paris", "Boston"]),
        "zip": None if i % 7 == 0 else f"{1000 + i % 9000}AB",
        "balance": round(rng.random() * 10_000, 2),
        "visits": rng.randrange(1000),
        "ratio": rng.random(),
        "account": str(uuid.UUID(int=rng.getrandbits(128))),
        "note": "lorem ipsum dolor sit amet " * (1 + i % 3),
        "level": i % 5,
        "verified": None if i % 3 == 0 else bool(i % 2),
        "tags": [f"t{i % 4}", f"t{i % 5}"],
        "address": {"street": "Main St", "number": i % 200, "geo": [52.37, 4.89]},
        "_meta": {"uuid": META_UUID, "op": "u"},
    }


def collection() -> dict[str, Any]:
    projections = []
    for field, schema in FIELDS.items():
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        inference: dict[str, Any] = {"types": types, "exists": "MUST"}
        if "format" in schema:
            inference["string"] = {"format": schema["format"]}
        projection = {"ptr": f"/{field}", "field": field, "inference": inference}
        if field == "id":
            projection["isPrimaryKey"] = True
        projections.append(projection)
    projections.append({"ptr": "", "field": "flow_document", "inference": {"types": ["object"]}})
    return {
        "name": "bench/users",
        "key": ["/id"],
        "uuidPtr": "/_meta/uuid",
        "writeSchema": {"type": "object"},
        "projections": projections,
    }


VALUES = sorted(f for f in FIELDS if f != "id")


def spec(database: Path) -> dict[str, Any]:
    return {
        "name": "bench/materialize",
        "config": {"database": str(database)},
        "bindings": [
            {
                "resourceConfig": {"table": "users"},
                "resourcePath": ["main", "users"],
                "collection": collection(),
                "fieldSelection": {"keys": ["id"], "values": VALUES, "document": "flow_document"},
            }
        ],
    }


def packed(values: list[Any]) -> str:
    return base64.b64encode(
        pack([orjson.dumps(v) if isinstance(v, dict | list) else v for v in values])
    ).decode()


def write_inputs(work: Path, count: int, transactions: int) -> tuple[Path, Path, Path]:
    rng = random.Random(7)
    docs_path, requests_path, loads_path = (
        work / "docs.jsonl",
        work / "requests.jsonl",
        work / "loads.jsonl",
    )
    the_spec = spec(work / "bench.duckdb")
    per_txn = -(-count // transactions)
    with docs_path.open("wb") as docs, requests_path.open("wb") as requests:
        requests.write(orjson.dumps({"open": {"materialization": the_spec}}) + b"\n")
        for i in range(count):
            if i % per_txn == 0:
                requests.write(b'{"acknowledge":{}}\n{"flush":{}}\n')
            doc = document(i, rng)
            docs.write(orjson.dumps({k: v for k, v in doc.items() if k != "_meta"}) + b"\n")
            store = {
                "binding": 0,
                "keyPacked": packed([doc["id"]]),
                "valuesPacked": packed([doc[v] for v in VALUES]),
                "doc": doc,
            }
            requests.write(orjson.dumps({"store": store}) + b"\n")
            if (i + 1) % per_txn == 0 or i + 1 == count:
                checkpoint = {"sources": {"bench/users;m": {"readThrough": str(i + 1)}}}
                requests.write(
                    orjson.dumps({"startCommit": {"runtimeCheckpoint": checkpoint}}) + b"\n"
                )
        requests.write(b'{"acknowledge":{}}\n')
    keys = rng.sample(range(count), min(LOAD_KEYS, count))
    with loads_path.open("wb") as loads:
        loads.write(orjson.dumps({"open": {"materialization": the_spec}}) + b"\n")
        loads.write(b'{"acknowledge":{}}\n')
        for key in keys:
            loads.write(orjson.dumps({"load": {"binding": 0, "keyPacked": packed([key])}}) + b"\n")
        loads.write(b'{"flush":{}}\n')
        checkpoint = {"sources": {"bench/users;m": {"readThrough": str(count)}}}
        loads.write(orjson.dumps({"startCommit": {"runtimeCheckpoint": checkpoint}}) + b"\n")
    (work / "apply.jsonl").write_bytes(
        orjson.dumps({"apply": {"materialization": the_spec}}) + b"\n"
    )
    return docs_path, requests_path, loads_path


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_seconds: float
    peak_rss: int
    stdout: bytes


def run_connector(requests: Path, work: Path) -> Run:
    """The connector fed `requests`: wall and CPU seconds from start to exit, peak RSS, stdout."""
    out = work / "responses.jsonl"
    started = time.perf_counter()
    with requests.open("rb") as stdin, out.open("wb") as stdout:
        process = subprocess.Popen(CONNECTOR, stdin=stdin, stdout=stdout, cwd=work)
        _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"connector failed on {requests.name}")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(elapsed, cpu, usage.ru_maxrss * 1024, out.read_bytes())


def bench_read_json(docs: Path, work: Path) -> tuple[float, float]:
    """Wall and CPU seconds (DuckDB's threads included) of CREATE TABLE AS read_json."""
    database = work / "read_json.duckdb"
    cpu = time.process_time()
    started = time.perf_counter()
    connection = duckdb.connect(str(database))
    connection.execute(f"CREATE TABLE users AS SELECT * FROM read_json('{docs}')")
    connection.close()  # the checkpoint that writes the table into the file is part of the load
    return time.perf_counter() - started, time.process_time() - cpu


DLT_SCRIPT = """
import sys, time, orjson, dlt
path, database = sys.argv[1], sys.argv[2]
def users():
    with open(path, "rb") as f:
        for line in f:
            yield orjson.loads(line)
pipeline = dlt.pipeline(
    pipeline_name="bench", destination=dlt.destinations.duckdb(database),
    dataset_name="bench", pipelines_dir=sys.argv[3],
)
started = time.perf_counter()
pipeline.run(dlt.resource(users, name="users", write_disposition="append"))
print(time.perf_counter() - started)
"""


def bench_dlt(docs: Path, work: Path, limit: int) -> float | None:
    """Seconds dlt takes to load the first `limit` documents (None if it failed)."""
    python = DLT_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(DLT_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "dlt[duckdb]==1.31.0", "orjson"],
            check=True,
        )
    subset = work / "dlt-docs.jsonl"
    with docs.open("rb") as source, subset.open("wb") as target:
        for _, line in zip(range(limit), source, strict=False):
            target.write(line)
    done = subprocess.run(
        [str(python), "-c", DLT_SCRIPT, str(subset), str(work / "dlt.duckdb"), str(work / "dlt")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "RUNTIME__LOG_LEVEL": "WARNING"},
    )
    if done.returncode != 0:
        print(f"dlt failed: {done.stderr[-2000:]}", file=sys.stderr)
        return None
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    transactions = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    work = Path(tempfile.mkdtemp(prefix="bench-materialize-duckdb-"))
    try:
        print(
            f"documents: {count:,} in {transactions} transactions, best of {rounds} rounds; "
            f"work dir {work}"
        )
        started = time.perf_counter()
        docs, requests, loads = write_inputs(work, count, transactions)
        print(
            f"inputs written in {time.perf_counter() - started:.1f}s "
            f"({requests.stat().st_size / 1e6:.0f} MB of requests)"
        )

        # Both sides run `rounds` times, interleaved, from a fresh database each time; the
        # fastest run of each is kept, so a moment of noise on the machine decides neither.
        ours: Run | None = None
        limit, limit_cpu = float("inf"), 0.0
        for round_ in range(rounds):
            for stale in work.glob("bench.duckdb*"):
                shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
            apply_run = run_connector(work / "apply.jsonl", work)
            run = run_connector(requests, work)
            committed = run.stdout.count(b'"startedCommit"')
            connection = duckdb.connect(str(work / "bench.duckdb"), read_only=True)
            rows = connection.execute("SELECT count(*) FROM users").fetchall()[0][0]
            connection.close()
            if rows != count:
                raise SystemExit(f"round {round_ + 1}: {rows:,} rows in the table, not {count:,}")
            ours = run if ours is None or run.seconds < ours.seconds else ours
            peer = work / f"read_json_insert{round_}.duckdb"
            seconds, cpu = run_apart(
                "insert", docs, like=work / "bench.duckdb", table="users", into=peer
            )
            peer.unlink()
            if seconds < limit:
                limit, limit_cpu = seconds, cpu
        assert ours is not None
        staged_floor, staged_floor_cpu = run_apart(
            "staged",
            docs,
            like=work / "bench.duckdb",
            table="users",
            into=work / "staged_floor.duckdb",
        )
        load = run_connector(loads, work)
        loaded = load.stdout.count(b'"loaded"')

        columns_only, columns_only_cpu = bench_read_json(docs, work)
        dlt_count = min(count, int(os.environ.get("BENCH_DLT_LIMIT", "200000")))
        skip_dlt = os.environ.get("BENCH_SKIP_DLT") == "1"
        dlt_seconds = None if skip_dlt else bench_dlt(docs, work, dlt_count)

        rate, limit_rate = count / ours.seconds, count / limit
        print(
            f"materialize-duckdb: {ours.seconds:7.2f}s {rate:10,.0f} docs/s  "
            f"CPU {ours.cpu_seconds:6.2f}s  (apply {apply_run.seconds:.2f}s, {committed} commits, "
            f"{rows:,} rows, peak RSS {ours.peak_rss / 2**20:.0f} MiB)"
        )
        print(
            f"DuckDB read_json  : {limit:7.2f}s {limit_rate:10,.0f} docs/s  CPU {limit_cpu:6.2f}s"
            "  (→ INSERT into the same table as ours: typed columns + flow_document)"
        )
        print(
            f"  staged          : {staged_floor:7.2f}s {count / staged_floor:10,.0f} docs/s  "
            f"CPU {staged_floor_cpu:6.2f}s  (the same, by way of one zstd Parquet file: staging's "
            "own cost, no protocol)"
        )
        print(
            f"  columns only    : {columns_only:7.2f}s {count / columns_only:10,.0f} docs/s  "
            f"CPU {columns_only_cpu:6.2f}s  (CREATE TABLE AS read_json: no flow_document)"
        )
        if dlt_seconds is not None:
            print(
                f"dlt duckdb append : {dlt_seconds:7.2f}s {dlt_count / dlt_seconds:10,.0f} docs/s"
                f"  (the first {dlt_count:,} documents)"
            )
        print(
            f"ratio to read_json: {rate / limit_rate:.2f}x wall, "
            f"{limit_cpu / ours.cpu_seconds:.2f}x by CPU seconds"
        )
        print(
            f"ratio to staged   : {rate / (count / staged_floor):.2f}x wall, "
            f"{staged_floor_cpu / ours.cpu_seconds:.2f}x by CPU seconds"
        )
        if dlt_seconds is not None:
            print(f"ratio to dlt      : {rate / (dlt_count / dlt_seconds):.2f}x")
        print(
            f"ratio to read_json, columns only: {rate / (count / columns_only):.2f}x wall, "
            f"{columns_only_cpu / ours.cpu_seconds:.2f}x by CPU seconds"
        )
        print(
            f"Load of {loaded:,} existing keys: {load.seconds:.2f}s for the whole session "
            f"(open, {LOAD_KEYS:,} loads, flush, commit), peak RSS {load.peak_rss / 2**20:.0f} MiB"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
