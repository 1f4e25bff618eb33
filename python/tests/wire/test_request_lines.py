"""`RequestLines`: the same lines as `iter_lines`, plus bulk runs that never wait needlessly."""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector_kit.errors import ProtocolError
from connector_kit.wire import RequestLines, iter_lines


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_fd, write_fd = os.pipe()
    yield read_fd, write_fd
    for fd in (read_fd, write_fd):
        with contextlib.suppress(OSError):
            os.close(fd)


def ready(lines: RequestLines, max_bytes: int) -> tuple[int, bytes]:
    first, view = lines.ready_lines(max_bytes)
    with view:
        return first, bytes(view)


lines_of_bytes = st.lists(
    st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=30
).map(lambda parts: b"\n".join(parts))


@given(data=lines_of_bytes, chunk=st.integers(min_value=1, max_value=64))
def test_iterating_yields_exactly_what_iter_lines_yields(data: bytes, chunk: int) -> None:
    lines = RequestLines(io.BytesIO(data), chunk_bytes=chunk)
    assert list(lines) == list(iter_lines(io.BytesIO(data)))


@given(
    data=lines_of_bytes,
    takes=st.lists(st.integers(min_value=1, max_value=200), max_size=10),
    chunk=st.integers(min_value=1, max_value=64),
)
def test_runs_taken_in_bulk_and_lines_iterated_number_every_line_once(
    data: bytes, takes: list[int], chunk: int
) -> None:
    """Whatever mix of bulk takes and iteration, each line arrives once, numbered as read."""
    lines = RequestLines(io.BytesIO(data), chunk_bytes=chunk)
    seen: list[tuple[int, bytes]] = []
    for size in takes:
        first, view = lines.ready_lines(size)
        with view:
            block = bytes(view)
        assert len(block) <= size
        assert block == b"" or block.endswith(b"\n")
        taken = block.split(b"\n")[:-1][: max(1, len(block) // 20)] if block else []
        lines.consume(sum(len(t) + 1 for t in taken), len(taken))
        seen.extend((first + i, t + b"\n") for i, t in enumerate(taken))
        item = next(lines, None)
        if item is not None:
            seen.append(item)
    seen.extend(lines)
    expected = list(iter_lines(io.BytesIO(data)))
    assert [s for s in seen if s[1].strip()] == expected


def test_ready_lines_returns_what_is_there_without_waiting_for_more(
    pipe: tuple[int, int],
) -> None:
    """A writer that sends one line and waits for an answer must get one: no deadlock."""
    read_fd, write_fd = pipe
    os.write(write_fd, b'{"store":1}\n{"store":2}\n{"startCo')
    lines = RequestLines(os.fdopen(read_fd, "rb", buffering=0, closefd=False))
    done = threading.Event()
    result: list[tuple[int, bytes]] = []

    def take() -> None:
        first, view = lines.ready_lines(1 << 20)
        with view:
            result.append((first, bytes(view)))
        done.set()

    threading.Thread(target=take, daemon=True).start()
    assert done.wait(5), "ready_lines waited for input although complete lines were buffered"
    assert result == [(1, b'{"store":1}\n{"store":2}\n')]


def test_ready_lines_waits_for_the_first_complete_line(pipe: tuple[int, int]) -> None:
    read_fd, write_fd = pipe
    os.write(write_fd, b'{"sto')
    lines = RequestLines(os.fdopen(read_fd, "rb", buffering=0, closefd=False))
    threading.Timer(0.2, lambda: os.write(write_fd, b're":1}\n')).start()
    assert ready(lines, 1 << 20) == (1, b'{"store":1}\n')


def test_a_line_longer_than_the_block_is_left_for_the_iterator() -> None:
    lines = RequestLines(io.BytesIO(b"x" * 50 + b"\nshort\n"))
    assert ready(lines, 10) == (1, b"")
    assert next(lines) == (1, b"x" * 50 + b"\n")
    assert ready(lines, 10) == (2, b"short\n")


def test_an_endless_line_is_refused_by_the_bulk_reader_too() -> None:
    lines = RequestLines(io.BytesIO(b'{"a":1}\n' + b"y" * 500), max_bytes=64, chunk_bytes=16)
    assert next(lines) == (1, b'{"a":1}\n')
    with pytest.raises(ProtocolError, match="request line 2 is longer than 64 bytes"):
        lines.ready_lines(1 << 20)


def test_the_unterminated_last_line_comes_from_the_iterator() -> None:
    lines = RequestLines(io.BytesIO(b'{"a":1}\n{"b":2}'))
    assert ready(lines, 1 << 20) == (1, b'{"a":1}\n')
    lines.consume(len(b'{"a":1}\n'), 1)
    assert ready(lines, 1 << 20) == (2, b"")
    assert list(lines) == [(2, b'{"b":2}')]
