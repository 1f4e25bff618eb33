"""`connector-kit preview` against hand-written capture connectors, good and misbehaving."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .fake_catalog import connector_kit, recorded_requests, write_catalog

PLACEHOLDER = "DocUUIDPlaceholder-329Bb50aa48EAa9ef"


def doc(n: int) -> list[object]:
    return ["acmeCo/users", {"_meta": {"uuid": PLACEHOLDER}, "id": n, "name": f"user-{n}"}]


def state_line(cursor: int) -> list[object]:
    return [
        "connectorState",
        {"mergePatch": True, "updated": {"bindingStateV1": {"users": {"cursor": cursor}}}},
    ]


def test_preview_prints_documents_and_state_of_each_transaction(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path)

    run = connector_kit("preview", "--source", catalog, "--output-state", "--output-apply")

    assert run.code == 0, run.stderr
    assert run.lines == [
        ["applied.actionDescription", "applied 1 bindings"],
        doc(1),
        doc(2),
        state_line(2),
        doc(3),
        doc(4),
        state_line(4),
        ["connectorState", {"updated": {"bindingStateV1": {"users": {"cursor": 4}}}}],
    ]
    assert run.stdout.startswith('["applied.actionDescription", "applied 1 bindings"]\n')


def test_requests_carry_what_the_flow_runtime_fills(tmp_path: Path) -> None:
    catalog = write_catalog(
        tmp_path,
        bindings=[
            {"resource": {"name": "skipped"}, "target": "acmeCo/users", "disable": True},
            {"resource": {"name": "public/users"}, "target": "acmeCo/users", "backfill": 2},
        ],
        extra={"interval": "90s"},
    )

    run = connector_kit("preview", "--source", catalog, "--sessions", "1")

    assert run.code == 0, run.stderr
    requests = recorded_requests(tmp_path)
    kinds = [next(iter(r)) for r in requests]
    # Each process starts with the probe Spec: validate, then apply, then open.
    assert kinds == ["spec", "validate", "spec", "apply", "spec", "open"]
    assert requests[0] == {"spec": {"connectorType": "LOCAL", "config": {}}}
    validate = requests[1]["validate"]
    assert validate["name"] == "acmeCo/source-fake"
    assert validate["config"] == {"host": "example.com"}
    assert [b["resourceConfig"] for b in validate["bindings"]] == [{"name": "public/users"}]
    assert validate["bindings"][0]["backfill"] == 2
    opened = requests[5]["open"]
    assert opened["range"] == {
        "keyBegin": 0,
        "keyEnd": 4294967295,
        "rClockBegin": 0,
        "rClockEnd": 4294967295,
    }
    assert opened["state"] == {}
    assert opened["version"] == requests[3]["apply"]["version"]
    spec = opened["capture"]
    assert spec["intervalSeconds"] == 90
    (binding,) = spec["bindings"]
    assert binding["resourcePath"] == ["public/users"]
    assert binding["stateKey"] == "public%2Fusers.v2"
    assert binding["backfill"] == 2
    collection = binding["collection"]
    assert collection["name"] == "acmeCo/users"
    assert collection["key"] == ["/id"]
    assert collection["uuidPtr"] == "/_meta/uuid"
    fields = {p["field"]: p for p in collection["projections"]}
    assert set(fields) == {"flow_document", "flow_published_at", "id", "name"}
    assert fields["id"]["isPrimaryKey"] is True
    assert fields["id"]["inference"] == {"types": ["integer"], "exists": "MUST"}


def test_sessions_restart_from_the_reduced_state(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path, env={"FAKE_TXNS": "3", "FAKE_DOCS": "1"})

    run = connector_kit("preview", "--source", catalog, "--sessions", "2,1", "--output-state")

    assert run.code == 0, run.stderr
    assert run.lines == [
        doc(1),
        state_line(1),
        doc(2),
        state_line(2),
        doc(3),
        state_line(3),
        ["connectorState", {"updated": {"bindingStateV1": {"users": {"cursor": 3}}}}],
    ]
    opens = [r["open"] for r in recorded_requests(tmp_path) if "open" in r]
    assert [o["state"] for o in opens] == [{}, {"bindingStateV1": {"users": {"cursor": 2}}}]


def test_initial_state_is_where_the_first_session_starts(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path, env={"FAKE_TXNS": "1", "FAKE_DOCS": "1"})
    initial = {"bindingStateV1": {"users": {"cursor": 41}}, "other": "kept"}

    run = connector_kit(
        "preview", "--source", catalog, "--initial-state", json.dumps(initial), "--output-state"
    )

    assert run.code == 0, run.stderr
    assert run.lines[0] == doc(42)
    assert run.lines[-1] == [
        "connectorState",
        {"updated": {"bindingStateV1": {"users": {"cursor": 42}}, "other": "kept"}},
    ]


def test_checkpoint_without_merge_patch_replaces_the_whole_state(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path, env={"FAKE_MERGE": "0", "FAKE_TXNS": "1"})

    run = connector_kit(
        "preview", "--source", catalog, "--initial-state", '{"old": 1}', "--output-state"
    )

    assert run.code == 0, run.stderr
    assert run.lines[-1] == [
        "connectorState",
        {"updated": {"bindingStateV1": {"users": {"cursor": 2}}, "txn": 0}},
    ]


def test_acknowledgements_are_sent_when_the_connector_asks(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path, env={"FAKE_ACKS": "1", "FAKE_TXNS": "3", "FAKE_DOCS": "1"})

    run = connector_kit("preview", "--source", catalog)

    assert run.code == 0, run.stderr
    assert run.lines == [doc(1), doc(2), doc(3)]
    acks = [r for r in recorded_requests(tmp_path) if "acknowledge" in r]
    assert acks == [{"acknowledge": {"checkpoints": 1}}] * 3


def test_no_acknowledgements_unless_asked(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path, env={"FAKE_LINGER": "1"})

    run = connector_kit("preview", "--source", catalog, "--sessions", "2", "--timeout", "2s")

    assert run.code == 0, run.stderr
    assert not [r for r in recorded_requests(tmp_path) if "acknowledge" in r]


def test_idle_timeout_ends_a_session_without_error(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path, env={"FAKE_LINGER": "1", "FAKE_TXNS": "1"})

    run = connector_kit("preview", "--source", catalog, "--timeout", "300ms")

    assert run.code == 0, run.stderr
    assert run.lines == [doc(1), doc(2)]
    assert any(entry["fields"].get("why") == "idle" for entry in run.logs)


def test_connector_logs_are_forwarded_with_the_task_name(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path, env={"FAKE_MODE": "crash"})

    run = connector_kit("preview", "--source", catalog)

    forwarded = [e for e in run.logs if e["msg"] == "reading page 2"]
    assert forwarded
    assert forwarded[0]["level"] == "info"
    assert forwarded[0]["fields"]["task"] == "capture acmeCo/source-fake"


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("garbage", 'could not parse "this is not json at all" into JSON response'),
        ("partial", "connector wrote a partial message and then closed its output"),
        ("eof_in_checkpoint", "unexpected capture connector EOF while within a checkpoint"),
        ("bad_binding", "invalid captured binding 7"),
        ("checkpoint_without_state", "expected Captured or Checkpoint with state"),
        ("crash", "cannot reach the source: connection refused"),
        (
            "schema_violation",
            "into collection acmeCo/users does not match the collection's schema at /id: "
            "'not-a-number' is not of type 'integer'",
        ),
    ],
)
def test_misbehaving_connector_fails_without_committing_its_uncommitted_data(
    tmp_path: Path, mode: str, error: str
) -> None:
    catalog = write_catalog(tmp_path, env={"FAKE_MODE": mode})

    run = connector_kit("preview", "--source", catalog, "--output-state")

    assert run.code == 1
    assert error in run.error
    assert "capture acmeCo/source-fake" in run.error
    # The first transaction committed; nothing after its checkpoint was printed or reduced.
    assert run.lines == [doc(1), doc(2), state_line(2)]
    assert "uncommitted" not in run.stdout
    assert "s3cr3t" not in run.stderr


def test_connector_that_never_opens_is_bounded_by_the_connector_timeout(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path, env={"FAKE_MODE": "hang_open"})

    run = connector_kit("preview", "--source", catalog, "--connector-timeout", "500ms")

    assert run.code == 1
    assert "sent nothing for 0.5s while the runtime waited for Opened" in run.error
    assert run.stdout == ""


def test_connector_that_ignores_the_probe_is_bounded_too(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path, env={"FAKE_MODE": "hang_probe"})

    run = connector_kit("raw", "spec", "--source", catalog, "--connector-timeout", "300ms")

    assert run.code == 1
    assert "waited for the answer to the probe Spec" in run.error


def test_unary_call_answered_twice_is_an_error(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path, env={"FAKE_MODE": "extra_response"})

    run = connector_kit("preview", "--source", catalog)

    assert run.code == 1
    assert "rpc is expected to be unary but it returned multiple responses" in run.error


def test_binding_to_an_undefined_collection_names_the_entry(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path, collections={})

    run = connector_kit("preview", "--source", catalog)

    assert run.code == 1
    assert 'captures."acmeCo/source-fake".bindings[0].target' in run.error
    assert "collection 'acmeCo/users' is not defined" in run.error


def test_missing_command_is_a_clear_error(tmp_path: Path) -> None:
    catalog = tmp_path / "test.flow.yaml"
    catalog.write_text(
        "captures:\n  acmeCo/x:\n    endpoint:\n      local:\n"
        "        command: [./no-such-connector]\n        config: {}\n    bindings: []\n"
    )

    run = connector_kit("raw", "spec", "--source", catalog)

    assert run.code == 1
    assert "cannot start `./no-such-connector`" in run.error


def test_image_endpoint_without_docker_engine_suggests_a_local_endpoint(tmp_path: Path) -> None:
    catalog = tmp_path / "test.flow.yaml"
    catalog.write_text(
        "captures:\n  acmeCo/x:\n    endpoint:\n"
        "      connector: {image: 'ghcr.io/acme/source-x:local', config: {}}\n    bindings: []\n"
    )

    run = connector_kit("raw", "spec", "--source", catalog)

    assert run.code == 1
    assert "no Docker engine is available" in run.error
    assert "local" in run.error
