"""Driving the connector in-process over real pipes, the way the runtime talks to it.

A session writes requests to the connector's stdin and reads the protocol lines it
writes. A capture runs until every stream has caught up with the emulated site's
clock (or has written a given number of checkpoints); then the session closes stdin,
as a runtime does, and the connector stops at a transaction boundary. Unary requests
(spec, discover, validate) are answered and the connector exits on end of input.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import orjson
from pydantic import TypeAdapter

from connector_kit.protocol.state import encode_state_key, reduce_state
from connector_kit.wire import ConnectorIO, LineWriter, SecretMask
from jira_emulator import EmulatorHandle
from source_jira import connector
from source_jira.jql import floor_minute


@dataclass
class Output:
    lines: list[dict[str, Any]]
    names: Sequence[str] = ()
    error: BaseException | None = None

    def documents(self, stream: str) -> list[dict[str, Any]]:
        binding = list(self.names).index(stream)
        return [
            m["captured"]["doc"]
            for m in self.lines
            if "captured" in m and m["captured"]["binding"] == binding
        ]

    @property
    def checkpoints(self) -> list[dict[str, Any]]:
        return [m["checkpoint"]["state"] for m in self.lines if "checkpoint" in m]

    def through_checkpoint(self, n: int) -> Output:
        """What a runtime had committed had the connector died right after checkpoint `n`."""
        seen = 0
        for i, line in enumerate(self.lines):
            seen += "checkpoint" in line
            if seen == n:
                return Output(lines=self.lines[: i + 1], names=self.names)
        raise AssertionError(f"only {seen} checkpoints were written, not {n}")

    def final_state(self, initial: Any = None) -> Any:
        state = initial if initial is not None else {}
        for checkpoint in self.checkpoints:
            state = reduce_state(
                state, updated=checkpoint["updated"], merge=checkpoint.get("mergePatch", False)
            )
        return state


def open_request(
    *, config: dict[str, Any], streams: Sequence[str], state: Any = None
) -> dict[str, Any]:
    bindings = [
        {
            "resourceConfig": {"name": name},
            "resourcePath": [name],
            "collection": {"name": f"acmeCo/{name}", "key": ["/id"]},
            "backfill": 0,
            "stateKey": encode_state_key([name], 0),
        }
        for name in streams
    ]
    return {
        "open": {
            "capture": {"name": "acmeCo/source-jira", "config": config, "bindings": bindings},
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


INCREMENTAL_STREAMS = frozenset(
    {"issues", "issue_comments", "issue_worklogs", "issue_changelogs", "issue_transitions"}
)


class CaughtUp:
    """Whether every stream of a session has read all it can at the site's current time.

    An incremental stream is caught up when its cursor is where a pass at the site's
    current time ends: realtime one minute before now, lookback at the horizon (or at
    realtime, when the horizon is shorter). A snapshot stream is caught up once it has
    finished a snapshot (or had finished one before the session).
    """

    def __init__(
        self, *, site: EmulatorHandle, streams: Sequence[str], config: dict[str, Any], state: Any
    ) -> None:
        self._site = site
        self._horizon = TypeAdapter(timedelta).validate_python(
            config.get("lookback_horizon", "PT3H")
        )
        self._streams = list(streams)
        prior = (state or {}).get("bindingStateV1") or {}
        self._snapshotted = {name for name in streams if "snapshot" in (prior.get(name) or {})}
        self._cursors: dict[str, list[str]] = {
            name: prior[name]["inc"]["cursor"]
            for name in streams
            if "inc" in (prior.get(name) or {})
        }

    def observe(self, checkpoint: dict[str, Any]) -> None:
        for name, patch in (checkpoint["updated"].get("bindingStateV1") or {}).items():
            if not isinstance(patch, dict):
                continue
            if "snapshot" in patch:
                self._snapshotted.add(name)
            if "inc" in patch:
                self._cursors[name] = patch["inc"]["cursor"]

    def reached(self) -> bool:
        now = datetime.fromtimestamp(self._site.control.clock.now(), UTC)
        realtime = floor_minute(now - timedelta(minutes=1))
        lookback = min(realtime, floor_minute(now - self._horizon))
        expected = [realtime.isoformat(), lookback.isoformat()]
        return all(
            self._cursors.get(name) == expected
            if name in INCREMENTAL_STREAMS
            else name in self._snapshotted
            for name in self._streams
        )


async def run(
    requests: Sequence[dict[str, Any]],
    *,
    streams: Sequence[str] = (),
    caught_up: CaughtUp | None = None,
    until_checkpoints: int | None = None,
    give_up_after: float = 60.0,
) -> Output:
    """Serve the requests; a capture runs until caught up (or `until_checkpoints`)."""
    read_fd, write_fd = os.pipe()
    out = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after the session
    stdin = os.fdopen(read_fd, "rb")
    io = ConnectorIO(requests=stdin, responses=LineWriter(out.fileno()), secrets=SecretMask())
    for request in requests:
        os.write(write_fd, orjson.dumps(request) + b"\n")
    task = asyncio.create_task(connector.serve_async(io))
    deadline = asyncio.get_running_loop().time() + give_up_after
    checkpoints, read_up_to = 0, 0
    capturing = caught_up is not None or until_checkpoints is not None
    while capturing and not task.done() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
        fresh = _read(out, start=read_up_to)
        complete = fresh[: fresh.rfind(b"\n") + 1]
        read_up_to += len(complete)
        for line in complete.splitlines():
            if line.startswith(b'{"checkpoint"'):
                checkpoints += 1
                if caught_up is not None:
                    caught_up.observe(orjson.loads(line)["checkpoint"]["state"])
        if until_checkpoints is not None and checkpoints >= until_checkpoints:
            break
        if caught_up is not None and caught_up.reached():
            break
    os.close(write_fd)
    error: BaseException | None = None
    try:
        await asyncio.wait_for(task, give_up_after)
    except Exception as err:
        error = err
    lines = [orjson.loads(line) for line in _read(out).splitlines() if line.strip()]
    stdin.close()
    out.close()
    return Output(lines=lines, names=streams, error=error)


def _read(out: IO[bytes], *, start: int = 0) -> bytes:
    out.seek(start)
    raw = out.read()
    out.seek(0, os.SEEK_END)
    return raw


async def capture(
    config: dict[str, Any],
    streams: Sequence[str],
    *,
    site: EmulatorHandle,
    state: Any = None,
    until_checkpoints: int | None = None,
) -> Output:
    """One capture session of the named streams from `state`, until every stream has
    caught up with the site's clock; fails on a connector error."""
    output = await run(
        [open_request(config=config, streams=streams, state=state)],
        streams=streams,
        caught_up=CaughtUp(site=site, streams=streams, config=config, state=state),
        until_checkpoints=until_checkpoints,
    )
    if output.error is not None:
        raise output.error
    return output
