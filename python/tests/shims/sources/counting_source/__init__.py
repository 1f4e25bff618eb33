"""A tiny airbyte-cdk source that runs on every CDK line from 0.x on, for the shim's tests."""

from .source import CountingSource

__all__ = ["CountingSource"]
