"""The Airbyte shim: an Airbyte source answering Flow's spec, discover, validate and open."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Mapping
from typing import Any, NoReturn

from connector_kit.capture.output import CaptureOutput
from connector_kit.config import config_schema, parse_config
from connector_kit.errors import ConfigError
from connector_kit.protocol import PROTOCOL_VERSION, capture
from connector_kit.protocol.flow import OAuth2
from connector_kit.protocol.state import encode_state_key
from connector_kit.shims import opaque_state, serve
from connector_kit.shims.airbyte.delegates import AirbyteDelegate
from connector_kit.shims.airbyte.messages import failure, single_answer
from connector_kit.shims.airbyte.reading import (
    AirbyteRead,
    BoundStream,
    configured_catalog,
    initial_state,
)
from connector_kit.shims.airbyte.resource import AirbyteResource, SyncMode
from connector_kit.shims.rows import RowIds
from connector_kit.shims.schemas import (
    ROW_ID_KEY,
    document_schema,
    pointer,
    secret_values,
    source_schema,
    with_secret_marks,
)
from connector_kit.wire import SecretMask, run_connector

log = logging.getLogger(__name__)


class AirbyteShim:
    """Serves an Airbyte source (in-process or a command) as a Flow capture connector."""

    def __init__(
        self,
        delegate: AirbyteDelegate,
        *,
        documentation_url: str = "",
        oauth2: OAuth2 | None = None,
    ) -> None:
        self.delegate = delegate
        self._documentation_url = documentation_url
        self._oauth2 = oauth2
        self._airbyte_spec: dict[str, Any] | None = None

    def main(self) -> NoReturn:
        run_connector(lambda io: serve.serve(self, io))

    def airbyte_spec(self) -> dict[str, Any]:
        """The source's own ConnectorSpecification (asked once per process)."""
        if self._airbyte_spec is None:
            with self.delegate.run("spec") as messages:
                self._airbyte_spec = single_answer(
                    messages, kind="SPEC", field="spec", source=self.delegate.name
                )
        return self._airbyte_spec

    def _connection_schema(self) -> Any:
        return self.airbyte_spec().get("connectionSpecification") or {"type": "object"}

    def spec(self) -> capture.SpecResponse:
        spec = capture.SpecResponse(
            protocol=PROTOCOL_VERSION,
            config_schema=with_secret_marks(self._connection_schema()),
            resource_config_schema=config_schema(AirbyteResource),
            resource_path_pointers=list(AirbyteResource.PATH_POINTERS),
        )
        url = self._documentation_url or self.airbyte_spec().get("documentationUrl")
        if url:
            spec.documentation_url = str(url)
        if self._oauth2 is not None:
            spec.oauth2 = self._oauth2
        return spec

    def secrets(self, config: Mapping[str, Any]) -> set[str]:
        return secret_values(self._connection_schema(), config)

    def catalog(self, config: Mapping[str, Any]) -> list[dict[str, Any]]:
        with self.delegate.run("discover", config=config) as messages:
            catalog = single_answer(
                messages, kind="CATALOG", field="catalog", source=self.delegate.name
            )
        return list(catalog.get("streams") or [])

    def discover(self, config: Mapping[str, Any]) -> capture.Discovered:
        return capture.Discovered(bindings=[discovered_binding(s) for s in self.catalog(config)])

    def validate(self, config: Mapping[str, Any], request: capture.Validate) -> capture.Validated:
        with self.delegate.run("check", config=config) as messages:
            status = single_answer(
                messages,
                kind="CONNECTION_STATUS",
                field="connectionStatus",
                source=self.delegate.name,
            )
        if status.get("status") != "SUCCEEDED":
            raise ConfigError(
                f"{self.delegate.name} refused the config: "
                f"{status.get('message') or 'its check failed without a message'}"
            )
        offered = {(s.get("namespace"), s.get("name")): s for s in self.catalog(config)}
        seen: dict[tuple[str, ...], int] = {}
        bindings = []
        for index, binding in enumerate(request.bindings):
            resource = _resource(binding.resource_config, index)
            path = tuple(resource.path())
            if path in seen:
                raise ConfigError(
                    f"bindings {seen[path]} and {index} both capture stream {list(path)}; "
                    "each stream may be bound once"
                )
            seen[path] = index
            stream = offered.get((resource.namespace, resource.stream))
            if stream is None:
                names = sorted(str(name) for _, name in offered)
                raise ConfigError(
                    f"binding {index} names stream {resource.stream!r}, which the source does "
                    f"not offer with this config (it offers: {names}); run discover again"
                )
            if resource.sync_mode not in (stream.get("supported_sync_modes") or []):
                raise ConfigError(
                    f"binding {index}: stream {resource.stream!r} does not support sync mode "
                    f"{resource.sync_mode!r} (it supports {stream.get('supported_sync_modes')})"
                )
            bindings.append(capture.ValidatedBinding(resource_path=list(path)))
        return capture.Validated(bindings=bindings)

    def capture(
        self,
        request: capture.Open,
        output: CaptureOutput,
        *,
        opened: Callable[[Collection[str]], None],
        stop: threading.Event,
        secrets: SecretMask,
    ) -> None:
        open_state = request.state if isinstance(request.state, Mapping) else {}
        states = opaque_state.binding_states(open_state)
        streams: list[BoundStream] = []
        schemas: list[Any] = []
        for index, binding in enumerate(request.capture.bindings):
            resource = _resource(binding.resource_config, index)
            state_key = binding.state_key or encode_state_key(resource.path(), binding.backfill)
            state = states.get(state_key) or {}
            keyed_by_row = list(binding.collection.key) == [ROW_ID_KEY]
            streams.append(
                BoundStream(
                    index=index,
                    resource=resource,
                    state_key=state_key,
                    stream_state=opaque_state.decode(
                        state.get("airbyteState"),
                        where=f"{opaque_state.BINDING_STATE}.{state_key}.airbyteState",
                    ),
                    rows=RowIds.restore(state, snapshot=resource.sync_mode == "full_refresh")
                    if keyed_by_row
                    else None,
                )
            )
            schemas.append(source_schema(binding.collection.write_schema))
        opened([s.state_key for s in streams])
        config = serve.endpoint_config(request.capture.config)
        read = AirbyteRead(
            streams,
            output=output,
            stop=stop,
            secrets=secrets,
            config=config,
            source=self.delegate.name,
        )
        try:
            runner = self.delegate.run(
                "read",
                config=config,
                catalog=configured_catalog(streams, schemas),
                state=initial_state(streams, open_state),
            )
            with runner as messages:
                read.run(messages)
        except ConfigError:
            raise
        except Exception as err:
            raise failure(err, source=self.delegate.name) from err


def _resource(value: Any, index: int) -> AirbyteResource:
    return parse_config(AirbyteResource, value, what=f"binding {index} resource config")


def discovered_binding(stream: Mapping[str, Any]) -> capture.DiscoveredBinding:
    """An AirbyteStream as a Flow binding.

    Incremental is preferred where the source can do it (it needs a cursor the
    source defines or a default one). The key is the source's primary key as
    escaped JSON pointers; a stream without one is keyed by `/_meta/row_id`.
    """
    modes = stream.get("supported_sync_modes") or ["full_refresh"]
    cursor = stream.get("default_cursor_field") or None
    can_increment = "incremental" in modes and (stream.get("source_defined_cursor") or cursor)
    sync_mode: SyncMode = "incremental" if can_increment else "full_refresh"
    primary_key = stream.get("source_defined_primary_key") or []
    key = [pointer(path) for path in primary_key] or [ROW_ID_KEY]
    resource = AirbyteResource(
        stream=str(stream["name"]),
        sync_mode=sync_mode,
        namespace=stream.get("namespace") or None,
        cursor_field=cursor if sync_mode == "incremental" else None,
    )
    return capture.DiscoveredBinding(
        recommended_name=str(stream["name"]),
        resource_config=resource.as_config(),
        document_schema=document_schema(stream.get("json_schema"), keyed_by_row=not primary_key),
        key=key,
    )
