"""Run a shim as a subprocess the way the Flow runtime does, and read what it wrote."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from connector_kit.protocol import capture
from connector_kit.protocol.state import encode_state_key, reduce_state

REPO = Path(__file__).resolve().parents[3]
PYTHON_DIR = REPO / "python"
TIMEOUT_SECONDS = 300


@dataclass
class ShimRun:
    code: int
    lines: list[dict[str, Any]]
    logs: list[dict[str, Any]]
    stderr: str

    @property
    def stray_stderr(self) -> list[str]:
        """stderr lines that are not JSON log records (output of the wrapped code)."""
        return [line for line in self.stderr.splitlines() if line.strip() and not is_log(line)]

    def of(self, kind: str) -> list[Any]:
        return [line[kind] for line in self.lines if kind in line]

    @property
    def documents(self) -> list[dict[str, Any]]:
        return [c["doc"] for c in self.of("captured")]

    def documents_of(self, binding: int) -> list[dict[str, Any]]:
        return [c["doc"] for c in self.of("captured") if c["binding"] == binding]

    @property
    def checkpoints(self) -> list[dict[str, Any]]:
        return [c["state"] for c in self.of("checkpoint")]

    def final_state(self, initial: Any = None) -> Any:
        state = initial if initial is not None else {}
        for cp in self.checkpoints:
            state = reduce_state(state, updated=cp["updated"], merge=cp.get("mergePatch", False))
        return state

    def committed_documents(self) -> list[dict[str, Any]]:
        """The documents a runtime would keep: those followed by a checkpoint."""
        kept: list[dict[str, Any]] = []
        pending: list[dict[str, Any]] = []
        for line in self.lines:
            if "captured" in line:
                pending.append(line["captured"]["doc"])
            elif "checkpoint" in line:
                kept += pending
                pending = []
        return kept

    @property
    def last_error(self) -> str:
        errors = [log["msg"] for log in self.logs if log.get("level") in ("error", "fatal")]
        return errors[-1] if errors else ""

    def messages(self, level: str | None = None) -> list[str]:
        return [log["msg"] for log in self.logs if level in (None, log.get("level"))]


def shim_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PYTHON_DIR), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
    )
    env.update(extra or {})
    return env


def run_shim(
    argv: Sequence[str],
    requests: Sequence[Mapping[str, Any]],
    *,
    env: Mapping[str, str] | None = None,
    keep_stdin_open: bool = True,
) -> ShimRun:
    """Send `requests`, then hold stdin open until the shim exits (as a runtime does for open)."""
    process = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=shim_env(env),
    )
    assert process.stdin is not None
    process.stdin.write(b"".join(orjson.dumps(r) + b"\n" for r in requests))
    process.stdin.flush()
    if not keep_stdin_open:
        process.stdin.close()
    err_chunks: list[bytes] = []
    assert process.stdout is not None
    assert process.stderr is not None
    stderr_pipe = process.stderr
    reader = threading.Thread(target=lambda: err_chunks.append(stderr_pipe.read()))
    reader.start()
    killer = threading.Timer(TIMEOUT_SECONDS, process.kill)
    killer.start()
    try:
        out = process.stdout.read()
        process.wait()
    finally:
        killer.cancel()
        reader.join()
        if not process.stdin.closed:
            process.stdin.close()
    stderr = b"".join(err_chunks).decode(errors="replace")
    return ShimRun(
        code=process.returncode,
        lines=[protocol_line(line) for line in out.splitlines()],
        logs=[orjson.loads(line) for line in stderr.splitlines() if is_log(line)],
        stderr=stderr,
    )


def protocol_line(line: bytes) -> dict[str, Any]:
    """A stdout line, which must be exactly one valid capture response."""
    message = orjson.loads(line)
    assert isinstance(message, dict), f"not a JSON object: {line!r}"
    assert len(message) == 1, f"not exactly one message: {line!r}"
    assert capture.Response.model_validate(message).message in message
    return message


def is_log(line: str) -> bool:
    """Whether a stderr line is one of our JSON log records."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return isinstance(record, dict) and {"ts", "level", "msg"} <= set(record)


def open_request(
    *,
    config: Mapping[str, Any],
    bindings: Sequence[Mapping[str, Any]],
    path_keys: Sequence[str],
    state: Any = None,
) -> dict[str, Any]:
    """An Open request shaped as the Flow runtime sends it, state keys filled in.

    Each binding is `{"resource": …, "key": [...], "backfill": n}`.
    """
    specs = []
    for b in bindings:
        resource = b["resource"]
        path = [str(resource[k]) for k in path_keys if resource.get(k)]
        backfill = int(b.get("backfill", 0))
        specs.append(
            {
                "resourceConfig": resource,
                "resourcePath": path,
                "collection": {
                    "name": f"acmeCo/{path[-1]}",
                    "key": b.get("key", ["/id"]),
                    "writeSchema": b.get("schema", {"type": "object"}),
                },
                "backfill": backfill,
                "stateKey": encode_state_key(path, backfill),
            }
        )
    return {
        "open": {
            "capture": {"name": "acmeCo/shim", "config": dict(config), "bindings": specs},
            "version": "test",
            "range": {"keyBegin": 0, "keyEnd": 4294967295},
            "state": state if state is not None else {},
        }
    }


def airbyte_shim_argv(*delegate: str) -> list[str]:
    return [sys.executable, "-m", "connector_kit.shims.airbyte", "--", *delegate]


def singer_shim_argv(*tap: str, extra: Sequence[str] = ()) -> list[str]:
    return [sys.executable, "-m", "connector_kit.shims.singer", *extra, "--", *tap]
