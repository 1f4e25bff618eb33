"""Reusable tests for connectors: a contract suite and a typed reader over captured output."""

from connector_kit.testing.contract import CaptureContract
from connector_kit.testing.reader import CaptureRun, discover, run_capture, spec

__all__ = ["CaptureContract", "CaptureRun", "discover", "run_capture", "spec"]
