"""The connector driver on its own: tiny scripts as connectors, their stdout and stderr."""

from __future__ import annotations

import logging
import os
import sys
import textwrap
from pathlib import Path

import pytest

from connector_kit.errors import ConnectorError, ProtocolError
from connector_kit.protocol import capture
from connector_kit.runtime.connector import ConnectorProcess, ConnectorTimeout
from connector_kit.runtime.connector_logs import FORWARDED_LOGGER, decode_log_line
from connector_kit.runtime.launch import ConnectorCommand


def script_command(tmp_path: Path, body: str) -> ConnectorCommand:
    script = tmp_path / "connector.py"
    script.write_text("import json, sys, time\n" + textwrap.dedent(body))
    return ConnectorCommand(
        task="capture acmeCo/test",
        argv=[sys.executable, str(script)],
        cwd=tmp_path,
        env=dict(os.environ),
        connector_type="LOCAL",
    )


SPEC_REQUEST = capture.Request(spec=capture.Spec(connector_type="LOCAL", config={}))


async def test_exit_without_log_output_reports_the_exit_code(tmp_path: Path) -> None:
    command = script_command(tmp_path, "sys.exit(4)\n")
    async with ConnectorProcess.running(command, response_model=capture.Response) as connector:
        with pytest.raises(ConnectorError, match="connector exited with code 4 and no log output"):
            await connector.receive(within=5, expecting="Spec")


async def test_unstructured_last_stderr_line_becomes_the_error(tmp_path: Path) -> None:
    command = script_command(
        tmp_path,
        """
        sys.stderr.write("Traceback (most recent call last):\\n")
        sys.stderr.write("ValueError: the token expired\\n")
        sys.exit(1)
        """,
    )
    async with ConnectorProcess.running(command, response_model=capture.Response) as connector:
        with pytest.raises(ConnectorError, match=r"failed: ValueError: the token expired$"):
            await connector.receive(within=5, expecting="Spec")


async def test_response_with_a_field_the_protocol_lacks_is_refused(tmp_path: Path) -> None:
    command = script_command(
        tmp_path,
        """
        sys.stdin.readline()
        print(json.dumps({"applied": {"actionDescription": "", "extra": 1}}), flush=True)
        """,
    )
    async with ConnectorProcess.running(command, response_model=capture.Response) as connector:
        await connector.send(SPEC_REQUEST)
        with pytest.raises(
            ProtocolError, match=r"connector sent an invalid response: applied\.extra"
        ):
            await connector.receive(within=5, expecting="Spec")


async def test_response_carrying_two_messages_is_refused(tmp_path: Path) -> None:
    command = script_command(
        tmp_path,
        """
        print(json.dumps({"applied": {}, "opened": {}}), flush=True)
        """,
    )
    async with ConnectorProcess.running(command, response_model=capture.Response) as connector:
        with pytest.raises(ProtocolError, match="exactly one message"):
            await connector.receive(within=5, expecting="Applied")


async def test_silence_is_a_timeout_and_the_process_is_stopped(tmp_path: Path) -> None:
    command = script_command(tmp_path, "time.sleep(60)\n")
    with pytest.raises(ConnectorTimeout, match=r"sent nothing for 0\.2s while the runtime waited"):
        async with ConnectorProcess.running(command, response_model=capture.Response) as connector:
            await connector.receive(within=0.2, expecting="Spec")
    assert connector._process.returncode is not None


async def test_stderr_records_are_forwarded_at_their_level(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    command = script_command(
        tmp_path,
        """
        sys.stderr.write(json.dumps({"lvl": "WARN", "message": "slow page", "page": 2}) + "\\n")
        debug = {"level": "debug", "msg": "details", "fields": {"a": 1}}
        sys.stderr.write(json.dumps(debug) + "\\n")
        """,
    )
    caplog.set_level(logging.DEBUG, logger=FORWARDED_LOGGER)
    async with ConnectorProcess.running(command, response_model=capture.Response) as connector:
        assert await connector.receive(within=5, expecting="Spec") is None
    forwarded = [r for r in caplog.records if r.name == FORWARDED_LOGGER]
    assert [(r.levelno, r.getMessage()) for r in forwarded] == [
        (logging.WARNING, "slow page"),
        (logging.DEBUG, "details"),
    ]
    assert forwarded[0].__dict__["fields"] == {"task": "capture acmeCo/test", "page": 2}
    assert connector.last_log_message == "details"


@pytest.mark.parametrize(
    ("line", "level", "message"),
    [
        (b'{"level":"INFO","msg":"hello","fields":{"x":1}}\n', logging.INFO, "hello"),
        (b'{"lvl":"warning","message":"careful"}\n', logging.WARNING, "careful"),
        (b'{"level":"fatal","msg":"dead"}\n', logging.CRITICAL, "dead"),
        (b"plain text progress\n", logging.WARNING, "plain text progress"),
        (b"request failed: 503\n", logging.ERROR, "request failed: 503"),
        (b"{not json but braces}\n", logging.WARNING, "{not json but braces}"),
    ],
)
def test_log_lines_decode_as_flow_decodes_them(line: bytes, level: int, message: str) -> None:
    record = decode_log_line(line)
    assert record is not None
    assert (record.level, record.message) == (level, message)


def test_extra_top_level_keys_join_the_fields() -> None:
    record = decode_log_line(
        b'{"level":"info","msg":"m","ts":"x","stream":"users","fields":{"a":1}}'
    )
    assert record is not None
    assert record.fields == {"a": 1, "stream": "users"}


def test_blank_lines_are_not_records() -> None:
    assert decode_log_line(b"   \n") is None
