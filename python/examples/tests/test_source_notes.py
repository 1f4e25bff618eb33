"""The example capture, run as a subprocess through the local runtime against the Notes API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from connector_kit.testing import CaptureContract, run_capture
from notes_api import TOKEN, NotesStore, seeded_store, serving

EXAMPLES = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def store() -> NotesStore:
    return seeded_store(230)


@pytest.fixture(scope="module")
def notes_url(store: NotesStore) -> Iterator[str]:
    with serving(store) as url:
        yield url


@pytest.fixture(scope="module")
def contract_catalog(notes_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's own test.flow.yaml, pointed at this test's Notes API."""
    catalog = yaml.safe_load((EXAMPLES / "test.flow.yaml").read_text())
    endpoint = catalog["captures"]["acmeCo/source-notes"]["endpoint"]["local"]
    endpoint["config"]["base_url"] = notes_url
    endpoint["command"] = ["python", "-m", "source_notes"]
    endpoint["env"] = {"PYTHONPATH": str(EXAMPLES)}
    path = tmp_path_factory.mktemp("notes") / "test.flow.yaml"
    path.write_text(yaml.safe_dump(catalog))
    return path


class TestSourceNotesContract(CaptureContract):
    pass


def test_captures_every_note_then_only_what_changed(
    contract_catalog: Path, store: NotesStore
) -> None:
    first = run_capture(contract_catalog, idle_timeout=1.5)
    assert sorted(d["id"] for d in first.records("acmeCo/notes")) == list(range(1, 231))
    assert all(
        d["_meta"]["uuid"] == "DocUUIDPlaceholder-329Bb50aa48EAa9ef" for d in first.records()
    )

    store.upsert({"id": 7, "title": "Edited", "tags": []}, at=datetime.now(UTC))
    store.upsert({"id": 231, "title": "New note", "tags": ["new"]}, at=datetime.now(UTC))
    second = run_capture(contract_catalog, idle_timeout=1.5, initial_state=first.final_state)
    assert [(d["id"], d["title"]) for d in second.records()] == [(7, "Edited"), (231, "New note")]


def test_wrong_token_fails_with_an_actionable_error(contract_catalog: Path, tmp_path: Path) -> None:
    catalog = yaml.safe_load(contract_catalog.read_text())
    local = catalog["captures"]["acmeCo/source-notes"]["endpoint"]["local"]
    local["config"]["api_token"] = "not-" + TOKEN
    bad = tmp_path / "test.flow.yaml"
    bad.write_text(yaml.safe_dump(catalog))
    with pytest.raises(Exception, match="401") as caught:
        run_capture(bad, idle_timeout=1.0)
    assert "not-" + TOKEN not in str(caught.value)
