"""FoundationDB tuple-layer codec for the `keyPacked` / `valuesPacked` fields of materializations.

Flow packs the selected key and value fields of each document as one FDB tuple: null → None,
booleans → bool, integers → int, other numbers → float (a double), strings → str, and objects
and arrays → bytes holding their JSON text. The byte encoding is the one specified in
apple/foundationdb `design/tuple.md`; it sorts packed tuples in the order of their values, so
packed keys can be compared and range-scanned as plain bytes.

`pack` and `unpack` run once per document on every Load and Store, so both avoid per-byte
Python loops: escaping uses `bytes.replace`/`bytes.find` and integers go through
`int.to_bytes`/`int.from_bytes` in a single call.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final, TypeAlias

from connector_kit.errors import ProtocolError

__all__ = ["TupleValue", "pack", "unpack"]

TupleValue: TypeAlias = (
    "bytes | str | int | float | bool | uuid.UUID | tuple[TupleValue, ...] | None"
)

_NULL: Final = 0x00
_BYTES: Final = 0x01
_STRING: Final = 0x02
_NESTED: Final = 0x05
_NEG_BIG_INT: Final = 0x0B
_NEG_INT_8: Final = 0x0C
_INT_ZERO: Final = 0x14
_POS_INT_8: Final = 0x1C
_POS_BIG_INT: Final = 0x1D
_FLOAT: Final = 0x20
_DOUBLE: Final = 0x21
_FALSE: Final = 0x26
_TRUE: Final = 0x27
_UUID: Final = 0x30
_ESCAPE: Final = 0xFF

# The arbitrary-precision codes carry their length in one byte.
_MAX_INT_BYTES: Final = 255

_SIGN_64: Final = 1 << 63
_MASK_64: Final = (1 << 64) - 1
_SIGN_32: Final = 1 << 31
_MASK_32: Final = (1 << 32) - 1

# (1 << 8n) - 1 for n = 0..8: the offset of an n-byte one's-complement negative integer.
_ONES: Final = tuple((1 << (8 * n)) - 1 for n in range(9))

_DOUBLE_STRUCT: Final = struct.Struct(">d")
_FLOAT_STRUCT: Final = struct.Struct(">f")
_U64: Final = struct.Struct(">Q")
_U32: Final = struct.Struct(">I")
_CODE_U64: Final = struct.Struct(">BQ")


def _encode_bytes(value: bytes) -> bytes:
    return b"\x01" + value.replace(b"\x00", b"\x00\xff") + b"\x00"


def _encode_str(value: str) -> bytes:
    if "\x00" in value:
        return b"\x02" + value.encode().replace(b"\x00", b"\x00\xff") + b"\x00"
    # Type code and terminator are ASCII, so one encode of the joined str is the whole element.
    return ("\x02" + value + "\x00").encode()


def _encode_int(value: int) -> bytes:
    if value >= 0:
        size = (value.bit_length() + 7) >> 3
        if size <= 8:
            return ((_INT_ZERO + size) << (size << 3) | value).to_bytes(size + 1, "big")
        _check_int_size(value, size)
        header = (_POS_BIG_INT << 8) | size
        return (header << (size << 3) | value).to_bytes(size + 2, "big")
    size = ((-value).bit_length() + 7) >> 3
    if size <= 8:
        return ((_INT_ZERO - size) << (size << 3) | (value + _ONES[size])).to_bytes(size + 1, "big")
    _check_int_size(value, size)
    # The length byte is inverted so that longer (more negative) integers sort first.
    header = (_NEG_BIG_INT << 8) | (size ^ 0xFF)
    ones_complement = value + (1 << (size << 3)) - 1
    return (header << (size << 3) | ones_complement).to_bytes(size + 2, "big")


def _check_int_size(value: int, size: int) -> None:
    if size > _MAX_INT_BYTES:
        raise ValueError(
            f"cannot pack an integer of {size} bytes into an FDB tuple: "
            f"the limit is {_MAX_INT_BYTES} bytes (|value| < 2**2040)"
        )


def _encode_float(value: float) -> bytes:
    (bits,) = _U64.unpack(_DOUBLE_STRUCT.pack(value))
    # Flipping the sign bit of positives and every bit of negatives makes the bytes sort
    # in IEEE total order (-nan < -inf < ... < -0.0 < 0.0 < ... < inf < nan).
    bits ^= _MASK_64 if bits & _SIGN_64 else _SIGN_64
    return _CODE_U64.pack(_DOUBLE, bits)


def _encode_bool(value: bool) -> bytes:
    return b"\x27" if value else b"\x26"


def _encode_uuid(value: uuid.UUID) -> bytes:
    return b"\x30" + value.bytes


def _encode_top_null(value: None) -> bytes:
    return b"\x00"


def _encode_nested_null(value: None) -> bytes:
    # Inside a nested tuple a bare 0x00 ends the tuple, so a null is escaped.
    return b"\x00\xff"


def _encode_nested(value: tuple[Any, ...]) -> bytes:
    return b"\x05" + _pack_items(value, encoders=_NESTED_ENCODERS) + b"\x00"


_Encoders: TypeAlias = Mapping[type, Callable[[Any], bytes]]

_COMMON_ENCODERS: Final[dict[type, Callable[[Any], bytes]]] = {
    str: _encode_str,
    int: _encode_int,
    float: _encode_float,
    bytes: _encode_bytes,
    bool: _encode_bool,
    uuid.UUID: _encode_uuid,
    tuple: _encode_nested,
}
_TOP_ENCODERS: Final[_Encoders] = MappingProxyType(
    {**_COMMON_ENCODERS, type(None): _encode_top_null}
)
_NESTED_ENCODERS: Final[_Encoders] = MappingProxyType(
    {**_COMMON_ENCODERS, type(None): _encode_nested_null}
)

# For subclasses (IntEnum, StrEnum, namedtuple, …) that miss the exact-type table. bool cannot
# be subclassed, so every bool hits the table and never falls back to int here.
_SUBCLASS_ORDER: Final = (int, str, bytes, float, uuid.UUID, tuple)


def _pack_items(values: tuple[Any, ...], *, encoders: _Encoders) -> bytes:
    parts = []
    for value in values:
        encoder = encoders.get(type(value)) or _encoder_for_subclass(value, encoders=encoders)
        parts.append(encoder(value))
    return b"".join(parts)


def _encoder_for_subclass(value: object, *, encoders: _Encoders) -> Callable[[Any], bytes]:
    for base in _SUBCLASS_ORDER:
        if isinstance(value, base):
            return encoders[base]
    raise TypeError(
        f"cannot pack a value of type {type(value).__qualname__} into an FDB tuple: supported "
        "types are None, bool, int, float, str, bytes, uuid.UUID and nested tuples; pass JSON "
        "objects and arrays as bytes holding their JSON text, as Flow does"
    )


def pack(values: tuple[TupleValue, ...] | list[TupleValue]) -> bytes:
    """Encode `values` as one FDB tuple.

    Only tuples nest: a list or dict inside `values` is a TypeError rather than a nested tuple,
    because Flow packs JSON arrays and objects as bytes of JSON text and a silently nested
    list would not match the runtime's keys.
    """
    if not isinstance(values, tuple | list):
        raise TypeError(f"pack() takes a tuple or list of values, not {type(values).__qualname__}")
    # Top-level strings and integers (most key fields) skip the table lookup; everything else,
    # and nested tuples, go through it.
    parts: list[bytes] = []
    append = parts.append
    value: Any
    for value in values:
        kind = type(value)
        if kind is str:
            append(_encode_str(value))
        elif kind is int:
            append(_encode_int(value))
        else:
            encoder = _TOP_ENCODERS.get(kind) or _encoder_for_subclass(
                value, encoders=_TOP_ENCODERS
            )
            append(encoder(value))
    return b"".join(parts)


def unpack(data: bytes | bytearray | memoryview) -> tuple[TupleValue, ...]:
    """Decode one FDB tuple. Raises ProtocolError naming the byte offset if `data` is malformed."""
    if type(data) is not bytes:
        data = bytes(data)
    try:
        items, _ = _decode_items(data, 0, nested=False)
    except RecursionError:
        raise ProtocolError(
            f"malformed FDB tuple: nested tuples (type code 0x05) are nested deeper than "
            f"Python's recursion limit in a tuple of {len(data)} bytes"
        ) from None
    return tuple(items)


def _decode_items(data: bytes, pos: int, *, nested: bool) -> tuple[list[TupleValue], int]:
    """Decode elements from `pos` to the end of `data`, or through a nested tuple's terminator."""
    items: list[TupleValue] = []
    append = items.append
    end = len(data)
    start = pos - 1
    while pos < end:
        code = data[pos]
        if code == _STRING:
            stop = data.find(b"\x00", pos + 1)
            if stop < 0 or (stop + 1 < end and data[stop + 1] == _ESCAPE):
                raw, stop = _read_escaped(data, pos)
            else:
                raw = data[pos + 1 : stop]
            try:
                append(raw.decode())
            except UnicodeDecodeError as exc:
                raise _malformed(
                    data, pos, code, f"string is not valid UTF-8 ({exc.reason})"
                ) from exc
            pos = stop + 1
        elif _NEG_INT_8 <= code <= _POS_INT_8:
            size = code - _INT_ZERO
            if size >= 0:
                stop = pos + 1 + size
                if stop > end:
                    raise _truncated(data, pos, code, size)
                append(int.from_bytes(data[pos + 1 : stop], "big"))
            else:
                stop = pos + 1 - size
                if stop > end:
                    raise _truncated(data, pos, code, -size)
                append(int.from_bytes(data[pos + 1 : stop], "big") - _ONES[-size])
            pos = stop
        elif code == _DOUBLE:
            if pos + 9 > end:
                raise _truncated(data, pos, code, 8)
            (bits,) = _U64.unpack_from(data, pos + 1)
            bits ^= _SIGN_64 if bits & _SIGN_64 else _MASK_64
            append(_DOUBLE_STRUCT.unpack(_U64.pack(bits))[0])
            pos += 9
        elif code == _NULL:
            if not nested:
                append(None)
                pos += 1
            elif pos + 1 < end and data[pos + 1] == _ESCAPE:
                append(None)
                pos += 2
            else:
                return items, pos + 1
        elif code == _BYTES:
            stop = data.find(b"\x00", pos + 1)
            if stop < 0 or (stop + 1 < end and data[stop + 1] == _ESCAPE):
                raw, stop = _read_escaped(data, pos)
            else:
                raw = data[pos + 1 : stop]
            append(raw)
            pos = stop + 1
        elif code == _FALSE:
            append(False)
            pos += 1
        elif code == _TRUE:
            append(True)
            pos += 1
        elif code == _NESTED:
            inner, pos = _decode_items(data, pos + 1, nested=True)
            append(tuple(inner))
        elif code == _UUID:
            if pos + 17 > end:
                raise _truncated(data, pos, code, 16)
            append(uuid.UUID(bytes=data[pos + 1 : pos + 17]))
            pos += 17
        elif code == _FLOAT:
            if pos + 5 > end:
                raise _truncated(data, pos, code, 4)
            (bits,) = _U32.unpack_from(data, pos + 1)
            bits ^= _SIGN_32 if bits & _SIGN_32 else _MASK_32
            append(_FLOAT_STRUCT.unpack(_U32.pack(bits))[0])
            pos += 5
        elif code in (_POS_BIG_INT, _NEG_BIG_INT):
            value, pos = _decode_big_int(data, pos, code)
            append(value)
        else:
            raise _malformed(data, pos, code, "unknown or unsupported type code")
    if nested:
        raise _malformed(
            data, start, _NESTED, "nested tuple is truncated: no 0x00 terminator before the end"
        )
    return items, pos


def _read_escaped(data: bytes, pos: int) -> tuple[bytes, int]:
    """Read a byte or text string whose body holds escaped nulls; return (body, terminator)."""
    end = len(data)
    stop = data.find(b"\x00", pos + 1)
    while stop >= 0 and stop + 1 < end and data[stop + 1] == _ESCAPE:
        stop = data.find(b"\x00", stop + 2)
    if stop < 0:
        raise _malformed(
            data, pos, data[pos], "string is truncated: no 0x00 terminator before the end"
        )
    return data[pos + 1 : stop].replace(b"\x00\xff", b"\x00"), stop


def _decode_big_int(data: bytes, pos: int, code: int) -> tuple[int, int]:
    if pos + 2 > len(data):
        raise _malformed(data, pos, code, "integer is truncated: missing its length byte")
    size = data[pos + 1] if code == _POS_BIG_INT else data[pos + 1] ^ 0xFF
    stop = pos + 2 + size
    if stop > len(data):
        raise _malformed(
            data,
            pos,
            code,
            f"integer needs {size} bytes after its length byte, found {len(data) - pos - 2}",
        )
    raw = int.from_bytes(data[pos + 2 : stop], "big")
    if code == _POS_BIG_INT:
        return raw, stop
    return raw - ((1 << (size << 3)) - 1), stop


def _truncated(data: bytes, pos: int, code: int, size: int) -> ProtocolError:
    return _malformed(
        data,
        pos,
        code,
        f"element needs {size} bytes after its type code, found {len(data) - pos - 1}",
    )


def _malformed(data: bytes, pos: int, code: int, problem: str) -> ProtocolError:
    return ProtocolError(
        f"malformed FDB tuple: {problem} (type code 0x{code:02x} at byte offset {pos} of "
        f"{len(data)} bytes); the bytes are corrupt or were not written by an FDB tuple encoder"
    )
