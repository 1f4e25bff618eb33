"""The connector-kit contract suite, run on this folder's own catalog through the runtime.

The catalog is `test.flow.yaml` with its collections, pointed at an emulator this
module starts: the committed `connector_config.yaml` names the emulator's default
address and is sops-encrypted, so the copy here carries the same config in the clear.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from connector_kit.testing import CaptureContract
from jira_emulator import EmulatorHandle, EmulatorThread

from .conftest import SMALL_SITE, config_for

CONNECTOR = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def contract_site() -> Iterator[EmulatorHandle]:
    with EmulatorThread(SMALL_SITE) as handle:
        yield handle


@pytest.fixture(scope="module")
def contract_catalog(
    contract_site: EmulatorHandle, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    directory = tmp_path_factory.mktemp("source-jira")
    shutil.copytree(CONNECTOR / "acmeCo", directory / "acmeCo")
    shutil.copy(CONNECTOR / "test.flow.yaml", directory / "test.flow.yaml")
    config = yaml.safe_dump(config_for(contract_site))
    (directory / "connector_config.yaml").write_text(config)
    return directory / "test.flow.yaml"


class TestSourceJiraContract(CaptureContract):
    idle_timeout = 2.0
