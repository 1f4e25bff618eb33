"""Golden files of the spec, of discovery and of a capture session against the emulator.

Volatile values are normalised: the emulator's port, and snapshot finish times.
Update with `pytest source-jira/tests/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from jira_emulator import EmulatorHandle
from source_jira import connector

from .conftest import config_for
from .session import capture, run

FIRST_DOCUMENTS = 1
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00")


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def normalised(value: Any, *, jira: EmulatorHandle) -> Any:
    text = orjson.dumps(value).decode().replace(jira.base_url, "http://jira.test")
    return orjson.loads(_TIMESTAMP.sub("<finished at>", text))


def test_spec(snapshot_json: SnapshotAssertion) -> None:
    spec = connector.spec().model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert spec == snapshot_json


async def test_discover(jira: EmulatorHandle, snapshot_json: SnapshotAssertion) -> None:
    output = await run([{"discover": {"connectorType": "LOCAL", "config": config_for(jira)}}])
    assert output.error is None
    assert normalised(output.lines, jira=jira) == snapshot_json


async def test_capture_session(jira: EmulatorHandle, snapshot_json: SnapshotAssertion) -> None:
    discovered = await run([{"discover": {"connectorType": "LOCAL", "config": config_for(jira)}}])
    bindings = discovered.lines[0]["discovered"]["bindings"]
    streams = [b["recommendedName"] for b in bindings if not b.get("disable")]
    output = await capture(config_for(jira), streams, site=jira)

    summary = {
        stream: {
            "count": len(output.documents(stream)),
            "first": output.documents(stream)[:FIRST_DOCUMENTS],
        }
        for stream in streams
    }
    summary["final state"] = output.final_state()
    assert normalised(summary, jira=jira) == snapshot_json
