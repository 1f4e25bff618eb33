"""The Singer shim: a Singer tap answering Flow's spec, discover, validate and open."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Mapping
from typing import Any, NoReturn

from connector_kit.capture.output import CaptureOutput
from connector_kit.config import config_schema, parse_config
from connector_kit.errors import ConfigError
from connector_kit.protocol import PROTOCOL_VERSION, capture
from connector_kit.protocol.state import encode_state_key
from connector_kit.shims import opaque_state, serve
from connector_kit.shims.schemas import (
    ROW_ID_KEY,
    secret_values,
    with_bare_types_repaired,
    with_secret_marks,
)
from connector_kit.shims.singer.catalog import discovered_binding, selected_catalog, stream_id
from connector_kit.shims.singer.reading import TOP_LEVEL_KEY, BoundStream, SingerRead, initial_state
from connector_kit.shims.singer.resource import SingerResource
from connector_kit.shims.singer.tap import SingerTap
from connector_kit.wire import SecretMask, run_connector

log = logging.getLogger(__name__)

FREE_FORM_CONFIG: dict[str, Any] = {
    "type": "object",
    "title": "Tap config",
    "description": "The tap's config file, as its documentation describes it.",
}


class SingerShim:
    """Serves a Singer tap as a Flow capture connector.

    `config_schema` is the tap's config as JSON schema (mark secrets `secret: true`);
    without it, a singer-sdk tap's `--about` settings are used, else any object.
    """

    def __init__(
        self,
        tap: SingerTap,
        *,
        config_schema: Mapping[str, Any] | None = None,
        documentation_url: str = "",
    ) -> None:
        self.tap = tap
        self._config_schema = dict(config_schema) if config_schema is not None else None
        self._documentation_url = documentation_url

    def main(self) -> NoReturn:
        run_connector(lambda io: serve.serve(self, io))

    def _tap_config_schema(self) -> dict[str, Any]:
        if self._config_schema is None:
            about = self.tap.about() or {}
            settings = about.get("settings")
            self._config_schema = (
                with_bare_types_repaired(settings)
                if isinstance(settings, dict)
                else FREE_FORM_CONFIG
            )
        return self._config_schema

    def spec(self) -> capture.SpecResponse:
        spec = capture.SpecResponse(
            protocol=PROTOCOL_VERSION,
            config_schema=with_secret_marks(self._tap_config_schema()),
            resource_config_schema=config_schema(SingerResource),
            resource_path_pointers=list(SingerResource.PATH_POINTERS),
        )
        if self._documentation_url:
            spec.documentation_url = self._documentation_url
        return spec

    def secrets(self, config: Mapping[str, Any]) -> set[str]:
        return secret_values(self._tap_config_schema(), config)

    def discover(self, config: Mapping[str, Any]) -> capture.Discovered:
        catalog = self.tap.discover(config)
        bindings = [discovered_binding(entry) for entry in catalog["streams"]]
        return capture.Discovered(bindings=[b for b in bindings if b is not None])

    def validate(self, config: Mapping[str, Any], request: capture.Validate) -> capture.Validated:
        offered = {stream_id(entry) for entry in self.tap.discover(config)["streams"]}
        seen: dict[str, int] = {}
        bindings = []
        for index, binding in enumerate(request.bindings):
            resource = _resource(binding.resource_config, index)
            if resource.stream in seen:
                raise ConfigError(
                    f"bindings {seen[resource.stream]} and {index} both capture stream "
                    f"{resource.stream!r}; each stream may be bound once"
                )
            seen[resource.stream] = index
            if resource.stream not in offered:
                raise ConfigError(
                    f"binding {index} names stream {resource.stream!r}, which the tap does not "
                    f"offer with this config (it offers: {sorted(offered)}); run discover again"
                )
            if resource.replication_method == "INCREMENTAL" and not resource.replication_key:
                raise ConfigError(
                    f"binding {index}: stream {resource.stream!r} is INCREMENTAL but names no "
                    "replicationKey; name the field it advances by, or use FULL_TABLE"
                )
            bindings.append(capture.ValidatedBinding(resource_path=resource.path()))
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
        for index, binding in enumerate(request.capture.bindings):
            resource = _resource(binding.resource_config, index)
            state_key = binding.state_key or encode_state_key(resource.path(), binding.backfill)
            key = list(binding.collection.key)
            streams.append(
                BoundStream.restore(
                    index=index,
                    resource=resource,
                    state_key=state_key,
                    key=[] if key == [ROW_ID_KEY] else key,
                    state=states.get(state_key) or {},
                )
            )
        opened([s.state_key for s in streams])
        config = serve.endpoint_config(request.capture.config)
        catalog = selected_catalog(
            self.tap.discover(config), {s.resource.stream: s.resource for s in streams}
        )
        read = SingerRead(
            streams,
            output=output,
            stop=stop,
            top_level_state=open_state.get(TOP_LEVEL_KEY),
            source=self.tap.name,
        )
        with self.tap.sync(config, catalog, initial_state(streams, open_state)) as messages:
            read.run(messages)


def _resource(value: Any, index: int) -> SingerResource:
    return parse_config(SingerResource, value, what=f"binding {index} resource config")
