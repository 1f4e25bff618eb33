from __future__ import annotations

import io
import json
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector_kit.errors import ProtocolError
from connector_kit.protocol import capture
from connector_kit.wire import SecretMask, configure_logging, iter_lines, parse_line


def test_lines_are_numbered_and_blank_lines_skipped() -> None:
    stream = io.BytesIO(b'{"a":1}\n\n{"b":2}\n{"c":3}')
    assert list(iter_lines(stream)) == [(1, b'{"a":1}\n'), (3, b'{"b":2}\n'), (4, b'{"c":3}')]


def test_line_over_the_limit_is_rejected_with_its_number() -> None:
    stream = io.BytesIO(b'{"a":1}\n' + b"x" * 100 + b"\n")
    with pytest.raises(ProtocolError, match="request line 2 is longer than 64 bytes"):
        list(iter_lines(stream, max_bytes=64))


def test_line_of_exactly_the_limit_is_accepted() -> None:
    line = b'{"k":"' + b"x" * 55 + b'"}\n'
    assert len(line) == 64
    assert list(iter_lines(io.BytesIO(line), max_bytes=64)) == [(1, line)]


def test_unknown_request_type_names_the_line() -> None:
    with pytest.raises(ProtocolError, match="request line 7: a Request must carry exactly one"):
        parse_line(capture.Request, b'{"teleport":{}}\n', 7)


def test_request_with_two_messages_is_rejected() -> None:
    with pytest.raises(ProtocolError, match="carries spec, discover"):
        parse_line(capture.Request, b'{"spec":{},"discover":{}}', 1)


def test_invalid_json_names_line_and_snippet() -> None:
    with pytest.raises(ProtocolError, match=r"request line 3 .*'\{\"spec\": \[oops'"):
        parse_line(capture.Request, b'{"spec": [oops', 3)


def test_log_lines_are_json_with_fields_and_secrets_masked() -> None:
    mask = SecretMask()
    mask.add("s3cr3t-value")
    out = io.StringIO()
    configure_logging(mask=mask, stream=out)
    logging.getLogger("x.y").warning(
        "token s3cr3t-value refused", extra={"fields": {"url": "https://h/?k=s3cr3t-value", "n": 2}}
    )
    line = json.loads(out.getvalue())
    assert set(line) == {"ts", "level", "msg", "fields"}
    assert line["level"] == "warn"
    assert line["msg"] == "token [redacted] refused"
    assert line["fields"] == {"url": "https://h/?k=[redacted]", "n": 2, "logger": "x.y"}


@given(secret=st.text(min_size=4, max_size=40).filter(lambda s: s.strip() == s and s))
def test_any_registered_secret_never_reaches_a_log_line(secret: str) -> None:
    mask = SecretMask()
    mask.add(secret)
    out = io.StringIO()
    handler = configure_logging(mask=mask, stream=out)
    try:
        logging.getLogger("t").error("failed with %s", secret, extra={"fields": {"s": [secret]}})
        assert secret not in json.loads(out.getvalue())["msg"]
        assert secret not in json.dumps(json.loads(out.getvalue())["fields"])
    finally:
        logging.getLogger().removeHandler(handler)


def test_descriptor_lines_match_buffered_lines_and_enforce_the_limit() -> None:
    import os

    from connector_kit.wire.reader import DescriptorLines

    data = b'{"a":1}\n\n{"b":2}\n' + b"y" * 100 + b'\n{"tail":3}'
    read_fd, write_fd = os.pipe()
    os.write(write_fd, data)
    os.close(write_fd)
    try:
        assert list(iter_lines(DescriptorLines(read_fd), max_bytes=200)) == list(
            iter_lines(io.BytesIO(data), max_bytes=200)
        )
    finally:
        os.close(read_fd)
    read_fd, write_fd = os.pipe()
    os.write(write_fd, data)
    os.close(write_fd)
    try:
        with pytest.raises(ProtocolError, match="request line 4 is longer than 64 bytes"):
            list(iter_lines(DescriptorLines(read_fd), max_bytes=64))
    finally:
        os.close(read_fd)
