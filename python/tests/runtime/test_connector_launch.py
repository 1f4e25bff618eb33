"""How connectors are launched: images through `docker run`, and secrets kept out of logs."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from .fake_catalog import FAKE_CAPTURE, connector_kit, recorded_requests, write_catalog
from .sops_keys import make_age_key, sops_encrypt

FAKE_DOCKER = """#!{python}
import json, os, sys
with open({argv_file!r}, "a") as out:
    out.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1] == "info":
    sys.exit(0)
os.execv({python!r}, [{python!r}, {capture!r}])
"""


def fake_docker(directory: Path) -> Path:
    """A `docker` that answers `info` and runs the fake capture for `run`."""
    bin_dir = directory / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(
        FAKE_DOCKER.format(
            python=sys.executable,
            argv_file=str(directory / "docker-argv.jsonl"),
            capture=str(FAKE_CAPTURE),
        )
    )
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def test_an_image_endpoint_runs_through_docker_run_with_the_log_level(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = fake_docker(tmp_path)
    catalog = write_catalog(tmp_path)
    definition = json.loads(catalog.read_text())
    capture = definition["captures"]["acmeCo/source-fake"]
    capture["endpoint"] = {
        "connector": {"image": "ghcr.io/acme/source-fake:local", "config": {"host": "h"}}
    }
    capture["shards"] = {"logLevel": "debug"}
    catalog.write_text(json.dumps(definition))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_RECORD", str(tmp_path / "requests.jsonl"))

    result = connector_kit("raw", "spec", "--source", catalog)

    assert result.code == 0, result.stderr
    assert result.lines[0]["documentationUrl"] == "https://example.com/fake-capture"
    calls = [json.loads(line) for line in (tmp_path / "docker-argv.jsonl").read_text().splitlines()]
    assert calls == [
        ["info"],
        ["run", "-i", "--rm", "--env", "LOG_LEVEL=debug", "ghcr.io/acme/source-fake:local"],
    ]
    assert recorded_requests(tmp_path)[0] == {"spec": {"connectorType": "IMAGE", "config": {}}}


def test_decrypted_secrets_are_masked_in_forwarded_connector_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = make_age_key(tmp_path)
    plain = tmp_path / "plain.yaml"
    plain.write_text("host: example.com\ncredentials:\n  api_token_sops: t0ken-value-42\n")
    (tmp_path / "connector_config.yaml").write_text(sops_encrypt(plain, recipient=key.recipient))
    plain.unlink()
    catalog = write_catalog(tmp_path, config="connector_config.yaml", env={"FAKE_LOG_CONFIG": "1"})
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key.key_file))

    result = connector_kit("raw", "spec", "--source", catalog)

    assert result.code == 0, result.stderr
    assert "t0ken-value-42" not in result.stderr
    # The first Spec is the runtime's probe, with an empty config; the second carries it.
    forwarded = [e for e in result.logs if e["msg"].startswith("connecting with")][-1]
    assert "[redacted]" in forwarded["msg"]
    assert forwarded["fields"]["config"]["credentials"]["api_token"] == "[redacted]"
    assert forwarded["fields"]["config"]["host"] == "example.com", "plain values stay readable"
