"""Validating captured documents against their collection's write schema.

The validator follows the schema's `$schema` (2020-12 when absent), checks
formats, and resolves relative `$ref`s against the schema's own file. A
violation names the collection, the JSON pointer of the offending value and
the reason, and never echoes the document itself.

Valid documents, nearly all of them, are recognized by a compiled predicate
(`schema_predicate`) in microseconds; jsonschema itself runs only for schemas
the predicate cannot compile and for documents it rejects, to name the error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import jsonschema
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

from connector_kit.errors import ConfigError, SourceError
from connector_kit.runtime.catalog import Collection
from connector_kit.runtime.projections import escape_pointer_token
from connector_kit.runtime.schema_predicate import compile_predicate
from connector_kit.runtime.yaml_files import read_yaml_file


class DocumentSchemaError(SourceError):
    """A captured document does not match its collection's schema."""


class DocumentValidator:
    """Checks documents of one collection."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection
        schema = collection.write_schema
        if isinstance(schema, dict) and "$id" not in schema:
            schema = {"$id": collection.schema_file.as_uri(), **schema}
        validator_class = jsonschema.validators.validator_for(
            schema, default=jsonschema.Draft202012Validator
        )
        try:
            validator_class.check_schema(schema)
        except jsonschema.SchemaError as err:
            raise ConfigError(
                f"the schema of collection {collection.name} ({collection.schema_file}) is not a "
                f"valid JSON schema: {err.message} at {_pointer(err.absolute_path) or 'its root'}"
            ) from None
        self._validator = validator_class(
            schema,
            # referencing's attrs classes take `retrieve`/`ref`; mypy's attrs plugin misses them.
            registry=Registry(retrieve=_retrieve_file),  # type: ignore[call-arg]
            format_checker=validator_class.FORMAT_CHECKER,
        )
        self._is_valid = compile_predicate(
            collection.write_schema, format_check=validator_class.FORMAT_CHECKER.conforms
        )

    @property
    def compiled(self) -> bool:
        """Whether valid documents are recognized without running jsonschema."""
        return self._is_valid is not None

    def check(self, document: Any, *, task: str, binding: int) -> None:
        if self._is_valid is not None and self._is_valid(document):
            return
        error = best_match(self._validator.iter_errors(document))
        if error is None:
            return
        where = _pointer(error.absolute_path) or "the document root"
        raise DocumentSchemaError(
            f"{task}: a document captured by binding {binding} into collection "
            f"{self.collection.name} does not match the collection's schema at {where}: "
            f"{_reason(error)}"
        )


def _pointer(path: Any) -> str:
    return "".join(f"/{escape_pointer_token(str(part))}" for part in path)


def _reason(error: jsonschema.ValidationError) -> str:
    # jsonschema's messages quote the offending value; a long one (or a secret) stays out.
    if error.validator in ("type", "required", "additionalProperties", "enum", "const"):
        message = str(error.message)
        return message if len(message) <= 200 else message[:200] + "…"
    return f"fails `{error.validator}: {error.validator_value!r}`"[:300]


def _retrieve_file(uri: str) -> Resource[Any]:
    if not uri.startswith("file://"):
        raise NoSuchResource(ref=uri)  # type: ignore[call-arg]
    path = Path(unquote(urlparse(uri).path))
    return Resource.from_contents(read_yaml_file(path, what="schema file"))
