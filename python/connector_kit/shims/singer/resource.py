"""The resource config of a Singer binding: which stream, replicated how."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

ReplicationMethod = Literal["INCREMENTAL", "FULL_TABLE", "LOG_BASED"]


class SingerResource(BaseModel):
    model_config = ConfigDict(
        extra="forbid", title="Singer stream", alias_generator=to_camel, populate_by_name=True
    )

    PATH_POINTERS: ClassVar[list[str]] = ["/stream"]

    stream: str = Field(min_length=1, description="The tap's `tap_stream_id` of the stream.")
    replication_method: ReplicationMethod = Field(
        default="FULL_TABLE",
        description="INCREMENTAL reads from the last bookmark; FULL_TABLE re-reads the table; "
        "LOG_BASED follows the source's change log.",
    )
    replication_key: str | None = Field(
        default=None, description="The field INCREMENTAL replication advances by."
    )

    def path(self) -> list[str]:
        return [self.stream]

    def as_config(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
