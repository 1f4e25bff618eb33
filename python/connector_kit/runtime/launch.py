"""How a catalog task's connector is started, and the config it is given.

`endpoint.local` runs its command directly (working directory: the catalog's
folder; `env` merged over ours; `LOG_LEVEL` from `shards.logLevel`, default
`info`), as Flow's local connectors do. `endpoint.connector` runs the image with
`docker run -i --rm` when a Docker engine answers `docker info`. Either way the
config is decrypted with sops first, when it is encrypted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connector_kit.errors import ConfigError
from connector_kit.runtime.catalog import CaptureTask, EndpointConfig, MaterializationTask
from connector_kit.runtime.catalog_model import ConnectorEndpoint, LocalEndpoint
from connector_kit.runtime.sops import UnsealedConfig, find_sops, unseal_config

DOCKER_INFO_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class ConnectorCommand:
    """Everything needed to start one connector process for a task."""

    task: str
    """How errors and logs name the task, e.g. `capture acmeCo/source-x`."""
    argv: list[str]
    cwd: Path
    env: dict[str, str] = field(repr=False)
    connector_type: str
    """`LOCAL` or `IMAGE`, as requests' `connectorType` names it."""
    secrets: frozenset[str] = field(default=frozenset(), repr=False)
    """Decrypted config values, masked in the connector's forwarded logs and errors."""


def capture_command(
    task: CaptureTask, *, catalog_dir: Path, secrets: frozenset[str] = frozenset()
) -> ConnectorCommand:
    return _command(
        f"capture {task.name}",
        endpoint=task.endpoint,
        catalog_dir=catalog_dir,
        log_level=task.log_level,
        location=f"{task.location}.endpoint",
        file=task.file,
        secrets=secrets,
    )


def materialization_command(
    task: MaterializationTask, *, catalog_dir: Path, secrets: frozenset[str] = frozenset()
) -> ConnectorCommand:
    endpoint = task.spec.endpoint.local or task.spec.endpoint.connector
    if endpoint is None:
        raise ConfigError(
            f"{task.location} in {task.file} uses a dekaf endpoint, which runs only inside "
            "Estuary's platform; give it a `local` or `connector` endpoint to run it here"
        )
    return _command(
        f"materialization {task.name}",
        endpoint=endpoint,
        catalog_dir=catalog_dir,
        log_level=task.log_level,
        location=f"{task.location}.endpoint",
        file=task.file,
        secrets=secrets,
    )


def plain_config(config: EndpointConfig) -> dict[str, Any]:
    """The config the connector receives: decrypted and suffix-stripped when sops-encrypted."""
    return unsealed_config(config).value


def unsealed_config(config: EndpointConfig) -> UnsealedConfig:
    """The plain config and the secret values decryption revealed (for `secrets=`)."""
    sops_binary = find_sops() if "sops" in config.value else None
    return unseal_config(
        config.value, origin=config.origin, location=config.location, sops_binary=sops_binary
    )


def _command(
    task: str,
    *,
    endpoint: LocalEndpoint | ConnectorEndpoint,
    catalog_dir: Path,
    log_level: str,
    location: str,
    file: Path,
    secrets: frozenset[str],
) -> ConnectorCommand:
    if isinstance(endpoint, LocalEndpoint):
        if endpoint.protobuf:
            raise ConfigError(
                f"{location}.local in {file} sets `protobuf: true`; connector-kit speaks the "
                "JSON codec only, so remove it (connectors built with connector-kit speak JSON)"
            )
        env = {**os.environ, **endpoint.env, "LOG_LEVEL": log_level}
        return ConnectorCommand(
            task=task,
            argv=list(endpoint.command),
            cwd=catalog_dir,
            env=env,
            connector_type="LOCAL",
            secrets=secrets,
        )
    docker = _docker_engine(location=location, file=file)
    return ConnectorCommand(
        task=task,
        argv=[docker, "run", "-i", "--rm", "--env", f"LOG_LEVEL={log_level}", endpoint.image],
        cwd=catalog_dir,
        env=dict(os.environ),
        connector_type="IMAGE",
        secrets=secrets,
    )


def _docker_engine(*, location: str, file: Path) -> str:
    """The docker CLI, once a Docker engine has answered; otherwise a ConfigError."""
    docker = shutil.which("docker")
    hint = (
        f"{location}.connector in {file} names an image, which needs a Docker engine; "
        "start one, or run the connector as a local command instead with "
        "`endpoint: {local: {command: [python, -m, <module>], config: ...}}`"
    )
    if docker is None:
        raise ConfigError(f"no Docker engine is available (no `docker` on PATH): {hint}")
    try:
        answered = subprocess.run(
            [docker, "info"],
            capture_output=True,
            timeout=DOCKER_INFO_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ConfigError(f"no Docker engine is available (`docker info` hung): {hint}") from None
    if answered.returncode != 0:
        raise ConfigError(f"no Docker engine is available (`docker info` failed): {hint}")
    return docker
