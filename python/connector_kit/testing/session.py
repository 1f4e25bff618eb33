"""Drive a CaptureConnector in-process over real pipes, as the runtime would.

Faster than a subprocess and still real I/O: requests go through an OS pipe into
the connector's reader thread, responses through a file descriptor. Use it for a
connector's unit-level tests; use `run_capture` for end-to-end ones.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from connector_kit.capture import CaptureConnector
from connector_kit.protocol.state import encode_state_key, reduce_state
from connector_kit.wire import ConnectorIO, LineWriter, SecretMask


@dataclass
class Output:
    lines: list[dict[str, Any]]
    error: BaseException | None = None
    raw: bytes = b""

    @property
    def documents(self) -> list[dict[str, Any]]:
        return [m["captured"]["doc"] for m in self.lines if "captured" in m]

    def documents_of(self, binding: int) -> list[dict[str, Any]]:
        return [
            m["captured"]["doc"]
            for m in self.lines
            if "captured" in m and m["captured"]["binding"] == binding
        ]

    @property
    def checkpoints(self) -> list[dict[str, Any]]:
        return [m["checkpoint"]["state"] for m in self.lines if "checkpoint" in m]

    def through_checkpoint(self, n: int) -> Output:
        """What a runtime would have committed had the connector died after checkpoint `n`."""
        seen = 0
        for i, line in enumerate(self.lines):
            if "checkpoint" in line:
                seen += 1
                if seen == n:
                    return Output(lines=self.lines[: i + 1])
        raise AssertionError(f"only {seen} checkpoints were written")

    def final_state(self, initial: Any = None) -> Any:
        state = initial if initial is not None else {}
        for cp in self.checkpoints:
            state = reduce_state(state, updated=cp["updated"], merge=cp.get("mergePatch", False))
        return state


@dataclass
class Session:
    connector: CaptureConnector[Any]
    requests: Sequence[dict[str, Any]]
    until_checkpoints: int | None = None
    idle_seconds: float = 0.3
    timeout: float = 10.0
    acks: bool = False
    secrets: SecretMask = field(default_factory=SecretMask)

    async def run(self) -> Output:
        read_fd, write_fd = os.pipe()
        out = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after the session
        stdin = os.fdopen(read_fd, "rb")
        io = ConnectorIO(requests=stdin, responses=LineWriter(out.fileno()), secrets=self.secrets)
        for request in self.requests:
            os.write(write_fd, orjson.dumps(request) + b"\n")
        task = asyncio.create_task(self.connector.serve_async(io))
        acked = 0
        last_size, idle_since = -1, asyncio.get_running_loop().time()
        deadline = idle_since + self.timeout
        while not task.done():
            await asyncio.sleep(0.02)
            now = asyncio.get_running_loop().time()
            size = os.fstat(out.fileno()).st_size
            if size != last_size:
                last_size, idle_since = size, now
            output = _read(out)
            checkpoints = len(output.checkpoints)
            if self.acks and checkpoints > acked:
                os.write(write_fd, b'{"acknowledge":{"checkpoints":%d}}\n' % (checkpoints - acked))
                acked = checkpoints
            if self.until_checkpoints is not None and checkpoints >= self.until_checkpoints:
                break
            if now - idle_since > self.idle_seconds or now > deadline:
                break
        os.close(write_fd)
        error: BaseException | None = None
        try:
            await asyncio.wait_for(task, 5)
        except Exception as err:  # noqa: BLE001 - the session's outcome, examined by the test
            error = err
        result = _read(out)
        result.error = error
        stdin.close()
        out.close()
        return result


def _read(out: Any) -> Output:
    out.seek(0)
    raw = out.read()
    out.seek(0, os.SEEK_END)
    lines = [orjson.loads(line) for line in raw.splitlines() if line.strip()]
    return Output(lines=lines, raw=raw)


def open_request(
    *,
    config: dict[str, Any],
    bindings: Sequence[dict[str, Any]],
    state: Any = None,
    name: str = "acmeCo/source",
) -> dict[str, Any]:
    """An Open request shaped as the Flow runtime sends it, with state keys filled in."""
    specs = []
    for b in bindings:
        resource = b["resource"]
        backfill = b.get("backfill", 0)
        path = [resource["name"]]
        specs.append(
            {
                "resourceConfig": resource,
                "resourcePath": path,
                "collection": {"name": f"acmeCo/{resource['name']}", "key": b.get("key", ["/id"])},
                "backfill": backfill,
                "stateKey": encode_state_key(path, backfill),
            }
        )
    return {
        "open": {
            "capture": {
                "name": name,
                "connectorType": "LOCAL",
                "config": config,
                "bindings": specs,
            },
            "version": "test",
            "range": {
                "keyBegin": 0,
                "keyEnd": 4294967295,
                "rClockBegin": 0,
                "rClockEnd": 4294967295,
            },
            "state": state if state is not None else {},
        }
    }
