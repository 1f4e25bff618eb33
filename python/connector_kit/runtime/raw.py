"""`raw spec` and `raw discover`: one unary call to a catalog task's connector."""

from __future__ import annotations

from typing import Any

from connector_kit.errors import ConfigError
from connector_kit.protocol import capture, materialize
from connector_kit.runtime.catalog import Catalog
from connector_kit.runtime.launch import (
    capture_command,
    materialization_command,
    unsealed_config,
)
from connector_kit.runtime.unary import capture_call, materialize_call


async def raw_spec(
    catalog: Catalog,
    *,
    capture_name: str | None,
    materialization_name: str | None,
    within: float | None,
) -> dict[str, Any]:
    """The Spec response of the chosen task's connector, as JSON."""
    if capture_name is not None or (materialization_name is None and _only_captures(catalog)):
        task = catalog.capture(capture_name)
        config = unsealed_config(task.config)
        command = capture_command(task, catalog_dir=catalog.directory, secrets=config.secrets)
        response = await capture_call(
            command,
            capture.Request(
                spec=capture.Spec(connector_type=command.connector_type, config=config.value)
            ),
            within=within,
        )
        assert response.spec is not None
        return response.spec.model_dump(by_alias=True, exclude_unset=True, mode="json")
    mat = catalog.materialization(materialization_name)
    mat_config = unsealed_config(mat.config)
    command = materialization_command(
        mat, catalog_dir=catalog.directory, secrets=mat_config.secrets
    )
    answer = await materialize_call(
        command,
        materialize.Request(
            spec=materialize.Spec(connector_type=command.connector_type, config=mat_config.value)
        ),
        within=within,
    )
    assert answer.spec is not None
    return answer.spec.model_dump(by_alias=True, exclude_unset=True, mode="json")


def _only_captures(catalog: Catalog) -> bool:
    tasks = len(catalog.captures) + len(catalog.materializations)
    if tasks > 1:
        names = ", ".join(sorted([*catalog.captures, *catalog.materializations]))
        raise ConfigError(
            f"{catalog.root} defines several tasks ({names}); choose one with --capture or "
            "--materialization"
        )
    if tasks == 0:
        raise ConfigError(f"{catalog.root} and its imports define no capture or materialization")
    return bool(catalog.captures)


async def raw_discover(
    catalog: Catalog, *, capture_name: str | None, within: float | None
) -> list[capture.DiscoveredBinding]:
    """The bindings the chosen capture's connector discovers with its configured endpoint."""
    task = catalog.capture(capture_name)
    config = unsealed_config(task.config)
    command = capture_command(task, catalog_dir=catalog.directory, secrets=config.secrets)
    response = await capture_call(
        command,
        capture.Request(
            discover=capture.Discover(
                connector_type=command.connector_type,
                config=config.value,
                name=task.name,
            )
        ),
        within=within,
    )
    assert response.discovered is not None
    return response.discovered.bindings
