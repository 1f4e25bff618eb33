"""One Airbyte `read`, turned into captured documents and per-binding checkpoints.

State mapping (Flow state → Airbyte and back):

* `bindingStateV1[stateKey].airbyteState`: the JSON text of the stream's
  `stream_state`, from a STREAM state or its entry in a GLOBAL state. A
  full-refresh stream's state is dropped once the stream completes, so the next
  session refreshes it whole (it only ever resumes an interrupted refresh).
* `bindingStateV1[stateKey].rowId` / `snapshotRows`: row-id counters of a
  keyless binding (see `shims.rows`), saved only beside the stream state they
  belong to.
* `airbyteGlobal`: the JSON text of a GLOBAL state without its stream states
  (its `shared_state`). Present once the source speaks GLOBAL state.
* `airbyteLegacy`: the JSON text of a LEGACY state's `data`, which covers all
  streams at once.

Every STATE message commits the documents read before it with a merge patch of
just the bindings (and top-level keys) it covers. Documents after the last
STATE are committed when the read ends well, with no state change; if it fails
they are never committed, so no checkpoint claims more than was read.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from connector_kit.capture.documents import LineEncoder
from connector_kit.capture.output import CaptureOutput, Transaction
from connector_kit.errors import ConnectorError, SourceError
from connector_kit.shims import opaque_state
from connector_kit.shims.airbyte.messages import (
    control_message,
    error_from_trace,
    failure,
    log_message,
    trace_error,
)
from connector_kit.shims.airbyte.resource import AirbyteResource
from connector_kit.shims.rows import RowIds
from connector_kit.wire import SecretMask

log = logging.getLogger(__name__)

GLOBAL_KEY = "airbyteGlobal"
LEGACY_KEY = "airbyteLegacy"
STOP_CHECK_RECORDS = 1024
"""How often (in records) a long stretch without STATE looks at the stop flag."""

Descriptor = tuple[str | None, str]


@dataclass(kw_only=True)
class BoundStream:
    """A binding of the Open request, as the read sees it."""

    index: int
    resource: AirbyteResource
    state_key: str
    stream_state: Any
    """The stream's last committed Airbyte state (decoded), or None."""
    rows: RowIds | None
    """Row-id counters, when the collection is keyed by `/_meta/row_id`."""
    encoder: LineEncoder = field(init=False)
    records_since_state: int = 0
    completed: bool = False
    incomplete: bool = False

    def __post_init__(self) -> None:
        self.encoder = LineEncoder(self.index)

    @property
    def descriptor(self) -> Descriptor:
        return (self.resource.namespace, self.resource.stream)

    def state_patch(self) -> dict[str, Any]:
        patch: dict[str, Any] = {"airbyteState": opaque_state.encode(self.stream_state)}
        if self.rows is not None:
            patch.update(self.rows.state())
        return patch


def initial_state(
    streams: list[BoundStream], open_state: Mapping[str, Any]
) -> list[dict[str, Any]] | None:
    """The `--state` the source resumes from: STREAM, GLOBAL or LEGACY, as it last spoke."""
    legacy = opaque_state.decode(open_state.get(LEGACY_KEY), where=LEGACY_KEY)
    global_ = opaque_state.decode(open_state.get(GLOBAL_KEY), where=GLOBAL_KEY)
    stream_states = [
        {"stream_descriptor": s.resource.descriptor(), "stream_state": s.stream_state}
        for s in streams
        if s.stream_state is not None
    ]
    if global_ is not None:
        return [{"type": "GLOBAL", "global": {**global_, "stream_states": stream_states}}]
    if legacy is not None:
        return [{"type": "LEGACY", "data": legacy}]
    if not stream_states:
        return None
    return [{"type": "STREAM", "stream": entry} for entry in stream_states]


def configured_catalog(streams: list[BoundStream], schemas: list[Any]) -> dict[str, Any]:
    """The ConfiguredAirbyteCatalog of the bound streams, in binding order."""
    configured = []
    for stream, schema in zip(streams, schemas, strict=True):
        resource = stream.resource
        airbyte_stream: dict[str, Any] = {
            "name": resource.stream,
            "json_schema": schema if isinstance(schema, Mapping) else {},
            "supported_sync_modes": [resource.sync_mode],
        }
        if resource.namespace:
            airbyte_stream["namespace"] = resource.namespace
        entry: dict[str, Any] = {
            "stream": airbyte_stream,
            "sync_mode": resource.sync_mode,
            # Mandatory in the protocol and ignored by sources.
            "destination_sync_mode": "append",
        }
        if resource.cursor_field:
            entry["cursor_field"] = resource.cursor_field
            airbyte_stream["default_cursor_field"] = resource.cursor_field
        configured.append(entry)
    return {"streams": configured}


class AirbyteRead:
    """Consumes one `read`'s messages; `run` returns when the read ends or is stopped."""

    def __init__(
        self,
        streams: list[BoundStream],
        *,
        output: CaptureOutput,
        stop: threading.Event,
        secrets: SecretMask,
        config: Mapping[str, Any],
        source: str,
    ) -> None:
        self._streams = streams
        self._by_descriptor = {s.descriptor: s for s in streams}
        names = collections.Counter(s.resource.stream for s in streams)
        self._by_name = {s.resource.stream: s for s in streams if names[s.resource.stream] == 1}
        self._output = output
        self._stop = stop
        self._secrets = secrets
        self._config = config
        self._source = source
        self._txn = Transaction()
        self._error: dict[str, Any] | None = None
        self._skipped: collections.Counter[str] = collections.Counter()

    def run(self, messages: Iterator[dict[str, Any]]) -> None:
        """Capture every message; raise the source's error if it reported or had one."""
        try:
            stopped = self._consume(messages)
        except Exception as err:
            self._txn.discard()
            if self._error is not None:
                raise error_from_trace(self._error, source=self._source) from err
            if isinstance(err, ConnectorError):
                raise
            raise failure(err, source=self._source) from err
        if stopped:
            self._txn.discard()
            log.info("stopped at a checkpoint, as the runtime asked")
            return
        if self._error is not None:
            self._txn.discard()
            raise error_from_trace(self._error, source=self._source)
        self._finish()

    def _consume(self, messages: Iterator[dict[str, Any]]) -> bool:
        stop = self._stop
        records = 0
        for message in messages:
            kind = message["type"]
            if kind == "RECORD":
                self._record(message)
                records += 1
                if records % STOP_CHECK_RECORDS == 0 and stop.is_set():
                    return True
            elif kind == "STATE":
                self._state(message)
                if stop.is_set():
                    return True
            elif kind == "LOG":
                log_message(message, source=self._source)
            elif kind == "TRACE":
                self._trace(message)
            elif kind == "CONTROL":
                updated = control_message(message, config=self._config, source=self._source)
                known = set(_strings(self._config))
                for value in set(_strings(updated)) - known:
                    self._secrets.add(value)
            else:
                log.warning(
                    "ignored a message a read does not send",
                    extra={"fields": {"source": self._source, "type": kind}},
                )
        return False

    def _lookup(self, namespace: Any, name: Any) -> BoundStream | None:
        stream = self._by_descriptor.get((namespace, name))
        if stream is None:
            stream = self._by_name.get(name)
        return stream

    def _record(self, message: dict[str, Any]) -> None:
        record = message.get("record")
        if not isinstance(record, dict) or not isinstance(record.get("data"), dict):
            raise SourceError(
                f"{self._source} sent a RECORD without an object `record.data`: "
                f"{orjson.dumps(message)[:200].decode(errors='replace')!r}"
            )
        stream = self._lookup(record.get("namespace"), record.get("stream"))
        if stream is None:
            self._skip(f"record for stream {record.get('stream')!r}")
            return
        doc = record["data"]
        if stream.rows is not None:
            stream.rows.assign(doc)
        for line in stream.encoder.captured(doc):
            self._txn.add_document(line)
        stream.records_since_state += 1

    def _skip(self, what: str) -> None:
        self._skipped[what] += 1
        if self._skipped[what] == 1:
            log.warning(
                f"skipped a {what}, which no binding of this capture reads; later ones are "
                "skipped silently",
                extra={"fields": {"source": self._source}},
            )

    def _state(self, message: dict[str, Any]) -> None:
        state = message.get("state")
        if not isinstance(state, dict):
            raise SourceError(f"{self._source} sent a STATE without an object `state`")
        kind = state.get("type") or (
            "GLOBAL" if "global" in state else "STREAM" if "stream" in state else "LEGACY"
        )
        if kind == "STREAM":
            self._stream_state(state)
        elif kind == "GLOBAL":
            self._global(state)
        elif kind == "LEGACY":
            # One blob covers every stream, so every keyless stream's counters go with it.
            rows = {s.state_key: s.rows.state() for s in self._streams if s.rows is not None}
            patch: dict[str, Any] = {LEGACY_KEY: opaque_state.encode(state.get("data"))}
            if rows:
                patch[opaque_state.BINDING_STATE] = rows
            self._commit(patch)
        else:
            raise SourceError(f"{self._source} sent a STATE of unknown type {kind!r}")

    def _stream_state(self, state: dict[str, Any]) -> None:
        body = state.get("stream") or {}
        descriptor = body.get("stream_descriptor") or {}
        stream = self._lookup(descriptor.get("namespace"), descriptor.get("name"))
        if stream is None:
            self._skip(f"state for stream {descriptor.get('name')!r}")
            return
        self._check_record_count(stream, state)
        stream.stream_state = body.get("stream_state")
        self._commit({opaque_state.BINDING_STATE: {stream.state_key: stream.state_patch()}})

    def _check_record_count(self, stream: BoundStream, state: Mapping[str, Any]) -> None:
        """A state whose record count disagrees with what arrived would checkpoint lost data."""
        stats = state.get("sourceStats") or {}
        claimed = stats.get("recordCount")
        seen, stream.records_since_state = stream.records_since_state, 0
        if isinstance(claimed, int | float) and int(claimed) != seen:
            raise SourceError(
                f"{self._source} sent a state for stream {stream.resource.stream!r} covering "
                f"{int(claimed)} records, but {seen} arrived; refusing to checkpoint records "
                "that were not captured"
            )

    def _global(self, state: dict[str, Any]) -> None:
        body = dict(state.get("global") or {})
        patch: dict[str, Any] = {}
        bindings: dict[str, Any] = {}
        for entry in body.pop("stream_states", None) or []:
            descriptor = entry.get("stream_descriptor") or {}
            stream = self._lookup(descriptor.get("namespace"), descriptor.get("name"))
            if stream is None:
                self._skip(f"state for stream {descriptor.get('name')!r}")
                continue
            stream.stream_state = entry.get("stream_state")
            stream.records_since_state = 0
            bindings[stream.state_key] = stream.state_patch()
        if bindings:
            patch[opaque_state.BINDING_STATE] = bindings
        patch[GLOBAL_KEY] = opaque_state.encode(body)
        self._commit(patch)

    def _trace(self, message: dict[str, Any]) -> None:
        error = trace_error(message, source=self._source)
        if error is not None:
            self._error = self._error or error
            return
        trace = message.get("trace") or {}
        status = trace.get("stream_status") or {}
        descriptor = status.get("stream_descriptor") or {}
        if trace.get("type") != "STREAM_STATUS":
            return
        stream = self._lookup(descriptor.get("namespace"), descriptor.get("name"))
        if stream is None:
            return
        if status.get("status") == "INCOMPLETE":
            stream.incomplete = True
        elif status.get("status") == "COMPLETE" and self._error is None:
            self._complete(stream)

    def _complete(self, stream: BoundStream) -> None:
        """A full-refresh stream finished: its next read starts over.

        Its state only resumes an interrupted refresh (resumable full refresh), so it
        is dropped; a keyless stream also deletes the rows past this snapshot's end.
        """
        stream.completed = True
        if stream.resource.sync_mode != "full_refresh":
            return
        patch: dict[str, Any] = {"airbyteState": None}
        if stream.rows is not None:
            for doc in stream.rows.finish_snapshot():
                for line in stream.encoder.captured(doc):
                    self._txn.add_document(line)
            patch.update(stream.rows.state())
        stream.stream_state = None
        self._commit({opaque_state.BINDING_STATE: {stream.state_key: patch}})

    def _commit(self, patch: Mapping[str, Any]) -> None:
        self._output.commit(self._txn, patch)

    def _finish(self) -> None:
        """The read ended well: close snapshots that sent no status, commit what is left."""
        for stream in self._streams:
            if not stream.completed and not stream.incomplete:
                self._complete(stream)
        if not self._txn.empty:
            self._commit({})
        if self._skipped:
            log.warning(
                "skipped messages for streams no binding reads",
                extra={"fields": {"source": self._source, "skipped": dict(self._skipped)}},
            )


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for child in value.values():
            yield from _strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from _strings(child)
