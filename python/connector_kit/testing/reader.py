"""A typed reader over what a capture produced, so tests read like sentences."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from connector_kit.protocol import capture
from connector_kit.runtime.catalog import load_catalog
from connector_kit.runtime.preview import PreviewOptions, preview
from connector_kit.runtime.raw import raw_discover, raw_spec


@dataclass
class CaptureRun:
    """Documents, state updates and logs of one or more preview sessions."""

    documents: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    state_updates: list[dict[str, Any]] = field(default_factory=list)
    final_state: Any = None
    logs: list[str] = field(default_factory=list)
    output: bytes = b""

    def records(self, collection: str | None = None) -> list[dict[str, Any]]:
        return [doc for name, doc in self.documents if collection in (None, name)]

    @property
    def collections(self) -> set[str]:
        return {name for name, _ in self.documents}


class _LogCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = getattr(record, "fields", None)
        self.lines.append(record.getMessage() + (" " + repr(fields) if fields else ""))


@contextmanager
def collected_logs() -> Iterator[list[str]]:
    """Every log line (ours and the connector's forwarded ones) while the block runs."""
    collector = _LogCollector()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    try:
        yield collector.lines
    finally:
        root.removeHandler(collector)
        root.setLevel(previous)


def spec(catalog: Path, *, name: str | None = None) -> dict[str, Any]:
    """The capture's Spec response, as `connector-kit raw spec` prints it."""
    return asyncio.run(
        raw_spec(load_catalog(catalog), capture_name=name, materialization_name=None, within=60)
    )


def discover(catalog: Path, *, name: str | None = None) -> list[dict[str, Any]]:
    """The capture's discovered bindings, as `connector-kit raw discover --emit-raw` prints them."""
    bindings = asyncio.run(raw_discover(load_catalog(catalog), capture_name=name, within=60))
    return [_as_json(b) for b in bindings]


def _as_json(binding: capture.DiscoveredBinding) -> dict[str, Any]:
    return binding.model_dump(by_alias=True, exclude_unset=True, mode="json")


def run_capture(
    catalog: Path,
    *,
    name: str | None = None,
    sessions: Sequence[int] = (10_000,),
    idle_timeout: float = 2.0,
    initial_state: Any = None,
) -> CaptureRun:
    """Preview the capture: each session runs to its transaction target or until idle.

    The default target bounds a session whose connector never goes idle (one that
    re-reads the same data forever must still end, and fail its test).
    """
    run = CaptureRun()
    chunks: list[bytes] = []
    options = PreviewOptions(
        sessions=list(sessions),
        idle_timeout=idle_timeout,
        initial_state=initial_state,
        output_state=True,
        connector_timeout=120,
    )
    with collected_logs() as logs:
        run.final_state = asyncio.run(
            preview(load_catalog(catalog), name=name, options=options, output=chunks.append)
        )
    run.logs = logs
    run.output = b"".join(chunks)
    for line in run.output.splitlines():
        label, value = orjson.loads(line)
        if label == "connectorState":
            run.state_updates.append(value)
        else:
            run.documents.append((label, value))
    return run
