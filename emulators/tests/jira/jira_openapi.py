"""Validate response bodies against the response schemas of the published Jira Cloud
platform OpenAPI document, resolving `$ref`s with `referencing`.

The document omits `nullable` although Jira returns nulls for some properties (its own
examples show `"from": null` in changelog items and `"approximateLastUsed": null` in
filters); only those listed in `NULLABLE` are widened to accept null.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPEC_URI = "urn:jira-cloud-platform-openapi"

# (schema name, property) pairs that real Jira responses carry as null.
NULLABLE: tuple[tuple[str, str], ...] = (
    ("ChangeDetails", "from"),
    ("ChangeDetails", "fromString"),
    ("ChangeDetails", "to"),
    ("ChangeDetails", "toString"),
    ("FilterDetails", "approximateLastUsed"),
)


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass(frozen=True)
class OpenApiResponses:
    document: dict[str, Any]
    registry: Registry

    @classmethod
    def load(cls, path: Path) -> OpenApiResponses:
        document = json.loads(path.read_text(encoding="utf-8"))
        patched = copy.deepcopy(document)
        schemas = patched["components"]["schemas"]
        for name, prop in NULLABLE:
            original = schemas[name]["properties"][prop]
            schemas[name]["properties"][prop] = {"anyOf": [original, {"type": "null"}]}
        resource = Resource.from_contents(patched, default_specification=DRAFT4)
        return cls(document=patched, registry=Registry().with_resource(SPEC_URI, resource))

    def operation(self, path: str, method: str) -> dict[str, Any]:
        return self.document["paths"][path][method.lower()]

    def response_schema(self, path: str, method: str, status: int) -> dict[str, Any] | None:
        responses = self.operation(path, method)["responses"]
        entry = responses.get(str(status))
        if entry is None:
            raise AssertionError(f"{method} {path} documents no {status} response")
        return entry.get("content", {}).get("application/json", {}).get("schema")

    def component_validator(self, name: str) -> Draft4Validator:
        return Draft4Validator(
            {"$ref": f"{SPEC_URI}#/components/schemas/{name}"}, registry=self.registry
        )

    def validator(self, path: str, method: str, status: int) -> Draft4Validator:
        if self.response_schema(path, method, status) is None:
            raise AssertionError(f"{method} {path} {status} has no JSON schema in the document")
        pointer = _pointer(
            "paths",
            path,
            method.lower(),
            "responses",
            str(status),
            "content",
            "application/json",
            "schema",
        )
        return Draft4Validator({"$ref": f"{SPEC_URI}#/{pointer}"}, registry=self.registry)

    def errors(self, path: str, method: str, status: int, body: Any) -> list[str]:
        validator = self.validator(path, method, status)
        return [
            f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in validator.iter_errors(body)
        ]
