"""The two ways to run an Airbyte source: an airbyte-cdk `Source` in this process, or a command.

Both run the source's own CLI (`spec`, `check`, `discover`, `read` with
`--config/--catalog/--state` files) and yield its messages as JSON objects, so
everything downstream is the same for either. In-process, the CLI is the CDK's
`AirbyteEntrypoint`, which every CDK line has: it configures the source, checks
the config against the spec, drains queued messages and adds `sourceStats`,
exactly as the source's own `main` would, and it serialises each message with
whatever model library that CDK uses. A 0.x CDK (pydantic v1) cannot share a
process with connector-kit (pydantic v2); run it as a command instead.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import orjson

from connector_kit.errors import ConfigError
from connector_kit.shims.process import DelegateProcess, command_name, message_lines

Command = Literal["spec", "check", "discover", "read"]
Messages = Iterator[dict[str, Any]]


class AirbyteDelegate(Protocol):
    name: str

    def run(
        self,
        command: Command,
        *,
        config: Mapping[str, Any] | None = None,
        catalog: Mapping[str, Any] | None = None,
        state: list[dict[str, Any]] | None = None,
    ) -> contextlib.AbstractContextManager[Messages]:
        """Run one CLI command; leaving the context ends it, finished or not."""
        ...


def cli_args(
    command: Command,
    folder: Path,
    *,
    config: Mapping[str, Any] | None,
    catalog: Mapping[str, Any] | None,
    state: list[dict[str, Any]] | None,
) -> list[str]:
    """The Airbyte CLI arguments for `command`, with its JSON files written into `folder`."""
    args: list[str] = [command]
    for flag, value in (("--config", config), ("--catalog", catalog), ("--state", state)):
        if value is None:
            continue
        path = folder / f"{flag.removeprefix('--')}.json"
        # The folder is private (mkdtemp), so the config's secrets are readable by us alone.
        path.write_bytes(orjson.dumps(value))
        args += [flag, str(path)]
    return args


class InProcessSource:
    """An airbyte-cdk `Source` object (any CDK line from 1.x on), run in this process."""

    def __init__(self, source: Any) -> None:
        self._source = source
        self.name = f"Airbyte source {type(source).__name__}"

    @contextlib.contextmanager
    def run(
        self,
        command: Command,
        *,
        config: Mapping[str, Any] | None = None,
        catalog: Mapping[str, Any] | None = None,
        state: list[dict[str, Any]] | None = None,
    ) -> Iterator[Messages]:
        with tempfile.TemporaryDirectory(prefix="airbyte-") as folder:
            args = cli_args(command, Path(folder), config=config, catalog=catalog, state=state)
            entrypoint = self._entrypoint()
            strings = entrypoint.run(entrypoint.parse_args(args))
            try:
                yield (orjson.loads(s) for s in strings)
            finally:
                # A generator stopped early may try to yield queued messages from its
                # `finally`, which Python reports as a RuntimeError; they are moot now.
                with contextlib.suppress(RuntimeError):
                    strings.close()

    def _entrypoint(self) -> Any:
        """The CDK's entrypoint for the source, without the logging it installs.

        Importing `airbyte_cdk.entrypoint` points the root logger at stdout (as
        Airbyte LOG messages); our JSON handler on stderr is put back, so the CDK's
        log records reach stderr in our format and never the protocol stream.
        """
        root = logging.getLogger()
        handlers, level, excepthook = list(root.handlers), root.level, sys.excepthook
        try:
            module = importlib.import_module("airbyte_cdk.entrypoint")
            return module.AirbyteEntrypoint(self._source)
        except ImportError as err:
            raise ConfigError(
                f"cannot run {self.name} in-process: {err}; install airbyte-cdk beside "
                "connector-kit, or run the source as a command"
            ) from None
        finally:
            for handler in list(root.handlers):
                if handler not in handlers:
                    root.removeHandler(handler)
            for handler in handlers:
                if handler not in root.handlers:
                    root.addHandler(handler)
            root.setLevel(level)
            sys.excepthook = excepthook


class ExecutableSource:
    """Any Airbyte source executable (a console script, `python main.py`, a binary)."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        if not command:
            raise ConfigError("the Airbyte source command is empty; give the executable to run")
        self._command = list(command)
        self._env = env
        self._cwd = cwd
        self.name = f"Airbyte source `{command_name(self._command)}`"

    @contextlib.contextmanager
    def run(
        self,
        command: Command,
        *,
        config: Mapping[str, Any] | None = None,
        catalog: Mapping[str, Any] | None = None,
        state: list[dict[str, Any]] | None = None,
    ) -> Iterator[Messages]:
        with tempfile.TemporaryDirectory(prefix="airbyte-") as folder:
            args = cli_args(command, Path(folder), config=config, catalog=catalog, state=state)
            process = DelegateProcess(
                [*self._command, *args], name=self.name, env=self._env, cwd=self._cwd
            )
            try:
                yield self._messages(process)
            finally:
                process.terminate()

    def _messages(self, process: DelegateProcess) -> Messages:
        yield from message_lines(process.stdout_lines(), source=self.name)
        process.finish()
