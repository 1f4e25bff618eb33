"""The FDB tuple codec against the published encoding, round trips, byte order and bad input.

Literal byte strings come from apple/foundationdb `design/tuple.md` (its test cases and the
type-code table) and from the integer/float rules it states.
"""

from __future__ import annotations

import decimal
import enum
import math
import struct
import sys
import uuid
from typing import Any, NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector_kit.errors import ProtocolError
from connector_kit.tuple import TupleValue, pack, unpack

# --- the published test cases ------------------------------------------------------------


def test_spec_byte_string_escapes_nulls() -> None:
    assert pack((b"foo\x00bar",)) == b"\x01foo\x00\xffbar\x00"


def test_spec_unicode_string_is_utf8_with_escaped_nulls() -> None:
    assert pack(("F\u00d4O\u0000bar",)) == b"\x02F\xc3\x94O\x00\xffbar\x00"
    assert pack(("foo\x00bar",)) == b"\x02foo\x00\xffbar\x00"


def test_spec_nested_tuple_escapes_null_elements_only() -> None:
    packed = b"\x05\x01foo\x00\xffbar\x00\x00\xff\x05\x00\x00"
    assert pack(((b"foo\x00bar", None, ()),)) == packed
    assert unpack(packed) == ((b"foo\x00bar", None, ()),)


def test_spec_negative_integer_is_ones_complement() -> None:
    assert pack((-5551212,)) == b"\x11\xabK\x93"
    assert unpack(b"\x11\xabK\x93") == (-5551212,)


def test_spec_single_float_decodes() -> None:
    assert unpack(b"\x20\x3d\xd7\xff\xff") == (-42.0,)


def test_spec_empty_nested_tuple_sorts_before_nested_null() -> None:
    assert pack(((),)) == b"\x05\x00"
    assert pack(((None,),)) == b"\x05\x00\xff\x00"
    assert pack(((),)) < pack(((None,),))


# --- type codes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "packed"),
    [
        (None, b"\x00"),
        (b"", b"\x01\x00"),
        ("", b"\x02\x00"),
        (False, b"\x26"),
        (True, b"\x27"),
        (
            uuid.UUID("00112233-4455-6677-8899-aabbccddeeff"),
            b"\x30\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff",
        ),
    ],
)
def test_scalar_type_codes(value: TupleValue, packed: bytes) -> None:
    assert pack((value,)) == packed
    assert unpack(packed) == (value,)


@pytest.mark.parametrize(
    ("value", "packed"),
    [
        (0, b"\x14"),
        (1, b"\x15\x01"),
        (-1, b"\x13\xfe"),
        (255, b"\x15\xff"),
        (-255, b"\x13\x00"),
        (256, b"\x16\x01\x00"),
        (-256, b"\x12\xfe\xff"),
        (65535, b"\x16\xff\xff"),
        (65536, b"\x17\x01\x00\x00"),
        (2**63 - 1, b"\x1c\x7f\xff\xff\xff\xff\xff\xff\xff"),
        (-(2**63), b"\x0c\x7f\xff\xff\xff\xff\xff\xff\xff"),
        # u64::MAX fits the 8-byte code, as Flow's runtime (and the Go binding) writes it.
        (2**64 - 1, b"\x1c" + b"\xff" * 8),
        (-(2**64 - 1), b"\x0c" + b"\x00" * 8),
        # Beyond 8 bytes: a length byte (inverted for negatives), then the magnitude.
        (2**64, b"\x1d\x09\x01" + b"\x00" * 8),
        (-(2**64), b"\x0b\xf6\xfe" + b"\xff" * 8),
        (2**80 + 5, b"\x1d\x0b\x01" + b"\x00" * 9 + b"\x05"),
        (-(2**80 + 5), b"\x0b\xf4\xfe" + b"\xff" * 9 + b"\xfa"),
    ],
)
def test_integer_encoding(value: int, packed: bytes) -> None:
    assert pack((value,)) == packed
    assert unpack(packed) == (value,)


def test_python_binding_big_int_form_of_u64_extremes_decodes() -> None:
    # The Python and Java bindings put ±(2**64 - 1) under the arbitrary-precision codes.
    assert unpack(b"\x1d\x08" + b"\xff" * 8) == (2**64 - 1,)
    assert unpack(b"\x0b\xf7" + b"\x00" * 8) == (-(2**64 - 1),)


def test_largest_packable_integers_round_trip() -> None:
    largest = 2**2040 - 1
    assert pack((largest,))[:2] == b"\x1d\xff"
    assert pack((-largest,))[:2] == b"\x0b\x00"
    assert unpack(pack((largest, -largest))) == (largest, -largest)


def test_integer_beyond_255_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="255 bytes"):
        pack((2**2040,))


@pytest.mark.parametrize(
    ("value", "packed"),
    [
        (0.0, b"\x21\x80\x00\x00\x00\x00\x00\x00\x00"),
        (-0.0, b"\x21\x7f\xff\xff\xff\xff\xff\xff\xff"),
        (1.0, b"\x21\xbf\xf0\x00\x00\x00\x00\x00\x00"),
        (-1.0, b"\x21\x40\x0f\xff\xff\xff\xff\xff\xff"),
        (-42.0, b"\x21\x3f\xba\xff\xff\xff\xff\xff\xff"),
        (math.inf, b"\x21\xff\xf0\x00\x00\x00\x00\x00\x00"),
        (-math.inf, b"\x21\x00\x0f\xff\xff\xff\xff\xff\xff"),
    ],
)
def test_double_encoding_flips_sign_bit_or_all_bits(value: float, packed: bytes) -> None:
    assert pack((value,)) == packed
    (decoded,) = unpack(packed)
    assert isinstance(decoded, float)
    assert decoded == value
    assert math.copysign(1.0, decoded) == math.copysign(1.0, value)


def test_nan_round_trips_as_nan() -> None:
    packed = pack((math.nan,))
    assert packed[0] == 0x21
    (decoded,) = unpack(packed)
    assert isinstance(decoded, float)
    assert math.isnan(decoded)


def test_bool_packs_as_bool_not_int() -> None:
    assert pack((True, 1, False, 0)) == b"\x27\x15\x01\x26\x14"
    decoded = unpack(b"\x27\x15\x01\x26\x14")
    assert [type(v) for v in decoded] == [bool, int, bool, int]


def test_top_level_null_is_one_byte_and_nested_null_is_escaped() -> None:
    assert pack((None, (None, 1), None)) == b"\x00\x05\x00\xff\x15\x01\x00\x00"
    assert unpack(b"\x00\x05\x00\xff\x15\x01\x00\x00") == (None, (None, 1), None)


def test_nested_byte_strings_keep_their_own_escaping() -> None:
    value = ((b"\x00", ("\x00",)),)
    packed = b"\x05\x01\x00\xff\x00\x05\x02\x00\xff\x00\x00\x00"
    assert pack(value) == packed
    assert unpack(packed) == value


def test_top_level_list_packs_like_a_tuple() -> None:
    assert pack(["a", (1, None)]) == pack(("a", (1, None)))


def test_nested_list_is_refused_so_json_arrays_are_not_packed_as_tuples() -> None:
    with pytest.raises(TypeError, match=r"list.*JSON text"):
        pack(("a", [1, 2]))  # type: ignore[arg-type]


def test_flow_json_field_values_round_trip() -> None:
    # Flow's packing of JSON: objects and arrays arrive as bytes holding their JSON text.
    fields = (None, True, 42, 1.5, "text", b'{"a":[1,2]}', b"[1,2]")
    assert unpack(pack(fields)) == fields


def test_empty_tuple_packs_to_nothing() -> None:
    assert pack(()) == b""
    assert unpack(b"") == ()


def test_unpack_accepts_bytes_like_input() -> None:
    assert unpack(bytearray(b"\x15\x01")) == (1,)
    assert unpack(memoryview(b"\x02a\x00")) == ("a",)


class _Colour(enum.IntEnum):
    RED = 7


class _Kind(enum.StrEnum):
    ORDER = "order"


class _Point(NamedTuple):
    x: int
    y: float


def test_subclasses_pack_as_their_base_type() -> None:
    assert pack((_Colour.RED, _Kind.ORDER, _Point(1, 2.5))) == pack((7, "order", (1, 2.5)))


def test_unsupported_type_is_a_type_error_naming_the_type() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        pack((1, decimal.Decimal("1.5")))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="dict"):
        pack(((1, {"a": 1}),))  # type: ignore[arg-type]


def test_pack_refuses_a_bare_string() -> None:
    with pytest.raises(TypeError, match="str"):
        pack("abc")  # type: ignore[arg-type]


# --- malformed input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "offset", "code"),
    [
        (b"\x15\x01\x42", 2, 0x42),  # unknown type code
        (b"\x14\x33" + b"\x00" * 12, 1, 0x33),  # versionstamps are not supported
        (b"\x02abc", 0, 0x02),  # string without terminator
        (b"\x15\x01\x01ab\x00\xff", 2, 0x01),  # escape where the terminator should be
        (b"\x02\xff\xfe\x00", 0, 0x02),  # not UTF-8
        (b"\x14\x16\x01", 1, 0x16),  # 2-byte integer with 1 byte
        (b"\x11\xab", 0, 0x11),  # negative 3-byte integer with 1 byte
        (b"\x1d", 0, 0x1D),  # big integer without its length byte
        (b"\x1d\x09\x01\x00", 0, 0x1D),  # big integer shorter than its length
        (b"\x0b\xf6\xfe", 0, 0x0B),
        (b"\x21\x80\x00", 0, 0x21),  # double with 2 of 8 bytes
        (b"\x20\x80", 0, 0x20),
        (b"\x30" + b"\x00" * 15, 0, 0x30),  # UUID one byte short
        (b"\x14\x05\x15\x01", 1, 0x05),  # nested tuple without terminator
        (b"\x05\x05\x00", 0, 0x05),  # inner nested closed, outer not
        (b"\x05\x00\xff", 0, 0x05),  # nested null, then the end
    ],
)
def test_malformed_input_names_offset_and_type_code(data: bytes, offset: int, code: int) -> None:
    with pytest.raises(ProtocolError) as raised:
        unpack(data)
    message = str(raised.value)
    assert f"byte offset {offset} " in message
    assert f"type code 0x{code:02x}" in message


def test_deeply_nested_input_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="nested"):
        unpack(b"\x05" * (sys.getrecursionlimit() + 10))


@given(st.binary(max_size=64))
def test_arbitrary_bytes_decode_or_raise_protocol_error(data: bytes) -> None:
    try:
        decoded = unpack(data)
    except ProtocolError:
        return
    assert isinstance(decoded, tuple)


# --- round trip ------------------------------------------------------------------------------

_MAX_PACKABLE = 2**2040 - 1

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-_MAX_PACKABLE, max_value=_MAX_PACKABLE),
    st.sampled_from([2**64 - 1, 2**64, -(2**64 - 1), -(2**64), 2**63, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.binary(),
    st.uuids(),
)
_values: st.SearchStrategy[Any] = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=4).map(tuple), max_leaves=12
)


def _exact(value: Any) -> Any:
    """A form that compares equal only for the same type and bits (nan == nan, -0.0 != 0.0)."""
    if isinstance(value, tuple):
        return ("tuple", tuple(_exact(v) for v in value))
    if isinstance(value, float):
        return ("float", value.hex())
    return (type(value).__name__, value)


@given(st.lists(_values, max_size=6).map(tuple))
def test_round_trip_preserves_types_and_values(values: tuple[Any, ...]) -> None:
    assert _exact(unpack(pack(values))) == _exact(values)


# --- byte order ------------------------------------------------------------------------------

_SHAPE_SCALARS = ("none", "bool", "int", "float", "str", "bytes", "uuid")
_shapes: st.SearchStrategy[Any] = st.recursive(
    st.sampled_from(_SHAPE_SCALARS),
    lambda inner: st.lists(inner, max_size=3).map(tuple),
    max_leaves=8,
)
_SCALAR_FOR_SHAPE: dict[str, st.SearchStrategy[Any]] = {
    "none": st.none(),
    "bool": st.booleans(),
    "int": st.one_of(
        st.integers(min_value=-300, max_value=300),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.integers(min_value=-_MAX_PACKABLE, max_value=_MAX_PACKABLE),
    ),
    # Python holds -0.0 == 0.0 while the encoding orders -0.0 first (see the IEEE test below),
    # so zeros are folded to 0.0 here.
    "float": st.floats(allow_nan=False, allow_infinity=True).map(lambda f: f or 0.0),
    "str": st.text(max_size=6),
    "bytes": st.binary(max_size=6),
    "uuid": st.uuids(),
}


def _value_of_shape(shape: Any) -> st.SearchStrategy[Any]:
    """A tuple whose elements follow a prefix of `shape`, so prefixes get compared too."""
    if isinstance(shape, str):
        return _SCALAR_FOR_SHAPE[shape]
    return st.integers(min_value=0, max_value=len(shape)).flatmap(
        lambda length: st.tuples(*(_value_of_shape(s) for s in shape[:length]))
    )


_comparable_pairs = (
    st.lists(_shapes, max_size=4)
    .map(tuple)
    .flatmap(lambda shape: st.tuples(_value_of_shape(shape), _value_of_shape(shape)))
)


@given(_comparable_pairs)
def test_packed_bytes_sort_like_the_values(pair: tuple[Any, Any]) -> None:
    left, right = pair
    packed_left, packed_right = pack(left), pack(right)
    if left < right:
        assert packed_left < packed_right
    elif right < left:
        assert packed_right < packed_left
    else:
        assert packed_left == packed_right


@given(st.lists(st.integers(min_value=-_MAX_PACKABLE, max_value=_MAX_PACKABLE), min_size=2))
def test_packed_integers_sort_like_integers_across_every_length(values: list[int]) -> None:
    assert sorted(values, key=lambda v: pack((v,))) == sorted(values)


def test_doubles_sort_in_ieee_total_order() -> None:
    ordered = [
        -math.nan,
        -math.inf,
        -1e308,
        -1.0,
        -5e-324,
        -0.0,
        0.0,
        5e-324,
        1.0,
        1e308,
        math.inf,
        math.nan,
    ]
    packed = [pack((v,)) for v in ordered]
    assert packed == sorted(packed)
    assert struct.pack(">d", -math.nan)[0] & 0x80  # the first entry really is a negative nan
