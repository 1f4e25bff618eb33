"""Every kind of document a fetch function may yield is serialized by its own type's rules.

The capture loop picks a serializer once per type and caches it; these tests guard
that a cached choice never leaks to another type (a subclass, a non-dict mapping).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import MappingProxyType
from typing import Any

import pyarrow as pa
import pytest
from pydantic import BaseModel, Field

from connector_kit.capture import CaptureConnector, Incremental, Resource
from connector_kit.capture.documents import LineEncoder
from connector_kit.http import HTTPClient
from connector_kit.testing.session import Session, open_request


class NoConfig(BaseModel):
    pass


class Order(BaseModel):
    order_id: int = Field(alias="orderId")


class RushOrder(Order):
    deadline: str


def mixed_connector() -> CaptureConnector[NoConfig]:
    async def fetch(cursor: int) -> AsyncIterator[Any]:
        if cursor:
            return
        for _ in range(2):  # A second round is served from the per-type cache.
            yield {"id": 1}
            yield Order(orderId=2)
            yield RushOrder(orderId=3, deadline="noon")
            yield MappingProxyType({"id": 4})
            yield pa.RecordBatch.from_pylist([{"id": 5}, {"id": 6}])
            yield {"id": 7}
        yield 1

    async def resources(config: NoConfig, http: HTTPClient) -> list[Resource]:
        return [
            Resource(
                name="mixed",
                key=["/id"],
                document={"type": "object"},
                incremental=Incremental(fetch=fetch, start=0),
            )
        ]

    return CaptureConnector(endpoint_config=NoConfig, resources=resources)


async def test_each_yielded_type_is_serialized_by_its_own_rules() -> None:
    out = await Session(
        mixed_connector(),
        [open_request(config={}, bindings=[{"resource": {"name": "mixed"}}])],
    ).run()
    assert out.error is None
    one_round = [
        {"id": 1},
        {"orderId": 2},
        {"orderId": 3, "deadline": "noon"},
        {"id": 4},
        {"id": 5},
        {"id": 6},
        {"id": 7},
    ]
    assert out.documents == one_round * 2
    assert out.final_state() == {"bindingStateV1": {"mixed": {"inc": {"cursor": 1}}}}


def test_a_non_document_is_rejected_even_after_documents_were_encoded() -> None:
    encoder = LineEncoder(0)
    assert list(encoder.captured({"id": 1})) == [b'{"captured":{"binding":0,"doc":{"id":1}}}\n']
    for _ in range(2):  # The second time, the type's verdict comes from the cache.
        with pytest.raises(TypeError, match="got int"):
            list(encoder.captured(3))
