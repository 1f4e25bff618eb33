"""`connector-kit preview --metrics-port` against the example capture and its Notes API."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from notes_api import seeded_store, serving

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOTES = 230
LABELS = {"task": "acmeCo/source-notes", "binding": "0", "collection": "acmeCo/notes"}
WAIT_LIMIT_SECONDS = 90.0
"""Only bounds a hung run; the test waits for a condition, never for a duration."""


@pytest.fixture
def notes_catalog(tmp_path: Path) -> Iterator[Path]:
    with serving(seeded_store(NOTES)) as url:
        catalog = yaml.safe_load((EXAMPLES / "test.flow.yaml").read_text())
        local = catalog["captures"]["acmeCo/source-notes"]["endpoint"]["local"]
        local["config"]["base_url"] = url
        local["command"] = [sys.executable, "-m", "source_notes"]
        local["env"] = {"PYTHONPATH": str(EXAMPLES)}
        path = tmp_path / "test.flow.yaml"
        path.write_text(yaml.safe_dump(catalog))
        yield path


def metrics_url(stderr: Path, process: subprocess.Popen[bytes]) -> str:
    """The endpoint `--metrics-port 0` chose, from preview's log line about it."""
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while time.monotonic() < deadline:
        for line in stderr.read_text().splitlines():
            entry = json.loads(line) if line.startswith("{") else {}
            if entry.get("msg", "").startswith("serving Prometheus metrics"):
                return f"http://127.0.0.1:{entry['fields']['port']}/metrics"
        assert process.poll() is None, f"preview exited early: {stderr.read_text()[-2000:]}"
        time.sleep(0.1)
    raise AssertionError(f"preview never served metrics: {stderr.read_text()[-2000:]}")


def scrape(url: str) -> dict[str, float]:
    """The notes binding's samples, by sample name."""
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.labels == LABELS
    }


def scrape_once_ingested(url: str, count: int, process: subprocess.Popen[bytes]) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    samples: dict[str, float] = {}
    while time.monotonic() < deadline:
        samples = scrape(url)
        if samples.get("ingested_documents_total", 0) >= count:
            return samples
        assert process.poll() is None, "preview exited before capturing every note"
        time.sleep(0.2)
    raise AssertionError(f"the notes binding never reached {count} documents: {samples}")


def test_preview_serves_what_each_binding_captured(notes_catalog: Path, tmp_path: Path) -> None:
    stdout, stderr = tmp_path / "stdout", tmp_path / "stderr"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        # No --timeout: the capture keeps polling, so metrics are scraped from a live run.
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "connector_kit.cli",
                "preview",
                "--source",
                str(notes_catalog),
                "--metrics-port",
                "0",
            ],
            stdout=out,
            stderr=err,
        )
    try:
        url = metrics_url(stderr, process)
        samples = scrape_once_ingested(url, NOTES, process)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    documents = [json.loads(line)[1] for line in stdout.read_text().splitlines()]
    assert len(documents) == NOTES
    assert samples["ingested_documents_total"] == NOTES
    # Key order does not change a document's length, so re-serializing gives its size.
    assert samples["ingested_bytes_total"] == sum(len(orjson.dumps(d)) for d in documents)
    assert samples["ingest_errors_total"] == 0
    assert samples["ingest_lag"] >= 0
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=10)
