"""`connector-kit`: flowctl's local-development verbs on the same `test.flow.yaml` catalogs.

This module only parses arguments, wires stdout and logging, and maps errors to
exit codes; the work is done in `connector_kit.runtime`, and for `new` and `test`
in `connector_kit.scaffold`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from prometheus_client import CollectorRegistry

from connector_kit.errors import ConnectorError
from connector_kit.runtime.catalog import load_catalog
from connector_kit.runtime.connector_logs import FORWARDED_LOGGER
from connector_kit.runtime.discover_writer import write_discovered
from connector_kit.runtime.duration import parse_duration
from connector_kit.runtime.metrics import RuntimeMetrics
from connector_kit.runtime.preview import PreviewOptions, preview
from connector_kit.runtime.preview_materialization import (
    FixturePreviewOptions,
    preview_materialization,
)
from connector_kit.runtime.raw import raw_discover, raw_spec
from connector_kit.runtime.run import run
from connector_kit.runtime.run_options import (
    DEFAULT_TRANSACTION_BYTES,
    DEFAULT_TRANSACTION_DOCUMENTS,
    RunOptions,
)
from connector_kit.runtime.run_stats import RunCounters
from connector_kit.runtime.state_dir import StateDirectory, default_state_dir
from connector_kit.scaffold import ConnectorName, create_connector, run_connector_tests
from connector_kit.wire import SecretMask, configure_logging, report_failure

log = logging.getLogger("connector_kit.cli")

DEFAULT_CONNECTOR_TIMEOUT = "5m"
_LOG_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(mask=SecretMask())
    logging.getLogger().setLevel(_LOG_LEVELS[args.log_level])
    # Connectors already filter by their LOG_LEVEL; whatever they write is shown.
    logging.getLogger(FORWARDED_LOGGER).setLevel(logging.DEBUG)
    try:
        # A verb returns its exit code (`test` passes pytest's on), or None for success.
        command: Callable[[argparse.Namespace], Coroutine[Any, Any, int | None]] = args.run
        code = asyncio.run(command(args))
    except ConnectorError as err:
        # The message says what to fix; a traceback would only bury it.
        log.error(str(err), extra={"fields": {"error": type(err).__name__}})
        return 1
    except BrokenPipeError:
        # Whoever read our output (`| head`) has stopped; that is not a failure of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as err:  # noqa: BLE001 - anything else is our bug: report it with its traceback
        return report_failure(err)
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130
    return code or 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="connector-kit",
        description="Run Flow connectors locally against a test.flow.yaml catalog.",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=list(_LOG_LEVELS),
        help="level of connector-kit's own logs on stderr (connectors use shards.logLevel)",
    )
    parser.add_argument("-o", "--output", choices=["json"], default="json", help=argparse.SUPPRESS)
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    raw = verbs.add_parser("raw", help="low-level connector calls").add_subparsers(
        dest="raw_verb", required=True, metavar="CALL"
    )
    spec = raw.add_parser("spec", help="print the connector's Spec response as one JSON line")
    _source_arguments(spec)
    chosen = spec.add_mutually_exclusive_group()
    chosen.add_argument("--capture", metavar="NAME", help="the capture to ask")
    chosen.add_argument("--materialization", metavar="NAME", help="the materialization to ask")
    chosen.add_argument(
        "--name", metavar="NAME", help="the task to ask (capture or materialization)"
    )
    spec.set_defaults(run=_raw_spec)

    discover = raw.add_parser(
        "discover", help="discover bindings and write them (and their collections) into the catalog"
    )
    _source_arguments(discover)
    discover.add_argument("--capture", metavar="NAME", help="the capture to discover for")
    discover.add_argument(
        "--emit-raw",
        action="store_true",
        help="print each discovered binding as a JSON line instead of rewriting the catalog",
    )
    discover.set_defaults(run=_raw_discover)

    show = verbs.add_parser("preview", help="run a capture and print what it captures")
    _source_arguments(show)
    show.add_argument("--name", metavar="NAME", help="the task to preview, if there are several")
    show.add_argument(
        "--sessions",
        type=_sessions,
        default=[-1],
        metavar="N,N,…",
        help="transactions per connector session, e.g. 2,1,-1 (negative: unlimited)",
    )
    show.add_argument(
        "--delay", type=_duration, default=0.0, help="pause between transactions, e.g. 10s"
    )
    show.add_argument(
        "--timeout",
        type=_duration,
        default=None,
        help="end a session after the connector sends nothing for this long",
    )
    show.add_argument(
        "--initial-state", type=_json, default={}, metavar="JSON", help="starting connector state"
    )
    show.add_argument("--output-state", action="store_true", help="also print state updates")
    show.add_argument("--output-apply", action="store_true", help="also print Apply's action")
    show.add_argument(
        "--fixture",
        type=Path,
        metavar="FILE",
        help="preview a materialization on these transactions (flowctl's fixture: a JSON array "
        'of transactions, each an array of ["<collection>", document] pairs)',
    )
    _metrics_argument(show)
    show.set_defaults(run=_preview)
    _run_verb(verbs)
    _connector_folder_verbs(verbs)
    return parser


def _source_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", required=True, type=Path, help="the catalog file")
    parser.add_argument(
        "--connector-timeout",
        type=_duration,
        default=parse_duration(DEFAULT_CONNECTOR_TIMEOUT),
        metavar="DURATION",
        help="how long a connector may take to answer a request "
        f"(default {DEFAULT_CONNECTOR_TIMEOUT})",
    )


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _sessions(text: str) -> list[int]:
    try:
        sessions = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of transaction counts, e.g. 2,1,-1"
        ) from None
    return sessions


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON: {err}") from None


def _print_line(value: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE))
    sys.stdout.buffer.flush()


def _write(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


async def _raw_spec(args: argparse.Namespace) -> None:
    catalog = load_catalog(args.source)
    capture_name, materialization_name = args.capture, args.materialization
    if args.name is not None:
        if args.name in catalog.materializations:
            materialization_name = args.name
        else:
            capture_name = args.name
    response = await raw_spec(
        catalog,
        capture_name=capture_name,
        materialization_name=materialization_name,
        within=args.connector_timeout,
    )
    _print_line(response)


async def _raw_discover(args: argparse.Namespace) -> None:
    catalog = load_catalog(args.source)
    bindings = await raw_discover(catalog, capture_name=args.capture, within=args.connector_timeout)
    if args.emit_raw:
        for binding in bindings:
            _print_line(binding.model_dump(by_alias=True, exclude_unset=True, mode="json"))
        return
    task = catalog.capture(args.capture)
    written = write_discovered(catalog, task, bindings)
    log.info(
        "discovered %d bindings; %s",
        len(bindings),
        f"updated {len(written)} files" if written else "the catalog was already up to date",
        extra={"fields": {"capture": task.name, "files": [str(p) for p in written]}},
    )


async def _preview(args: argparse.Namespace) -> None:
    catalog = load_catalog(args.source)
    if args.fixture is not None:
        await preview_materialization(
            catalog,
            name=args.name,
            fixture=args.fixture,
            options=FixturePreviewOptions(
                sessions=args.sessions,
                initial_state=args.initial_state,
                output_state=args.output_state,
                output_apply=args.output_apply,
                connector_timeout=args.connector_timeout,
            ),
            output=_write,
        )
        return
    with _served_metrics(args.metrics_port) as metrics:
        await preview(
            catalog,
            name=args.name,
            options=PreviewOptions(
                sessions=args.sessions,
                delay=args.delay,
                idle_timeout=args.timeout,
                initial_state=args.initial_state,
                output_state=args.output_state,
                output_apply=args.output_apply,
                connector_timeout=args.connector_timeout,
                metrics=metrics,
            ),
            output=_write,
        )


def _run_verb(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verb = verbs.add_parser(
        "run",
        help="run every capture into its collections and every materialization from them",
        description="Run the catalog's captures and materializations together, exactly once "
        "end to end: captured documents are spooled in a state directory and each "
        "materialization commits how far it has read, so a later run continues where this "
        "one stopped. Ctrl-C stops at the next transaction boundary.",
    )
    _source_arguments(verb)
    _metrics_argument(verb)
    verb.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where capture state, journals and checkpoints live (default: "
        "./.connector-kit/state/<hash of the catalog path>)",
    )
    verb.add_argument(
        "--sessions",
        type=_sessions,
        default=[-1],
        metavar="N,N,…",
        help="per capture: connector sessions and their target transactions, e.g. 2,-1 "
        "(negative: until the connector exits or --timeout); default one session",
    )
    verb.add_argument(
        "--timeout",
        type=_duration,
        default=None,
        metavar="DURATION",
        help="end a capture session when its connector sends nothing for this long; with it "
        "a run of polling captures ends by itself once caught up",
    )
    verb.add_argument(
        "--txn-docs",
        type=_positive,
        default=DEFAULT_TRANSACTION_DOCUMENTS,
        metavar="N",
        help="close a transaction at this many documents (default %(default)s)",
    )
    verb.add_argument(
        "--txn-bytes",
        type=_positive,
        default=DEFAULT_TRANSACTION_BYTES,
        metavar="BYTES",
        help="close a transaction at this many bytes of JSON (default %(default)s)",
    )
    verb.add_argument(
        "--no-fsync",
        dest="sync",
        action="store_false",
        help="do not fsync journals and state at each commit (survives a crash of connector-kit, "
        "not of the machine)",
    )
    verb.add_argument(
        "--progress-interval",
        type=_duration,
        default=5.0,
        metavar="DURATION",
        help="how often to log per-binding progress (0: only the summary)",
    )
    verb.set_defaults(run=_run)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


async def _run(args: argparse.Namespace) -> None:
    catalog = load_catalog(args.source)
    state_dir = args.state_dir or default_state_dir(catalog.root, base=Path.cwd())
    with _served_metrics(args.metrics_port) as metrics:
        await run(
            catalog,
            state=StateDirectory(state_dir),
            options=RunOptions(
                sessions=args.sessions,
                idle_timeout=args.timeout,
                connector_timeout=args.connector_timeout,
                transaction_documents=args.txn_docs,
                transaction_bytes=args.txn_bytes,
                sync=args.sync,
                progress_interval=args.progress_interval,
            ),
            counters=RunCounters(sinks=metrics.binding if metrics is not None else None),
        )


def _metrics_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        metavar="PORT",
        help="serve per-binding Prometheus metrics at http://127.0.0.1:PORT/metrics "
        "while running (0 picks a free port, which the log names)",
    )


@contextmanager
def _served_metrics(port: int | None) -> Iterator[RuntimeMetrics | None]:
    """Metrics served on `port` while the block runs; None (and no server) without a port."""
    if port is None:
        yield None
        return
    metrics = RuntimeMetrics(CollectorRegistry())
    with metrics.serve(port=port):
        yield metrics


def _connector_folder_verbs(
    verbs: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    new = verbs.add_parser(
        "new",
        help="create a capture connector folder that passes its own contract tests",
        description="Create NAME/ (source-<name>) with a connector package, test.flow.yaml, "
        "connector_config.yaml, GETTING_STARTED.md and tests that pass as created.",
    )
    new.add_argument("name", metavar="NAME", help="the connector's name, e.g. source-acme-crm")
    new.add_argument(
        "--directory",
        type=Path,
        default=Path(),
        metavar="DIR",
        help="where to create the folder (default: the current directory)",
    )
    new.set_defaults(run=_new)

    test = verbs.add_parser(
        "test",
        help="run a connector folder's tests (the contract suite among them) with pytest",
        description="Run pytest on DIR/tests with this interpreter; exits with pytest's code. "
        "Arguments after DIR go to pytest (e.g. -x, -k NAME).",
    )
    test.add_argument("folder", type=Path, metavar="DIR", help="the connector folder")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER, metavar="PYTEST_ARG")
    test.set_defaults(run=_test)


async def _new(args: argparse.Namespace) -> None:
    folder = create_connector(ConnectorName.parse(args.name), parent=args.directory)
    log.info(
        "created %s; `connector-kit test %s` runs its tests, and its GETTING_STARTED.md "
        "says what to change next",
        folder,
        folder,
        extra={"fields": {"folder": str(folder)}},
    )


async def _test(args: argparse.Namespace) -> int:
    return await run_connector_tests(args.folder, pytest_args=args.pytest_args)


if __name__ == "__main__":
    sys.exit(main())
