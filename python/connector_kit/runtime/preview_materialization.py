"""`preview --fixture` of a materialization, as `flowctl preview` runs one.

The fixture is flowctl's: a JSON array of transactions, each an array of
`["<collection>", document]` pairs. Each document is given a `_meta/uuid` (if it
has none) and validated against its collection's schema. Validate once; then for
each session Apply and Open, and run fixture transactions through every binding
that reads their collections: Acknowledge, Load (every key: preview exercises
the connector's Load path), Flush, Store, StartCommit. The runtime checkpoint
counts the fixture transactions committed, so a destination that keeps its
checkpoint resumes after them in the next session.

Like flowctl, stdout shows `["applied.actionDescription", …]` with
`--output-apply` and `["connectorState", …]` per StartedCommit with
`--output-state`; per-transaction counts (loads, loaded, stores per binding) go
to stderr as log lines.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from connector_kit.errors import ConfigError
from connector_kit.protocol import flow, materialize
from connector_kit.protocol.state import reduce_state
from connector_kit.runtime.catalog import Catalog, MaterializationTask
from connector_kit.runtime.connector import ConnectorProcess
from connector_kit.runtime.document_schema import DocumentValidator
from connector_kit.runtime.launch import ConnectorCommand, materialization_command, unsealed_config
from connector_kit.runtime.materialize_session import MaterializeSession
from connector_kit.runtime.materialize_spec import (
    active_bindings,
    materialization_spec,
    spec_version,
    validate_request,
)
from connector_kit.runtime.materialize_transaction import (
    MaterializedBinding,
    materialized_bindings,
    send_transaction,
)
from connector_kit.runtime.publish_clock import PublishClock
from connector_kit.runtime.reductions import Reducer
from connector_kit.runtime.runtime_checkpoint import read_positions
from connector_kit.runtime.unary import materialize_call

log = logging.getLogger(__name__)

Output = Callable[[bytes], None]
FixtureTransaction = list[tuple[str, Any]]


@dataclass(frozen=True)
class FixturePreviewOptions:
    sessions: list[int]
    initial_state: Any = None
    output_state: bool = False
    output_apply: bool = False
    connector_timeout: float | None = None


def read_fixture(path: Path) -> list[FixtureTransaction]:
    """flowctl's fixture format, or a ConfigError naming the file and the bad entry."""
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"fixture file {path} does not exist") from None
    except orjson.JSONDecodeError as err:
        raise ConfigError(f"fixture {path} is not valid JSON: {err}") from None
    if not isinstance(data, list):
        raise ConfigError(
            f"fixture {path} must be a JSON array of transactions, each an array of "
            '["<collection>", document] pairs'
        )
    transactions: list[FixtureTransaction] = []
    for t, transaction in enumerate(data):
        if not isinstance(transaction, list):
            raise ConfigError(f"fixture {path}: transaction {t} is not an array of pairs")
        documents = []
        for d, pair in enumerate(transaction):
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not isinstance(pair[0], str)
                or not isinstance(pair[1], dict)
            ):
                raise ConfigError(
                    f'fixture {path}: transaction {t} item {d} is not a ["<collection>", '
                    "{document}] pair"
                )
            documents.append((pair[0], pair[1]))
        transactions.append(documents)
    return transactions


def pick_materialization(catalog: Catalog, name: str | None) -> MaterializationTask:
    if name is not None and name in catalog.captures:
        raise ConfigError(
            f"{name} is a capture; --fixture supplies the documents a materialization reads, "
            "so name a materialization with --name (or leave --fixture out)"
        )
    return catalog.materialization(name)


async def preview_materialization(
    catalog: Catalog,
    *,
    name: str | None,
    fixture: Path,
    options: FixturePreviewOptions,
    output: Output,
) -> Any:
    """Preview the materialization on the fixture; returns the final connector state."""
    task = pick_materialization(catalog, name)
    transactions = read_fixture(fixture)
    unsealed = unsealed_config(task.config)
    command = materialization_command(task, catalog_dir=catalog.directory, secrets=unsealed.secrets)
    bindings = active_bindings(task, catalog)
    _check_collections(transactions, bindings={b.collection.name for b in bindings}, path=fixture)
    validated = await materialize_call(
        command,
        validate_request(
            task, config=unsealed.value, bindings=bindings, connector_type=command.connector_type
        ),
        within=options.connector_timeout,
    )
    assert validated.validated is not None
    spec = materialization_spec(
        task,
        config=unsealed.value,
        bindings=bindings,
        validated=validated.validated,
        connector_type=command.connector_type,
    )
    version = spec_version(spec)
    collections = {b.collection.name: b.collection for b in bindings}
    reducers = {name: Reducer(c.read_schema, collection=name) for name, c in collections.items()}
    validators = {name: DocumentValidator(c) for name, c in collections.items()}
    targets = materialized_bindings(spec, reducers=reducers)
    prepared = _prepare(
        transactions, validators=validators, clock=PublishClock(producer=str(fixture))
    )
    source = f"{fixture.name};materialize/{task.name}"
    state: Any = {} if options.initial_state is None else options.initial_state

    for target in options.sessions:
        applied = await materialize_call(
            command,
            materialize.Request(apply=materialize.Apply(materialization=spec, version=version)),
            within=options.connector_timeout,
        )
        if options.output_apply and applied.applied is not None:
            description = orjson.dumps(applied.applied.action_description).decode()
            output(f'["applied.actionDescription", {description}]\n'.encode())
        state, done = await _session(
            command,
            targets=targets,
            spec=spec,
            version=version,
            state=state,
            transactions=prepared,
            source=source,
            target=target,
            options=options,
            output=output,
        )
        if done:
            break
    return state


def _check_collections(
    transactions: list[FixtureTransaction], *, bindings: set[str], path: Path
) -> None:
    for t, transaction in enumerate(transactions):
        for d, (collection, _) in enumerate(transaction):
            if collection not in bindings:
                raise ConfigError(
                    f"fixture {path}: transaction {t} item {d} is a document of {collection}, "
                    f"which no enabled binding reads (they read: {', '.join(sorted(bindings))})"
                )


def _prepare(
    transactions: list[FixtureTransaction],
    *,
    validators: dict[str, DocumentValidator],
    clock: PublishClock,
) -> list[list[tuple[str, bytes, Any]]]:
    prepared = []
    for t, transaction in enumerate(transactions):
        clock.begin_group()
        documents: list[tuple[str, bytes, Any]] = []
        for collection, document in transaction:
            meta = document.setdefault("_meta", {})
            if isinstance(meta, dict) and "uuid" not in meta:
                meta["uuid"] = clock.next_uuid()
            validators[collection].check(
                document, task=f"fixture transaction {t}", binding=len(documents)
            )
            documents.append((collection, orjson.dumps(document), document))
        prepared.append(documents)
    return prepared


async def _session(
    command: ConnectorCommand,
    *,
    targets: list[MaterializedBinding],
    spec: flow.MaterializationSpec,
    version: str,
    state: Any,
    transactions: list[list[tuple[str, bytes, Any]]],
    source: str,
    target: int,
    options: FixturePreviewOptions,
    output: Output,
) -> tuple[Any, bool]:
    """Run one connector session; returns the reduced state and whether the fixture is done."""
    async with ConnectorProcess.running(command, response_model=materialize.Response) as connector:
        session = MaterializeSession(connector, spec=spec, within=options.connector_timeout)
        try:
            opened = await session.open(version=version, state=state)
            committed = read_positions(opened.runtime_checkpoint).get(source, 0)
            await session.acknowledge()
            ran = 0
            while committed < len(transactions) and (target < 0 or ran < target):
                combiners = [binding.combiner() for binding in targets]
                for collection, json, document in transactions[committed]:
                    for binding, combiner in zip(targets, combiners, strict=True):
                        if binding.collection == collection:
                            combiner.add(json, document)
                checkpoint = {"sources": {source: {"readThrough": str(committed + 1)}}}
                outcome = await send_transaction(
                    session,
                    combiners,
                    checkpoint=checkpoint,
                    max_keys=[None] * len(combiners),
                    optimize_loads=False,
                )
                states = await session.started_commit()
                for update in states:
                    state = reduce_state(
                        state, updated=update.updated, merge=bool(update.merge_patch)
                    )
                if options.output_state:
                    shown = [s.model_dump(by_alias=True, exclude_none=True) for s in states]
                    output(orjson.dumps(["connectorState", shown[-1] if shown else {}]) + b"\n")
                log.info(
                    "transaction %d committed",
                    committed,
                    extra={
                        "fields": {
                            "task": command.task,
                            "loaded": outcome.loaded_documents,
                            "stored": outcome.stored_documents,
                        }
                    },
                )
                committed += 1
                ran += 1
                await session.acknowledge()
            state = _reduced(state, await session.close())
        finally:
            await session.stop()
    return state, committed >= len(transactions)


def _reduced(state: Any, updates: list[flow.ConnectorState]) -> Any:
    for update in updates:
        state = reduce_state(state, updated=update.updated, merge=bool(update.merge_patch))
    return state
