"""`connector-kit preview --fixture` of a materialization, as flowctl previews one."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from connector_kit.tuple import unpack

from .fake_catalog import connector_kit, fake_tables, recorded_requests, write_run_catalog


def fixture(path: Path, transactions: list[list[list[Any]]]) -> Path:
    path.write_text(json.dumps(transactions))
    return path


def test_fixture_transactions_load_flush_store_and_commit(tmp_path: Path) -> None:
    catalog = write_run_catalog(tmp_path)
    transactions = fixture(
        tmp_path / "fixture.json",
        [
            [["acmeCo/users", {"id": 1, "name": "a"}], ["acmeCo/users", {"id": 2, "name": "b"}]],
            [["acmeCo/users", {"id": 2, "name": "b2"}], ["acmeCo/users", {"id": 3, "name": "c"}]],
        ],
    )

    result = connector_kit(
        "preview",
        "--source",
        catalog,
        "--name",
        "acmeCo/fake-mat",
        "--fixture",
        transactions,
        "--output-state",
        "--output-apply",
    )

    assert result.code == 0, result.stderr
    assert result.lines == [
        ["applied.actionDescription", "created 1 tables"],
        ["connectorState", {}],
        ["connectorState", {}],
    ]
    requests = recorded_requests(tmp_path, "materialize-requests.jsonl")
    kinds = [next(iter(r)) for r in requests if next(iter(r)) not in ("spec", "validate", "apply")]
    assert kinds == [
        "open",
        "acknowledge",
        *["load"] * 2,
        "flush",
        *["store"] * 2,
        "startCommit",
        "acknowledge",
        *["load"] * 2,
        "flush",
        *["store"] * 2,
        "startCommit",
        "acknowledge",
    ]
    second_stores = [r["store"] for r in requests if "store" in r][2:]
    assert [unpack(base64.b64decode(s["keyPacked"])) for s in second_stores] == [(2,), (3,)]
    assert second_stores[0]["exists"] is True, "key 2 was loaded, so it exists"
    assert "exists" not in second_stores[1]
    tables = fake_tables(tmp_path)
    assert tables["checkpoint"] == {
        "sources": {"fixture.json;materialize/acmeCo/fake-mat": {"readThrough": "2"}}
    }


def test_a_destination_that_keeps_its_checkpoint_resumes_after_committed_fixture_transactions(
    tmp_path: Path,
) -> None:
    catalog = write_run_catalog(tmp_path)
    transactions = fixture(
        tmp_path / "fixture.json",
        [[["acmeCo/users", {"id": n, "name": str(n)}]] for n in range(1, 4)],
    )

    first = connector_kit(
        "preview", "--source", catalog, "--name", "acmeCo/fake-mat", "--fixture", transactions,
        "--sessions", "1",
    )  # fmt: skip
    (tmp_path / "materialize-requests.jsonl").unlink()
    second = connector_kit(
        "preview", "--source", catalog, "--name", "acmeCo/fake-mat", "--fixture", transactions,
    )  # fmt: skip

    assert first.code == 0, first.stderr
    assert second.code == 0, second.stderr
    requests = recorded_requests(tmp_path, "materialize-requests.jsonl")
    stored = [unpack(base64.b64decode(r["store"]["keyPacked"])) for r in requests if "store" in r]
    assert stored == [(2,), (3,)]


def test_a_fixture_document_of_an_unbound_collection_names_the_transaction(
    tmp_path: Path,
) -> None:
    catalog = write_run_catalog(tmp_path)
    transactions = fixture(
        tmp_path / "fixture.json", [[["acmeCo/users", {"id": 1}]], [["acmeCo/other", {}]]]
    )

    result = connector_kit(
        "preview", "--source", catalog, "--name", "acmeCo/fake-mat", "--fixture", transactions
    )

    assert result.code == 1
    assert (
        f"fixture {transactions}: transaction 1 item 0 is a document of acmeCo/other"
        in result.error
    )


def test_a_fixture_that_is_not_an_array_of_pairs_is_refused(tmp_path: Path) -> None:
    catalog = write_run_catalog(tmp_path)
    transactions = tmp_path / "fixture.json"
    transactions.write_text(json.dumps([[{"id": 1}]]))

    result = connector_kit(
        "preview", "--source", catalog, "--name", "acmeCo/fake-mat", "--fixture", transactions
    )

    assert result.code == 1
    assert 'transaction 0 item 0 is not a ["<collection>", {document}] pair' in result.error
