"""A materialization connector: request dispatch for spec, validate, apply and open.

An author supplies typed endpoint and resource configs and a `Materializer`;
`MaterializeConnector` does the rest: the protocol number, config validation with
field-level errors, secrets registered for masking, bindings parsed with their
selected fields, `opened` with or without a runtime checkpoint, and the
transaction loop.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Generic, NoReturn

from connector_kit.config import config_schema, parse_config, secret_values
from connector_kit.errors import ProtocolError
from connector_kit.materialize.config import resource_schema
from connector_kit.materialize.faults import FaultPoints
from connector_kit.materialize.fields import selected_fields
from connector_kit.materialize.hooks import (
    Binding,
    BindingToValidate,
    ConfigT,
    Materialization,
    Materializer,
    ResourceT,
)
from connector_kit.materialize.transactions import DEFAULT_STORE_BATCH_BYTES, TransactionLoop
from connector_kit.protocol import PROTOCOL_VERSION, materialize
from connector_kit.protocol.flow import FULL_RANGE, MaterializationSpec
from connector_kit.wire import ConnectorIO, RequestLines, parse_line, run_connector

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class MaterializeConnector(Generic[ConfigT, ResourceT]):
    """Everything the framework needs to know about a materialization connector."""

    endpoint_config: type[ConfigT]
    resource_config: type[ResourceT]
    materializer: Materializer[ConfigT, ResourceT]
    documentation_url: str = ""
    store_batch_bytes: int = DEFAULT_STORE_BATCH_BYTES
    """Rows of a binding are handed to `Transactor.store` once they reach this many bytes."""

    def main(self) -> NoReturn:
        """Serve requests from stdin until EOF: the `__main__` of every materialization."""
        run_connector(self.serve)

    def serve(self, io: ConnectorIO) -> None:
        faults = FaultPoints.from_env()
        lines = RequestLines(io.requests)
        next_request: tuple[int, materialize.Request] | None = None
        while True:
            if next_request is None:
                item = next(lines, None)
                if item is None:
                    return
                number, line = item
                request = parse_line(materialize.Request, line, number)
            else:
                number, request = next_request
            if request.open is not None:
                next_request = self._session(request.open, lines, io, faults)
                continue
            next_request = None
            io.responses.write(self._unary(request, number, io).to_json_line())

    def spec(self) -> materialize.SpecResponse:
        spec = materialize.SpecResponse(
            protocol=PROTOCOL_VERSION,
            config_schema=config_schema(self.endpoint_config),
            resource_config_schema=resource_schema(self.resource_config),
        )
        if self.documentation_url:
            spec.documentation_url = self.documentation_url
        return spec

    def _unary(
        self, request: materialize.Request, number: int, io: ConnectorIO
    ) -> materialize.Response:
        if request.spec is not None:
            return materialize.Response(spec=self.spec())
        if request.validate_ is not None:
            return materialize.Response(validated=self._validate(request.validate_, io))
        if request.apply is not None:
            return materialize.Response(applied=self._apply(request.apply, io))
        raise ProtocolError(
            f"request line {number}: `{request.message}` is out of order: expected `spec`, "
            "`validate`, `apply` or `open` (no materialization is open)"
        )

    def _config(self, value: Any, io: ConnectorIO) -> ConfigT:
        config = parse_config(self.endpoint_config, value, what="endpoint config")
        for secret in secret_values(config):
            io.secrets.add(secret)
        return config

    def _validate(self, validate: materialize.Validate, io: ConnectorIO) -> materialize.Validated:
        config = self._config(validate.config, io)
        bindings = [
            BindingToValidate(
                index=index,
                resource=parse_config(
                    self.resource_config,
                    binding.resource_config,
                    what=f"binding {index} resource config",
                ),
                collection=binding.collection,
                field_config=binding.field_config or {},
                backfill=binding.backfill,
            )
            for index, binding in enumerate(validate.bindings)
        ]
        validated = self.materializer.validate(config=config, bindings=bindings)
        if len(validated) != len(bindings):
            raise ProtocolError(
                f"validate answered {len(validated)} bindings for {len(bindings)} requested"
            )
        return materialize.Validated(bindings=validated)

    def _materialization(self, spec: MaterializationSpec) -> Materialization[ResourceT]:
        bindings = []
        for index, binding in enumerate(spec.bindings):
            where = f"binding {index} ({binding.collection.name})"
            bindings.append(
                Binding(
                    index=index,
                    resource=parse_config(
                        self.resource_config, binding.resource_config, what=f"{where} resource"
                    ),
                    spec=binding,
                    fields=selected_fields(
                        binding.collection, binding.field_selection, where=where
                    ),
                )
            )
        return Materialization(name=spec.name, bindings=tuple(bindings))

    def _apply(self, apply: materialize.Apply, io: ConnectorIO) -> materialize.Applied:
        config = self._config(apply.materialization.config, io)
        actions = self.materializer.apply(
            config=config, materialization=self._materialization(apply.materialization)
        )
        return materialize.Applied(action_description="\n".join(actions))

    def _session(
        self, open_: materialize.Open, lines: RequestLines, io: ConnectorIO, faults: FaultPoints
    ) -> tuple[int, materialize.Request] | None:
        config = self._config(open_.materialization.config, io)
        materialization = self._materialization(open_.materialization)
        opened = self.materializer.open(
            config=config,
            materialization=materialization,
            key_range=open_.range or FULL_RANGE,
            faults=faults,
        )
        try:
            response = materialize.Opened()
            if opened.runtime_checkpoint is not None:
                response.runtime_checkpoint = opened.runtime_checkpoint
            io.responses.write(materialize.Response(opened=response).to_json_line())
            faults.reached("opened")
            loop = TransactionLoop(
                transactor=opened.transactor,
                bindings=materialization.bindings,
                responses=io.responses,
                faults=faults,
                store_batch_bytes=self.store_batch_bytes,
            )
            return loop.run(lines)
        finally:
            opened.transactor.close()
