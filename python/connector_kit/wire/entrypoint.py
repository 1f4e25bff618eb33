"""The process entry point every connector shares.

It owns the things a connector must get right exactly once: stdout carries
protocol lines and nothing else, logs are JSON on stderr, a debugger can be
attached, and any failure ends in one final error line that the Flow runtime
shows to the user, followed by exit code 1.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, NoReturn

from connector_kit.errors import ConnectorError
from connector_kit.wire.logs import SecretMask, configure_logging
from connector_kit.wire.writer import LineWriter

DEBUG_ENV = "CONNECTOR_KIT_DEBUG_LISTEN"
"""`[host:]port`: listen for a debugpy client there and wait for it before starting."""

log = logging.getLogger("connector_kit")


@dataclass(frozen=True)
class ConnectorIO:
    """Where a connector reads requests, writes responses and registers its secrets."""

    requests: BinaryIO
    responses: LineWriter
    secrets: SecretMask


def claim_stdout() -> LineWriter:
    """Keep fd 1 for protocol lines and point everything else that writes to it at stderr.

    Third-party code (print, `sys.__stdout__`, C extensions) then cannot corrupt the
    protocol stream: their bytes land in the log instead.
    """
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return LineWriter(protocol_fd)


def wait_for_debugger() -> None:
    target = os.environ.get(DEBUG_ENV, "").strip()
    if not target:
        return
    host, _, port = target.rpartition(":")
    try:
        import debugpy  # imported only when debugging
    except ImportError:
        raise ConnectorError(
            f"{DEBUG_ENV} is set but debugpy is not installed; `pip install debugpy`"
        ) from None
    debugpy.listen((host or "127.0.0.1", int(port)))
    log.warning(
        "waiting for a debugger", extra={"fields": {"listen": f"{host or '127.0.0.1'}:{port}"}}
    )
    debugpy.wait_for_client()


def report_failure(err: BaseException) -> int:
    """Log the final, user-facing error line for `err` and return the exit code."""
    if isinstance(err, ConnectorError):
        log.error(str(err), extra={"fields": {"error": type(err).__name__}}, exc_info=err)
        return 1
    if isinstance(err, KeyboardInterrupt):
        log.error("interrupted")
        return 130
    log.error(
        f"connector failed with an internal error: {type(err).__name__}: {err}",
        exc_info=err,
    )
    return 1


def run_connector(serve: Callable[[ConnectorIO], None]) -> NoReturn:
    """Run `serve` as this process's connector and exit with its outcome."""
    secrets = SecretMask()
    configure_logging(mask=secrets)
    try:
        wait_for_debugger()
        io = ConnectorIO(requests=sys.stdin.buffer, responses=claim_stdout(), secrets=secrets)
        serve(io)
    except SystemExit:
        raise
    except BaseException as err:  # noqa: BLE001 - every failure must end in the error line
        code = report_failure(err)
        logging.shutdown()
        os._exit(code)  # Skip interpreter teardown: stray daemon threads must not block exit.
    logging.shutdown()
    sys.exit(0)
