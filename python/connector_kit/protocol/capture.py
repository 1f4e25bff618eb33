"""Capture protocol messages (capture.proto, protocol 3032023)."""

from __future__ import annotations

from pydantic import Field

from connector_kit.protocol.base import JsonValue, RequestModel, ResponseModel
from connector_kit.protocol.envelope import message_name
from connector_kit.protocol.flow import (
    CaptureSpec,
    CollectionSpec,
    ConnectorState,
    OAuth2,
    RangeSpec,
)

# --- Requests (runtime → connector) ---------------------------------------------


class Spec(RequestModel):
    connector_type: str | None = None
    config: JsonValue = None


class Discover(RequestModel):
    connector_type: str | None = None
    config: JsonValue = None
    name: str | None = None


class ValidateBinding(RequestModel):
    resource_config: JsonValue = None
    collection: CollectionSpec
    backfill: int = 0


class Validate(RequestModel):
    name: str = ""
    connector_type: str | None = None
    config: JsonValue = None
    bindings: list[ValidateBinding] = Field(default_factory=list)
    last_capture: CaptureSpec | None = None
    last_version: str | None = None


class Apply(RequestModel):
    capture: CaptureSpec
    version: str = ""
    last_capture: CaptureSpec | None = None
    last_version: str | None = None


class Open(RequestModel):
    capture: CaptureSpec
    version: str = ""
    range: RangeSpec | None = None
    state: JsonValue = None


class Acknowledge(RequestModel):
    checkpoints: int = 0


class Request(RequestModel):
    spec: Spec | None = None
    discover: Discover | None = None
    validate_: Validate | None = Field(default=None, alias="validate")
    apply: Apply | None = None
    open: Open | None = None
    acknowledge: Acknowledge | None = None

    @property
    def message(self) -> str:
        return message_name(self)


# --- Responses (connector → runtime) ---------------------------------------------


class SpecResponse(ResponseModel):
    protocol: int
    config_schema: JsonValue
    resource_config_schema: JsonValue
    documentation_url: str | None = None
    oauth2: OAuth2 | None = None
    resource_path_pointers: list[str] | None = None


class DiscoveredBinding(ResponseModel):
    recommended_name: str
    resource_config: JsonValue
    document_schema: JsonValue
    key: list[str] = Field(default_factory=list)
    disable: bool | None = None
    resource_path: list[str] | None = None


class Discovered(ResponseModel):
    bindings: list[DiscoveredBinding] = Field(default_factory=list)


class ValidatedBinding(ResponseModel):
    resource_path: list[str]


class Validated(ResponseModel):
    bindings: list[ValidatedBinding] = Field(default_factory=list)


class Applied(ResponseModel):
    action_description: str = ""


class Opened(ResponseModel):
    explicit_acknowledgements: bool | None = None


class Captured(ResponseModel):
    binding: int = 0
    doc: JsonValue


class SourcedSchema(ResponseModel):
    binding: int = 0
    document_schema: JsonValue


class Checkpoint(ResponseModel):
    state: ConnectorState | None = None


class Response(ResponseModel):
    spec: SpecResponse | None = None
    discovered: Discovered | None = None
    validated: Validated | None = None
    applied: Applied | None = None
    opened: Opened | None = None
    captured: Captured | None = None
    sourced_schema: SourcedSchema | None = None
    checkpoint: Checkpoint | None = None

    @property
    def message(self) -> str:
        return message_name(self)
