"""Endpoint and resource configs of a materialization: parsing, secrets and spec schemas.

The resource schema must mark the field naming the target with `x-collection-name`
(and may mark `x-schema-name` and `x-delta-updates`): Flow's UI and control plane
read those annotations instead of resource-path pointers.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, SecretStr, ValidationError

from connector_kit.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

COLLECTION_NAME = "x-collection-name"
SCHEMA_NAME = "x-schema-name"
DELTA_UPDATES = "x-delta-updates"


def parse_config(model: type[M], value: Any, *, what: str) -> M:
    """Validate `value` as `model`; a failure lists every bad field with what is wrong."""
    try:
        return model.model_validate(value if value is not None else {})
    except ValidationError as err:
        problems = "; ".join(
            f"`{'.'.join(str(p) for p in e['loc']) or '(root)'}`: {e['msg']}" for e in err.errors()
        )
        raise ConfigError(f"{what} is invalid: {problems}") from None


def secret_values(config: BaseModel) -> set[str]:
    """Every value typed SecretStr or marked `secret: true`, at any depth."""
    found: set[str] = set()
    for name, field in type(config).model_fields.items():
        value = getattr(config, name)
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if isinstance(value, SecretStr):
            found.add(value.get_secret_value())
        elif extra.get("secret") and value is not None:
            found.add(str(value))
        elif isinstance(value, BaseModel):
            found |= secret_values(value)
    return found


def endpoint_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The endpoint config's JSON schema, `secret: true` on every SecretStr field."""
    schema = model.model_json_schema(by_alias=True)
    _mark_write_only_secret(schema)
    return schema


def resource_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The resource config's JSON schema, checked to carry exactly one `x-collection-name`."""
    schema = model.model_json_schema(by_alias=True)
    properties = schema.get("properties") or {}
    named = [name for name, prop in properties.items() if prop.get(COLLECTION_NAME) is True]
    if len(named) != 1:
        raise ConfigError(
            f"resource config {model.__name__} must mark exactly one string field with "
            f"`{COLLECTION_NAME}: true` (found {named or 'none'}); "
            "add json_schema_extra={'x-collection-name': True} to the table name field"
        )
    return schema


def _mark_write_only_secret(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("writeOnly") is True:
            node.setdefault("secret", True)
        for child in node.values():
            _mark_write_only_secret(child)
    elif isinstance(node, list):
        for child in node:
            _mark_write_only_secret(child)
