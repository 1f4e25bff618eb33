"""One transaction's documents of one materialization binding, combined by key.

Documents are added as read (their JSON and the parsed value); documents sharing
a packed key are reduced into one by the collection's reduction annotations.
For standard updates the runtime then Loads the keys, takes Loaded documents as
the prior ("front") state, and Stores each key's document reduced into its front,
with `exists` when a front was loaded and `delete` when the result is a deletion.
Delta-update bindings load nothing and store this transaction's combination.

With no reduction annotations (last write wins everywhere) the result is simply
the last document: the combiner then keeps only each key's JSON and packed values,
never the parsed document, which keeps memory small and Store lines cheap (the
document's JSON is passed through as read).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from connector_kit.errors import ProtocolError
from connector_kit.runtime.packing import FieldPacker
from connector_kit.runtime.reductions import Reducer
from connector_kit.runtime.ser_policy import Truncation


@dataclass(slots=True)
class _Combined:
    """A key's documents so far: the reduction, and how deletions shaped it."""

    json: bytes | None
    """The document's JSON while it is exactly one document as read; else None."""
    document: Any
    """The parsed (reduced) document; None for a lone document under a trivial reducer."""
    values: bytes
    deleted: bool = False
    first_deleted: bool = False
    restarted: bool = False
    """A document followed a deletion: what came before the deletion no longer counts."""
    front: Any = None
    exists: bool = False


class BindingCombiner:
    """Combines one binding's documents for one transaction."""

    def __init__(
        self,
        *,
        binding: int,
        keys: FieldPacker,
        values: FieldPacker,
        reducer: Reducer,
        delta_updates: bool,
        with_document: bool,
        truncation: Truncation | None = None,
    ) -> None:
        self.binding = binding
        self._truncation = truncation
        self._keys = keys
        self._values = values
        self._reducer = reducer
        self._delta = delta_updates
        self._with_document = with_document
        self._entries: dict[bytes, _Combined] = {}
        self._store_prefix = (
            b'{"store":{"binding":%d,"keyPacked":"' % binding
            if binding
            else b'{"store":{"keyPacked":"'
        )
        self._load_prefix = (
            b'{"load":{"binding":%d,"keyPacked":"' % binding
            if binding
            else b'{"load":{"keyPacked":"'
        )

    def add(self, json: bytes, document: Any) -> None:
        key = self._keys.pack(document)
        reducer = self._reducer
        entry = self._entries.get(key)
        if reducer.trivial:
            if entry is None:
                self._entries[key] = _Combined(
                    json=json, document=None, values=self._values.pack(document)
                )
            else:
                entry.json = json
                entry.values = self._values.pack(document)
            return
        deleted = reducer.is_deletion(document)
        if entry is None:
            self._entries[key] = _Combined(
                json=json,
                document=document,
                values=b"",
                deleted=deleted,
                first_deleted=deleted,
            )
            return
        if entry.deleted and not deleted:
            entry.document = document
            entry.json = json
            entry.restarted = True
        else:
            entry.document = reducer.reduce(entry.document, document)
            entry.json = None
        entry.deleted = deleted

    def load_requests(self, *, stored_max: bytes | None, optimize: bool) -> bytes:
        """Load lines for every key that may exist; none for delta updates.

        With `optimize`, keys above `stored_max` (the greatest key ever stored) are
        skipped, as Flow's load optimization does: they cannot exist yet.
        """
        if self._delta:
            return b""
        prefix = self._load_prefix
        lines = [
            prefix + base64.b64encode(key) + b'"}}\n'
            for key in self._entries
            if not optimize or (stored_max is not None and key <= stored_max)
        ]
        return b"".join(lines)

    def loaded(self, document: Any) -> None:
        key = self._keys.pack(document)
        entry = self._entries.get(key)
        if entry is None:
            raise ProtocolError(
                f"connector sent a Loaded document for binding {self.binding} whose key was "
                "not loaded in this transaction"
            )
        if entry.exists:
            raise ProtocolError(
                f"connector sent two Loaded documents for one key of binding {self.binding}"
            )
        entry.exists = True
        if not self._reducer.trivial:
            entry.front = document

    def drain(self) -> Iterator[tuple[bytes, int]]:
        """Store lines in key order, with the size of each stored document's JSON."""
        prefix = self._store_prefix
        reducer = self._reducer
        for key in sorted(self._entries):
            entry = self._entries[key]
            json, deleted = self._result(entry, reducer)
            if deleted and not entry.exists and not self._delta:
                continue  # nothing to delete
            parts = [prefix, base64.b64encode(key), b'"']
            values = entry.values
            if values:
                parts += [b',"valuesPacked":"', base64.b64encode(values), b'"']
            if self._with_document:
                if self._truncation is not None:
                    json = self._truncation.document_json(json)
                parts += [b',"doc":', json]
            if entry.exists and not self._delta:
                parts.append(b',"exists":true')
            if deleted:
                parts.append(b',"delete":true')
            parts.append(b"}}\n")
            yield b"".join(parts), len(json)
        self._entries.clear()

    def max_key(self) -> bytes | None:
        return max(self._entries) if self._entries else None

    def _result(self, entry: _Combined, reducer: Reducer) -> tuple[bytes, bool]:
        if reducer.trivial:
            assert entry.json is not None
            return entry.json, False
        document = entry.document
        fresh = entry.restarted or (
            entry.front is not None and reducer.is_deletion(entry.front) and not entry.first_deleted
        )
        if entry.front is not None and not fresh and not self._delta:
            document = reducer.reduce(entry.front, document)
            json = orjson.dumps(document)
        else:
            json = entry.json if entry.json is not None else orjson.dumps(document)
        entry.values = self._values.pack(document)
        return json, entry.deleted
