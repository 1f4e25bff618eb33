"""Running one binding: its fetch contracts in loops, its state in checkpoints."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from connector_kit.capture import cursors
from connector_kit.capture.documents import CAPTURED_SUFFIX, LineEncoder, with_row_meta
from connector_kit.capture.output import CaptureOutput, Transaction
from connector_kit.capture.resources import (
    ROW_ID_KEY,
    Backfill,
    Incremental,
    Resource,
    Snapshot,
    SourcedSchema,
)
from connector_kit.errors import ConnectorError

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class BoundResource:
    """A resource as bound by an Open request: its position, state key and prior state."""

    index: int
    resource: Resource
    state_key: str
    state: Mapping[str, Any]
    interval: timedelta


def _is_document(item: Any) -> bool:
    return isinstance(item, Mapping | BaseModel) or (
        type(item).__name__ in ("RecordBatch", "Table") and hasattr(item, "to_pylist")
    )


def _aiter(result: Any) -> AsyncIterator[Any]:
    if not hasattr(result, "__aiter__"):
        raise ConnectorError(
            f"its fetch function returned {type(result).__name__}; "
            "it must be an async generator (`async def ...: yield ...`)"
        )
    return result  # type: ignore[no-any-return]


class BindingRunner:
    """Reads one binding until stopped, committing each transaction with its state."""

    def __init__(self, bound: BoundResource, output: CaptureOutput) -> None:
        self._bound = bound
        self._output = output
        self._encoder = LineEncoder(bound.index)
        self._name = bound.resource.name

    def _commit(self, txn: Transaction, patch: Mapping[str, Any], position: Any = None) -> None:
        callback = self._bound.resource.acknowledged
        self._output.commit(
            txn,
            {"bindingStateV1": {self._bound.state_key: patch}},
            on_acknowledged=(lambda: callback(position)) if callback is not None else None,
        )

    def _add(self, txn: Transaction, item: Any) -> None:
        if isinstance(item, SourcedSchema):
            txn.add(self._encoder.sourced_schema(item.schema))
        else:
            for line in self._encoder.captured(item):
                txn.add_document(line)

    async def run(self) -> None:
        resource = self._bound.resource
        async with asyncio.TaskGroup() as group:
            if resource.incremental is not None:
                group.create_task(self._incremental(resource.incremental))
            if resource.backfill is not None:
                group.create_task(self._backfill(resource.backfill, resource.incremental))
            if resource.snapshot is not None:
                group.create_task(self._snapshot(resource.snapshot))

    async def _incremental(self, inc: Incremental[Any]) -> None:
        stored = (self._bound.state.get("inc") or {}).get("cursor")
        cursor = cursors.decode(stored, like=inc.start) if stored is not None else inc.start
        prefix, serializers = self._encoder.prefix, self._encoder.serializers
        while True:
            txn = Transaction()
            documents = 0
            async for item in _aiter(inc.fetch(cursor)):
                # The hot path, kept to one lookup and one serializer call per document.
                serialize = serializers[type(item)]
                if serialize is not None:
                    txn.add_document(prefix + serialize(item) + CAPTURED_SUFFIX)
                    continue
                if _is_document(item) or isinstance(item, SourcedSchema):
                    self._add(txn, item)
                    continue
                cursors.check_advances(previous=cursor, new=item)
                documents += txn.documents
                self._commit(txn, {"inc": {"cursor": cursors.encode(item)}}, item)
                cursor = item
            if txn.documents:
                raise ConnectorError(
                    f"yielded {txn.documents} document(s) after its last "
                    "cursor; yield a cursor after the documents it covers so they can be "
                    "checkpointed"
                )
            if not txn.empty:  # Only sourced schemas: commit them at the current cursor.
                self._commit(txn, {"inc": {"cursor": cursors.encode(cursor)}}, cursor)
            if documents == 0:
                await asyncio.sleep(self._bound.interval.total_seconds())

    async def _backfill(self, backfill: Backfill[Any], inc: Incremental[Any] | None) -> None:
        stored = self._bound.state.get("backfill")
        if stored is not None and stored.get("done"):
            return
        start = inc.start if inc is not None else None
        if stored is None:
            page, cutoff = None, start
        else:
            page = stored.get("page")
            cutoff = cursors.decode(stored.get("cutoff"), like=start)
        txn = Transaction()
        async for item in _aiter(backfill.fetch(page, cutoff)):
            if _is_document(item) or isinstance(item, SourcedSchema):
                self._add(txn, item)
                continue
            if item == page:
                raise ConnectorError(
                    f"backfill yielded page {item!r} twice in a row; "
                    "a repeated watermark would loop forever"
                )
            page = item
            progress = {"page": cursors.encode(page), "cutoff": cursors.encode(cutoff)}
            self._commit(txn, {"backfill": progress}, page)
        self._commit(txn, {"backfill": {"done": True, "page": None, "cutoff": None}})
        log.info("backfill complete", extra={"fields": {"resource": self._name}})

    async def _snapshot(self, snapshot: Snapshot) -> None:
        stored = self._bound.state.get("snapshot") or {}
        previous_rows = int(stored.get("rows", 0))
        finished = stored.get("finished_at")
        interval = self._bound.interval
        if finished is not None:
            due = datetime.fromisoformat(finished) + interval
            await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
        keyed_by_row = list(self._bound.resource.key) == [ROW_ID_KEY]
        while True:
            txn = Transaction()
            rows = 0
            async for item in _aiter(snapshot.fetch()):
                if isinstance(item, SourcedSchema):
                    self._add(txn, item)
                    continue
                for doc in item.to_pylist() if hasattr(item, "to_pylist") else (item,):
                    self._add(txn, with_row_meta(doc, rows))
                    rows += 1
            if keyed_by_row:
                for gone in range(rows, previous_rows):
                    self._add(txn, {"_meta": {"row_id": gone, "op": "d"}})
            finished_at = datetime.now(UTC).isoformat()
            self._commit(txn, {"snapshot": {"rows": rows, "finished_at": finished_at}})
            previous_rows = rows
            await asyncio.sleep(interval.total_seconds())
