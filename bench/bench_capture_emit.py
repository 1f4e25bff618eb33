"""Throughput of the capture emit path: `captured` lines plus a checkpoint every 1000 documents.

Run: `python bench/bench_capture_emit.py [--count N] [--runs R]`. Prints documents per
second for every path and the ratios the capture framework is held to; asserts nothing.

Paths, each timed in a fresh process of its own (no shared heap), best of `--runs`:

* `bare-dict` — `orjson.dumps` + buffered write of each line: the practical limit.
* `bare-pydantic` — the same with pydantic's compiled serializer (for reference).
* `estuary-task-*` — estuary-cdk's `Task.captured` per document and `await
  Task.checkpoint` per 1000, driven by a plain loop over the documents.
* `estuary-binding-*` — estuary-cdk's `open_binding` with a `fetch_changes` async
  generator: what an estuary-cdk connector author gets.
* `ours-*` — a `CaptureConnector` with an `Incremental` resource whose fetch yields
  the documents and a cursor after every 1000, served over a real request pipe and a
  real output file descriptor: what a connector-kit author gets.

Documents are built before timing; the clock covers emitting them all, from the first
document to the last checkpoint written. `docs/s` is by the wall clock; `docs/CPU-s` by
the CPU time of the worker process (all its threads), which is steadier when other work
shares the machine. Ratios are given both ways.

estuary-cdk is installed into `bench/.venv-estuary` (created on first run), never into
the project's environment. Before timing, every path writes a small run to a file, and
its `captured` and `checkpoint` lines must be byte-identical to every other path's.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from pydantic import BaseModel, ConfigDict, Field

BENCH_DIR = Path(__file__).resolve().parent
ESTUARY_VENV = BENCH_DIR / ".venv-estuary"
ESTUARY_PYTHON = ESTUARY_VENV / "bin" / "python"
ESTUARY_CDK = "estuary-cdk==0.3.0.dev31"

PER_CHECKPOINT = 1000
STATE_KEY = "customers"
VERIFY_COUNT = 2500

# ---------------------------------------------------------------------------------------------
# The documents: 9 fields, two nested objects (`_meta`, `address`) and an array (`tags`).
# `_meta.op` is set explicitly because estuary-cdk's BaseDocument always carries `_meta`;
# with it in every document, all paths serialize the same bytes.

FIRST = ["Ana", "Bjørn", "Chen", "Dana", "Émile", "Farah", "Goran", "Hana", "Ivan", "Júlia"]
LAST = ["Okafor", "Müller", "Smith", "Tanaka", "García", "Kowalski", "Nguyen", "Rossi"]
CITIES = [("Berlin", "DE"), ("Lagos", "NG"), ("Osaka", "JP"), ("Austin", "US"), ("Porto", "PT")]
TAGS = ["vip", "trial", "churn-risk", "newsletter", "b2b", "beta", "referral", "annual"]


def make_documents(count: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    epoch = datetime(2024, 1, 1, tzinfo=UTC)
    docs = []
    for n in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        city, country = rng.choice(CITIES)
        docs.append(
            {
                "_meta": {"op": "u"},
                "id": n + 1,
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}{n}@example.com",
                "updated_at": (epoch + timedelta(seconds=n * 37)).isoformat(),
                "balance": round(rng.uniform(-500.0, 25_000.0), 2),
                "active": rng.random() < 0.8,
                "tags": rng.sample(TAGS, rng.randrange(4)),
                "address": {
                    "street": f"{rng.randrange(1, 400)} Harbour Road",
                    "city": city,
                    "postal_code": f"{rng.randrange(10_000, 99_999)}",
                    "country": country,
                },
            }
        )
    return docs


class Meta(BaseModel):
    op: str


class Address(BaseModel):
    street: str
    city: str
    postal_code: str
    country: str


class Customer(BaseModel):
    """The documents as a connector-kit author would type them."""

    model_config = ConfigDict(populate_by_name=True)

    meta: Meta = Field(alias="_meta")
    id: int
    name: str
    email: str
    updated_at: str
    balance: float
    active: bool
    tags: list[str]
    address: Address


def _documents(count: int, model: type[BaseModel] | None) -> list[Any]:
    """The documents as dicts (`model` None) or models, kept out of the collector's sight.

    A million live documents are a bench artifact (a connector holds one page at a
    time); freezing them keeps full collections from re-walking them while timing.
    """
    dicts = make_documents(count)
    docs: list[Any] = dicts if model is None else [model.model_validate(d) for d in dicts]
    del dicts
    gc.collect()
    gc.freeze()
    return docs


def _pages(docs: Sequence[Any], start: int) -> Iterator[tuple[int, Sequence[Any]]]:
    """(cursor, documents) per checkpoint, from position `start`."""
    for begin in range(start, len(docs), PER_CHECKPOINT):
        end = min(begin + PER_CHECKPOINT, len(docs))
        yield end, docs[begin:end]


# ---------------------------------------------------------------------------------------------
# Workers: each times one path and prints {"wall": s, "cpu": s} as JSON on stdout.


class Timing:
    """Wall-clock and CPU seconds (all threads of the process) between start() and stop()."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def start(self) -> None:
        self.wall, self.cpu = -time.perf_counter(), -time.process_time()

    def stop(self) -> Timing:
        self.wall += time.perf_counter()
        self.cpu += time.process_time()
        return self


def _bare(count: int, out_path: str, kind: str) -> Timing:
    docs = _documents(count, Customer if kind == "pydantic" else None)
    state_line = (
        b'{"checkpoint":{"state":{"updated":{"bindingStateV1":{"%s":{"inc":{"cursor":%%d}}}},'
        b'"mergePatch":true}}}\n' % STATE_KEY.encode()
    )
    with open(out_path, "wb") as out:
        write = out.write
        timing = Timing()
        timing.start()
        if kind == "dict":
            for cursor, page in _pages(docs, 0):
                for doc in page:
                    write(
                        orjson.dumps(
                            {"captured": {"binding": 0, "doc": doc}},
                            option=orjson.OPT_APPEND_NEWLINE,
                        )
                    )
                write(state_line % cursor)
        else:
            to_json = Customer.__pydantic_serializer__.to_json
            for cursor, page in _pages(docs, 0):
                for doc in page:
                    write(
                        b'{"captured":{"binding":0,"doc":' + to_json(doc, by_alias=True) + b"}}\n"
                    )
                write(state_line % cursor)
        out.flush()
        return timing.stop()


def _ours(count: int, out_path: str, kind: str) -> Timing:
    from connector_kit.capture import CaptureConnector, Incremental, Resource
    from connector_kit.http import HTTPClient
    from connector_kit.wire import ConnectorIO, LineWriter, SecretMask

    class BenchConfig(BaseModel):
        pass

    docs = _documents(count, Customer if kind == "pydantic" else None)
    requests_r, requests_w = os.pipe()

    async def fetch(cursor: int) -> AsyncIterator[Any]:
        if cursor >= len(docs):
            os.close(requests_w)  # Requests end: the connector stops at a checkpoint boundary.
            return
        for position, page in _pages(docs, cursor):
            for doc in page:
                yield doc
            yield position

    async def resources(config: BenchConfig, http: HTTPClient) -> list[Resource]:
        document = Customer if kind == "pydantic" else {"type": "object"}
        return [
            Resource(
                name=STATE_KEY,
                key=["/id"],
                document=document,
                incremental=Incremental(fetch=fetch, start=0),
            )
        ]

    connector = CaptureConnector(endpoint_config=BenchConfig, resources=resources)
    binding = {
        "resourceConfig": {"name": STATE_KEY, "interval": "PT1M"},
        "resourcePath": [STATE_KEY],
        "collection": {"name": f"acmeCo/{STATE_KEY}", "key": ["/id"]},
        "backfill": 0,
        "stateKey": STATE_KEY,
    }
    open_request = {
        "open": {
            "capture": {
                "name": "acmeCo/bench",
                "connectorType": "LOCAL",
                "config": {},
                "bindings": [binding],
            },
            "version": "bench",
            "range": {
                "keyBegin": 0,
                "keyEnd": 4294967295,
                "rClockBegin": 0,
                "rClockEnd": 4294967295,
            },
            "state": {},
        }
    }
    os.write(requests_w, orjson.dumps(open_request) + b"\n")
    out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    with os.fdopen(requests_r, "rb") as requests:
        io = ConnectorIO(requests=requests, responses=LineWriter(out_fd), secrets=SecretMask())
        timing = Timing()
        timing.start()
        connector.serve(io)
        timing.stop()
    os.close(out_fd)
    return timing


def _estuary(count: int, out_path: str, kind: str, *, driver: str) -> Timing:
    from estuary_cdk.capture.common import (
        ConnectorState,
        ResourceConfig,
        ResourceState,
        open_binding,
    )
    from estuary_cdk.capture.connector_status import ConnectorStatus
    from estuary_cdk.capture.document import BaseDocument
    from estuary_cdk.capture.task import Task
    from estuary_cdk.capture.transactor import Transactor
    from estuary_cdk.flow import CaptureBinding, CollectionSpec
    from estuary_cdk.logger import FlowLogger

    log = FlowLogger("bench")
    log.addHandler(logging.NullHandler())
    log.propagate = False

    if kind == "pydantic":

        class EstuaryCustomer(BaseDocument):
            id: int
            name: str
            email: str
            updated_at: str
            balance: float
            active: bool
            tags: list[str]
            address: Address

        docs = _documents(count, EstuaryCustomer)
    else:
        docs = _documents(count, None)

    async def plain_loop(task: Task) -> None:
        cursor = ResourceState.Incremental(cursor=0)
        state = ConnectorState[ResourceState](bindingStateV1={STATE_KEY: ResourceState(inc=cursor)})
        for position, page in _pages(docs, 0):
            for doc in page:
                task.captured(0, doc)
            cursor.cursor = position
            await task.checkpoint(state)

    async def via_open_binding(task: Task) -> None:
        async def fetch_changes(_log: logging.Logger, cursor: Any) -> AsyncGenerator[Any, None]:
            for position, page in _pages(docs, cursor):
                for doc in page:
                    yield doc
                yield position
            task.stopping.event.set()  # Caught up: let the incremental task return.

        binding = CaptureBinding[ResourceConfig](
            collection=CollectionSpec(name=f"acmeCo/{STATE_KEY}", key=["/id"], writeSchema={}),
            resourceConfig=ResourceConfig(name=STATE_KEY, interval=timedelta(minutes=1)),
            resourcePath=[STATE_KEY],
            stateKey=STATE_KEY,
        )
        state = ResourceState(inc=ResourceState.Incremental(cursor=0))
        open_binding(binding, 0, state, task, fetch_changes=fetch_changes)

    async def run(out: BinaryIO) -> Timing:
        stopping = Task.Stopping()
        status = ConnectorStatus(log, stopping)
        timing = Timing()
        timing.start()
        async with asyncio.TaskGroup() as group:
            task = Task(
                log, status, "capture", out, stopping, group, Transactor(out), "acmeCo/bench"
            )
            await (plain_loop if driver == "task" else via_open_binding)(task)
        timing.stop()
        stopping.event.set()
        return timing

    with open(out_path, "wb") as out:
        return asyncio.run(run(out))


WORKERS: dict[str, Callable[[int, str], Timing]] = {
    "bare-dict": lambda count, out: _bare(count, out, "dict"),
    "bare-pydantic": lambda count, out: _bare(count, out, "pydantic"),
    "estuary-task-dict": lambda count, out: _estuary(count, out, "dict", driver="task"),
    "estuary-task-pydantic": lambda count, out: _estuary(count, out, "pydantic", driver="task"),
    "estuary-binding-dict": lambda count, out: _estuary(count, out, "dict", driver="binding"),
    "estuary-binding-pydantic": lambda count, out: _estuary(
        count, out, "pydantic", driver="binding"
    ),
    "ours-dict": lambda count, out: _ours(count, out, "dict"),
    "ours-pydantic": lambda count, out: _ours(count, out, "pydantic"),
}


def _worker(path: str, count: int, out_path: str) -> None:
    timing = WORKERS[path](count, out_path)
    print(json.dumps({"wall": timing.wall, "cpu": timing.cpu}))


# ---------------------------------------------------------------------------------------------
# Driver.


def _ensure_estuary_venv() -> bool:
    """Create bench/.venv-estuary with estuary-cdk if missing; False if that is impossible."""
    if ESTUARY_PYTHON.exists():
        return True
    print(f"creating {ESTUARY_VENV.relative_to(BENCH_DIR.parent)} with {ESTUARY_CDK} ...")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(ESTUARY_VENV)], check=True)
        subprocess.run(
            [str(ESTUARY_PYTHON), "-m", "pip", "install", "--quiet", ESTUARY_CDK],
            check=True,
        )
    except subprocess.CalledProcessError as err:
        print(f"could not install {ESTUARY_CDK} ({err}); skipping the estuary-cdk paths")
        return False
    return True


def _run(path: str, count: int, out_path: str) -> Timing:
    python = str(ESTUARY_PYTHON) if path.startswith("estuary") else sys.executable
    argv = [python, __file__, "--worker", path, "--count", str(count), "--out", out_path]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    reported = json.loads(done.stdout.strip().splitlines()[-1])
    timing = Timing()
    timing.wall, timing.cpu = reported["wall"], reported["cpu"]
    return timing


def _emitted(path: Path) -> list[bytes]:
    """The `captured` and `checkpoint` lines of a run (a connector also writes `opened`)."""
    return [line for line in path.read_bytes().splitlines() if not line.startswith(b'{"opened"')]


def _verify_same_output(paths: Sequence[str]) -> None:
    """Every path must emit byte-identical documents and checkpoints, or the race is unfair."""
    with tempfile.TemporaryDirectory() as tmp:
        outputs = {}
        for path in paths:
            out = Path(tmp) / f"{path}.jsonl"
            _run(path, VERIFY_COUNT, str(out))
            outputs[path] = _emitted(out)
        reference = outputs[paths[0]]
        if len(reference) != VERIFY_COUNT + -(-VERIFY_COUNT // PER_CHECKPOINT):
            raise SystemExit(
                f"{paths[0]} wrote {len(reference)} lines for {VERIFY_COUNT} documents"
            )
        for path, lines in outputs.items():
            if lines != reference:
                raise SystemExit(f"{path} does not emit the same lines as {paths[0]}")


RATIOS = [
    ("ours-dict", "bare-dict", "target >= 0.7"),
    ("ours-pydantic", "estuary-task-pydantic", "target >= 2"),
    ("ours-dict", "estuary-task-dict", ""),
    ("ours-pydantic", "estuary-binding-pydantic", ""),
    ("ours-dict", "estuary-binding-dict", ""),
    ("ours-pydantic", "bare-pydantic", ""),
]


def _main(count: int, runs: int) -> None:
    paths = list(WORKERS)
    if not _ensure_estuary_venv():
        paths = [p for p in paths if not p.startswith("estuary")]
    _verify_same_output(paths)
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(
        f"capture emit: {count:,} documents, a checkpoint every {PER_CHECKPOINT:,}, to "
        f"{os.devnull}; best of {runs} runs, each in a process of its own "
        f"(load average before: {load} on {os.cpu_count()} CPUs)"
    )
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    # Runs interleave across paths so that a burst of load elsewhere hits every path alike;
    # the best wall-clock and the best CPU time are each kept.
    for _ in range(runs):
        for path in paths:
            timing = _run(path, count, os.devnull)
            wall[path] = min(wall.get(path, timing.wall), timing.wall)
            cpu[path] = min(cpu.get(path, timing.cpu), timing.cpu)
    print(f"  {'path':<26} {'docs/s':>12} {'docs/CPU-s':>12}")
    for path in paths:
        print(f"  {path:<26} {count / wall[path]:>12,.0f} {count / cpu[path]:>12,.0f}")
    print("  ratios by docs/s (and by docs/CPU-s)")
    for ours, theirs, target in RATIOS:
        if ours in wall and theirs in wall:
            label = f"{ours} / {theirs}"
            by_wall, by_cpu = wall[theirs] / wall[ours], cpu[theirs] / cpu[ours]
            print(f"  {label:<42} {by_wall:>5.2f}x  ({by_cpu:.2f}x)  {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--out", default=os.devnull, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, args.count, args.out)
    else:
        _main(args.count, args.runs)


if __name__ == "__main__":
    main()
