"""The request loop both shims share: Flow requests in, one response each, then the capture.

A shim's delegate (an Airbyte source, a Singer tap) is a blocking iterator of
messages, so the loop is synchronous: unary requests are answered in order, and
`open` hands the rest of stdin to a watcher thread. The runtime closes stdin to
ask a capture to stop; the watcher turns that into `stop`, which the capture
honours at its next checkpoint.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Collection, Mapping
from typing import Any, Protocol

from connector_kit.capture.output import CaptureOutput, Transaction
from connector_kit.errors import ConfigError, ProtocolError
from connector_kit.protocol import capture
from connector_kit.shims import opaque_state
from connector_kit.wire import ConnectorIO, SecretMask, iter_lines, parse_line

log = logging.getLogger(__name__)


class ShimCapture(Protocol):
    """What a shim answers; `serve` does the protocol around it."""

    def spec(self) -> capture.SpecResponse: ...

    def secrets(self, config: Mapping[str, Any]) -> set[str]:
        """The secret values in `config`, to be masked in every log line."""
        ...

    def discover(self, config: Mapping[str, Any]) -> capture.Discovered: ...

    def validate(
        self, config: Mapping[str, Any], request: capture.Validate
    ) -> capture.Validated: ...

    def capture(
        self,
        request: capture.Open,
        output: CaptureOutput,
        *,
        opened: Callable[[Collection[str]], None],
        stop: threading.Event,
        secrets: SecretMask,
    ) -> None:
        """Read the delegate once, committing documents with their state, until done or `stop`.

        `opened(state_keys)` answers the Open, given the state keys of the bindings: called
        once the bindings are understood, so a binding the shim cannot serve fails the Open
        instead of a capture that was acknowledged. It also drops the state of bindings
        that are gone.
        `secrets` takes secrets the delegate reveals on the way (a rotated token).
        """
        ...


def endpoint_config(value: Any) -> dict[str, Any]:
    """The endpoint config, which the delegate's own spec describes: any JSON object."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(
            f"the endpoint config must be a JSON object, got {type(value).__name__}; "
            "check the capture's `endpoint.*.config`"
        )
    return value


def serve(shim: ShimCapture, io: ConnectorIO) -> None:
    """Answer requests from `io` until stdin ends or a capture finishes."""
    lines = iter_lines(io.requests)
    for number, line in lines:
        request = parse_line(capture.Request, line, number)
        if request.open is not None:
            _open(shim, request.open, io)
            return
        io.responses.write(_unary(shim, request, io).to_json_line())


def _unary(shim: ShimCapture, request: capture.Request, io: ConnectorIO) -> capture.Response:
    if request.spec is not None:
        return capture.Response(spec=shim.spec())
    if request.discover is not None:
        config = _config(shim, request.discover.config, io)
        return capture.Response(discovered=shim.discover(config))
    if request.validate_ is not None:
        config = _config(shim, request.validate_.config, io)
        return capture.Response(validated=shim.validate(config, request.validate_))
    if request.apply is not None:
        _config(shim, request.apply.capture.config, io)
        return capture.Response(applied=capture.Applied(action_description=""))
    raise ProtocolError(f"`{request.message}` is not valid before `open`")


def _config(shim: ShimCapture, value: Any, io: ConnectorIO) -> dict[str, Any]:
    config = endpoint_config(value)
    for secret in shim.secrets(config):
        io.secrets.add(secret)
    return config


def _open(shim: ShimCapture, request: capture.Open, io: ConnectorIO) -> None:
    _config(shim, request.capture.config, io)
    stop = threading.Event()
    output = CaptureOutput(io.responses)

    def opened(state_keys: Collection[str]) -> None:
        io.responses.write(capture.Response(opened=capture.Opened()).to_json_line())
        watcher = threading.Thread(
            target=_watch_input,
            args=(io.requests.fileno(), stop),
            name="stdin-watcher",
            daemon=True,
        )
        watcher.start()
        _forget_stale_state(request.state, state_keys, output)

    shim.capture(request, output, opened=opened, stop=stop, secrets=io.secrets)


def _forget_stale_state(
    open_state: Any, state_keys: Collection[str], output: CaptureOutput
) -> None:
    """Drop the state of bindings the capture no longer has, in a checkpoint of its own."""
    stale = opaque_state.stale_state_keys(
        open_state if isinstance(open_state, Mapping) else {}, set(state_keys)
    )
    if stale:
        output.commit(Transaction(), {opaque_state.BINDING_STATE: dict.fromkeys(stale)})
        log.info("dropped state of removed bindings", extra={"fields": {"stateKeys": stale}})


def _watch_input(fd: int, stop: threading.Event) -> None:
    """Wait for stdin to end after `open`; its end (or a broken stdin) asks the capture to stop.

    `opened` asks for no acknowledgements, so nothing else is due on stdin and what
    arrives is ignored. The raw descriptor is read, not the buffered stream: a thread
    blocked inside a buffered read holds the stream's lock, which a delegate that
    forks (airbyte-source-faker's `multiprocessing.Pool`) would copy held into its
    children, and which interpreter shutdown would wait for.
    """
    try:
        while os.read(fd, 1 << 16):
            pass
    except OSError as err:
        log.warning("stopping: cannot read requests", extra={"fields": {"error": str(err)}})
    finally:
        stop.set()
