"""Throughput of the FDB tuple codec on materialization-shaped keys and values.

Run: `python bench/bench_tuple.py [count]`. Prints operations per second; asserts nothing.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from connector_kit.tuple import pack, unpack

DISTINCT = 10_000


def _keys(rng: random.Random) -> list[tuple[Any, ...]]:
    """Three-field keys as a typical collection key selects them: tenant, id, sequence."""
    return [
        (f"tenant-{rng.randrange(100)}", rng.randrange(1 << 40), rng.randrange(1000))
        for _ in range(DISTINCT)
    ]


def _values(rng: random.Random) -> list[tuple[Any, ...]]:
    """A row of value fields mixing every JSON type Flow packs."""
    return [
        (
            None,
            rng.random() < 0.5,
            rng.randrange(-(1 << 31), 1 << 31),
            rng.random() * 1e6,
            f"name {rng.randrange(1 << 20)}",
            b'{"street":"Main St","zip":"12345"}',
        )
        for _ in range(DISTINCT)
    ]


def _rate(label: str, count: int, work: Callable[[], None]) -> None:
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    print(f"{label:<34} {count / elapsed:>12,.0f} ops/s  ({elapsed:.2f} s for {count:,})")


def _run(label: str, rows: Sequence[tuple[Any, ...]], count: int) -> None:
    rounds = count // len(rows)
    packed = [pack(row) for row in rows]

    def pack_all() -> None:
        for _ in range(rounds):
            for row in rows:
                pack(row)

    def unpack_all() -> None:
        for _ in range(rounds):
            for data in packed:
                unpack(data)

    _rate(f"pack   {label}", rounds * len(rows), pack_all)
    _rate(f"unpack {label}", rounds * len(rows), unpack_all)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = random.Random(7)
    _run("3-field key (str,int,int)", _keys(rng), count)
    _run("6-field values (mixed)", _values(rng), count // 4)


if __name__ == "__main__":
    main()
