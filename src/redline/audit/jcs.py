"""RFC 8785 (JCS) canonical JSON, fast for the documents the gateway logs.

Every request appends two audit records, and the reference implementation (``rfc8785``)
writes each value through a ``BytesIO`` call by call (~80 us a record). :func:`dumps`
builds the same bytes from ``str`` parts: strings are escaped by the standard library's C
JSON string encoder, which escapes exactly what RFC 8785 §3.2.2.2 escapes (``"``, ``\\``
and U+0000-U+001F, with the short forms ``\\b \\t \\n \\f \\r`` and lower-case ``\\u00xx``
otherwise, nothing else), and floats without an exponent are Python's shortest
round-trip form, which is the ECMAScript form once a trailing ``.0`` is dropped.

Anything else (a type other than the exact JSON types, a non-string key, an integer
outside the I-JSON range, NaN, a float with an exponent, text that is not valid Unicode)
is handed to ``rfc8785`` for the whole document, so unusual input gets the reference's
bytes or the reference's error, never a second opinion. Equality with the reference is a
property test (``tests/unit/audit/test_jcs.py``).
"""

from __future__ import annotations

import json.encoder
import math
from collections.abc import Callable

import rfc8785

__all__ = ["dumps"]

_INT_MAX = 2**53 - 1
_INT_MIN = -(2**53) + 1
_encode_str = json.encoder.encode_basestring


class _Irregular(Exception):
    """The document has something the fast path leaves to the reference."""


def dumps(value: object) -> bytes:
    """The RFC 8785 bytes of ``value``, exactly as ``rfc8785.dumps`` gives them.

    Raises:
        rfc8785.CanonicalizationError: as ``rfc8785.dumps`` (and any other error it raises).
    """
    parts: list[str] = []
    try:
        _emit(value, parts.append)
        return "".join(parts).encode("utf-8")
    except (_Irregular, UnicodeEncodeError):
        return bytes(rfc8785.dumps(value))  # type: ignore[arg-type]  # it checks the types


def _emit(value: object, out: Callable[[str], None]) -> None:
    if type(value) is str:
        out(_encode_str(value))
    elif type(value) is dict:
        _emit_object(value, out)
    elif type(value) is list or type(value) is tuple:
        out("[")
        for index, item in enumerate(value):
            if index:
                out(",")
            _emit(item, out)
        out("]")
    elif value is None:
        out("null")
    elif type(value) is bool:
        out("true" if value else "false")
    elif type(value) is int:
        if not _INT_MIN <= value <= _INT_MAX:
            raise _Irregular
        out(str(value))
    elif type(value) is float:
        out(_float(value))
    else:
        raise _Irregular


def _emit_object(value: dict[object, object], out: Callable[[str], None]) -> None:
    keys: list[str] = []
    for key in value:
        # RFC 8785 orders keys by their UTF-16 code units; for ASCII keys that is the
        # order of ``str``, for any other key the reference decides.
        if type(key) is not str or not key.isascii():
            raise _Irregular
        keys.append(key)
    keys.sort()
    out("{")
    for index, key in enumerate(keys):
        if index:
            out(",")
        out(_encode_str(key))
        out(":")
        _emit(value[key], out)
    out("}")


def _float(value: float) -> str:
    """ECMAScript's Number-to-string, for the floats whose ``repr`` has no exponent."""
    if not math.isfinite(value):
        raise _Irregular
    if value == 0:
        return "0"  # -0.0 too
    text = repr(value)
    if "e" in text:  # the exponent rules differ between Python and ECMAScript
        raise _Irregular
    return text[:-2] if text.endswith(".0") else text
