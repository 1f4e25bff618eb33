"""The process contract of every connector: clean stdout, JSON logs, one final error line."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).with_name("noisy_connector.py")
SECRET = "hunter2-very-secret"


def open_request(**config: Any) -> dict[str, Any]:
    return {
        "open": {
            "capture": {
                "name": "acmeCo/noisy",
                "config": {"password": SECRET, **config},
                "bindings": [
                    {
                        "resourceConfig": {"name": "ticks"},
                        "resourcePath": ["ticks"],
                        "collection": {"name": "acmeCo/ticks", "key": ["/id"]},
                        "stateKey": "ticks",
                    }
                ],
            },
            "state": {},
        }
    }


def start(*argv: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )


def send(proc: subprocess.Popen[bytes], *messages: dict[str, Any]) -> None:
    assert proc.stdin is not None
    for m in messages:
        proc.stdin.write(json.dumps(m).encode() + b"\n")
    proc.stdin.flush()


def close_stdin(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    proc.stdin = None  # communicate() must not flush the closed pipe


def read_until_checkpoints(proc: subprocess.Popen[bytes], count: int) -> bytes:
    """Read stdout until `count` checkpoints have arrived: the capture is surely running."""
    assert proc.stdout is not None
    seen = b""
    deadline = time.monotonic() + 60
    while seen.count(b'{"checkpoint"') < count:
        assert time.monotonic() < deadline, f"no {count} checkpoints within 60 s: {seen[-500:]!r}"
        line = proc.stdout.readline()
        assert line, "the connector closed its output early"
        seen += line
    return seen


def protocol_lines(stdout: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def log_lines(stderr: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith(b"{")]


def test_stdout_carries_only_protocol_lines_whatever_the_code_prints() -> None:
    proc = start(sys.executable, str(SCRIPT))
    send(proc, open_request())
    head = read_until_checkpoints(proc, 3)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=10)
    lines = protocol_lines(head + out)  # every line parses as JSON
    assert lines[0] == {"opened": {}}
    assert {next(iter(m)) for m in lines[1:]} == {"captured", "checkpoint"}
    assert b"print() from a fetch function" in err
    assert b"sys.__stdout__ from a fetch function" in err
    assert b"os.write(1) from a fetch function" in err


def test_sigterm_stops_at_a_checkpoint_boundary_with_exit_zero() -> None:
    proc = start(sys.executable, str(SCRIPT))
    send(proc, open_request())
    head = read_until_checkpoints(proc, 5)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err.decode()
    lines = protocol_lines(head + out)
    assert "checkpoint" in lines[-1]
    assert len(lines) > 5


def test_stdin_eof_stops_the_capture_cleanly() -> None:
    proc = start(sys.executable, str(SCRIPT))
    send(proc, open_request())
    head = read_until_checkpoints(proc, 2)
    close_stdin(proc)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err.decode()
    assert "checkpoint" in protocol_lines(head + out)[-1]


def test_failure_ends_with_one_final_error_line_and_exit_one_without_secrets() -> None:
    proc = start(sys.executable, str(SCRIPT))
    send(proc, open_request(fail=True))
    proc.wait(timeout=10)  # stdin stays open: the capture ends by failing, not by EOF
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 1
    final = log_lines(err)[-1]
    assert final["level"] == "error"
    assert "resource 'ticks' (binding 0) failed: RuntimeError" in final["msg"]
    assert set(final) == {"ts", "level", "msg", "fields"}
    assert SECRET.encode() not in err
    assert SECRET.encode() not in out
    assert "[redacted]" in final["msg"]
    # Nothing after the last checkpoint: documents before the failure are not half-written.
    assert "checkpoint" in protocol_lines(out)[-1]


def test_invalid_config_error_names_the_field() -> None:
    proc = start(sys.executable, str(SCRIPT))
    send(proc, {"discover": {"config": {"fail": "maybe"}}})
    close_stdin(proc)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 1
    assert out == b""
    msg = log_lines(err)[-1]["msg"]
    assert "`password`: Field required" in msg
    assert "`fail`" in msg


def test_malformed_request_names_line_number_and_snippet() -> None:
    proc = start(sys.executable, str(SCRIPT))
    assert proc.stdin is not None
    proc.stdin.write(b'{"spec":{}}\n{"spec": nope}\n')
    close_stdin(proc)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 1
    assert len(protocol_lines(out)) == 1
    msg = log_lines(err)[-1]["msg"]
    assert "request line 2" in msg
    assert '{"spec": nope}' in msg


@pytest.mark.parametrize(("level", "shown"), [("debug", True), ("warn", False)])
def test_log_level_is_honoured(level: str, shown: bool) -> None:
    proc = start(sys.executable, str(SCRIPT), env={"LOG_LEVEL": level})
    send(proc, open_request())
    read_until_checkpoints(proc, 2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=10)
    infos = [line for line in log_lines(err) if line["level"] == "info"]
    assert bool(infos) is shown


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_runs_under_debugpy_with_clean_stdout() -> None:
    pytest.importorskip("debugpy")
    port = free_port()
    proc = start(sys.executable, "-m", "debugpy", "--listen", f"127.0.0.1:{port}", str(SCRIPT))
    send(proc, {"spec": {}})
    close_stdin(proc)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    [line] = protocol_lines(out)
    assert line["spec"]["protocol"] == 3032023


def test_waits_for_a_debugger_when_asked_and_keeps_stdout_clean() -> None:
    pytest.importorskip("debugpy")
    port = free_port()
    proc = start(
        sys.executable, str(SCRIPT), env={"CONNECTOR_KIT_DEBUG_LISTEN": f"127.0.0.1:{port}"}
    )
    send(proc, {"spec": {}})
    deadline = time.monotonic() + 20
    connected = False
    while time.monotonic() < deadline and not connected:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            connected = True
        except OSError:
            time.sleep(0.1)
    time.sleep(0.3)
    assert proc.poll() is None  # still waiting: no debugger has attached
    proc.kill()
    out, err = proc.communicate(timeout=10)
    assert connected
    assert out == b""
    assert any(line["msg"] == "waiting for a debugger" for line in log_lines(err))
