"""Run an Airbyte source as a Flow capture: an airbyte-cdk `Source` in-process, or any executable.

```python
from connector_kit.shims import airbyte
from source_faker import SourceFaker

airbyte.run_source(SourceFaker())                # in-process
airbyte.run_executable(["source-faker"])         # any Airbyte source command
```

`python -m connector_kit.shims.airbyte --source source_faker:SourceFaker` and
`python -m connector_kit.shims.airbyte -- source-faker` do the same without code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from connector_kit.protocol.flow import OAuth2
from connector_kit.shims.airbyte.delegates import AirbyteDelegate, ExecutableSource, InProcessSource
from connector_kit.shims.airbyte.resource import AirbyteResource
from connector_kit.shims.airbyte.shim import AirbyteShim, discovered_binding

__all__ = [
    "AirbyteDelegate",
    "AirbyteResource",
    "AirbyteShim",
    "ExecutableSource",
    "InProcessSource",
    "discovered_binding",
    "run_executable",
    "run_source",
]


def run_source(
    source: Any, *, documentation_url: str = "", oauth2: OAuth2 | None = None
) -> NoReturn:
    """Serve an airbyte-cdk `Source` object, run in this process, as a Flow capture."""
    AirbyteShim(InProcessSource(source), documentation_url=documentation_url, oauth2=oauth2).main()


def run_executable(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    documentation_url: str = "",
    oauth2: OAuth2 | None = None,
) -> NoReturn:
    """Serve any Airbyte source executable (`command spec|check|discover|read ...`)."""
    AirbyteShim(
        ExecutableSource(command, env=env), documentation_url=documentation_url, oauth2=oauth2
    ).main()
