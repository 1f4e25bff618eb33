"""Writing a Discover response into the catalog, as `flowctl raw discover` does.

The capture's bindings become one per discovered binding (`resource` = its
resource config, `target` = `{prefix}/{recommendedName}`, where the prefix is
the capture name up to its last `/`). Each target collection gets the
discovered schema and key: where it is already defined, in place (a schema
file is rewritten, an inline schema replaced); otherwise in flowctl's layout,
`<prefix>/flow.yaml` beside `<name>.schema.yaml`, imported from the capture's
file. Existing bindings keep their other settings (`disable`, `backfill`,
comments), files are edited round-trip so the rest stays as written, and a
file whose content would not change is not touched, so re-running is a no-op.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from connector_kit.errors import ConfigError
from connector_kit.protocol import capture
from connector_kit.runtime.catalog import CaptureTask, Catalog
from connector_kit.runtime.yaml_files import (
    dump_round_trip,
    dump_yaml,
    load_round_trip,
    parse_yaml,
)

log = logging.getLogger(__name__)


@dataclass
class DiscoverChanges:
    """Files to write, keyed by path: edited catalogs (round-trip trees) and schema texts."""

    catalogs: dict[Path, Any] = field(default_factory=dict)
    schemas: dict[Path, str] = field(default_factory=dict)

    def catalog(self, path: Path) -> Any:
        if path not in self.catalogs:
            self.catalogs[path] = load_round_trip(path) if path.exists() else CommentedMap()
            if self.catalogs[path] is None:
                self.catalogs[path] = CommentedMap()
        return self.catalogs[path]


def write_discovered(
    catalog: Catalog, task: CaptureTask, bindings: list[capture.DiscoveredBinding]
) -> list[Path]:
    """Rewrite the catalog for `bindings`; returns the files that changed."""
    prefix = task.name.rsplit("/", 1)[0] if "/" in task.name else task.name
    changes = DiscoverChanges()
    targets = [f"{prefix}/{binding.recommended_name}" for binding in bindings]
    _rewrite_bindings(changes, task, bindings, targets)
    for binding, target in zip(bindings, targets, strict=True):
        _write_collection(changes, catalog, task, binding, target)
    return _flush(changes)


def _rewrite_bindings(
    changes: DiscoverChanges,
    task: CaptureTask,
    discovered: list[capture.DiscoveredBinding],
    targets: list[str],
) -> None:
    document = changes.catalog(task.file)
    entry = document["captures"][task.name]
    existing = entry.get("bindings") or []
    by_target = {b.get("target"): b for b in existing if isinstance(b, dict)}
    rewritten = CommentedSeq()
    for binding, target in zip(discovered, targets, strict=True):
        kept = by_target.get(target)
        if kept is None:
            kept = CommentedMap()
            kept["resource"] = binding.resource_config
            kept["target"] = target
            if binding.disable:
                kept["disable"] = True
        elif kept.get("resource") != binding.resource_config:
            kept["resource"] = binding.resource_config
        rewritten.append(kept)
    if list(existing) != list(rewritten):
        entry["bindings"] = rewritten


def _write_collection(
    changes: DiscoverChanges,
    catalog: Catalog,
    task: CaptureTask,
    binding: capture.DiscoveredBinding,
    name: str,
) -> None:
    known = catalog.collections.get(name)
    if known is not None:
        entry = changes.catalog(known.file)["collections"][name]
        schema_field = "schema" if "schema" in entry else "writeSchema"
        _set_schema(changes, entry, schema_field, binding.document_schema, base=known.file.parent)
        if list(entry.get("key") or []) != binding.key:
            entry["key"] = list(binding.key)
        return
    *directories, leaf = name.split("/")
    folder = task.file.parent.joinpath(*directories)
    collections_file = folder / "flow.yaml"
    schema_file = folder / f"{leaf}.schema.yaml"
    document = changes.catalog(collections_file)
    collections = document.setdefault("collections", CommentedMap())
    entry = CommentedMap()
    entry["schema"] = schema_file.name
    entry["key"] = list(binding.key)
    collections[name] = entry
    _stage_schema_file(changes, schema_file, binding.document_schema)
    _ensure_import(changes, task.file, collections_file)


def _set_schema(
    changes: DiscoverChanges, entry: Any, schema_field: str, schema: Any, *, base: Path
) -> None:
    current = entry.get(schema_field)
    if isinstance(current, str):
        reference, _, fragment = current.partition("#")
        if fragment:
            raise ConfigError(
                f"collection schema {current!r} points into part of a file; discover cannot "
                "rewrite it, so point the collection at a whole schema file or inline it"
            )
        _stage_schema_file(changes, base / reference, schema)
    elif current != schema:
        entry[schema_field] = schema


def _stage_schema_file(changes: DiscoverChanges, path: Path, schema: Any) -> None:
    if path.exists():
        existing = parse_yaml(path.read_text(encoding="utf-8"), origin=f"schema file {path}")
        if existing == schema:
            return
    changes.schemas[path] = dump_yaml(schema)


def _ensure_import(changes: DiscoverChanges, importer: Path, imported: Path) -> None:
    document = changes.catalog(importer)
    relative = Path(os.path.relpath(imported, importer.parent)).as_posix()
    imports = document.get("import")
    if imports is None:
        document.insert(0, "import", CommentedSeq([relative]))
        return
    resolved = {(importer.parent / str(item)).resolve() for item in imports}
    if imported.resolve() not in resolved:
        imports.append(relative)


def _flush(changes: DiscoverChanges) -> list[Path]:
    written = []
    for path, document in changes.catalogs.items():
        text = dump_round_trip(document)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    for path, text in changes.schemas.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    for path in written:
        log.info("wrote %s", path, extra={"fields": {"file": str(path)}})
    return written
