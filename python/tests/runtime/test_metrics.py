"""Per-binding Prometheus metrics, scraped over HTTP from a real endpoint."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from connector_kit.errors import ConfigError
from connector_kit.runtime.metrics import RuntimeMetrics

Labels = tuple[str, str, str]
"""(task, binding, collection)"""


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def scrape(url: str) -> dict[str, dict[Labels, float]]:
    """Every sample of the endpoint, by sample name, then by (task, binding, collection)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        text = response.read().decode()
    samples: dict[str, dict[Labels, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = (
                sample.labels.get("task", ""),
                sample.labels.get("binding", ""),
                sample.labels.get("collection", ""),
            )
            samples.setdefault(sample.name, {})[labels] = sample.value
    return samples


def test_scraped_counters_and_lag_are_per_binding() -> None:
    clock = FakeClock()
    metrics = RuntimeMetrics(CollectorRegistry(), clock=clock)
    users = metrics.capture_binding(task="acmeCo/source-x", binding=0, collection="acmeCo/users")
    orders = metrics.capture_binding(task="acmeCo/source-x", binding=2, collection="acmeCo/orders")
    stored = metrics.materialization_binding(
        task="acmeCo/materialize-y", binding=1, collection="acmeCo/users"
    )

    with metrics.serve(port=0) as server:
        clock.now += 5
        users.committed(documents=3, size_bytes=120)
        clock.now += 2
        users.committed(documents=2, size_bytes=80)
        orders.error()
        stored.committed(documents=4, size_bytes=150)
        stored.error()
        stored.error()
        clock.now += 7.5
        samples = scrape(server.url)

    users_labels = ("acmeCo/source-x", "0", "acmeCo/users")
    orders_labels = ("acmeCo/source-x", "2", "acmeCo/orders")
    stored_labels = ("acmeCo/materialize-y", "1", "acmeCo/users")
    assert samples["ingested_documents_total"] == {users_labels: 5, orders_labels: 0}
    assert samples["ingested_bytes_total"] == {users_labels: 200, orders_labels: 0}
    assert samples["ingest_errors_total"] == {users_labels: 0, orders_labels: 1}
    # users last committed 7.5 s ago; orders never did, so its lag runs from its setup.
    assert samples["ingest_lag"] == {users_labels: 7.5, orders_labels: 14.5}
    assert samples["exported_documents_total"] == {stored_labels: 4}
    assert samples["exported_bytes_total"] == {stored_labels: 150}
    assert samples["export_errors_total"] == {stored_labels: 2}
    assert samples["export_lag"] == {stored_labels: 7.5}


def test_a_transaction_without_documents_leaves_the_lag_running() -> None:
    clock = FakeClock()
    metrics = RuntimeMetrics(CollectorRegistry(), clock=clock)
    binding = metrics.capture_binding(task="t", binding=0, collection="c")
    binding.committed(documents=1, size_bytes=10)
    clock.now += 30
    binding.committed(documents=0, size_bytes=0)

    assert binding.lag() == 30


def test_a_restarted_task_keeps_counting_in_the_same_series() -> None:
    metrics = RuntimeMetrics(CollectorRegistry())
    first = metrics.capture_binding(task="t", binding=0, collection="c")
    first.committed(documents=2, size_bytes=20)
    again = metrics.capture_binding(task="t", binding=0, collection="c")
    again.committed(documents=1, size_bytes=5)

    value = metrics.registry.get_sample_value(
        "ingested_documents_total", {"task": "t", "binding": "0", "collection": "c"}
    )
    assert value == 3


def test_runtimes_keep_their_metrics_apart_and_out_of_the_global_registry() -> None:
    one = RuntimeMetrics(CollectorRegistry())
    other = RuntimeMetrics(CollectorRegistry())
    one.capture_binding(task="t", binding=0, collection="c").committed(documents=1, size_bytes=1)
    other.capture_binding(task="t", binding=0, collection="c").committed(documents=7, size_bytes=1)

    labels = {"task": "t", "binding": "0", "collection": "c"}
    assert one.registry.get_sample_value("ingested_documents_total", labels) == 1
    assert other.registry.get_sample_value("ingested_documents_total", labels) == 7
    assert REGISTRY.get_sample_value("ingested_documents_total", labels) is None


def test_stopped_server_no_longer_answers() -> None:
    metrics = RuntimeMetrics(CollectorRegistry())
    server = metrics.serve(port=0)
    assert "ingested_documents" in urllib.request.urlopen(server.url, timeout=10).read().decode()
    server.stop()
    server.stop()

    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(server.url, timeout=10)


def test_a_taken_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=rf"cannot serve metrics on 127\.0\.0\.1:{port}"):
            RuntimeMetrics(CollectorRegistry()).serve(port=port)


def test_negative_counts_are_refused() -> None:
    binding = RuntimeMetrics(CollectorRegistry()).capture_binding(
        task="t", binding=0, collection="c"
    )
    with pytest.raises(ValueError, match="cannot be negative"):
        binding.committed(documents=-1, size_bytes=0)
