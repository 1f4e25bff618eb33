"""Unary connector calls (spec, discover, validate, apply), made as the Flow runtime makes them.

One process per call: an internal probe `spec` first (Flow sends one to detect
IAM-based auth) and its response read, then the real request, then stdin is
closed. Exactly one matching response must follow, and then the end of output.
"""

from __future__ import annotations

from typing import Any, TypeVar

from connector_kit.errors import ProtocolError
from connector_kit.protocol import capture, materialize
from connector_kit.protocol.envelope import message_name
from connector_kit.runtime.connector import ConnectorProcess
from connector_kit.runtime.launch import ConnectorCommand

R = TypeVar("R", capture.Response, materialize.Response)


def capture_probe(command: ConnectorCommand) -> capture.Request:
    return capture.Request(spec=capture.Spec(connector_type=command.connector_type, config={}))


def materialize_probe(command: ConnectorCommand) -> materialize.Request:
    return materialize.Request(
        spec=materialize.Spec(connector_type=command.connector_type, config={})
    )


async def expect_probe_answer(connector: ConnectorProcess[Any], *, within: float | None) -> None:
    """Read the answer to the probe `spec` that opens every connector process."""
    answer = await connector.receive(within=within, expecting="the answer to the probe Spec")
    if answer is None:
        raise ProtocolError(
            f"{connector.task}: connector closed its output without answering the probe Spec "
            "request the runtime sends first; connectors must answer Spec and keep reading "
            "requests"
        )
    name = message_name(answer)
    if name != "spec":
        raise ProtocolError(
            f"{connector.task}: connector protocol error (expected Spec in answer to the probe "
            f"Spec, got {name})"
        )


async def capture_call(
    command: ConnectorCommand, request: capture.Request, *, within: float | None
) -> capture.Response:
    """Send one capture request through a fresh process and return its only response."""
    async with ConnectorProcess.running(command, response_model=capture.Response) as connector:
        await connector.send(capture_probe(command))
        await expect_probe_answer(connector, within=within)
        return await _one_response(connector, request, within=within)


async def materialize_call(
    command: ConnectorCommand, request: materialize.Request, *, within: float | None
) -> materialize.Response:
    """Send one materialize request through a fresh process and return its only response."""
    async with ConnectorProcess.running(command, response_model=materialize.Response) as connector:
        await connector.send(materialize_probe(command))
        await expect_probe_answer(connector, within=within)
        return await _one_response(connector, request, within=within)


_ANSWERS = {
    "spec": "spec",
    "discover": "discovered",
    "validate": "validated",
    "apply": "applied",
}


async def _one_response(
    connector: ConnectorProcess[R],
    request: capture.Request | materialize.Request,
    *,
    within: float | None,
) -> R:
    asked = message_name(request)
    expected = _ANSWERS[asked]
    await connector.send(request)
    await connector.close_input()
    response = await connector.receive(within=within, expecting=f"{expected.capitalize()}")
    if response is None:
        raise ProtocolError(
            f"{connector.task}: connector protocol error (expected {expected.capitalize()}, "
            "but it closed its output without a response)"
        )
    name = message_name(response)
    if name != expected:
        raise ProtocolError(
            f"{connector.task}: connector protocol error (expected {expected.capitalize()}, "
            f"got {name})"
        )
    extra = await connector.receive(within=within, expecting="the end of its output")
    if extra is not None:
        raise ProtocolError(
            f"{connector.task}: rpc is expected to be unary but it returned multiple responses "
            f"(a {message_name(extra)} after the {name})"
        )
    return response
