"""A stand-in for the Flow runtime: builds specs and drives materialize-duckdb as a subprocess.

It does what the runtime does for a materialization, as the protocol describes it:
Loads the keys a transaction touches, reduces the loaded documents with the new
ones, Stores the reduced documents with `exists`/`delete` and packed keys/values,
and resumes from the checkpoint the connector returns in `opened`.
"""

from __future__ import annotations

import base64
import contextlib
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from connector_kit.tuple import pack

PYTHON = os.environ.get("MATERIALIZE_DUCKDB_PYTHON", sys.executable)
"""The interpreter that runs the connector: another venv can bring another DuckDB build."""
CONNECTOR = [PYTHON, "-m", "materialize_duckdb"]
RESPONSE_TIMEOUT = 60.0
PUBLISHED_AT = "2024-01-01 00:00:00+00"


def v1_uuid(unix_seconds: int, *, sequence: int = 0) -> str:
    """A v1 UUID whose timestamp is `unix_seconds`, as Flow writes `_meta/uuid`."""
    ticks = unix_seconds * 10_000_000 + 0x01B21DD213814000 + sequence
    fields = (ticks & 0xFFFFFFFF, (ticks >> 32) & 0xFFFF, ((ticks >> 48) & 0x0FFF) | 0x1000)
    return str(uuid.UUID(fields=(*fields, 0x8C, 0x90, 0x0242AC120002)))


PUBLISHED_UUID = v1_uuid(1704067200, sequence=7)


# --- specs --------------------------------------------------------------------------


def projection(field: str, ptr: str, schema: dict[str, Any], *, key: bool, must: bool) -> dict:
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    inference: dict[str, Any] = {"types": types, "exists": "MUST" if must else "MAY"}
    string = {
        k: schema[s]
        for k, s in (
            ("format", "format"),
            ("contentEncoding", "contentEncoding"),
            ("maxLength", "maxLength"),
        )
        if s in schema
    }
    if string:
        inference["string"] = string
    result: dict[str, Any] = {"ptr": ptr, "field": field, "inference": inference}
    if key:
        result["isPrimaryKey"] = True
    return result


def collection(
    name: str,
    properties: dict[str, dict[str, Any]],
    *,
    key: Sequence[str] = ("/id",),
    required: Sequence[str] = (),
    nested: dict[str, tuple[str, dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """A CollectionSpec: a projection per top-level property, the document and publish time."""
    keys = set(key)
    projections = [
        projection(
            f,
            "/" + f.replace("~", "~0").replace("/", "~1"),
            s,
            key="/" + f in keys,
            must=f in required or "/" + f in keys,
        )
        for f, s in properties.items()
    ]
    for f, (ptr, s) in (nested or {}).items():
        projections.append(projection(f, ptr, s, key=False, must=False))
    projections.append(
        {"ptr": "", "field": "flow_document", "inference": {"types": ["object"], "exists": "MUST"}}
    )
    projections.append(
        {
            "ptr": "/_meta/uuid",
            "field": "flow_published_at",
            "inference": {"types": ["string"], "string": {"format": "date-time"}, "exists": "MUST"},
        }
    )
    schema = {"type": "object", "properties": properties, "required": list(required)}
    return {
        "name": name,
        "writeSchema": schema,
        "key": list(key),
        "uuidPtr": "/_meta/uuid",
        "projections": projections,
    }


def binding(
    coll: dict[str, Any],
    table: str,
    *,
    values: Sequence[str] | None = None,
    delta: bool = False,
    document: bool = True,
    schema: str | None = None,
) -> dict[str, Any]:
    keys = [p["field"] for p in coll["projections"] if p.get("isPrimaryKey")]
    keys.sort(
        key=lambda f: coll["key"].index(
            next(p["ptr"] for p in coll["projections"] if p["field"] == f)
        )
    )
    if values is None:
        values = sorted(
            p["field"] for p in coll["projections"] if p["ptr"] and not p.get("isPrimaryKey")
        )
    resource: dict[str, Any] = {"table": table}
    if schema is not None:
        resource["schema"] = schema
    if delta:
        resource["delta_updates"] = True
    selection: dict[str, Any] = {"keys": keys, "values": list(values)}
    if document:
        selection["document"] = "flow_document"
    return {
        "resourceConfig": resource,
        "resourcePath": [schema or "main", table],
        "collection": coll,
        "fieldSelection": selection,
        "deltaUpdates": delta,
    }


def materialization(name: str, config: dict[str, Any], bindings: list[dict[str, Any]]) -> dict:
    return {"name": name, "connectorType": "LOCAL", "config": config, "bindings": bindings}


def checkpoint(n: int) -> dict[str, Any]:
    return {"sources": {"acmeCo/things;materialize": {"readThrough": str(n)}}}


def read_through(cp: dict[str, Any]) -> int:
    return int(cp["sources"]["acmeCo/things;materialize"]["readThrough"])


# --- packing ------------------------------------------------------------------------


def pointer_value(doc: Any, ptr: str) -> Any:
    if ptr == "":
        return doc
    for token in ptr.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if not isinstance(doc, dict) or token not in doc:
            return None
        doc = doc[token]
    return doc


def packed_fields(doc: dict[str, Any], coll: dict[str, Any], fields: Sequence[str]) -> str:
    by_field = {p["field"]: p for p in coll["projections"]}
    values = []
    for f in fields:
        p = by_field[f]
        if p["ptr"] == "/_meta/uuid" and f == "flow_published_at":
            values.append("2024-01-01T00:00:00+00:00")
            continue
        value = pointer_value(doc, p["ptr"])
        values.append(orjson.dumps(value) if isinstance(value, dict | list) else value)
    return base64.b64encode(pack(tuple(values))).decode()


def with_meta(doc: dict[str, Any], *, deleted: bool = False) -> dict[str, Any]:
    return {**doc, "_meta": {"uuid": PUBLISHED_UUID, "op": "d" if deleted else "u"}}


def store_request(
    b: dict[str, Any], index: int, doc: dict[str, Any], *, exists: bool, delete: bool = False
) -> dict[str, Any]:
    coll, selection = b["collection"], b["fieldSelection"]
    store: dict[str, Any] = {
        "binding": index,
        "keyPacked": packed_fields(doc, coll, selection["keys"]),
        "valuesPacked": packed_fields(doc, coll, selection["values"]),
    }
    if selection.get("document"):
        store["doc"] = doc
    if exists:
        store["exists"] = True
    if delete:
        store["delete"] = True
    return {"store": store}


def load_request(b: dict[str, Any], index: int, doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "load": {
            "binding": index,
            "keyPacked": packed_fields(doc, b["collection"], b["fieldSelection"]["keys"]),
        }
    }


# --- the process --------------------------------------------------------------------


class ConnectorDied(Exception):
    def __init__(self, stderr: str, returncode: int | None) -> None:
        super().__init__(f"connector exited with {returncode}; stderr:\n{stderr[-3000:]}")
        self.returncode = returncode


class Connector:
    """One connector process with pipes, read one response line at a time."""

    def __init__(self, *, cwd: Path, env: dict[str, str] | None = None) -> None:
        self.stderr_path = cwd / f"stderr-{uuid.uuid4().hex[:8]}.log"
        self._stderr = self.stderr_path.open("wb")
        self.process = subprocess.Popen(
            CONNECTOR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=cwd,
            env={**os.environ, **(env or {})},
        )
        self._watchdog = threading.Timer(RESPONSE_TIMEOUT * 4, self.process.kill)
        self._watchdog.daemon = True
        self._watchdog.start()

    def send(self, *messages: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(b"".join(orjson.dumps(m) + b"\n" for m in messages))
            self.process.stdin.flush()
        except BrokenPipeError:
            raise ConnectorDied(self.stderr(), self._exit_code()) from None

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise ConnectorDied(self.stderr(), self._exit_code())
        return orjson.loads(line)

    def expect(self, name: str) -> dict[str, Any]:
        message = self.read()
        assert list(message) == [name], f"expected {name}, got {message}"
        return message[name]

    def finish(self) -> int:
        """Close stdin and wait for the exit code."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
        code = self.process.wait(timeout=RESPONSE_TIMEOUT)
        self._watchdog.cancel()
        self._stderr.close()
        return code

    def _exit_code(self) -> int | None:
        try:
            return self.process.wait(timeout=RESPONSE_TIMEOUT)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        self.process.kill()
        self.finish()

    def stderr(self) -> str:
        if not self._stderr.closed:
            self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def last_error(self) -> str:
        lines = [orjson.loads(x) for x in self.stderr().splitlines() if x.startswith("{")]
        errors = [x["msg"] for x in lines if x.get("level") == "error"]
        return errors[-1] if errors else ""


def run_requests(
    requests: Iterable[dict[str, Any] | bytes], *, cwd: Path, env: dict[str, str] | None = None
) -> tuple[int, list[dict[str, Any]], str]:
    """Feed a whole request stream at once; return exit code, responses and the last error."""
    data = b"".join(r if isinstance(r, bytes) else orjson.dumps(r) + b"\n" for r in requests)
    done = subprocess.run(
        CONNECTOR,
        input=data,
        capture_output=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=RESPONSE_TIMEOUT,
        check=False,
    )
    responses = [orjson.loads(line) for line in done.stdout.splitlines()]
    logs = [
        orjson.loads(x)
        for x in done.stderr.decode(errors="replace").splitlines()
        if x.startswith(b"{"[0:1].decode())
    ]
    errors = [x["msg"] for x in logs if x.get("level") == "error"]
    return done.returncode, responses, errors[-1] if errors else ""


# --- transactions -------------------------------------------------------------------

Reducer = Callable[[dict[str, Any] | None, dict[str, Any]], dict[str, Any]]


def last_write_wins(_: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    return new


@dataclass
class Transaction:
    """Documents per binding index; a document with `_meta.op == 'd'` is a deletion."""

    documents: dict[int, list[dict[str, Any]]]
    checkpoint: dict[str, Any]


@dataclass
class FlowRuntime:
    spec: dict[str, Any]
    reducer: Reducer = last_write_wins
    key_range: dict[str, int] = field(default_factory=lambda: {"keyBegin": 0, "keyEnd": 4294967295})

    def apply(self, *, cwd: Path) -> str:
        code, responses, error = run_requests([{"apply": {"materialization": self.spec}}], cwd=cwd)
        assert code == 0, error
        return responses[0]["applied"].get("actionDescription", "")

    def open(self, connector: Connector) -> dict[str, Any] | None:
        connector.send({"open": {"materialization": self.spec, "range": self.key_range}})
        return connector.expect("opened").get("runtimeCheckpoint")

    def run_transaction(self, connector: Connector, txn: Transaction) -> None:
        bindings = self.spec["bindings"]
        connector.send({"acknowledge": {}})
        connector.expect("acknowledged")
        loads = []
        for index, docs in txn.documents.items():
            if not bindings[index]["deltaUpdates"]:
                loads += [load_request(bindings[index], index, d) for d in docs]
        connector.send(*loads, {"flush": {}})
        loaded: dict[tuple[int, bytes], dict[str, Any]] = {}
        while True:
            message = connector.read()
            if "flushed" in message:
                break
            body = message["loaded"]
            index = body.get("binding", 0)
            key = self._key(index, body["doc"])
            assert (index, key) not in loaded, "a key was loaded twice"
            loaded[(index, key)] = body["doc"]
        stores = []
        for index, docs in txn.documents.items():
            b = bindings[index]
            for doc in docs:
                key = self._key(index, doc)
                prior = None if b["deltaUpdates"] else loaded.get((index, key))
                reduced = doc if b["deltaUpdates"] else self.reducer(prior, doc)
                deleted = reduced.get("_meta", {}).get("op") == "d"
                stores.append(
                    store_request(
                        b,
                        index,
                        reduced,
                        exists=prior is not None,
                        delete=deleted and not b["deltaUpdates"],
                    )
                )
        connector.send(*stores, {"startCommit": {"runtimeCheckpoint": txn.checkpoint}})
        connector.expect("startedCommit")

    def _key(self, index: int, doc: dict[str, Any]) -> bytes:
        b = self.spec["bindings"][index]
        return base64.b64decode(packed_fields(doc, b["collection"], b["fieldSelection"]["keys"]))

    def run(
        self, transactions: Sequence[Transaction], *, cwd: Path, env: dict[str, str] | None = None
    ) -> int:
        """Open, resume after the connector's checkpoint, run the rest; return how many ran."""
        connector = Connector(cwd=cwd, env=env)
        try:
            resume = self.open(connector)
            start = 0
            if resume is not None:
                done = read_through(resume)
                start = sum(1 for t in transactions if read_through(t.checkpoint) <= done)
            for txn in transactions[start:]:
                self.run_transaction(connector, txn)
            connector.send({"acknowledge": {}})
            connector.expect("acknowledged")
        except BaseException:
            connector.kill()
            raise
        code = connector.finish()
        if code != 0:
            raise ConnectorDied(connector.stderr(), code)
        return len(transactions) - start
