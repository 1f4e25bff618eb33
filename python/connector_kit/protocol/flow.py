"""Shared Flow types that capture and materialize messages embed (flow.proto)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from connector_kit.protocol.base import JsonValue, RequestModel, ResponseModel


class ConnectorType(StrEnum):
    INVALID_CONNECTOR_TYPE = "INVALID_CONNECTOR_TYPE"
    IMAGE = "IMAGE"
    SQLITE = "SQLITE"
    LOCAL = "LOCAL"
    TYPESCRIPT = "TYPESCRIPT"
    DEKAF = "DEKAF"


class Exists(StrEnum):
    MUST = "MUST"
    MAY = "MAY"
    IMPLICIT = "IMPLICIT"
    CANNOT = "CANNOT"


class StringInference(RequestModel):
    content_type: str | None = None
    format: str | None = None
    content_encoding: str | None = None
    max_length: int | None = None


class Inference(RequestModel):
    types: list[str] = Field(default_factory=list)
    string: StringInference | None = None
    title: str | None = None
    description: str | None = None
    default: JsonValue = None
    secret: bool | None = None
    exists: Exists | None = None
    numeric: JsonValue = None
    array: JsonValue = None


class Projection(RequestModel):
    ptr: str = ""
    field: str
    explicit: bool | None = None
    is_partition_key: bool | None = None
    is_primary_key: bool | None = None
    inference: Inference | None = None


class CollectionSpec(RequestModel):
    name: str
    write_schema: JsonValue = None
    read_schema: JsonValue = None
    key: list[str] = Field(default_factory=list)
    uuid_ptr: str | None = None
    partition_fields: list[str] = Field(default_factory=list)
    projections: list[Projection] = Field(default_factory=list)
    ack_template: JsonValue = None
    partition_template: JsonValue = None
    derivation: JsonValue = None

    @property
    def schema_for_reading(self) -> JsonValue:
        """The read schema, falling back to the write schema as the protocol specifies."""
        return self.read_schema if self.read_schema is not None else self.write_schema

    def projection(self, field: str) -> Projection | None:
        return next((p for p in self.projections if p.field == field), None)


class FieldSelection(RequestModel):
    keys: list[str] = Field(default_factory=list)
    values: list[str] = Field(default_factory=list)
    document: str | None = None
    field_config: dict[str, JsonValue] | None = Field(default=None, alias="fieldConfig")


class RangeSpec(RequestModel):
    key_begin: int = 0
    key_end: int = 0xFFFFFFFF
    r_clock_begin: int = 0
    r_clock_end: int = 0xFFFFFFFF


FULL_RANGE = RangeSpec(key_begin=0, key_end=0xFFFFFFFF, r_clock_begin=0, r_clock_end=0xFFFFFFFF)


class ConnectorState(ResponseModel):
    """A checkpoint's state update: reduced into the persisted state by RFC 7396 merge patch."""

    updated: JsonValue
    merge_patch: bool | None = None


class OAuth2(ResponseModel):
    provider: str
    auth_url_template: str | None = None
    access_token_url_template: str | None = None
    access_token_method: str | None = None
    access_token_body: str | None = None
    access_token_headers: dict[str, JsonValue] | None = None
    access_token_response_map: dict[str, JsonValue] | None = None
    refresh_token_url_template: str | None = None
    refresh_token_method: str | None = None
    refresh_token_body: str | None = None
    refresh_token_headers: dict[str, JsonValue] | None = None
    refresh_token_response_map: dict[str, JsonValue] | None = None


class CaptureBinding(RequestModel):
    resource_config: JsonValue = None
    resource_path: list[str] = Field(default_factory=list)
    collection: CollectionSpec
    backfill: int = 0
    state_key: str = ""


class CaptureSpec(RequestModel):
    name: str
    connector_type: str | None = None
    config: JsonValue = None
    bindings: list[CaptureBinding] = Field(default_factory=list)
    interval_seconds: int | None = None
    shard_template: JsonValue = None
    recovery_log_template: JsonValue = None
    network_ports: JsonValue = None
    inactive_bindings: JsonValue = None
    redact_salt: JsonValue = None


class SerPolicy(ResponseModel):
    str_truncate_after: int | None = None
    nested_obj_truncate_after: int | None = None
    array_truncate_after: int | None = None


class MaterializationBinding(RequestModel):
    resource_config: JsonValue = None
    resource_path: list[str] = Field(default_factory=list)
    collection: CollectionSpec
    partition_selector: JsonValue = None
    priority: int | None = None
    field_selection: FieldSelection = Field(default_factory=FieldSelection)
    delta_updates: bool = False
    journal_read_suffix: str | None = None
    not_before: str | None = None
    not_after: str | None = None
    backfill: int = 0
    state_key: str = ""
    ser_policy: JsonValue = None


class MaterializationSpec(RequestModel):
    name: str
    connector_type: str | None = None
    config: JsonValue = None
    bindings: list[MaterializationBinding] = Field(default_factory=list)
    shard_template: JsonValue = None
    recovery_log_template: JsonValue = None
    network_ports: JsonValue = None
    inactive_bindings: JsonValue = None
