"""A delegate connector run as a child process: its stdout lines in, its stderr into our log.

The child's stdout is a pipe only we read, so nothing it prints can reach the
protocol stream. Its stderr is forwarded line by line as JSON log records (its
own JSON logs keep their level and message), and the last lines are kept so a
failed exit can be reported with the delegate's own words.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import re
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import orjson

from connector_kit.errors import ConfigError, SourceError
from connector_kit.wire import snippet

log = logging.getLogger(__name__)

STDERR_TAIL_LINES = 20
COMMAND_NAME_CHARS = 60
TERMINATE_GRACE_SECONDS = 10.0
_LEVEL_WORD = re.compile(rb"\b(DEBUG|INFO|WARN|WARNING|ERROR|CRITICAL|FATAL)\b")
_LEVELS = {
    b"DEBUG": logging.DEBUG,
    b"INFO": logging.INFO,
    b"WARN": logging.WARNING,
    b"WARNING": logging.WARNING,
    b"ERROR": logging.ERROR,
    b"CRITICAL": logging.CRITICAL,
    b"FATAL": logging.CRITICAL,
}


def command_name(argv: Sequence[str]) -> str:
    """A short name for a delegate command, for logs and errors (`python -m tap_x`)."""
    text = " ".join([Path(argv[0]).name, *argv[1:]])
    return text if len(text) <= COMMAND_NAME_CHARS else text[: COMMAND_NAME_CHARS - 1] + "…"


class DelegateFailed(SourceError):
    """The delegate exited non-zero; `stderr_tail` holds its last words."""

    def __init__(self, message: str, *, exit_code: int, stderr_tail: Sequence[str]) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.stderr_tail = list(stderr_tail)


class DelegateProcess:
    """One run of a delegate command; iterate `stdout_lines`, then `finish` (or `terminate`)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        name: str,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self._argv = list(argv)
        try:
            self._process = subprocess.Popen(
                self._argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**os.environ, **env} if env is not None else None,
                cwd=cwd,
            )
        except OSError as err:
            raise ConfigError(
                f"cannot start {name} `{' '.join(self._argv)}`: {err.strerror or err}; "
                "check that the command is installed and on PATH"
            ) from None
        self._tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        assert self._process.stderr is not None
        self._stderr = threading.Thread(
            target=self._forward_stderr,
            args=(self._process.stderr,),
            name=f"{name}-stderr",
            daemon=True,
        )
        self._stderr.start()

    def stdout_lines(self) -> Iterator[bytes]:
        stdout = self._process.stdout
        assert stdout is not None
        yield from stdout

    def read_stdout(self) -> bytes:
        stdout = self._process.stdout
        assert stdout is not None
        return stdout.read()

    def finish(self) -> None:
        """Wait for the exit; a non-zero exit raises DelegateFailed with the stderr tail."""
        code = self._process.wait()
        self._stderr.join(TERMINATE_GRACE_SECONDS)
        self._close_pipes()
        if code != 0:
            last = self._tail[-1] if self._tail else "no output on stderr"
            raise DelegateFailed(
                f"{self.name} exited with code {code}: {last}",
                exit_code=code,
                stderr_tail=self._tail,
            )

    def terminate(self) -> None:
        """End the delegate early (a stop or a failure on our side); its exit code is moot."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(TERMINATE_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._stderr.join(TERMINATE_GRACE_SECONDS)
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self._process.stdout, self._process.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

    def _forward_stderr(self, stderr: IO[bytes]) -> None:
        with contextlib.suppress(ValueError, OSError):  # the pipe was closed under us
            for line in stderr:
                text = forward_log_line(line, source=self.name)
                if text:
                    self._tail.append(text)


def message_lines(lines: Iterator[bytes], *, source: str) -> Iterator[dict[str, Any]]:
    """The JSON messages among a delegate's stdout lines.

    A stray line that is not JSON (a library's print) is logged and skipped, as
    Airbyte's own platform does. A line that starts like a message but does not
    parse may be a record cut short, so it is an error rather than a silent loss.
    """
    for line in lines:
        try:
            message = orjson.loads(line)
        except orjson.JSONDecodeError:
            stripped = line.strip()
            if not stripped:
                continue
            if stripped.startswith(b"{"):
                raise SourceError(
                    f"{source} wrote a line to stdout that starts like a message but is not "
                    f"valid JSON, so it may be a record cut short: {snippet(stripped)!r}"
                ) from None
            log.warning(
                "skipped a line on the delegate's stdout that is not a protocol message",
                extra={"fields": {"source": source, "line": snippet(stripped)}},
            )
            continue
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            log.warning(
                "skipped a JSON value on the delegate's stdout that is not a message "
                "(an object with a string `type`)",
                extra={"fields": {"source": source, "line": snippet(line.strip())}},
            )
            continue
        yield message


def forward_log_line(line: bytes, *, source: str) -> str:
    """Log one line a delegate wrote to stderr; return its message ('' if blank)."""
    line = line.rstrip(b"\r\n")
    if not line.strip():
        return ""
    level, message = logging.INFO, ""
    if line.startswith(b"{"):
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            record = None
        if isinstance(record, dict):
            message = str(record.get("msg") or record.get("message") or "")
            name = str(record.get("level") or record.get("levelname") or "").upper().encode()
            level = _LEVELS.get(name, logging.INFO)
    if not message:
        message = snippet(line) if len(line) > 4096 else line.decode("utf-8", errors="replace")
        found = _LEVEL_WORD.search(line[:120])
        if found is not None:
            level = _LEVELS[found.group(1)]
    log.log(level, message, extra={"fields": {"source": source}})
    return message
