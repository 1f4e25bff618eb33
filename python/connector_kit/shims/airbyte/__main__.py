"""`python -m connector_kit.shims.airbyte`: wrap an Airbyte source without writing code."""

from __future__ import annotations

import argparse
import importlib
from typing import NoReturn

from connector_kit.errors import ConfigError
from connector_kit.shims import airbyte


def main() -> NoReturn:
    parser = argparse.ArgumentParser(
        prog="python -m connector_kit.shims.airbyte",
        description="Serve an Airbyte source as an Estuary Flow capture connector.",
    )
    parser.add_argument(
        "--source",
        metavar="MODULE:CLASS",
        help="an airbyte-cdk Source class to run in-process, e.g. source_faker:SourceFaker",
    )
    parser.add_argument("--documentation-url", default="")
    parser.add_argument(
        "command", nargs="*", help="an Airbyte source executable and its leading arguments"
    )
    args = parser.parse_args()
    if bool(args.source) == bool(args.command):
        parser.error("give either --source MODULE:CLASS or the source's command after `--`")
    if args.command:
        airbyte.run_executable(args.command, documentation_url=args.documentation_url)
    airbyte.run_source(load_class(args.source)(), documentation_url=args.documentation_url)


def load_class(spec: str) -> type:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"--source {spec!r} is not MODULE:CLASS, e.g. source_faker:SourceFaker")
    found = getattr(importlib.import_module(module_name), attribute, None)
    if not isinstance(found, type):
        raise ConfigError(f"--source {spec!r}: {module_name} has no class {attribute!r}")
    return found


if __name__ == "__main__":
    main()
