"""End-to-end throughput of `connector-kit run`: a synthetic capture into materialize-duckdb.

Run: `python bench/bench_pipeline.py [--counts 100000,1000000] [--no-fsync]`. Asserts
nothing; prints, per document count:

* pipeline documents/s: documents divided by the wall time of the whole
  `connector-kit run` (Validate, Apply and Open of both connectors included);
* the bare emit path for the same documents in the same run: `orjson.dumps` of each
  `captured` message and a buffered write, documents built beforehand, timing only
  the emit; the pipeline's ratio to it (target: at least 0.3);
* peak RSS (VmHWM) of the `connector-kit run` process, and of the capture and
  materialization connectors it runs (target: under 500 MB for the runtime, at any count).

The capture (`bench/synthetic_capture.py`) emits `bench_capture_emit`-shaped documents
with a checkpoint every 1000. The DuckDB table is counted afterwards to check that
every document arrived exactly once.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import orjson

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from duckdb_peer import load_into_same_table  # noqa: E402 - a sibling script, not a package
from synthetic_capture import SCHEMA, Documents  # noqa: E402 - a sibling script, not a package


@dataclass
class PeakMemory:
    """Peak RSS and CPU seconds of a process and its children, sampled from /proc."""

    root: int
    peaks: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    _cpu_by_pid: dict[int, tuple[str, float]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._sample, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def _sample(self) -> None:
        while not self._stop.is_set():
            for pid, name in self._tree():
                peak = _vm_hwm(pid)
                if peak is not None:
                    self.peaks[name] = max(self.peaks.get(name, 0), peak)
                seconds = _cpu_seconds(pid)
                if seconds is not None:
                    self._cpu_by_pid[pid] = (name, seconds)
            cpu: dict[str, float] = {}
            for name, seconds in self._cpu_by_pid.values():
                cpu[name] = cpu.get(name, 0.0) + seconds
            self.cpu = cpu
            time.sleep(0.05)

    def _tree(self) -> list[tuple[int, str]]:
        found = [(self.root, "connector-kit run")]
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent != self.root:
                continue
            if "materialize_duckdb" in cmdline:
                found.append((int(entry.name), "materialize-duckdb"))
            elif "synthetic_capture" in cmdline:
                found.append((int(entry.name), "capture"))
        return found


def _vm_hwm(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def catalog(directory: Path, count: int) -> Path:
    definition = {
        "captures": {
            "bench/synthetic": {
                "endpoint": {
                    "local": {
                        "command": [sys.executable, str(BENCH_DIR / "synthetic_capture.py")],
                        "config": {"documents": count, "per_checkpoint": 1000},
                    }
                },
                "bindings": [{"resource": {"name": "customers"}, "target": "bench/customers"}],
            }
        },
        "collections": {"bench/customers": {"schema": SCHEMA, "key": ["/id"]}},
        "materializations": {
            "bench/duckdb": {
                "endpoint": {
                    "local": {
                        "command": [sys.executable, "-m", "materialize_duckdb"],
                        "config": {"database": str(directory / "bench.duckdb")},
                    }
                },
                "bindings": [{"resource": {"table": "customers"}, "source": "bench/customers"}],
            }
        },
    }
    path = directory / "bench.flow.yaml"
    path.write_text(json.dumps(definition))
    return path


@dataclass(frozen=True)
class PipelineResult:
    count: int
    seconds: float
    peaks: dict[str, int]
    cpu: dict[str, float]
    sink_seconds: float
    """DuckDB alone loading the same documents into the same table (`sink_limit_seconds`)."""

    @property
    def rate(self) -> float:
        return self.count / self.seconds


def run_pipeline(count: int, *, sync: bool) -> PipelineResult:
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as temporary:
        directory = Path(temporary)
        command = [
            sys.executable,
            "-m",
            "connector_kit.cli",
            "--log-level",
            "warn",
            "run",
            "--source",
            str(catalog(directory, count)),
            "--state-dir",
            str(directory / "state"),
            "--progress-interval",
            "0",
        ]
        if not sync:
            command.append("--no-fsync")
        started = time.perf_counter()
        process = subprocess.Popen(command, stderr=subprocess.PIPE)
        memory = PeakMemory(root=process.pid)
        sampler = memory.start()
        _, stderr = process.communicate()
        seconds = time.perf_counter() - started
        memory.stop()
        sampler.join()
        if process.returncode != 0:
            raise SystemExit(f"connector-kit run failed:\n{stderr.decode()[-3000:]}")
        connection = duckdb.connect(str(directory / "bench.duckdb"), read_only=True)
        (rows, keys) = connection.execute(
            "SELECT count(*), count(DISTINCT id) FROM customers"
        ).fetchone() or (0, 0)
        connection.close()
        if rows != count or keys != count:
            raise SystemExit(f"expected {count} rows, found {rows} ({keys} distinct keys)")
        return PipelineResult(
            count=count,
            seconds=seconds,
            peaks=dict(memory.peaks),
            cpu=dict(memory.cpu),
            sink_seconds=sink_limit_seconds(count, directory),
        )


PUBLISHED_UUID = "8a2b5a80-a6a1-11ee-8c90-0242ac120002"
BARE_EMIT_RUNS = 3
"""The bare emit path is timed this many times and its best kept: on a shared machine a
single timing of a sub-second loop swings by half."""


def sink_limit_seconds(count: int, directory: Path) -> float:
    """DuckDB alone loading the pipeline's documents into the table the pipeline made (see
    `duckdb_peer`): the most the sink can take, whatever feeds it."""
    documents = Documents()
    source = directory / "documents.jsonl"
    with source.open("wb") as out:
        for n in range(count):
            document = documents.document(n)
            document["_meta"] = {**document["_meta"], "uuid": PUBLISHED_UUID}  # as Flow adds
            out.write(orjson.dumps(document, option=orjson.OPT_APPEND_NEWLINE))
    seconds, _ = load_into_same_table(
        source,
        like=directory / "bench.duckdb",
        table="customers",
        into=directory / "sink-limit.duckdb",
    )
    return seconds


def bare_emit_rate(count: int) -> float:
    """Documents/s of orjson.dumps + buffered write, documents built beforehand."""
    documents = Documents()
    chunk = 10_000
    emitting = 0.0
    with tempfile.TemporaryFile() as sink:
        write = sink.write
        for begin in range(0, count, chunk):
            built = [documents.document(n) for n in range(begin, min(begin + chunk, count))]
            started = time.perf_counter()
            for doc in built:
                write(
                    orjson.dumps(
                        {"captured": {"binding": 0, "doc": doc}}, option=orjson.OPT_APPEND_NEWLINE
                    )
                )
            emitting += time.perf_counter() - started
    return count / emitting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="100000,1000000")
    parser.add_argument("--no-fsync", dest="sync", action="store_false")
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    print(f"fsync at every commit: {args.sync}")
    print(
        f"{'documents':>10} {'pipeline/s':>11} {'bare emit/s':>12} {'ratio':>6} "
        f"{'runtime RSS':>12} {'capture RSS':>12} {'duckdb RSS':>11} {'seconds':>8}"
    )
    for count in counts:
        bare = max(bare_emit_rate(count) for _ in range(BARE_EMIT_RUNS))
        result = run_pipeline(count, sync=args.sync)
        peaks = result.peaks
        print(
            f"{count:>10} {result.rate:>11,.0f} {bare:>12,.0f} {result.rate / bare:>6.2f} "
            f"{_mb(peaks.get('connector-kit run')):>12} {_mb(peaks.get('capture')):>12} "
            f"{_mb(peaks.get('materialize-duckdb')):>11} {result.seconds:>8.1f}",
            flush=True,
        )
        cpu = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in sorted(result.cpu.items()))
        print(f"{'':>10} CPU: {cpu}", flush=True)
        sink = count / result.sink_seconds
        print(
            f"{'':>10} DuckDB alone, read_json → INSERT into the same table: {sink:,.0f} docs/s "
            f"= {sink / bare:.2f}x bare emit (the ceiling for any pipeline into DuckDB); "
            f"pipeline = {result.rate / sink:.2f}x of it",
            flush=True,
        )


def _mb(size: int | None) -> str:
    return "?" if size is None else f"{size / 1e6:,.0f} MB"


if __name__ == "__main__":
    main()
