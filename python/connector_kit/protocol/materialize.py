"""Materialize protocol messages (materialize.proto, protocol 3032023)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from connector_kit.protocol.base import Base64Bytes, JsonValue, RequestModel, ResponseModel
from connector_kit.protocol.envelope import message_name
from connector_kit.protocol.flow import (
    CollectionSpec,
    ConnectorState,
    MaterializationSpec,
    OAuth2,
    RangeSpec,
    SerPolicy,
)

# --- Requests (runtime → connector) ---------------------------------------------


class Spec(RequestModel):
    connector_type: str | None = None
    config: JsonValue = None


class ValidateBinding(RequestModel):
    resource_config: JsonValue = None
    collection: CollectionSpec
    field_config: dict[str, JsonValue] | None = Field(default=None, alias="fieldConfig")
    backfill: int = 0
    group_by: list[str] = Field(default_factory=list)


class Validate(RequestModel):
    name: str = ""
    connector_type: str | None = None
    config: JsonValue = None
    bindings: list[ValidateBinding] = Field(default_factory=list)
    last_materialization: MaterializationSpec | None = None
    last_version: str | None = None


class Apply(RequestModel):
    materialization: MaterializationSpec
    version: str = ""
    last_materialization: MaterializationSpec | None = None
    last_version: str | None = None
    state: JsonValue = None


class Open(RequestModel):
    materialization: MaterializationSpec
    version: str = ""
    range: RangeSpec | None = None
    state: JsonValue = None


class Load(RequestModel):
    binding: int = 0
    key: JsonValue = None
    key_packed: Base64Bytes = b""


class Flush(RequestModel):
    pass


class Store(RequestModel):
    binding: int = 0
    key: JsonValue = None
    values: JsonValue = None
    key_packed: Base64Bytes = b""
    values_packed: Base64Bytes = b""
    doc: JsonValue = None
    exists: bool = False
    delete: bool = False


class StartCommit(RequestModel):
    runtime_checkpoint: JsonValue = None


class Acknowledge(RequestModel):
    pass


class Request(RequestModel):
    spec: Spec | None = None
    validate_: Validate | None = Field(default=None, alias="validate")
    apply: Apply | None = None
    open: Open | None = None
    load: Load | None = None
    flush: Flush | None = None
    store: Store | None = None
    start_commit: StartCommit | None = None
    acknowledge: Acknowledge | None = None

    @property
    def message(self) -> str:
        return message_name(self)


# --- Responses (connector → runtime) ---------------------------------------------


class ConstraintType(StrEnum):
    INVALID = "INVALID"
    FIELD_REQUIRED = "FIELD_REQUIRED"
    LOCATION_REQUIRED = "LOCATION_REQUIRED"
    LOCATION_RECOMMENDED = "LOCATION_RECOMMENDED"
    FIELD_OPTIONAL = "FIELD_OPTIONAL"
    FIELD_FORBIDDEN = "FIELD_FORBIDDEN"
    INCOMPATIBLE = "INCOMPATIBLE"
    UNSATISFIABLE = "UNSATISFIABLE"


class Constraint(ResponseModel):
    type: ConstraintType
    reason: str = ""
    folded_field: str | None = None


class SpecResponse(ResponseModel):
    protocol: int
    config_schema: JsonValue
    resource_config_schema: JsonValue
    documentation_url: str | None = None
    oauth2: OAuth2 | None = None


class ValidatedBinding(ResponseModel):
    constraints: dict[str, Constraint] = Field(default_factory=dict)
    resource_path: list[str]
    delta_updates: bool | None = None
    ser_policy: SerPolicy | None = None
    case_insensitive_fields: bool | None = None


class Validated(ResponseModel):
    bindings: list[ValidatedBinding] = Field(default_factory=list)


class Applied(ResponseModel):
    action_description: str = ""
    state: ConnectorState | None = None


class Opened(ResponseModel):
    runtime_checkpoint: JsonValue = None
    disable_load_optimization: bool | None = None


class Loaded(ResponseModel):
    binding: int = 0
    doc: JsonValue


class Flushed(ResponseModel):
    state: ConnectorState | None = None


class StartedCommit(ResponseModel):
    state: ConnectorState | None = None


class Acknowledged(ResponseModel):
    state: ConnectorState | None = None


class Response(ResponseModel):
    spec: SpecResponse | None = None
    validated: Validated | None = None
    applied: Applied | None = None
    opened: Opened | None = None
    loaded: Loaded | None = None
    flushed: Flushed | None = None
    started_commit: StartedCommit | None = None
    acknowledged: Acknowledged | None = None

    @property
    def message(self) -> str:
        return message_name(self)
