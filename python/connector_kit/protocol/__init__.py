"""Pydantic models of every Flow capture, materialize and shared message.

`capture` and `materialize` each define `Request`/`Response` envelopes whose one set
field names the message; `flow` holds the specs both embed. See `base` for the JSON
conventions (aliases, raw JSON values, strict responses).
"""

from connector_kit.protocol import capture, flow, materialize
from connector_kit.protocol.base import (
    PROTOCOL_VERSION,
    JsonValue,
    RequestModel,
    ResponseModel,
)

__all__ = [
    "PROTOCOL_VERSION",
    "JsonValue",
    "RequestModel",
    "ResponseModel",
    "capture",
    "flow",
    "materialize",
]
