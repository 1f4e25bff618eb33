"""Run any Singer tap as a Flow capture: singer-sdk, singer-python, pipelinewise or an executable.

```python
from connector_kit.shims import singer
from tap_jsonl.tap import TapJsonl

singer.run_tap(singer.SingerTap.from_sdk_class(TapJsonl))
singer.run_tap(singer.SingerTap(["tap-jsonl"]))
```

`python -m connector_kit.shims.singer -- tap-jsonl` does the same without code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from connector_kit.shims.singer.catalog import discovered_binding, selected_catalog
from connector_kit.shims.singer.resource import SingerResource
from connector_kit.shims.singer.shim import SingerShim
from connector_kit.shims.singer.tap import SingerTap

__all__ = [
    "SingerResource",
    "SingerShim",
    "SingerTap",
    "discovered_binding",
    "run_tap",
    "selected_catalog",
]


def run_tap(
    tap: SingerTap,
    *,
    config_schema: Mapping[str, Any] | None = None,
    documentation_url: str = "",
) -> NoReturn:
    """Serve a Singer tap as a Flow capture."""
    SingerShim(tap, config_schema=config_schema, documentation_url=documentation_url).main()
