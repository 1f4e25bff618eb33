"""Records/s of airbyte-source-faker through the Airbyte shim vs the source on its own.

    python bench/bench_airbyte_shim.py [--count 20000] [--repeats 3]

Native is `source-faker read ... > /dev/null`. The shim runs the same read for
an Open request, in-process (`--source source_faker:SourceFaker`) and as a
command (`-- source-faker`), writing Flow responses to /dev/null. Runs
alternate and the best of `--repeats` counts, so a busy machine hurts each side
alike. Overhead is reported on wall-clock time and on CPU time (all processes),
and as steady-state records/s: the same runs at 100 records measure the fixed
costs (interpreters, imports and, for the command mode, the source's `spec`
that the shim asks for the secrets it must mask), which are then subtracted.
The source runs from the tests' cached environment when present, else one
built under bench/.venv-airbyte-faker.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ["airbyte-source-faker==7.2.1", "pydantic>=2.7,<3", "orjson>=3.9", "aiohttp>=3.9,<4"]
TEST_VENV = REPO / ".cache" / "shim-venvs" / "airbyte-source-faker-7.2.1"
BENCH_VENV = REPO / "bench" / ".venv-airbyte-faker"
STARTUP_COUNT = 100
"""Records of a run that measures fixed costs (interpreter, imports, spec) alone."""


@dataclass
class Timing:
    wall: float
    cpu: float


def faker_venv() -> Path:
    if (TEST_VENV / ".ready").exists():
        return TEST_VENV
    if not (BENCH_VENV / "bin" / "source-faker").exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        pip = [str(BENCH_VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, *PACKAGES], check=True)
    return BENCH_VENV


def timed(argv: list[str], *, stdin: bytes | None, env: dict[str, str]) -> Timing:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    if process.stdin is not None and stdin is not None:
        # The runtime keeps stdin open during a capture; closing it would ask the shim to stop.
        process.stdin.write(stdin)
        process.stdin.flush()
    code = process.wait()
    wall = time.perf_counter() - start
    if process.stdin is not None:
        process.stdin.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        raise SystemExit(f"`{' '.join(argv)}` exited with code {code}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall=wall, cpu=cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000, help="users to generate")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    venv = faker_venv()
    full = best_timings(venv, count=args.count, repeats=args.repeats)
    startup = best_timings(venv, count=STARTUP_COUNT, repeats=args.repeats)
    native, native_startup = full["native"], startup["native"]
    print(f"airbyte-source-faker users: {args.count} records, best of {args.repeats} runs each")
    print(
        f"{'run':<16} {'wall s':>7} {'rec/s':>6} {'cpu s':>6} {'wall +%':>8} {'cpu +%':>7}"
        f" {'startup s':>9} {'steady rec/s':>12} {'steady +%':>9}"
    )
    native_rate = (args.count - STARTUP_COUNT) / (native.wall - native_startup.wall)
    for name, timing in full.items():
        steady = (args.count - STARTUP_COUNT) / (timing.wall - startup[name].wall)
        wall_pct = (timing.wall / native.wall - 1) * 100
        cpu_pct = (timing.cpu / native.cpu - 1) * 100
        print(
            f"{name:<16} {timing.wall:7.2f} {args.count / timing.wall:6.0f} {timing.cpu:6.2f}"
            f" {wall_pct:8.1f} {cpu_pct:7.1f}"
            f" {startup[name].wall:9.2f} {steady:12.0f} {(native_rate / steady - 1) * 100:9.1f}"
        )


def best_timings(venv: Path, *, count: int, repeats: int) -> dict[str, Timing]:
    python, source_faker = str(venv / "bin" / "python"), str(venv / "bin" / "source-faker")
    config = {
        "count": count,
        "seed": 42,
        "records_per_slice": 1000,
        "parallelism": 1,
        "always_updated": True,
    }
    env = {**os.environ, "PYTHONPATH": str(REPO / "python")}
    with tempfile.TemporaryDirectory() as folder:
        config_path = Path(folder) / "config.json"
        config_path.write_text(json.dumps(config))
        discovered = subprocess.run(
            [source_faker, "discover", "--config", str(config_path)],
            capture_output=True,
            check=True,
        ).stdout
        catalog_message = next(
            json.loads(line) for line in discovered.splitlines() if b'"CATALOG"' in line
        )
        users = next(s for s in catalog_message["catalog"]["streams"] if s["name"] == "users")
        catalog_path = Path(folder) / "catalog.json"
        catalog_path.write_text(
            json.dumps(
                {
                    "streams": [
                        {
                            "stream": users,
                            "sync_mode": "incremental",
                            "destination_sync_mode": "append",
                            "cursor_field": ["updated_at"],
                        }
                    ]
                }
            )
        )
        open_request = {
            "open": {
                "capture": {
                    "name": "bench/faker",
                    "config": config,
                    "bindings": [
                        {
                            "resourceConfig": {
                                "stream": "users",
                                "syncMode": "incremental",
                                "cursorField": ["updated_at"],
                            },
                            "resourcePath": ["users"],
                            "collection": {"name": "bench/users", "key": ["/id"]},
                            "stateKey": "users",
                        }
                    ],
                },
                "state": {},
            }
        }
        request = json.dumps(open_request).encode() + b"\n"
        runs: dict[str, tuple[list[str], bytes | None]] = {
            "native": (
                [
                    source_faker,
                    "read",
                    "--config",
                    str(config_path),
                    "--catalog",
                    str(catalog_path),
                ],
                None,
            ),
            "shim in-process": (
                [
                    python,
                    "-m",
                    "connector_kit.shims.airbyte",
                    "--source",
                    "source_faker:SourceFaker",
                ],
                request,
            ),
            "shim command": (
                [python, "-m", "connector_kit.shims.airbyte", "--", source_faker],
                request,
            ),
        }
        best: dict[str, Timing] = {}
        for _ in range(repeats):
            for name, (argv, stdin) in runs.items():
                timing = timed(argv, stdin=stdin, env=env)
                previous = best.get(name)
                best[name] = Timing(
                    wall=min(timing.wall, previous.wall) if previous else timing.wall,
                    cpu=min(timing.cpu, previous.cpu) if previous else timing.cpu,
                )

    return best


if __name__ == "__main__":
    main()
