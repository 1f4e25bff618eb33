"""The resource config schema of a materialization and the annotations Flow reads in it.

The resource schema must mark the field naming the target with `x-collection-name`
(and may mark `x-schema-name` and `x-delta-updates`): Flow's UI and control plane
read those annotations instead of resource-path pointers.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from connector_kit.config import config_schema
from connector_kit.errors import ConfigError

COLLECTION_NAME = "x-collection-name"
SCHEMA_NAME = "x-schema-name"
DELTA_UPDATES = "x-delta-updates"


def resource_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The resource config's JSON schema, checked to carry exactly one `x-collection-name`."""
    schema = config_schema(model)
    properties = schema.get("properties") or {}
    named = [name for name, prop in properties.items() if prop.get(COLLECTION_NAME) is True]
    if len(named) != 1:
        raise ConfigError(
            f"resource config {model.__name__} must mark exactly one string field with "
            f"`{COLLECTION_NAME}: true` (found {named or 'none'}); "
            "add json_schema_extra={'x-collection-name': True} to the table name field"
        )
    return schema
