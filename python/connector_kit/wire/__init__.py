"""JSON-lines I/O shared by every connector: requests in, responses out, logs on stderr."""

from connector_kit.wire.entrypoint import ConnectorIO, report_failure, run_connector
from connector_kit.wire.logs import SecretMask, configure_logging
from connector_kit.wire.reader import (
    MAX_LINE_BYTES,
    AsyncLineReader,
    RequestLines,
    iter_lines,
    parse_line,
    snippet,
)
from connector_kit.wire.writer import LineWriter

__all__ = [
    "MAX_LINE_BYTES",
    "AsyncLineReader",
    "ConnectorIO",
    "LineWriter",
    "RequestLines",
    "SecretMask",
    "configure_logging",
    "iter_lines",
    "parse_line",
    "report_failure",
    "run_connector",
    "snippet",
]
