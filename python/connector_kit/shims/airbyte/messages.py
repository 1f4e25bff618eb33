"""Airbyte messages that are not data: logs, traces and config updates, sent to our log.

Also the error a TRACE ERROR becomes, and picking the one answer (SPEC, CATALOG,
CONNECTION_STATUS) out of a unary command's messages.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from connector_kit.errors import ConfigError, ConnectorError, SourceError

log = logging.getLogger(__name__)

LOG_LEVELS = {
    "FATAL": logging.CRITICAL,
    "ERROR": logging.ERROR,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "INFO": logging.INFO,
    "DEBUG": logging.DEBUG,
    "TRACE": logging.DEBUG,
}


def log_message(message: Mapping[str, Any], *, source: str) -> None:
    """Log a LOG message at its level, with its stack trace if it has one."""
    body = message.get("log") or {}
    fields: dict[str, Any] = {"source": source}
    if body.get("stack_trace"):
        fields["stack_trace"] = body["stack_trace"]
    level = LOG_LEVELS.get(str(body.get("level", "INFO")).upper(), logging.INFO)
    log.log(level, str(body.get("message", "")), extra={"fields": fields})


def trace_error(message: Mapping[str, Any], *, source: str) -> dict[str, Any] | None:
    """Log a TRACE message; return the error payload when it is a TRACE ERROR."""
    trace = message.get("trace") or {}
    kind = trace.get("type")
    if kind == "ERROR":
        error = dict(trace.get("error") or {})
        log.error(
            f"{source} reported an error: {error.get('message') or 'no message'}",
            extra={"fields": {"source": source, **_error_fields(error)}},
        )
        return error
    if kind == "ESTIMATE":
        log.info("source estimate", extra={"fields": {"source": source, **trace["estimate"]}})
    elif kind == "STREAM_STATUS":
        status = trace.get("stream_status") or {}
        descriptor = status.get("stream_descriptor") or {}
        log.info(
            f"stream {descriptor.get('name')!r} is {status.get('status')}",
            extra={"fields": {"source": source, **status}},
        )
    else:
        log.debug("source trace", extra={"fields": {"source": source, "trace": trace}})
    return None


def _error_fields(error: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("failure_type", "internal_message", "stream_descriptor", "stack_trace")
    return {key: error[key] for key in keys if error.get(key)}


def error_from_trace(error: Mapping[str, Any], *, source: str) -> ConnectorError:
    """The error a run ends with after the source sent a TRACE ERROR."""
    text = error.get("message") or error.get("internal_message") or "no message"
    stream = (error.get("stream_descriptor") or {}).get("name")
    where = f" (stream {stream!r})" if stream else ""
    if error.get("failure_type") == "config_error":
        return ConfigError(f"{source} rejected its config{where}: {text}")
    return SourceError(f"{source} failed{where}: {text}")


def control_message(
    message: Mapping[str, Any], *, config: Mapping[str, Any], source: str
) -> dict[str, Any] | None:
    """Report a CONTROL config update; return the new config so its secrets can be masked.

    Flow gives a connector no way to rewrite its endpoint config, so an update
    (typically a rotated OAuth refresh token) is reported for the user to apply.
    """
    control = message.get("control") or {}
    if control.get("type") != "CONNECTOR_CONFIG":
        log.warning(
            "ignored a CONTROL message of an unknown type",
            extra={"fields": {"source": source, "type": control.get("type")}},
        )
        return None
    updated = (control.get("connectorConfig") or {}).get("config") or {}
    changed = sorted(k for k in set(updated) | set(config) if updated.get(k) != config.get(k))
    log.warning(
        f"{source} asked to store an updated config, which a Flow connector cannot do: "
        "update the capture's endpoint config with the new values of these fields (for "
        "example a rotated refresh token), or later runs may fail to authenticate",
        extra={"fields": {"source": source, "changedFields": changed}},
    )
    return dict(updated)


def single_answer(
    messages: Iterable[dict[str, Any]], *, kind: str, field: str, source: str
) -> dict[str, Any]:
    """The payload of the one `kind` message a unary command returns; logs the rest."""
    answer: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    try:
        for message in messages:
            kind_of = message.get("type")
            if kind_of == kind:
                answer = message.get(field) or {}
            elif kind_of == "LOG":
                log_message(message, source=source)
            elif kind_of == "TRACE":
                error = trace_error(message, source=source) or error
            else:
                log.debug("ignored message", extra={"fields": {"source": source, "type": kind_of}})
    except Exception as err:
        if error is not None:
            raise error_from_trace(error, source=source) from err
        if isinstance(err, ConnectorError):
            raise
        raise failure(err, source=source) from err
    if error is not None:
        raise error_from_trace(error, source=source)
    if answer is None:
        raise SourceError(f"{source} ended without sending the {kind} message it owes")
    return answer


def failure(err: BaseException, *, source: str) -> ConnectorError:
    """A delegate's exception as a ConnectorError that says where it came from."""
    if isinstance(err, ConnectorError):
        return err
    return SourceError(f"{source} failed: {type(err).__name__}: {err}")
