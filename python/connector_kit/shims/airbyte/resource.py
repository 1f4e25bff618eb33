"""The resource config of an Airbyte binding: which stream, read how."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

SyncMode = Literal["incremental", "full_refresh"]


class AirbyteResource(BaseModel):
    model_config = ConfigDict(
        extra="forbid", title="Airbyte stream", alias_generator=to_camel, populate_by_name=True
    )

    PATH_POINTERS: ClassVar[list[str]] = ["/namespace", "/stream"]

    stream: str = Field(min_length=1, description="Name of the stream in the Airbyte source.")
    sync_mode: SyncMode = Field(
        description="`incremental` reads only what changed since the last checkpoint; "
        "`full_refresh` re-reads the whole stream every run."
    )
    namespace: str | None = Field(default=None, description="Namespace of the stream, if any.")
    cursor_field: list[str] | None = Field(
        default=None,
        description="Path of the field an incremental stream advances by, when the source "
        "does not define it.",
    )

    def path(self) -> list[str]:
        return [self.namespace, self.stream] if self.namespace else [self.stream]

    def descriptor(self) -> dict[str, str]:
        """The Airbyte `stream_descriptor` of this stream."""
        if self.namespace:
            return {"name": self.stream, "namespace": self.namespace}
        return {"name": self.stream}

    def as_config(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
