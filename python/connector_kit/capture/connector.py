"""A capture connector: request dispatch for spec, discover, validate, apply and open.

An author supplies typed configs and a `resources` function; `CaptureConnector`
does the rest — the protocol number, config validation with field-level errors,
binding resolution by resource path, per-binding state under
`bindingStateV1[stateKey]`, concurrent bindings, acknowledgements and a clean stop
at a transaction boundary on stdin EOF or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, NoReturn, TypeVar

from pydantic import BaseModel

from connector_kit.capture.output import CaptureOutput, Transaction
from connector_kit.capture.resources import Resource, ResourceConfig
from connector_kit.capture.runner import BindingRunner, BoundResource
from connector_kit.config import config_schema, parse_config, secret_values
from connector_kit.errors import ConfigError, ConnectorError, ProtocolError
from connector_kit.http import HTTPClient
from connector_kit.protocol import PROTOCOL_VERSION, capture
from connector_kit.protocol.flow import OAuth2
from connector_kit.protocol.state import encode_state_key
from connector_kit.wire import AsyncLineReader, ConnectorIO, parse_line, run_connector

log = logging.getLogger(__name__)

ConfigT = TypeVar("ConfigT", bound=BaseModel)
Lines = AsyncIterator[tuple[int, bytes]]


@dataclass(frozen=True, kw_only=True)
class CaptureConnector(Generic[ConfigT]):
    """Everything the framework needs to know about a capture connector."""

    endpoint_config: type[ConfigT]
    resources: Callable[[ConfigT, HTTPClient], Awaitable[list[Resource]]]
    """The resources the source offers for this config (may call the source's API)."""
    resource_config: type[ResourceConfig] = ResourceConfig
    documentation_url: str = ""
    http_client: Callable[[ConfigT], HTTPClient] | None = None
    """Builds the HTTP client handed to `resources`; default: a client with no base URL."""
    check: Callable[[ConfigT, HTTPClient], Awaitable[None]] | None = None
    """Validate calls this to prove the credentials work; raise ConfigError if not."""
    oauth2: OAuth2 | None = None

    def main(self) -> NoReturn:
        """Serve requests from stdin until EOF: the `__main__` of every connector."""
        run_connector(self.serve)

    def serve(self, io: ConnectorIO) -> None:
        asyncio.run(self.serve_async(io))

    async def serve_async(self, io: ConnectorIO) -> None:
        lines = aiter(AsyncLineReader(io.requests))
        async for number, line in lines:
            request = parse_line(capture.Request, line, number)
            message = request.message
            if message == "open" and request.open is not None:
                await self._open(request.open, lines, io)
                return
            response = await self._unary(request, io)
            io.responses.write(response.to_json_line())

    async def _unary(self, request: capture.Request, io: ConnectorIO) -> capture.Response:
        if request.spec is not None:
            return capture.Response(spec=self.spec())
        if request.discover is not None:
            config = self._config(request.discover.config, io)
            return capture.Response(discovered=await self._discover(config))
        if request.validate_ is not None:
            config = self._config(request.validate_.config, io)
            return capture.Response(validated=await self._validate(config, request.validate_))
        if request.apply is not None:
            self._config(request.apply.capture.config, io)
            return capture.Response(applied=capture.Applied(action_description=""))
        raise ProtocolError(f"`{request.message}` is not valid before `open`")

    def spec(self) -> capture.SpecResponse:
        spec = capture.SpecResponse(
            protocol=PROTOCOL_VERSION,
            config_schema=config_schema(self.endpoint_config),
            resource_config_schema=config_schema(self.resource_config),
            resource_path_pointers=list(self.resource_config.PATH_POINTERS),
        )
        if self.documentation_url:
            spec.documentation_url = self.documentation_url
        if self.oauth2 is not None:
            spec.oauth2 = self.oauth2
        return spec

    def _config(self, value: Any, io: ConnectorIO) -> ConfigT:
        config = parse_config(self.endpoint_config, value, what="endpoint config")
        for secret in secret_values(config):
            io.secrets.add(secret)
        return config

    @contextlib.asynccontextmanager
    async def _client(self, config: ConfigT) -> AsyncIterator[HTTPClient]:
        client = self.http_client(config) if self.http_client is not None else HTTPClient()
        async with client:
            yield client

    async def _discover(self, config: ConfigT) -> capture.Discovered:
        async with self._client(config) as http:
            resources = await self.resources(config, http)
        bindings = []
        for resource in resources:
            resource_config = self.resource_config(
                name=resource.name, interval=resource.interval, **resource.extra_resource_config
            )
            binding = capture.DiscoveredBinding(
                recommended_name=resource.name,
                resource_config=resource_config.model_dump(mode="json", by_alias=True),
                document_schema=resource.document_schema(),
                key=list(resource.key),
            )
            if resource.disable:
                binding.disable = True
            bindings.append(binding)
        return capture.Discovered(bindings=bindings)

    def _resource_config(self, value: Any, *, index: int) -> ResourceConfig:
        return parse_config(self.resource_config, value, what=f"binding {index} resource config")

    async def _validate(self, config: ConfigT, validate: capture.Validate) -> capture.Validated:
        async with self._client(config) as http:
            if self.check is not None:
                await self.check(config, http)
            offered = {r.name for r in await self.resources(config, http)}
        seen: dict[tuple[str, ...], int] = {}
        bindings = []
        for index, binding in enumerate(validate.bindings):
            resource_config = self._resource_config(binding.resource_config, index=index)
            path = tuple(resource_config.path())
            if path in seen:
                raise ConfigError(
                    f"bindings {seen[path]} and {index} both capture resource {list(path)}; "
                    "each resource may be bound once"
                )
            seen[path] = index
            if resource_config.name not in offered:
                raise ConfigError(
                    f"binding {index} names resource {resource_config.name!r}, which this source "
                    f"does not offer with these credentials (it offers: {sorted(offered)}); "
                    "run discover again"
                )
            bindings.append(capture.ValidatedBinding(resource_path=list(path)))
        return capture.Validated(bindings=bindings)

    def _bind(self, open_: capture.Open, resources: list[Resource]) -> list[BoundResource]:
        by_name = {r.name: r for r in resources}
        state = open_.state if isinstance(open_.state, dict) else {}
        binding_states = state.get("bindingStateV1") or {}
        bound = []
        for index, binding in enumerate(open_.capture.bindings):
            resource_config = self._resource_config(binding.resource_config, index=index)
            resource = by_name.get(resource_config.name)
            if resource is None:
                raise ConfigError(
                    f"binding {index} names resource {resource_config.name!r}, which this source "
                    "does not offer; run discover again and update the capture's bindings"
                )
            state_key = binding.state_key or encode_state_key(
                resource_config.path(), binding.backfill
            )
            bound.append(
                BoundResource(
                    index=index,
                    resource=resource,
                    state_key=state_key,
                    state=binding_states.get(state_key) or {},
                    interval=resource_config.interval,
                )
            )
        return bound

    async def _open(self, open_: capture.Open, lines: Lines, io: ConnectorIO) -> None:
        config = self._config(open_.capture.config, io)
        async with self._client(config) as http:
            bound = self._bind(open_, await self.resources(config, http))
            output = CaptureOutput(io.responses)
            explicit = any(b.resource.acknowledged is not None for b in bound)
            opened = (
                capture.Opened(explicit_acknowledgements=True) if explicit else capture.Opened()
            )
            io.responses.write(capture.Response(opened=opened).to_json_line())
            self._forget_stale_state(open_, bound, output)
            await _run_until_stopped(bound, output, lines)

    def _forget_stale_state(
        self, open_: capture.Open, bound: list[BoundResource], output: CaptureOutput
    ) -> None:
        """Drop the state of bindings that no longer exist, e.g. after a backfill counter bump."""
        state = open_.state if isinstance(open_.state, dict) else {}
        current = {b.state_key for b in bound}
        stale = [k for k in state.get("bindingStateV1") or {} if k not in current]
        if stale:
            output.commit(Transaction(), {"bindingStateV1": dict.fromkeys(stale)})
            log.info("dropped state of removed bindings", extra={"fields": {"stateKeys": stale}})


async def _run_until_stopped(
    bound: list[BoundResource], output: CaptureOutput, lines: Lines
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    work = asyncio.create_task(_run_bindings(bound, output))
    control = asyncio.create_task(_read_acknowledgements(lines, output, stop))
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({work, control, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if control.done() and control.exception() is not None:
            raise control.exception()  # type: ignore[misc]
        if work.done():
            work.result()
            log.info("every binding finished; exiting until the next run")
        else:
            log.info("stopping at a transaction boundary")
    finally:
        for task in (work, control, stopping):
            task.cancel()
        await asyncio.gather(work, control, stopping, return_exceptions=True)
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGTERM)


async def _run_bindings(bound: list[BoundResource], output: CaptureOutput) -> None:
    try:
        async with asyncio.TaskGroup() as group:
            for binding in bound:
                group.create_task(_run_binding(binding, output))
    except BaseExceptionGroup as errors:
        raise _first_failure(errors) from None


async def _run_binding(binding: BoundResource, output: CaptureOutput) -> None:
    where = f"resource {binding.resource.name!r} (binding {binding.index})"
    try:
        await BindingRunner(binding, output).run()
    except (Exception, BaseExceptionGroup) as err:  # noqa: BLE001 - re-raised with context
        first = _first_failure(err)
        if isinstance(first, ConnectorError):
            raise type(first)(f"{where}: {first}") from first
        raise ConnectorError(f"{where} failed: {type(first).__name__}: {first}") from first


def _first_failure(err: BaseException) -> BaseException:
    """The first real error inside (possibly nested) exception groups."""
    while isinstance(err, BaseExceptionGroup):
        leaves = [e for e in err.exceptions if not isinstance(e, asyncio.CancelledError)]
        err = leaves[0] if leaves else err.exceptions[0]
    return err


async def _read_acknowledgements(lines: Lines, output: CaptureOutput, stop: asyncio.Event) -> None:
    async for number, line in lines:
        request = parse_line(capture.Request, line, number)
        if request.acknowledge is None:
            raise ProtocolError(
                f"request line {number}: `{request.message}` is not valid during a capture; "
                "only `acknowledge` may follow `open`"
            )
        for callback in output.acknowledged(request.acknowledge.checkpoints):
            await callback()
    stop.set()
