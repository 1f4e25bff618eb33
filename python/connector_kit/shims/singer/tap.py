"""A Singer tap run as a command: `--discover`, `--about`, and a sync with config/catalog/state.

A subprocess is the one route that works for every kind of tap (singer-sdk,
singer-python, pipelinewise-singer-python, or any executable): each writes its
messages to its own stdout, which only we read.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from connector_kit.errors import ConfigError, SourceError
from connector_kit.shims.process import DelegateProcess, command_name, message_lines
from connector_kit.wire import snippet

log = logging.getLogger(__name__)


class SingerTap:
    """How to run one tap; `catalog_flag` is `--properties` for taps too old for `--catalog`."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        catalog_flag: str = "--catalog",
    ) -> None:
        if not command:
            raise ConfigError("the Singer tap command is empty; give the executable to run")
        self.command = list(command)
        self._env = env
        self._cwd = cwd
        self._catalog_flag = catalog_flag
        self.name = f"Singer tap `{command_name(self.command)}`"

    @classmethod
    def from_sdk_class(cls, tap_class: type, **options: Any) -> SingerTap:
        """A singer-sdk `Tap` subclass, run through its own CLI in a child interpreter."""
        module, name = tap_class.__module__, tap_class.__qualname__
        code = f"import {module} as m; m.{name}.cli()"
        tap = cls([sys.executable, "-c", code], **options)
        tap.name = f"Singer tap {name}"
        return tap

    @classmethod
    def from_module(cls, module: str, **options: Any) -> SingerTap:
        """A tap module with a `__main__` (e.g. a singer-python tap), run as `python -m`."""
        tap = cls([sys.executable, "-m", module], **options)
        tap.name = f"Singer tap {module}"
        return tap

    def _start(self, args: Sequence[str]) -> DelegateProcess:
        return DelegateProcess([*self.command, *args], name=self.name, env=self._env, cwd=self._cwd)

    def about(self) -> dict[str, Any] | None:
        """`--about --format json` (singer-sdk taps), or None for taps without it."""
        process = self._start(["--about", "--format", "json"])
        try:
            output = process.read_stdout()
            process.finish()
            about = orjson.loads(output)
        except (SourceError, orjson.JSONDecodeError):
            log.info(f"{self.name} does not describe itself with --about; its config is free-form")
            return None
        finally:
            process.terminate()
        return about if isinstance(about, dict) else None

    def discover(self, config: Mapping[str, Any]) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="singer-") as folder:
            config_path = _write(Path(folder), "config.json", config)
            process = self._start(["--config", config_path, "--discover"])
            try:
                output = process.read_stdout()
                process.finish()
            finally:
                process.terminate()
        try:
            catalog = orjson.loads(output)
        except orjson.JSONDecodeError:
            raise SourceError(
                f"{self.name} --discover did not print a JSON catalog: {snippet(output)!r}"
            ) from None
        if not isinstance(catalog, dict) or not isinstance(catalog.get("streams"), list):
            raise SourceError(f"{self.name} --discover printed JSON without a `streams` list")
        return catalog

    @contextlib.contextmanager
    def sync(
        self,
        config: Mapping[str, Any],
        catalog: Mapping[str, Any],
        state: Mapping[str, Any] | None,
    ) -> Iterator[Iterator[dict[str, Any]]]:
        """The tap's messages for one sync; leaving the context ends the tap if still running."""
        with tempfile.TemporaryDirectory(prefix="singer-") as folder:
            args = ["--config", _write(Path(folder), "config.json", config)]
            args += [self._catalog_flag, _write(Path(folder), "catalog.json", catalog)]
            if state:
                args += ["--state", _write(Path(folder), "state.json", state)]
            process = self._start(args)
            try:
                yield self._messages(process)
            finally:
                process.terminate()

    def _messages(self, process: DelegateProcess) -> Iterator[dict[str, Any]]:
        yield from message_lines(process.stdout_lines(), source=self.name)
        process.finish()


def _write(folder: Path, name: str, value: Any) -> str:
    # The folder is private (mkdtemp), so the config's secrets are readable by us alone.
    path = folder / name
    path.write_bytes(orjson.dumps(value))
    return str(path)
