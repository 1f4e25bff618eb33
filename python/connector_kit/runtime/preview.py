"""`preview` of a capture, as `flowctl preview` runs one.

Validate once; then for each session Apply and Open from the reduced state, and
read transactions until the session's target count, the connector's exit, or
`--timeout` of silence. Each committed transaction prints its documents as
`["<collection>", doc]` lines (keys sorted, as Flow's documents are), then its
state update as a `["connectorState", …]` line with `--output-state`; its
checkpoint is reduced into the state by RFC 7396 merge patch (or replaces it),
and acknowledged when the connector asked for acknowledgements. Documents
after the last checkpoint are never printed and never advance the state.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from connector_kit.errors import ConfigError
from connector_kit.protocol import capture, flow
from connector_kit.protocol.state import reduce_state
from connector_kit.runtime.capture_session import (
    CaptureSession,
    CommittedTransaction,
    SessionEnded,
)
from connector_kit.runtime.capture_spec import (
    active_bindings,
    capture_spec,
    spec_version,
    validate_request,
)
from connector_kit.runtime.catalog import CaptureTask, Catalog
from connector_kit.runtime.connector import ConnectorProcess
from connector_kit.runtime.document_schema import DocumentValidator
from connector_kit.runtime.launch import ConnectorCommand, capture_command, unsealed_config
from connector_kit.runtime.metrics import BindingMetrics, RuntimeMetrics
from connector_kit.runtime.unary import capture_call

log = logging.getLogger(__name__)

Output = Callable[[bytes], None]
"""Where preview lines go (the CLI's stdout); each call gets whole lines."""


@dataclass(frozen=True)
class PreviewOptions:
    sessions: list[int]
    """Target transactions per connector session; negative means unlimited."""
    delay: float = 0.0
    idle_timeout: float | None = None
    initial_state: Any = None
    output_state: bool = False
    output_apply: bool = False
    connector_timeout: float | None = None
    """How long to wait for a response to a request before calling the connector stuck."""
    metrics: RuntimeMetrics | None = None
    """Where committed documents are counted per binding, when metrics are served."""


async def preview(
    catalog: Catalog, *, name: str | None, options: PreviewOptions, output: Output
) -> Any:
    """Preview the named (or only) task; returns the final connector state."""
    if name is not None and name in catalog.materializations:
        raise ConfigError(_MATERIALIZATION_PREVIEW)
    if name is None and not catalog.captures and catalog.materializations:
        raise ConfigError(_MATERIALIZATION_PREVIEW)
    if name is None and len(catalog.captures) + len(catalog.materializations) > 1:
        raise ConfigError(
            f"{catalog.root} defines several tasks "
            f"({', '.join(sorted([*catalog.captures, *catalog.materializations]))}); "
            "choose one with --name"
        )
    return await preview_capture(catalog, catalog.capture(name), options=options, output=output)


_MATERIALIZATION_PREVIEW = (
    "previewing a materialization needs the documents it should read: give them with "
    '--fixture FILE (a JSON array of transactions, each an array of ["<collection>", document] '
    "pairs), or name a capture with --name"
)


async def preview_capture(
    catalog: Catalog, task: CaptureTask, *, options: PreviewOptions, output: Output
) -> Any:
    unsealed = unsealed_config(task.config)
    command = capture_command(task, catalog_dir=catalog.directory, secrets=unsealed.secrets)
    config = unsealed.value
    bindings = active_bindings(task, catalog)
    validators = [DocumentValidator(b.collection) for b in bindings]
    # A capture binds each collection at most once, so a document's collection names its binding.
    binding_metrics = (
        {
            b.collection.name: options.metrics.capture_binding(
                task=task.name, binding=b.index, collection=b.collection.name
            )
            for b in bindings
        }
        if options.metrics is not None
        else {}
    )
    validated = await capture_call(
        command,
        validate_request(
            task, config=config, bindings=bindings, connector_type=command.connector_type
        ),
        within=options.connector_timeout,
    )
    assert validated.validated is not None
    spec = capture_spec(
        task,
        config=config,
        bindings=bindings,
        validated=validated.validated,
        connector_type=command.connector_type,
    )
    version = spec_version(spec)
    state: Any = {} if options.initial_state is None else options.initial_state

    for number, target in enumerate(options.sessions):
        await _apply(command, spec=spec, version=version, options=options, output=output)
        state = await _run_session(
            command,
            spec=spec,
            version=version,
            validators=validators,
            state=state,
            target=target,
            options=options,
            output=output,
            binding_metrics=binding_metrics,
        )
        log.debug("session ended", extra={"fields": {"task": command.task, "session": number}})

    if options.output_state:
        output(_line("connectorState", {"updated": state}))
    return state


async def _apply(
    command: ConnectorCommand,
    *,
    spec: flow.CaptureSpec,
    version: str,
    options: PreviewOptions,
    output: Output,
) -> None:
    answer = await capture_call(
        command,
        capture.Request(apply=capture.Apply(capture=spec, version=version)),
        within=options.connector_timeout,
    )
    assert answer.applied is not None
    if options.output_apply:
        # flowctl prints this line with a space after the comma; keep it byte-compatible.
        description = orjson.dumps(answer.applied.action_description).decode()
        output(f'["applied.actionDescription", {description}]\n'.encode())


async def _run_session(
    command: ConnectorCommand,
    *,
    spec: flow.CaptureSpec,
    version: str,
    validators: list[DocumentValidator],
    state: Any,
    target: int,
    options: PreviewOptions,
    output: Output,
    binding_metrics: dict[str, BindingMetrics],
) -> Any:
    async with ConnectorProcess.running(command, response_model=capture.Response) as connector:
        session = CaptureSession(connector, spec=spec, validators=validators)
        await session.open(version=version, state=state, within=options.connector_timeout)
        committed = 0
        while target < 0 or committed < target:
            result = await session.next_transaction(idle_within=options.idle_timeout)
            if isinstance(result, SessionEnded):
                _log_end(command.task, result, options)
                break
            state = _commit(result, state=state, options=options, output=output)
            _count_committed(result, binding_metrics)
            await session.acknowledge(1)
            committed += 1
            if options.delay:
                await asyncio.sleep(options.delay)
        await connector.stop(graceful=False)
    return state


def _commit(
    transaction: CommittedTransaction, *, state: Any, options: PreviewOptions, output: Output
) -> Any:
    update = transaction.state
    merge = bool(update.merge_patch)
    reduced = reduce_state(state, updated=update.updated, merge=merge)
    lines = [_line(collection, document) for collection, document in transaction.documents]
    if options.output_state:
        shown: dict[str, Any] = {"updated": update.updated}
        if merge:
            shown["mergePatch"] = True
        lines.append(_line("connectorState", shown))
    output(b"".join(lines))
    return reduced


def _count_committed(
    transaction: CommittedTransaction, binding_metrics: dict[str, BindingMetrics]
) -> None:
    if not binding_metrics:
        return
    counts: dict[str, tuple[int, int]] = {}
    for collection, document in transaction.documents:
        documents, size = counts.get(collection, (0, 0))
        counts[collection] = (documents + 1, size + _json_size(document))
    for collection, (documents, size) in counts.items():
        binding_metrics[collection].committed(documents=documents, size_bytes=size)


def _json_size(document: Any) -> int:
    try:
        return len(orjson.dumps(document))
    except TypeError:
        # orjson refuses integers beyond 64 bits, which JSON (and Flow) allow.
        return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode())


def _line(label: str, value: Any) -> bytes:
    try:
        return orjson.dumps([label, value], option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
    except TypeError:
        # orjson refuses integers beyond 64 bits, which JSON (and Flow) allow.
        text = json.dumps([label, value], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return (text + "\n").encode()


def _log_end(task: str, ended: SessionEnded, options: PreviewOptions) -> None:
    fields: dict[str, Any] = {"task": task, "why": ended.why}
    if ended.why == "idle":
        fields["timeout_seconds"] = options.idle_timeout
    if ended.discarded_documents:
        log.warning(
            "stopping the session: %d documents after the last checkpoint were not committed "
            "and are dropped",
            ended.discarded_documents,
            extra={"fields": fields},
        )
    else:
        log.info("connector session ended", extra={"fields": fields})
