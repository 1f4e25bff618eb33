"""Pydantic models of one catalog source file (`test.flow.yaml`) as it is written.

They follow Flow's `models` crate: camelCase names, unknown fields refused (so a
typo is an error, not a silently ignored setting), configs and schemas either
inline or a path relative to the file. Resolving those paths and imports is the
loader's job (`catalog.py`); these models only say what a file may contain.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from connector_kit.runtime.duration import parse_duration

DEFAULT_INTERVAL_SECONDS = 300.0
"""A capture whose connector exits is restarted this long after it started (Flow's default)."""

DEFAULT_LOG_LEVEL = "info"


class CatalogModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        alias_generator=to_camel,
        frozen=True,
    )


def _config_or_path(value: Any) -> Any:
    if isinstance(value, dict | str):
        return value
    raise ValueError(
        "must be an inline object or the path of a YAML or JSON file relative to this catalog"
    )


def _json_pointer(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"{value!r} is not a JSON pointer; pointers start with '/', as in /id")
    return value


ConfigValue = Annotated[Any, AfterValidator(_config_or_path)]
"""An endpoint config: inline, or a YAML/JSON file path relative to the catalog file."""

JsonPointer = Annotated[str, AfterValidator(_json_pointer)]


class LocalEndpoint(CatalogModel):
    """`endpoint.local`: a command run directly on this machine (development only)."""

    command: list[str] = Field(min_length=1)
    config: ConfigValue
    env: dict[str, str] = Field(default_factory=dict)
    protobuf: bool = False


class ConnectorEndpoint(CatalogModel):
    """`endpoint.connector`: a connector image, run with `docker run -i`."""

    image: str = Field(min_length=1)
    config: ConfigValue


class CaptureEndpoint(CatalogModel):
    local: LocalEndpoint | None = None
    connector: ConnectorEndpoint | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> CaptureEndpoint:
        if (self.local is None) == (self.connector is None):
            raise ValueError("give exactly one of `local` (a command) or `connector` (an image)")
        return self


class MaterializationEndpoint(CatalogModel):
    local: LocalEndpoint | None = None
    connector: ConnectorEndpoint | None = Field(
        default=None, validation_alias=AliasChoices("connector", "flowSink")
    )
    dekaf: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> MaterializationEndpoint:
        given = [e for e in (self.local, self.connector, self.dekaf) if e is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of `local` (a command), `connector` (an image) or `dekaf`"
            )
        return self


class ShardTemplate(CatalogModel):
    """`shards`: of its settings only `logLevel` and `disable` mean anything locally."""

    disable: bool = False
    min_txn_duration: str | None = None
    max_txn_duration: str | None = None
    hot_standbys: int | None = None
    ring_buffer_size: int | None = None
    read_channel_size: int | None = None
    log_level: str | None = None


class CaptureBindingDef(CatalogModel):
    resource: dict[str, Any]
    target: str = Field(min_length=1)
    disable: bool = False
    backfill: int = Field(default=0, ge=0)


class AutoDiscover(CatalogModel):
    add_new_bindings: bool = False
    evolve_incompatible_collections: bool = False


class CaptureDef(CatalogModel):
    endpoint: CaptureEndpoint
    bindings: list[CaptureBindingDef] = Field(default_factory=list)
    interval: float = DEFAULT_INTERVAL_SECONDS
    shards: ShardTemplate = Field(default_factory=ShardTemplate)
    auto_discover: AutoDiscover | None = None
    expect_pub_id: str | None = None
    delete: bool = False
    redact_salt: str | None = None

    @field_validator("interval", mode="before")
    @classmethod
    def _parse_interval(cls, value: Any) -> float:
        if not isinstance(value, str):
            raise ValueError("must be a duration string such as 5m, 30s or 1h")
        return parse_duration(value)


class ProjectionDef(CatalogModel):
    location: JsonPointer
    partition: bool = False


class CollectionDef(CatalogModel):
    schema_: Any = Field(default=None, alias="schema")
    write_schema: Any = None
    read_schema: Any = None
    key: list[JsonPointer] = Field(min_length=1)
    projections: dict[str, ProjectionDef] = Field(default_factory=dict)
    journals: dict[str, Any] | None = None
    derive: dict[str, Any] | None = None
    expect_pub_id: str | None = None
    delete: bool = False

    @field_validator("schema_", "write_schema", "read_schema")
    @classmethod
    def _schema_or_path(cls, value: Any) -> Any:
        if value is None or isinstance(value, dict | str | bool):
            return value
        raise ValueError(
            "must be an inline JSON schema or the path of a schema file relative to this catalog"
        )

    @field_validator("projections", mode="before")
    @classmethod
    def _expand_projections(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                field: {"location": p} if isinstance(p, str) else p for field, p in value.items()
            }
        return value

    @model_validator(mode="after")
    def _one_schema_form(self) -> CollectionDef:
        split = self.write_schema is not None or self.read_schema is not None
        if self.schema_ is not None and split:
            raise ValueError("give either `schema`, or `writeSchema` and `readSchema`, not both")
        if self.schema_ is None and (self.write_schema is None or self.read_schema is None):
            raise ValueError("`schema` (or both `writeSchema` and `readSchema`) is required")
        return self


class PartitionSelector(CatalogModel):
    include: dict[str, list[Any]] = Field(default_factory=dict)
    exclude: dict[str, list[Any]] = Field(default_factory=dict)


def _rfc3339(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError(
            f"{value!r} is not an RFC 3339 time with a zone, such as 2024-05-01T00:00:00Z"
        )
    return value


Rfc3339 = Annotated[str, AfterValidator(_rfc3339)]


class SourceDef(CatalogModel):
    name: str = Field(min_length=1)
    partitions: PartitionSelector | None = None
    not_before: Rfc3339 | None = None
    """Only documents published at or after this time are read."""
    not_after: Rfc3339 | None = None
    """Only documents published at or before this time are read."""


class FieldsDef(CatalogModel):
    """`fields`: how a materialization binding selects the collection's projections."""

    recommended: Any
    require: dict[str, Any] = Field(
        default_factory=dict, validation_alias=AliasChoices("require", "include")
    )
    exclude: list[str] = Field(default_factory=list)
    group_by: list[str] = Field(default_factory=list)

    @field_validator("recommended")
    @classmethod
    def _depth(cls, value: Any) -> bool | int:
        if isinstance(value, bool) or (isinstance(value, int) and value >= 0):
            return value
        raise ValueError("must be true, false, or a nesting depth (0, 1, 2, …)")


class MaterializationBindingDef(CatalogModel):
    resource: dict[str, Any]
    source: SourceDef
    disable: bool = False
    priority: int = Field(default=0, ge=0)
    fields: FieldsDef = Field(default_factory=lambda: FieldsDef(recommended=True))
    backfill: int = Field(default=0, ge=0)
    on_incompatible_schema_change: str | None = None

    @field_validator("source", mode="before")
    @classmethod
    def _expand_source(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


class MaterializationDef(CatalogModel):
    endpoint: MaterializationEndpoint
    bindings: list[MaterializationBindingDef] = Field(default_factory=list)
    shards: ShardTemplate = Field(default_factory=ShardTemplate)
    source: Any = Field(default=None, validation_alias=AliasChoices("source", "sourceCapture"))
    on_incompatible_schema_change: str | None = None
    expect_pub_id: str | None = None
    delete: bool = False


class CatalogFile(CatalogModel):
    """One catalog source file: what it defines and which files it imports."""

    schema_uri: str | None = Field(default=None, alias="$schema")
    import_: list[str] = Field(default_factory=list, alias="import")
    captures: dict[str, CaptureDef] = Field(default_factory=dict)
    collections: dict[str, CollectionDef] = Field(default_factory=dict)
    materializations: dict[str, MaterializationDef] = Field(default_factory=dict)
    tests: dict[str, Any] = Field(default_factory=dict)
