"""The capture framework: declare resources and fetch functions; the framework speaks Flow."""

from connector_kit.capture.connector import CaptureConnector
from connector_kit.capture.resources import (
    ROW_ID_KEY,
    Backfill,
    Cursor,
    Document,
    Incremental,
    Resource,
    ResourceConfig,
    Snapshot,
    SourcedSchema,
)

__all__ = [
    "ROW_ID_KEY",
    "Backfill",
    "CaptureConnector",
    "Cursor",
    "Document",
    "Incremental",
    "Resource",
    "ResourceConfig",
    "Snapshot",
    "SourcedSchema",
]
