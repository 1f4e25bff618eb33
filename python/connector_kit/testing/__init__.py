"""Reusable tests for connectors: a contract suite and a typed reader over captured output."""

from connector_kit.testing.contract import CaptureContract
from connector_kit.testing.reader import CaptureRun, discover, run_capture, spec
from connector_kit.testing.session import Output, Session, open_request

__all__ = [
    "CaptureContract",
    "CaptureRun",
    "Output",
    "Session",
    "discover",
    "open_request",
    "run_capture",
    "spec",
]
