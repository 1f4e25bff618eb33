"""One running connector process, driven the way the Flow runtime drives it.

Requests go to its stdin as JSON lines (by alias, unset fields left out);
each stdout line is parsed into the protocol's response model; stderr log
lines are forwarded (see `connector_logs`). Failures are reported in Flow's
words, naming the task: unparseable output, a partial last line, a silent
connector (bounded by a timeout), and a non-zero exit, whose error is the
connector's last log message.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import signal
import sys
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Generic, TypeVar

from pydantic import ValidationError

from connector_kit.errors import ConnectorError, ProtocolError
from connector_kit.protocol import RequestModel, ResponseModel
from connector_kit.protocol.envelope import message_name
from connector_kit.runtime.connector_logs import ConnectorLog
from connector_kit.runtime.launch import ConnectorCommand
from connector_kit.wire import snippet

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""The largest response line accepted, as the Flow runtime caps connector messages."""

READ_CHUNK_BYTES = 1 << 20
"""Output is read in chunks and split into lines: far cheaper than a read per line."""

ACKNOWLEDGE_WRITE_TIMEOUT_SECONDS = 10.0
EXIT_GRACE_SECONDS = 5.0
"""How long a connector may take to exit once its output has ended or it is told to stop."""

log = logging.getLogger(__name__)

R = TypeVar("R", bound=ResponseModel)


def _die_with_parent() -> Callable[[], None] | None:
    """A hook for the child: be killed when connector-kit dies, however it dies (Linux only).

    Connectors run in their own session, so without this a connector-kit killed with
    SIGKILL would leave them running, holding files and locks a re-run needs. `prctl`
    is looked up here, in the parent: between fork and exec the child must not load
    libraries (another thread may hold the loader's lock at fork time).
    """
    if sys.platform != "linux":
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    return hook


_PR_SET_PDEATHSIG = 1


class ConnectorTimeout(ConnectorError):
    """The connector sent nothing while the runtime waited for a response."""


class ConnectorProcess(Generic[R]):
    """A started connector: send requests, receive parsed responses, then close."""

    def __init__(
        self,
        *,
        command: ConnectorCommand,
        process: asyncio.subprocess.Process,
        response_model: type[R],
    ) -> None:
        self.command = command
        self._process = process
        self._response_model = response_model
        self._log = ConnectorLog(task=command.task, secrets=command.secrets)
        assert process.stderr is not None
        self._stderr_task = asyncio.create_task(self._forward_stderr(process.stderr))
        self._ended = False
        self._lines: deque[bytes] = deque()
        self._partial = b""
        self._output_closed = False

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls, command: ConnectorCommand, *, response_model: type[R]
    ) -> AsyncIterator[ConnectorProcess[R]]:
        """Start the connector; on leaving, make sure it is gone."""
        try:
            process = await asyncio.create_subprocess_exec(
                *command.argv,
                cwd=command.cwd,
                env=command.env,
                # Its own session: a Ctrl-C in the terminal reaches connector-kit, which
                # stops connectors at a transaction boundary, not the connectors mid-write.
                start_new_session=True,
                preexec_fn=_die_with_parent(),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=MAX_MESSAGE_BYTES,
            )
        except OSError as err:
            raise ConnectorError(
                f"{command.task}: cannot start `{' '.join(command.argv)}` in {command.cwd}: "
                f"{err.strerror or err}; check the endpoint's command"
            ) from None
        connector = cls(command=command, process=process, response_model=response_model)
        try:
            yield connector
        except BaseException:
            await connector.stop(graceful=False)
            raise
        await connector.stop(graceful=True)

    @property
    def task(self) -> str:
        return self.command.task

    @property
    def last_log_message(self) -> str | None:
        return self._log.last_message

    async def send(self, request: RequestModel) -> None:
        """Write one request line; a connector that stopped reading is only warned about."""
        await self._write(request, drain_within=None)

    async def send_bytes(self, data: bytes) -> None:
        """Write whole request lines as given; a broken pipe propagates (the caller decides)."""
        stdin = self._process.stdin
        assert stdin is not None
        stdin.write(data)
        await stdin.drain()

    async def send_acknowledge(self, request: RequestModel) -> None:
        """Write an acknowledgement, which a connector that asked for them must take promptly."""
        await self._write(request, drain_within=ACKNOWLEDGE_WRITE_TIMEOUT_SECONDS)

    async def _write(self, request: RequestModel, *, drain_within: float | None) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        try:
            stdin.write(request.to_json_line())
            async with asyncio.timeout(drain_within):
                await stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            log.warning("connector is not reading its input", extra={"fields": {"task": self.task}})
        except TimeoutError:
            raise ProtocolError(
                f"{self.task}: connector requested acknowledgements but is not processing its input"
            ) from None

    async def close_input(self) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        if not stdin.is_closing():
            stdin.close()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            await stdin.wait_closed()

    async def receive(self, *, within: float | None, expecting: str) -> R | None:
        """The next response, or None once the connector closed its output and exited 0.

        Waiting longer than `within` seconds is a ConnectorTimeout; `expecting` names
        what the runtime waits for, for its message.
        """
        line = await self.receive_line(within=within, expecting=expecting)
        return None if line is None else self.parse(line)

    @property
    def has_buffered_output(self) -> bool:
        """Whether a whole response line has already been read and waits to be taken."""
        return bool(self._lines)

    def take_buffered_line(self) -> bytes | None:
        """A response line already read, without waiting; None when none is buffered."""
        return self._lines.popleft() if self._lines else None

    async def receive_line(self, *, within: float | None, expecting: str) -> bytes | None:
        """The next response line (without its newline), unparsed; None at a clean end."""
        while not self._lines:
            if self._output_closed:
                await self._finish()
                if self._partial:
                    raise ProtocolError(
                        f"{self.task}: connector wrote a partial message and then closed its "
                        f"output (it ends: {snippet(self._partial[-200:])!r})"
                    )
                return None
            await self._read_chunk(within=within, expecting=expecting)
        return self._lines.popleft()

    async def _read_chunk(self, *, within: float | None, expecting: str) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        try:
            async with asyncio.timeout(within):
                chunk = await stdout.read(READ_CHUNK_BYTES)
        except TimeoutError:
            raise ConnectorTimeout(
                f"{self.task}: connector sent nothing for {within:g}s while the runtime "
                f"waited for {expecting}; it may be stuck (raise --connector-timeout if it "
                "needs longer)"
            ) from None
        if not chunk:
            self._output_closed = True
            return
        parts = (self._partial + chunk).split(b"\n")
        self._partial = parts.pop()
        if len(self._partial) > MAX_MESSAGE_BYTES:
            raise ProtocolError(
                f"{self.task}: connector wrote a response line longer than "
                f"{MAX_MESSAGE_BYTES // (1024 * 1024)} MiB, the most a Flow runtime accepts"
            )
        self._lines.extend(parts)

    def parse(self, line: bytes) -> R:
        """One response line as the response model, or a ProtocolError in Flow's words."""
        try:
            response = self._response_model.model_validate_json(line)
        except ValidationError as err:
            first = err.errors()[0]
            if first["type"] == "json_invalid":
                raise ProtocolError(
                    f'{self.task}: could not parse "{snippet(line)}" into JSON response'
                ) from None
            where = ".".join(str(part) for part in first["loc"]) or "the message"
            raise ProtocolError(
                f"{self.task}: connector sent an invalid response: {where}: {first['msg']} "
                f'(in "{snippet(line)}")'
            ) from None
        try:
            message_name(response)
        except ProtocolError as err:
            raise ProtocolError(f'{self.task}: {err} (in "{snippet(line)}")') from None
        return response

    async def _finish(self) -> None:
        """Output has ended: wait for the exit and turn a failure into the connector's error."""
        if self._ended:
            return
        self._ended = True
        try:
            code = await asyncio.wait_for(self._process.wait(), EXIT_GRACE_SECONDS)
        except TimeoutError:
            self._kill()
            code = await self._process.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._stderr_task), EXIT_GRACE_SECONDS)
        if code != 0:
            message = self._log.last_message
            if message is None:
                message = f"connector exited with code {code} and no log output"
            raise ConnectorError(f"{self.task} failed: {message}")

    async def stop(self, *, graceful: bool) -> None:
        """End the process if it still runs.

        Gracefully, its input is closed and it gets time to exit; otherwise (the
        session failed) it is terminated at once. Either way it is killed if it lingers.
        """
        if self._process.returncode is None:
            if not graceful:
                # Terminate first: a connector blocked writing output we no longer read
                # would never read its input, and closing the input would wait forever.
                with contextlib.suppress(ProcessLookupError):
                    self._process.terminate()
            with contextlib.suppress(OSError, TimeoutError):
                async with asyncio.timeout(EXIT_GRACE_SECONDS):
                    await self.close_input()
            try:
                await asyncio.wait_for(self._process.wait(), EXIT_GRACE_SECONDS)
            except TimeoutError:
                self._kill()
                # Bounded too: SIGKILL cannot be refused, and a lost exit notification
                # must not stall the runtime.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._process.wait(), EXIT_GRACE_SECONDS)
        self._stderr_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._stderr_task

    def _kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self._process.kill()

    async def _forward_stderr(self, stderr: asyncio.StreamReader) -> None:
        while True:
            try:
                line = await stderr.readline()
            except (ValueError, asyncio.LimitOverrunError):
                # A log line beyond the limit: skip what was buffered and carry on.
                line = await stderr.read(MAX_MESSAGE_BYTES)
                self._log.forward(line[:4096] + b" [truncated]")
                continue
            if not line:
                return
            self._log.forward(line)
