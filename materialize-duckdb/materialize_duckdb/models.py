"""Endpoint and resource configuration of materialize-duckdb; their JSON schemas are the spec."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from connector_kit.materialize import COLLECTION_NAME, DELTA_UPDATES, SCHEMA_NAME

MOTHERDUCK_PREFIX = "md:"


class DuckLake(BaseModel):
    """Keep tables as Parquet data files under `dataPath`, listed in a DuckLake catalog."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    catalog: str = Field(
        description="The DuckLake catalog database, e.g. `metadata.ducklake` (a DuckDB file) "
        "or `postgres:dbname=lake`; see DuckLake's ATTACH documentation.",
        min_length=1,
    )
    data_path: str = Field(
        alias="dataPath",
        description="Directory or object-store prefix where DuckLake writes Parquet data files.",
        min_length=1,
    )


class EndpointConfig(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    database: str = Field(
        default="materialize.duckdb",
        description="A DuckDB database file (created if missing), or `md:<database>` for "
        "MotherDuck. Ignored when `ducklake` is set.",
        min_length=1,
    )
    token: SecretStr | None = Field(
        default=None,
        description="MotherDuck access token; required for an `md:` database.",
        json_schema_extra={"secret": True},
    )
    schema_: str = Field(
        default="main",
        alias="schema",
        description="Schema for tables whose binding names none, and for the checkpoints table.",
        min_length=1,
    )
    hard_delete: bool = Field(
        default=False,
        alias="hardDelete",
        description="Delete rows of deleted documents; otherwise keep them with `_meta/op = 'd'`.",
    )
    ducklake: DuckLake | None = Field(
        default=None, description="Store tables in a DuckLake instead of the database file."
    )
    staging_directory: str | None = Field(
        default=None,
        alias="stagingDirectory",
        description="Where Parquet files are staged before each commit. Default: beside the "
        "database file (`<database>.flow-staging`), or a temporary directory for MotherDuck "
        "and DuckLake.",
    )

    memory_limit: str = Field(
        default="512MB",
        alias="memoryLimit",
        description="DuckDB's memory limit for each of the connector's two engines (staging "
        "and the destination); beyond it DuckDB spills to disk. Raise it for very large "
        "transactions on a machine with memory to spare.",
        min_length=1,
    )

    @model_validator(mode="after")
    def _motherduck_needs_token(self) -> EndpointConfig:
        if self.is_motherduck and self.ducklake is None and self.token is None:
            raise ValueError(
                f"`token` is required for a MotherDuck (`{MOTHERDUCK_PREFIX}`) database"
            )
        return self

    @property
    def is_motherduck(self) -> bool:
        return self.database.startswith(MOTHERDUCK_PREFIX)


class ResourceConfig(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    table: str = Field(
        description="Name of the table to materialize into.",
        min_length=1,
        json_schema_extra={COLLECTION_NAME: True},
    )
    schema_: str | None = Field(
        default=None,
        alias="schema",
        description="Schema of the table; default: the endpoint's schema.",
        json_schema_extra={SCHEMA_NAME: True},
    )
    delta_updates: bool = Field(
        default=False,
        description="Append every stored document instead of keeping one row per key.",
        json_schema_extra={DELTA_UPDATES: True},
    )

    def schema_name(self, config: EndpointConfig) -> str:
        return self.schema_ or config.schema_
