"""`python -m connector_kit.shims.singer -- TAP...`: wrap a Singer tap without writing code."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

import orjson

from connector_kit.shims import singer


def main() -> NoReturn:
    parser = argparse.ArgumentParser(
        prog="python -m connector_kit.shims.singer",
        description="Serve a Singer tap as an Estuary Flow capture connector.",
    )
    parser.add_argument(
        "--config-schema",
        type=Path,
        help="JSON schema of the tap's config (default: the tap's --about settings)",
    )
    parser.add_argument(
        "--catalog-flag",
        default="--catalog",
        help="the flag the tap takes its catalog with (--properties for old singer-python taps)",
    )
    parser.add_argument("--documentation-url", default="")
    parser.add_argument("command", nargs="+", help="the tap executable and its leading arguments")
    args = parser.parse_args()
    schema = orjson.loads(args.config_schema.read_bytes()) if args.config_schema else None
    singer.run_tap(
        singer.SingerTap(args.command, catalog_flag=args.catalog_flag),
        config_schema=schema,
        documentation_url=args.documentation_url,
    )


if __name__ == "__main__":
    main()
