"""Loading a catalog: a root `test.flow.yaml`, the files it imports, and the configs
and schemas its entries point at, resolved into one set of named tasks and collections.

Paths (imports, config files, schema files) are relative to the file that names
them. Each file is read once, so import cycles are harmless, as in Flow. A name
defined by two files, a missing file, or an invalid entry is a ConfigError that
names the file and the entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

from pydantic import ValidationError

from connector_kit.errors import ConfigError
from connector_kit.runtime.catalog_errors import entry_location, invalid_entries, invalid_entry
from connector_kit.runtime.catalog_model import (
    DEFAULT_LOG_LEVEL,
    CaptureDef,
    CatalogFile,
    CollectionDef,
    ConnectorEndpoint,
    LocalEndpoint,
    MaterializationDef,
)
from connector_kit.runtime.yaml_files import read_yaml_file

T = TypeVar("T")


@dataclass(frozen=True)
class EndpointConfig:
    """An endpoint config as loaded (possibly still sops-encrypted) and where it came from."""

    value: dict[str, Any]
    origin: Path
    """The file holding the config: its own file, or the catalog file for an inline config."""
    location: str
    """The catalog entry that names it, e.g. `captures."acmeCo/x".endpoint.local.config`."""


@dataclass(frozen=True)
class CaptureTask:
    name: str
    file: Path
    spec: CaptureDef
    config: EndpointConfig

    @property
    def location(self) -> str:
        return entry_location(["captures", self.name])

    @property
    def endpoint(self) -> LocalEndpoint | ConnectorEndpoint:
        endpoint = self.spec.endpoint.local or self.spec.endpoint.connector
        assert endpoint is not None  # the model requires exactly one
        return endpoint

    @property
    def log_level(self) -> str:
        return self.spec.shards.log_level or DEFAULT_LOG_LEVEL


@dataclass(frozen=True)
class MaterializationTask:
    name: str
    file: Path
    spec: MaterializationDef
    config: EndpointConfig

    @property
    def location(self) -> str:
        return entry_location(["materializations", self.name])

    @property
    def log_level(self) -> str:
        return self.spec.shards.log_level or DEFAULT_LOG_LEVEL


@dataclass(frozen=True)
class Collection:
    name: str
    file: Path
    spec: CollectionDef
    write_schema: Any
    read_schema: Any
    """The read schema; the write schema when the collection has just one."""
    schema_file: Path
    """The file the write schema was read from (the catalog file when inline)."""

    @property
    def key(self) -> list[str]:
        return list(self.spec.key)


@dataclass(frozen=True)
class Catalog:
    root: Path
    files: tuple[Path, ...]
    captures: Mapping[str, CaptureTask]
    collections: Mapping[str, Collection]
    materializations: Mapping[str, MaterializationTask]

    @property
    def directory(self) -> Path:
        return self.root.parent

    def capture(self, name: str | None = None) -> CaptureTask:
        return _pick(self.captures, name, kind="capture", flag="--capture", root=self.root)

    def materialization(self, name: str | None = None) -> MaterializationTask:
        return _pick(
            self.materializations,
            name,
            kind="materialization",
            flag="--materialization",
            root=self.root,
        )

    def collection(self, name: str, *, file: Path, location: list[str | int]) -> Collection:
        """The collection `name`, referenced from `location` in `file`."""
        found = self.collections.get(name)
        if found is None:
            known = ", ".join(sorted(self.collections)) or "none"
            raise invalid_entry(
                file=file,
                location=location,
                reason=(
                    f"collection {name!r} is not defined in {self.root} or its imports "
                    f"(defined: {known}); add it under `collections:` or run "
                    "`connector-kit raw discover` to write it"
                ),
            )
        return found


def _pick(items: Mapping[str, T], name: str | None, *, kind: str, flag: str, root: Path) -> T:
    if name is not None:
        if name in items:
            return items[name]
        known = ", ".join(sorted(items)) or "none"
        raise ConfigError(f"{root} defines no {kind} named {name!r} (it defines: {known})")
    if len(items) == 1:
        return next(iter(items.values()))
    if not items:
        raise ConfigError(f"{root} and its imports define no {kind}")
    raise ConfigError(
        f"{root} defines several {kind}s ({', '.join(sorted(items))}); choose one with {flag}"
    )


def load_catalog(path: Path) -> Catalog:
    """Load the catalog rooted at `path` with everything it imports and references."""
    root = path.resolve()
    files = _read_sources(root)
    captures: dict[str, CaptureTask] = {}
    collections: dict[str, Collection] = {}
    materializations: dict[str, MaterializationTask] = {}
    defined_in: dict[tuple[str, str], Path] = {}

    for file, model in files.items():
        for kind, names in (
            ("captures", model.captures),
            ("collections", model.collections),
            ("materializations", model.materializations),
        ):
            for name in names:
                earlier = defined_in.setdefault((kind, name), file)
                if earlier != file:
                    raise invalid_entry(
                        file=file,
                        location=[kind, name],
                        reason=f"is also defined in {earlier}; a name may be defined only once",
                    )
        for name, capture in model.captures.items():
            endpoint = capture.endpoint.local or capture.endpoint.connector
            assert endpoint is not None
            kind_name = "local" if capture.endpoint.local else "connector"
            captures[name] = CaptureTask(
                name=name,
                file=file,
                spec=capture,
                config=_endpoint_config(
                    endpoint.config,
                    file=file,
                    location=["captures", name, "endpoint", kind_name, "config"],
                ),
            )
        for name, materialization in model.materializations.items():
            mat_endpoint = materialization.endpoint
            if mat_endpoint.dekaf is not None:
                raw_config: Any = mat_endpoint.dekaf.get("config", {})
                kind_name = "dekaf"
            else:
                chosen = mat_endpoint.local or mat_endpoint.connector
                assert chosen is not None
                raw_config = chosen.config
                kind_name = "local" if mat_endpoint.local else "connector"
            materializations[name] = MaterializationTask(
                name=name,
                file=file,
                spec=materialization,
                config=_endpoint_config(
                    raw_config,
                    file=file,
                    location=["materializations", name, "endpoint", kind_name, "config"],
                ),
            )
        for name, collection in model.collections.items():
            collections[name] = _resolve_collection(name, collection, file=file)

    return Catalog(
        root=root,
        files=tuple(files),
        captures=captures,
        collections=collections,
        materializations=materializations,
    )


def _read_sources(root: Path) -> dict[Path, CatalogFile]:
    """Every catalog file reachable from `root`, each read once, in import order."""
    files: dict[Path, CatalogFile] = {}
    pending: list[tuple[Path, str | None]] = [(root, None)]
    while pending:
        file, referenced_at = pending.pop()
        if file in files:
            continue
        raw = read_yaml_file(file, what="catalog", referenced_at=referenced_at)
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ConfigError(
                f"catalog {file} must be a mapping with `captures`, `collections`, "
                f"`materializations` or `import`, not a {type(raw).__name__}"
            )
        try:
            model = CatalogFile.model_validate(raw)
        except ValidationError as err:
            raise invalid_entries(err, file=file) from None
        files[file] = model
        imports = [
            (_relative_file(spec, base=file, location=["import", i]), f"{file} import[{i}]")
            for i, spec in enumerate(model.import_)
        ]
        pending.extend(reversed(imports))
    return files


def _relative_file(reference: str, *, base: Path, location: list[str | int]) -> Path:
    """The file a relative path or `file://` URL in `base` names."""
    parsed = urlparse(reference)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path)).resolve()
    if parsed.scheme and len(parsed.scheme) > 1:
        raise invalid_entry(
            file=base,
            location=location,
            reason=(
                f"{reference!r} is a {parsed.scheme} URL; the local runtime reads only files, "
                "so give a path relative to this catalog"
            ),
        )
    return (base.parent / reference).resolve()


def _endpoint_config(raw: Any, *, file: Path, location: list[str | int]) -> EndpointConfig:
    where = entry_location(location)
    if isinstance(raw, str):
        config_file = _relative_file(raw, base=file, location=location)
        value = read_yaml_file(config_file, what="config file", referenced_at=f"{where} in {file}")
        if not isinstance(value, dict):
            raise ConfigError(
                f"config file {config_file} (referenced by {where} in {file}) must hold a "
                f"mapping of settings, not a {type(value).__name__}"
            )
        return EndpointConfig(value=value, origin=config_file, location=where)
    if not isinstance(raw, dict):
        raise invalid_entry(file=file, location=location, reason="must be an object or a file")
    return EndpointConfig(value=raw, origin=file, location=where)


def _resolve_collection(name: str, spec: CollectionDef, *, file: Path) -> Collection:
    location: list[str | int] = ["collections", name]
    if spec.schema_ is not None:
        write_schema, schema_file = _resolve_schema(
            spec.schema_, file=file, location=[*location, "schema"]
        )
        read_schema = write_schema
    else:
        write_schema, schema_file = _resolve_schema(
            spec.write_schema, file=file, location=[*location, "writeSchema"]
        )
        read_schema, _ = _resolve_schema(
            spec.read_schema, file=file, location=[*location, "readSchema"]
        )
    return Collection(
        name=name,
        file=file,
        spec=spec,
        write_schema=write_schema,
        read_schema=read_schema,
        schema_file=schema_file,
    )


def _resolve_schema(raw: Any, *, file: Path, location: list[str | int]) -> tuple[Any, Path]:
    if not isinstance(raw, str):
        return raw, file
    reference, _, fragment = raw.partition("#")
    schema_file = _relative_file(reference, base=file, location=location) if reference else file
    schema = read_yaml_file(
        schema_file, what="schema file", referenced_at=f"{entry_location(location)} in {file}"
    )
    if fragment:
        schema = _follow_pointer(schema, unquote(fragment), file=schema_file, reference=raw)
    if not isinstance(schema, dict | bool):
        raise invalid_entry(
            file=file,
            location=location,
            reason=f"{raw!r} does not hold a JSON schema (found a {type(schema).__name__})",
        )
    return schema, schema_file


def _follow_pointer(value: Any, pointer: str, *, file: Path, reference: str) -> Any:
    if pointer in ("", "/"):
        return value
    for token in pointer.lstrip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            raise ConfigError(f"schema reference {reference!r}: {file} has nothing at {pointer}")
    return value
