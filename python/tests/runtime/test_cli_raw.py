"""`connector-kit raw spec` and `raw discover` on catalogs around a hand-written connector."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from connector_kit.runtime.catalog import load_catalog

from .fake_catalog import FAKE_CAPTURE, connector_kit, recorded_requests, write_catalog
from .sops_keys import make_age_key, sops_encrypt


def test_raw_spec_prints_one_json_line(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path)

    run = connector_kit("raw", "spec", "--source", catalog)

    assert run.code == 0, run.stderr
    assert len(run.stdout.splitlines()) == 1
    (spec,) = run.lines
    assert spec["protocol"] == 3032023
    assert spec["resourcePathPointers"] == ["/name"]
    assert spec["documentationUrl"] == "https://example.com/fake-capture"
    requests = recorded_requests(tmp_path)
    assert requests == [
        {"spec": {"connectorType": "LOCAL", "config": {}}},
        {"spec": {"connectorType": "LOCAL", "config": {"host": "example.com"}}},
    ]


def test_raw_spec_sets_log_level_env_and_working_directory(tmp_path: Path) -> None:
    probe = tmp_path / "env_probe.py"
    probe.write_text(
        textwrap.dedent(
            """
            import json, os, sys
            for line in sys.stdin:
                request = json.loads(line)
                env = {k: os.environ.get(k) for k in ("LOG_LEVEL", "EXTRA")}
                spec = {"protocol": 3032023, "configSchema": {"env": env, "cwd": os.getcwd()},
                        "resourceConfigSchema": {}}
                print(json.dumps({"spec": spec}), flush=True)
            """
        )
    )
    catalog = tmp_path / "test.flow.yaml"
    catalog.write_text(
        json.dumps(
            {
                "captures": {
                    "acmeCo/probe": {
                        "endpoint": {
                            "local": {
                                "command": [sys.executable, "env_probe.py"],
                                "config": {},
                                "env": {"EXTRA": "yes"},
                            }
                        },
                        "shards": {"logLevel": "debug"},
                        "bindings": [],
                    }
                }
            }
        )
    )

    run = connector_kit("raw", "spec", "--source", catalog, cwd=Path("/"))

    assert run.code == 0, run.stderr
    schema = run.lines[0]["configSchema"]
    assert schema["env"] == {"LOG_LEVEL": "debug", "EXTRA": "yes"}
    assert Path(schema["cwd"]) == tmp_path.resolve()


def test_raw_spec_decrypts_a_sops_config_before_the_connector_sees_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = make_age_key(tmp_path)
    plain = tmp_path / "plain.yaml"
    plain.write_text("host: example.com\ncredentials:\n  api_token_sops: t0ken-value\n")
    (tmp_path / "connector_config.yaml").write_text(sops_encrypt(plain, recipient=key.recipient))
    plain.unlink()
    catalog = write_catalog(tmp_path, config="connector_config.yaml")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key.key_file))

    run = connector_kit("raw", "spec", "--source", catalog)

    assert run.code == 0, run.stderr
    assert recorded_requests(tmp_path)[1]["spec"]["config"] == {
        "host": "example.com",
        "credentials": {"api_token": "t0ken-value"},
    }


def test_raw_spec_with_the_wrong_key_names_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = make_age_key(tmp_path)
    plain = tmp_path / "plain.yaml"
    plain.write_text("api_token_sops: t0ken-value\n")
    (tmp_path / "connector_config.yaml").write_text(sops_encrypt(plain, recipient=key.recipient))
    catalog = write_catalog(tmp_path, config="connector_config.yaml")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(make_age_key(tmp_path, "wrong.txt").key_file))

    run = connector_kit("raw", "spec", "--source", catalog)

    assert run.code == 1
    assert f"config {tmp_path.resolve() / 'connector_config.yaml'}" in run.error
    assert "SOPS_AGE_KEY_FILE" in run.error
    assert "t0ken-value" not in run.stderr
    assert recorded_requests(tmp_path) == []


def test_raw_spec_requires_a_choice_among_several_tasks(tmp_path: Path) -> None:
    catalog = tmp_path / "test.flow.yaml"
    local = {"command": [sys.executable, str(FAKE_CAPTURE)], "config": {}}
    catalog.write_text(
        json.dumps(
            {
                "captures": {
                    "acmeCo/a": {"endpoint": {"local": local}, "bindings": []},
                    "acmeCo/b": {"endpoint": {"local": local}, "bindings": []},
                }
            }
        )
    )

    ambiguous = connector_kit("raw", "spec", "--source", catalog)
    chosen = connector_kit("raw", "spec", "--source", catalog, "--capture", "acmeCo/b")

    assert ambiguous.code == 1
    assert "choose one with --capture" in ambiguous.error
    assert chosen.code == 0, chosen.stderr


def test_raw_discover_emit_raw_prints_one_binding_per_line(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path)
    before = catalog.read_text()

    run = connector_kit("raw", "discover", "--source", catalog, "--emit-raw")

    assert run.code == 0, run.stderr
    assert [b["recommendedName"] for b in run.lines] == ["users", "orders"]
    assert run.lines[1]["key"] == ["/order_id", "/line"]
    assert run.lines[1]["disable"] is True
    assert catalog.read_text() == before
    discover = recorded_requests(tmp_path)[1]["discover"]
    assert discover == {
        "connectorType": "LOCAL",
        "config": {"host": "example.com"},
        "name": "acmeCo/source-fake",
    }


CATALOG_WITH_COMMENTS = """\
# The fake capture, for tests.
captures:
  acmeCo/source-fake:
    endpoint:
      local:
        command: [{python}, {script}]
        config: {{host: example.com}}  # inline on purpose
    interval: 10m
    bindings:
      # users keep their backfill counter
      - resource: {{name: old-users}}
        target: acmeCo/users
        backfill: 3
      - resource: {{name: gone}}
        target: acmeCo/gone
collections:
  acmeCo/users:
    schema: {{type: object}}  # replaced by discover
    key: [/old]
"""


def test_raw_discover_rewrites_bindings_and_collections_and_is_idempotent(
    tmp_path: Path,
) -> None:
    catalog = tmp_path / "test.flow.yaml"
    catalog.write_text(CATALOG_WITH_COMMENTS.format(python=sys.executable, script=FAKE_CAPTURE))

    run = connector_kit("raw", "discover", "--source", catalog)

    assert run.code == 0, run.stderr
    assert run.stdout == ""
    text = catalog.read_text()
    assert "# The fake capture, for tests." in text
    assert "# inline on purpose" in text
    assert "# users keep their backfill counter" in text
    assert "interval: 10m" in text
    loaded = load_catalog(catalog)
    capture = loaded.capture()
    assert [(b.target, b.resource, b.backfill, b.disable) for b in capture.spec.bindings] == [
        ("acmeCo/users", {"name": "users"}, 3, False),
        ("acmeCo/orders", {"name": "orders", "interval": "PT5M"}, 0, True),
    ]
    users = loaded.collections["acmeCo/users"]
    assert users.key == ["/id"]
    assert users.file == catalog.resolve()
    assert users.write_schema["required"] == ["id"]
    orders = loaded.collections["acmeCo/orders"]
    assert orders.key == ["/order_id", "/line"]
    assert orders.file == (tmp_path / "acmeCo" / "flow.yaml").resolve()
    assert orders.schema_file == (tmp_path / "acmeCo" / "orders.schema.yaml").resolve()
    assert orders.write_schema == {"type": "object", "x-infer-schema": True}
    assert "acmeCo/flow.yaml" in text

    snapshot = {p: p.read_text() for p in tmp_path.rglob("*.yaml")}
    again = connector_kit("raw", "discover", "--source", catalog)

    assert again.code == 0, again.stderr
    assert {p: p.read_text() for p in tmp_path.rglob("*.yaml")} == snapshot
    assert "already up to date" in again.stderr


def test_raw_discover_updates_a_schema_file_in_place(tmp_path: Path) -> None:
    catalog = write_catalog(
        tmp_path,
        collections={"acmeCo/users": {"schema": "users.schema.yaml", "key": ["/id"]}},
    )
    (tmp_path / "users.schema.yaml").write_text("type: object\ntitle: stale\n")

    run = connector_kit("raw", "discover", "--source", catalog)

    assert run.code == 0, run.stderr
    users = load_catalog(catalog).collections["acmeCo/users"]
    assert "title" not in users.write_schema
    assert users.write_schema["properties"]["id"] == {"type": "integer"}


def test_raw_spec_of_a_materialization_uses_the_materialize_protocol(tmp_path: Path) -> None:
    script = tmp_path / "materialize_fake.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, sys
            for line in sys.stdin:
                request = json.loads(line)
                table = {"table": {"x-collection-name": True}}
                spec = {"protocol": 3032023, "configSchema": {"type": "object"},
                        "resourceConfigSchema": {"properties": table}}
                print(json.dumps({"spec": spec}), flush=True)
            """
        )
    )
    catalog = tmp_path / "test.flow.yaml"
    catalog.write_text(
        json.dumps(
            {
                "materializations": {
                    "acmeCo/mat": {
                        "endpoint": {
                            "local": {"command": [sys.executable, script.name], "config": {}}
                        },
                        "bindings": [],
                    }
                }
            }
        )
    )

    run = connector_kit("raw", "spec", "--source", catalog, "--materialization", "acmeCo/mat")

    assert run.code == 0, run.stderr
    assert run.lines[0]["resourceConfigSchema"]["properties"]["table"] == {
        "x-collection-name": True
    }
    assert "resourcePathPointers" not in run.lines[0]
