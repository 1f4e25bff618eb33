"""`run` feeds the metrics endpoint: each binding's series count what it committed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from prometheus_client import CollectorRegistry

from connector_kit.runtime.catalog import load_catalog
from connector_kit.runtime.metrics import RuntimeMetrics
from connector_kit.runtime.run import run
from connector_kit.runtime.run_options import RunOptions
from connector_kit.runtime.run_stats import RunCounters
from connector_kit.runtime.state_dir import StateDirectory

from .fake_catalog import write_run_catalog


def test_run_counts_committed_documents_per_binding_in_its_metrics(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    metrics = RuntimeMetrics(registry)
    counters = RunCounters(sinks=metrics.binding)

    asyncio.run(
        run(
            load_catalog(write_run_catalog(tmp_path)),
            state=StateDirectory(tmp_path / "state"),
            options=RunOptions(progress_interval=0),
            counters=counters,
        )
    )

    assert counters.bindings, "the run set up no bindings"
    for binding in counters.bindings:
        prefix = "ingested" if binding.kind == "capture" else "exported"
        labels = {
            "task": binding.task,
            "binding": str(binding.binding),
            "collection": binding.collection,
        }
        documents = registry.get_sample_value(f"{prefix}_documents_total", labels)
        size = registry.get_sample_value(f"{prefix}_bytes_total", labels)
        assert documents == binding.documents == 4
        assert size == binding.bytes > 0
