"""Row ids for streams without a key, and the deletions that end a full snapshot.

A keyless stream is keyed by `/_meta/row_id`. An append-only stream (Airbyte
incremental, Singer INCREMENTAL) numbers its rows forever. A snapshot stream
(full refresh, FULL_TABLE) re-reads everything each sync: its ids restart at 0,
and when a snapshot completes with fewer rows than the previous one, the rows
past its end are deleted, so the collection holds exactly the latest snapshot.
The counters live in the binding's state, next to the delegate state they match,
so a sync resumed mid-snapshot continues numbering where it was checkpointed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass
class RowIds:
    next_id: int
    """The id the next row gets."""
    snapshot_rows: int
    """How many rows the last complete snapshot had (snapshot streams only)."""
    snapshot: bool

    @classmethod
    def restore(cls, binding_state: Mapping[str, Any], *, snapshot: bool) -> RowIds:
        return cls(
            next_id=int(binding_state.get("rowId") or 0),
            snapshot_rows=int(binding_state.get("snapshotRows") or 0),
            snapshot=snapshot,
        )

    def assign(self, doc: dict[str, Any]) -> None:
        meta = doc.get("_meta")
        doc["_meta"] = (
            {**meta, "row_id": self.next_id} if isinstance(meta, dict) else {"row_id": self.next_id}
        )
        self.next_id += 1

    def state(self) -> dict[str, int]:
        return {"rowId": self.next_id, "snapshotRows": self.snapshot_rows}

    def finish_snapshot(self) -> list[dict[str, Any]]:
        """Deletion documents for rows past this snapshot's end; the next snapshot starts at 0."""
        gone = range(self.next_id, self.snapshot_rows)
        self.snapshot_rows, self.next_id = self.next_id, 0
        return [{"_meta": {"row_id": row_id, "op": "d"}} for row_id in gone]
