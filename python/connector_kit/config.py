"""Endpoint and resource configs of any connector: parsing with errors that name the field,
spec schemas with secrets marked, and the secret values to keep out of logs."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, SecretStr, ValidationError

from connector_kit.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


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
    """Every value of a field marked `secret: true` (or typed SecretStr), at any depth."""
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


def config_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema, with `secret: true` on every write-only (SecretStr) field."""
    schema = model.model_json_schema(by_alias=True)
    _mark_write_only_secret(schema)
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
