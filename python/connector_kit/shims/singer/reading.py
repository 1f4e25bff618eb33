"""One Singer sync, turned into captured documents and per-binding checkpoints.

State mapping (Flow state → Singer and back): a STATE `value` of the usual form
`{"bookmarks": {tap_stream_id: …}, …}` is split up. Each bound stream's bookmark
is kept as JSON text at `bindingStateV1[stateKey].singerBookmark`, and the rest
of the value (e.g. `currently_syncing`) at the top-level `singerState`; a value
of another shape is kept whole at `singerState`. A checkpoint patches only the
bindings whose bookmark changed. The tap gets the reassembled value back as
`--state`.

ACTIVATE_VERSION: documents of a versioned stream carry `_meta.version`. When a
version is activated, the rows of the superseded version that the new one does
not have are deleted (`_meta.op: "d"`): for a keyless stream the row ids past
the new version's end; for a keyed stream the keys the old version had and the
new one lacks. Those old keys are kept in the binding's state (`versionKeys`)
up to `MAX_VERSION_KEYS`; beyond that, or when a version was not seen from its
start in one run, the shim cannot tell which rows are gone: it logs so, and the
stale rows stay recognisable by their older `_meta.version`.
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
from connector_kit.shims.rows import RowIds
from connector_kit.shims.schemas import parse_pointer, value_at
from connector_kit.shims.singer.batch import batch_records
from connector_kit.shims.singer.catalog import key_pointer
from connector_kit.shims.singer.resource import SingerResource

log = logging.getLogger(__name__)

TOP_LEVEL_KEY = "singerState"
MAX_VERSION_KEYS = 100_000
STOP_CHECK_RECORDS = 1024


@dataclass(kw_only=True)
class BoundStream:
    """A binding of the Open request, as the sync sees it."""

    index: int
    resource: SingerResource
    state_key: str
    key: list[str]
    """The collection key (JSON pointers); empty when keyed by row id."""
    rows: RowIds | None
    bookmark: str | None
    """The stream's committed bookmark, as the JSON text it is stored as."""
    version: int | None = None
    """The table version being read (from state, then from records)."""
    version_keys: set[bytes] | None = None
    """Keys of the last activated version, when known."""
    encoder: LineEncoder = field(init=False)
    key_paths: list[list[str]] = field(init=False)
    seen_keys: set[bytes] = field(default_factory=set)
    seen_whole_version: bool = False
    versioned: bool = False
    activated: bool = False
    """Whether some version of this stream was activated before (and may need deleting)."""

    def __post_init__(self) -> None:
        self.encoder = LineEncoder(self.index)
        self.key_paths = [parse_pointer(k) for k in self.key]

    @classmethod
    def restore(
        cls,
        *,
        index: int,
        resource: SingerResource,
        state_key: str,
        key: list[str],
        state: Mapping[str, Any],
    ) -> BoundStream:
        where = f"{opaque_state.BINDING_STATE}.{state_key}"
        keys = opaque_state.decode(state.get("versionKeys"), where=f"{where}.versionKeys")
        bookmark = state.get("singerBookmark")
        opaque_state.decode(bookmark, where=f"{where}.singerBookmark")
        rows = None
        if not key:
            rows = RowIds.restore(state, snapshot=resource.replication_method == "FULL_TABLE")
        return cls(
            index=index,
            resource=resource,
            state_key=state_key,
            key=key,
            rows=rows,
            bookmark=bookmark,
            version=state.get("version"),
            activated=state.get("version") is not None,
            version_keys={orjson.dumps(k) for k in keys} if keys is not None else None,
        )

    def key_of(self, doc: Mapping[str, Any]) -> bytes:
        return orjson.dumps([value_at(doc, path) for path in self.key_paths])

    def deletion(self, key: bytes) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        for path, value in zip(self.key_paths, orjson.loads(key), strict=True):
            node = doc
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = value
        doc["_meta"] = {"op": "d", "version": self.version}
        return doc


def initial_state(streams: list[BoundStream], open_state: Mapping[str, Any]) -> dict[str, Any]:
    """The `--state` value the tap resumes from (empty on a first run)."""
    rest = opaque_state.decode(open_state.get(TOP_LEVEL_KEY), where=TOP_LEVEL_KEY)
    bookmarks = {
        s.resource.stream: opaque_state.decode(s.bookmark, where=s.state_key)
        for s in streams
        if s.bookmark is not None
    }
    value: dict[str, Any] = dict(rest) if isinstance(rest, Mapping) else {}
    if bookmarks:
        value["bookmarks"] = bookmarks
    return value


class SingerRead:
    """Consumes one sync's messages; `run` returns when the tap ends or is stopped."""

    def __init__(
        self,
        streams: list[BoundStream],
        *,
        output: CaptureOutput,
        stop: threading.Event,
        top_level_state: str | None,
        source: str,
    ) -> None:
        self._streams = streams
        self._by_id = {s.resource.stream: s for s in streams}
        self._output = output
        self._stop = stop
        self._top_level = top_level_state
        self._source = source
        self._txn = Transaction()
        self._skipped: collections.Counter[str] = collections.Counter()
        self._warned: set[str] = set()

    def run(self, messages: Iterator[dict[str, Any]]) -> None:
        try:
            stopped = self._consume(messages)
        except Exception as err:
            self._txn.discard()
            if isinstance(err, ConnectorError):
                raise
            raise SourceError(f"{self._source} failed: {type(err).__name__}: {err}") from err
        if stopped:
            self._txn.discard()
            log.info("stopped at a checkpoint, as the runtime asked")
            return
        self._finish()

    def _consume(self, messages: Iterator[dict[str, Any]]) -> bool:
        records = 0
        for message in messages:
            kind = message["type"].upper()
            if kind == "RECORD":
                self._record(message)
                records += 1
                if records % STOP_CHECK_RECORDS == 0 and self._stop.is_set():
                    return True
            elif kind == "STATE":
                self._state(message)
                if self._stop.is_set():
                    return True
            elif kind == "SCHEMA":
                self._schema(message)
            elif kind == "ACTIVATE_VERSION":
                self._activate(message)
            elif kind == "BATCH":
                self._batch(message)
            else:
                self._warn_once(f"type {kind}", f"ignored Singer messages of type {kind!r}")
        return False

    def _warn_once(self, topic: str, text: str) -> None:
        if topic not in self._warned:
            self._warned.add(topic)
            log.warning(text, extra={"fields": {"source": self._source}})

    def _stream(self, message: Mapping[str, Any], what: str) -> BoundStream | None:
        stream = self._by_id.get(str(message.get("stream")))
        if stream is None:
            topic = f"{what} for stream {message.get('stream')!r}"
            self._skipped[topic] += 1
            self._warn_once(
                topic,
                f"skipped a {topic}, which no binding of this capture reads; later ones "
                "are skipped silently",
            )
        return stream

    def _record(self, message: Mapping[str, Any]) -> None:
        doc = message.get("record")
        if not isinstance(doc, dict):
            raise SourceError(
                f"{self._source} sent a RECORD without an object `record` "
                f"(stream {message.get('stream')!r})"
            )
        stream = self._stream(message, "record")
        if stream is not None:
            self._add(stream, doc, message.get("version"))

    def _add(self, stream: BoundStream, doc: dict[str, Any], version: Any) -> None:
        if isinstance(version, int):
            self._begin_version(stream, version)
            meta = doc.get("_meta")
            doc["_meta"] = (
                {**meta, "version": version} if isinstance(meta, dict) else {"version": version}
            )
            if stream.key_paths and stream.seen_whole_version:
                stream.seen_keys.add(stream.key_of(doc))
                if len(stream.seen_keys) > MAX_VERSION_KEYS:
                    stream.seen_keys.clear()
                    stream.seen_whole_version = False
        if stream.rows is not None:
            stream.rows.assign(doc)
        for line in stream.encoder.captured(doc):
            self._txn.add_document(line)

    def _begin_version(self, stream: BoundStream, version: int) -> None:
        stream.versioned = True
        if version == stream.version:
            return
        # A new table version starts: its rows are numbered and collected afresh.
        stream.version = version
        stream.seen_keys = set()
        stream.seen_whole_version = True
        if stream.rows is not None and stream.rows.snapshot:
            stream.rows.next_id = 0

    def _activate(self, message: Mapping[str, Any]) -> None:
        stream = self._stream(message, "ACTIVATE_VERSION")
        version = message.get("version")
        if stream is None:
            return
        if not isinstance(version, int):
            raise SourceError(f"{self._source} sent an ACTIVATE_VERSION without an integer version")
        self._begin_version(stream, version)
        if stream.rows is not None:
            deletions = stream.rows.finish_snapshot() if stream.rows.snapshot else []
        elif stream.seen_whole_version and stream.version_keys is not None:
            deletions = [stream.deletion(k) for k in sorted(stream.version_keys - stream.seen_keys)]
        else:
            deletions = []
        if (
            stream.rows is None
            and stream.activated
            and not (stream.seen_whole_version and stream.version_keys is not None)
        ):
            log.warning(
                f"version {version} of stream {stream.resource.stream!r} is now current, but "
                "which rows the superseded version had is unknown (it was not read whole in one "
                f"run, or had over {MAX_VERSION_KEYS} keys): rows it lacks are not deleted and "
                "keep their older `_meta.version`",
                extra={"fields": {"source": self._source}},
            )
        for doc in deletions:
            for line in stream.encoder.captured(doc):
                self._txn.add_document(line)
        stream.version_keys = set(stream.seen_keys) if stream.seen_whole_version else None
        stream.activated = True
        patch: dict[str, Any] = {"version": version, "versionKeys": None}
        if stream.version_keys is not None and stream.key_paths:
            keys = sorted(orjson.loads(k) for k in stream.version_keys)
            patch["versionKeys"] = opaque_state.encode(keys)
        if stream.rows is not None:
            patch.update(stream.rows.state())
        self._commit({opaque_state.BINDING_STATE: {stream.state_key: patch}})

    def _batch(self, message: Mapping[str, Any]) -> None:
        stream = self._stream(message, "BATCH")
        if stream is None:
            return
        for doc in batch_records(message, source=self._source):
            self._add(stream, doc, None)

    def _schema(self, message: Mapping[str, Any]) -> None:
        stream = self._by_id.get(str(message.get("stream")))
        if stream is None:
            return
        keys = [key_pointer(str(k)) for k in message.get("key_properties") or []]
        bound = stream.key
        if keys and bound and keys != bound:
            self._warn_once(
                f"schema {stream.resource.stream}",
                f"stream {stream.resource.stream!r} now has key properties {keys}, but its "
                f"collection is keyed by {bound}; re-run discovery to update the collection",
            )

    def _state(self, message: Mapping[str, Any]) -> None:
        value = message.get("value")
        patch: dict[str, Any] = {}
        bookmarks = value.get("bookmarks") if isinstance(value, Mapping) else None
        if isinstance(value, Mapping) and isinstance(bookmarks, Mapping):
            changed: dict[str, Any] = {}
            for stream_id, bookmark in bookmarks.items():
                stream = self._stream({"stream": stream_id}, "bookmark")
                if stream is None:
                    continue
                text = opaque_state.encode(bookmark)
                if text != stream.bookmark:
                    stream.bookmark = text
                    entry: dict[str, Any] = {"singerBookmark": text}
                    if stream.rows is not None:
                        entry.update(stream.rows.state())
                    changed[stream.state_key] = entry
            if changed:
                patch[opaque_state.BINDING_STATE] = changed
            rest = {k: v for k, v in value.items() if k != "bookmarks"}
            top_level = opaque_state.encode(rest) if rest else None
        else:
            top_level = opaque_state.encode(value)
        if top_level != self._top_level:
            self._top_level = top_level
            patch[TOP_LEVEL_KEY] = top_level
        self._commit(patch)

    def _commit(self, patch: Mapping[str, Any]) -> None:
        if patch or not self._txn.empty:
            self._output.commit(self._txn, patch)

    def _finish(self) -> None:
        """The tap exited 0: close unversioned full-table snapshots, commit what is left."""
        bindings: dict[str, Any] = {}
        for stream in self._streams:
            rows = stream.rows
            if rows is not None and rows.snapshot and not stream.versioned:
                for doc in rows.finish_snapshot():
                    for line in stream.encoder.captured(doc):
                        self._txn.add_document(line)
                bindings[stream.state_key] = rows.state()
        if bindings or not self._txn.empty:
            self._commit({opaque_state.BINDING_STATE: bindings} if bindings else {})
        if self._skipped:
            log.warning(
                "skipped messages for streams no binding reads",
                extra={"fields": {"source": self._source, "skipped": dict(self._skipped)}},
            )
