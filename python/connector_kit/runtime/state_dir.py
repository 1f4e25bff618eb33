"""The run's state directory: the local stand-in for Flow's recovery logs and journals.

    <state dir>/
      lock                                 held by the one `run` using the directory
      catalog.json                         which catalog the directory belongs to
      captures/<capture>.json              reduced connector state + committed journal lengths
      materializations/<name>.json         runtime checkpoint + connector state + stored max keys
      journals/<journal>.jsonl             captured documents, one JSON line each

A capture commits a transaction by appending its documents to journals, syncing
them, and then atomically replacing its record with the new connector state and
the journals' new lengths. Bytes beyond a recorded length were never committed:
they are cut off when the capture next starts. A materialization's record names
how far it has read each journal, and is replaced once the connector has
started its commit, so it never runs ahead of the destination; a destination
that keeps its own checkpoint (returned in Opened) wins over it on restart.

Every record is written to a temporary file, synced, renamed over the old one,
and the directory synced, so a crash leaves either the old record or the new.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from connector_kit.errors import ConfigError

DEFAULT_STATE_ROOT = Path(".connector-kit") / "state"


class _Record(BaseModel):
    model_config = ConfigDict(populate_by_name=True, alias_generator=to_camel, extra="forbid")


class JournalHead(_Record):
    collection: str
    length: int = Field(ge=0)
    """Bytes of the journal that are committed."""


class CaptureRecord(_Record):
    connector_state: Any = Field(default_factory=dict)
    journals: dict[str, JournalHead] = Field(default_factory=dict)


class MaterializationRecord(_Record):
    checkpoint: Any = None
    """The runtime checkpoint of the last commit, as sent in StartCommit."""
    connector_state: Any = Field(default_factory=dict)
    max_keys: dict[str, str] = Field(default_factory=dict)
    """Per binding state key: base64 of the greatest packed key ever stored."""


R = TypeVar("R", bound=_Record)


def default_state_dir(catalog_root: Path, *, base: Path) -> Path:
    """`<base>/.connector-kit/state/<hash of the catalog's path>`."""
    digest = hashlib.sha256(str(catalog_root.resolve()).encode()).hexdigest()[:16]
    return base / DEFAULT_STATE_ROOT / digest


def journal_name(*, collection: str, capture: str) -> str:
    """The journal a capture writes a collection's documents to, named like Flow's journals."""
    return f"{collection}/capture={quote(capture, safe='')}"


class StateDirectory:
    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def locked(self, *, catalog: Path) -> Iterator[StateDirectory]:
        """Create the directory if needed and hold its lock while the run uses it."""
        for sub in ("captures", "materializations", "journals"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)
        with (self.path / "lock").open("a+b") as lock:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ConfigError(
                    f"state directory {self.path} is in use by another `connector-kit run`; "
                    "wait for it to finish or give this run its own --state-dir"
                ) from None
            self._note_catalog(catalog)
            yield self

    def _note_catalog(self, catalog: Path) -> None:
        note = self.path / "catalog.json"
        if not note.exists():
            _write_atomically(note, orjson.dumps({"catalog": str(catalog.resolve())}) + b"\n")

    def journal_path(self, journal: str) -> Path:
        return self.path / "journals" / f"{quote(journal, safe='')}.jsonl"

    def capture_record(self, capture: str) -> CaptureRecord:
        return self._read(self._capture_file(capture), CaptureRecord)

    def write_capture_record(self, capture: str, record: CaptureRecord) -> None:
        _write_atomically(self._capture_file(capture), _dump(record))

    def materialization_record(self, materialization: str) -> MaterializationRecord:
        return self._read(self._materialization_file(materialization), MaterializationRecord)

    def write_materialization_record(
        self, materialization: str, record: MaterializationRecord
    ) -> None:
        _write_atomically(self._materialization_file(materialization), _dump(record))

    def committed_journals(self) -> dict[str, JournalHead]:
        """Every journal any capture has committed to, with its committed length."""
        heads: dict[str, JournalHead] = {}
        for file in sorted((self.path / "captures").glob("*.json")):
            heads.update(self._read(file, CaptureRecord).journals)
        return heads

    def _capture_file(self, capture: str) -> Path:
        return self.path / "captures" / f"{quote(capture, safe='')}.json"

    def _materialization_file(self, materialization: str) -> Path:
        return self.path / "materializations" / f"{quote(materialization, safe='')}.json"

    def _read(self, file: Path, model: type[R]) -> R:
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            return model()
        try:
            return model.model_validate_json(data)
        except ValidationError as err:
            raise ConfigError(
                f"state file {file} is damaged ({err.errors()[0]['msg']}); it was not written "
                f"by this version of connector-kit, or was edited. Remove the state directory "
                f"{self.path} to start over (materializations then re-read from the start)"
            ) from None


def _dump(record: _Record) -> bytes:
    return record.model_dump_json(by_alias=True).encode() + b"\n"


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
