"""Throwaway environments of the third-party connectors the shim tests run (see venvs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .venvs import shim_venv

# Besides the connector, each venv gets what connector-kit itself imports, because the
# shim runs inside it (from this checkout, through PYTHONPATH) when it wraps in-process.
KIT_DEPENDENCIES = ["pydantic>=2.7,<3", "orjson>=3.9", "aiohttp>=3.9,<4"]


@pytest.fixture(scope="session")
def faker_venv() -> Path:
    return shim_venv(
        "airbyte-source-faker-7.2.1", ["airbyte-source-faker==7.2.1", *KIT_DEPENDENCIES]
    )


@pytest.fixture(scope="session")
def jsonl_venv() -> Path:
    return shim_venv("tap-jsonl-0.3.1", ["tap-jsonl==0.3.1", *KIT_DEPENDENCIES])


@pytest.fixture(scope="session")
def cdk0_venv() -> Path:
    """airbyte-cdk 0.x (pydantic v1): it can only run as a command beside the shim."""
    return shim_venv("airbyte-cdk-0.90.0", ["airbyte-cdk==0.90.0"])
