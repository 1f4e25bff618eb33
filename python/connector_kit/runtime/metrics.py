"""Per-binding Prometheus metrics of the tasks a local runtime drives, served over HTTP.

Captures report, for each binding:

* `ingested_documents` / `ingested_bytes` (counters, exposed with Prometheus' `_total`
  suffix): documents committed by the capture into the binding's collection, and the
  size of their JSON;
* `ingest_errors` (counter): failures the runtime attributed to the binding;
* `ingest_lag` (gauge, seconds): how long ago the binding last committed a document —
  or, before its first document, how long ago the runtime started driving it. It is
  read at scrape time, so an idle or stuck binding shows a growing value.

Materializations report the same four for what they store: `exported_documents`,
`exported_bytes`, `export_errors` and `export_lag`.

Every series is labelled `task` (the capture or materialization name), `binding` (the
binding's position in the task's `bindings` list in the catalog, counting disabled
ones, so a series keeps its label when another binding is disabled) and `collection`.
The metrics live in the registry a `RuntimeMetrics` is given, never in
prometheus-client's global one, so several runtimes in one process stay apart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from connector_kit.errors import ConfigError
from connector_kit.runtime.run_stats import TaskKind

log = logging.getLogger(__name__)

LABELS = ("task", "binding", "collection")

Clock = Callable[[], float]
"""Seconds on a monotonic scale; lag is the difference of two readings."""


@dataclass(frozen=True)
class _Family:
    """The four metrics of one kind of task."""

    documents: Counter
    bytes: Counter
    errors: Counter
    lag: Gauge


def _family(registry: CollectorRegistry, *, kind: TaskKind) -> _Family:
    if kind == "capture":
        verb, noun, what = "ingested", "ingest", "captured into"
    else:
        verb, noun, what = "exported", "export", "stored from"
    return _Family(
        documents=Counter(
            f"{verb}_documents",
            f"Documents committed by the binding ({what} its collection).",
            LABELS,
            registry=registry,
        ),
        bytes=Counter(
            f"{verb}_bytes",
            f"Bytes of JSON of the documents {what} the binding's collection.",
            LABELS,
            registry=registry,
        ),
        errors=Counter(
            f"{noun}_errors",
            "Failures attributed to the binding.",
            LABELS,
            registry=registry,
        ),
        lag=Gauge(
            f"{noun}_lag",
            "Seconds since the binding last committed a document "
            "(before its first: since the runtime started driving it).",
            LABELS,
            registry=registry,
        ),
    )


class BindingMetrics:
    """What one binding of one task records; get it from `RuntimeMetrics`."""

    def __init__(self, family: _Family, *, labels: dict[str, str], clock: Clock) -> None:
        self._documents = family.documents.labels(**labels)
        self._bytes = family.bytes.labels(**labels)
        self._errors = family.errors.labels(**labels)
        self._clock = clock
        self._last_commit = clock()
        family.lag.labels(**labels).set_function(self.lag)

    def committed(self, *, documents: int, size_bytes: int) -> None:
        """A transaction holding `documents` documents of this binding (`size_bytes` of
        JSON) has committed. Call it only for committed data, never before the commit."""
        if documents < 0 or size_bytes < 0:
            raise ValueError(
                f"committed documents ({documents}) and bytes ({size_bytes}) cannot be negative"
            )
        if documents == 0:
            return
        self._documents.inc(documents)
        self._bytes.inc(size_bytes)
        self._last_commit = self._clock()

    def error(self) -> None:
        self._errors.inc()

    def lag(self) -> float:
        """Seconds since the last committed document (or since this binding was set up)."""
        return max(0.0, self._clock() - self._last_commit)


@dataclass(frozen=True)
class _BindingLabels:
    kind: TaskKind
    task: str
    binding: int
    collection: str


class RuntimeMetrics:
    """The metrics of every binding of every task, in one registry."""

    def __init__(self, registry: CollectorRegistry, *, clock: Clock = time.monotonic) -> None:
        self.registry = registry
        self._clock = clock
        self._families = {
            "capture": _family(registry, kind="capture"),
            "materialization": _family(registry, kind="materialization"),
        }
        self._bindings: dict[_BindingLabels, BindingMetrics] = {}
        self._lock = threading.Lock()

    def binding(
        self, *, kind: TaskKind, task: str, binding: int, collection: str
    ) -> BindingMetrics:
        """The series of one binding of either kind of task (a `run`'s counter sink)."""
        return self._binding(_BindingLabels(kind, task, binding, collection))

    def capture_binding(self, *, task: str, binding: int, collection: str) -> BindingMetrics:
        return self._binding(_BindingLabels("capture", task, binding, collection))

    def materialization_binding(
        self, *, task: str, binding: int, collection: str
    ) -> BindingMetrics:
        return self._binding(_BindingLabels("materialization", task, binding, collection))

    def _binding(self, key: _BindingLabels) -> BindingMetrics:
        # A task restarted in the same process (a new session) keeps counting in the same
        # series, and its lag keeps measuring from its last document.
        with self._lock:
            found = self._bindings.get(key)
            if found is None:
                found = BindingMetrics(
                    self._families[key.kind],
                    labels={
                        "task": key.task,
                        "binding": str(key.binding),
                        "collection": key.collection,
                    },
                    clock=self._clock,
                )
                self._bindings[key] = found
            return found

    def serve(self, *, port: int, host: str = "127.0.0.1") -> MetricsServer:
        """Serve the registry at `http://host:port/metrics` from a background thread.

        Port 0 picks a free port; the server's `port` says which.
        """
        try:
            server, thread = start_http_server(port, addr=host, registry=self.registry)
        except OSError as err:
            raise ConfigError(
                f"cannot serve metrics on {host}:{port}: {err.strerror or err}; "
                "choose another --metrics-port (0 picks a free one)"
            ) from None
        handle = MetricsServer(server, thread=thread, host=host)
        log.info(
            "serving Prometheus metrics at %s",
            handle.url,
            extra={"fields": {"host": host, "port": handle.port}},
        )
        return handle


class MetricsServer:
    """A running metrics endpoint; `stop()` (or leaving its `with` block) shuts it down."""

    def __init__(self, server: WSGIServer, *, thread: threading.Thread, host: str) -> None:
        self._server = server
        self._thread = thread
        self._stopped = False
        self.host = host
        self.port = int(server.server_port)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
