"""The fast RFC 8785 encoder gives the reference implementation's bytes, or its error."""

from __future__ import annotations

import enum
import math

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.audit import jcs

# Every code point, lone surrogates and control characters included.
_TEXT = st.text(st.characters(codec=None, categories=None), max_size=24)
_KEYS = st.one_of(_TEXT, st.text(st.characters(max_codepoint=0x7F), max_size=8))
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1, max_value=1).map(lambda f: round(f, 4)),
    _TEXT,
)
_DOCS = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.lists(inner, max_size=5).map(tuple),
        st.dictionaries(_KEYS, inner, max_size=5),
    ),
    max_leaves=24,
)


def _reference(value: object) -> bytes | type[BaseException]:
    try:
        return bytes(rfc8785.dumps(value))  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:  # what the reference raises
        return type(exc)


def _fast(value: object) -> bytes | type[BaseException]:
    try:
        return jcs.dumps(value)
    except (ValueError, TypeError) as exc:  # what the reference raises
        return type(exc)


@settings(max_examples=600, deadline=None)
@given(_DOCS)
def test_same_bytes_or_same_error_as_the_reference(value: object) -> None:
    assert _fast(value) == _reference(value)


class _Colour(enum.StrEnum):
    RED = "red"


class _Size(enum.IntEnum):
    BIG = 7


@pytest.mark.parametrize(
    "value",
    [
        {"a": 1, "b": [True, False, None], "c": {"é": '\u2028\x7f\x00\x1f"\\\b\f\n\r\t'}},
        {"\U0001f600": 1, "\ufb33": 2, "z": 3},  # UTF-16 order differs from code points
        [1e21, 1e-7, 1e16, 123456789012345.6, 0.0001, -0.0, 2.0, -1.5, 5e-324],
        [2**53 - 1, -(2**53) + 1, 2**53, math.nan, math.inf],
        {"colour": _Colour.RED, "size": _Size.BIG},
        {1: "int key"},
        "lone \ud800 surrogate",
        {"lone \udfff key": 1},
        {"set": {1, 2}},
    ],
)
def test_edge_cases_match_the_reference(value: object) -> None:
    assert _fast(value) == _reference(value)
