"""Connector folders: `connector-kit new` creates one, `connector-kit test` runs its tests.

A connector folder has the layout every connector in the repository shares:
`pyproject.toml`, the package (`source_x/`), `test.flow.yaml`,
`connector_config.yaml`, `GETTING_STARTED.md` and `tests/`.
"""

from connector_kit.scaffold.create import create_connector
from connector_kit.scaffold.folder_tests import connector_test_command, run_connector_tests
from connector_kit.scaffold.names import ConnectorName

__all__ = ["ConnectorName", "connector_test_command", "create_connector", "run_connector_tests"]
