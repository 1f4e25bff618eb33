"""Records of a singer-sdk BATCH message, read from the files its manifest lists.

A batch file holds raw records (not RECORD messages): JSON lines, gzip-compressed
or not, or Parquet when pyarrow is installed. Only local `file://` URIs can be
read; a tap batching to object storage must be configured to batch locally.
"""

from __future__ import annotations

import gzip
import importlib
import io
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from connector_kit.errors import ConfigError, SourceError


def batch_records(message: Mapping[str, Any], *, source: str) -> Iterator[dict[str, Any]]:
    encoding = message.get("encoding") or {}
    file_format = str(encoding.get("format") or "jsonl").lower()
    compression = str(encoding.get("compression") or "none").lower()
    for uri in message.get("manifest") or []:
        path = _local_path(str(uri), source=source)
        if file_format == "jsonl":
            yield from _jsonl(path, gzipped=compression == "gzip", source=source)
        elif file_format == "parquet":
            yield from _parquet(path)
        else:
            raise SourceError(
                f"{source} sent a BATCH in format {file_format!r}; only jsonl and parquet "
                "batches can be read"
            )


def _local_path(uri: str, *, source: str) -> Path:
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme not in ("file", ""):
        raise ConfigError(
            f"{source} sent a BATCH stored at {uri!r}; only local file:// batches can be read, "
            "so configure the tap's batch_config storage root as a local directory"
        )
    path = Path(urllib.request.url2pathname(parsed.path))
    if not path.is_file():
        raise SourceError(f"{source} sent a BATCH whose file {str(path)!r} does not exist")
    return path


def _jsonl(path: Path, *, gzipped: bool, source: str) -> Iterator[dict[str, Any]]:
    with _open(path, gzipped=gzipped) as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as err:
                raise SourceError(
                    f"{source} BATCH file {str(path)!r} line {number} is not JSON: {err}"
                ) from None
            if not isinstance(record, dict):
                raise SourceError(
                    f"{source} BATCH file {str(path)!r} line {number} is not a JSON object"
                )
            yield record


def _open(path: Path, *, gzipped: bool) -> io.BufferedIOBase:
    if gzipped:
        return gzip.GzipFile(path, "rb")
    return path.open("rb")


def _parquet(path: Path) -> Iterator[dict[str, Any]]:
    try:
        parquet = importlib.import_module("pyarrow.parquet")
    except ImportError:
        raise ConfigError(
            "the tap sent a Parquet BATCH, which needs pyarrow: install connector-kit[arrow]"
        ) from None
    for batch in parquet.ParquetFile(path).iter_batches():
        yield from batch.to_pylist()
