"""Identifiers, generated in one place."""

from __future__ import annotations

import re
import secrets

__all__ = ["is_valid_request_id", "new_id", "new_request_id"]

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def new_id(prefix: str, nbytes: int = 12) -> str:
    """A random identifier such as ``rev_3f9a...``: prefix, underscore, hex."""
    return f"{prefix}_{secrets.token_hex(nbytes)}"


def new_request_id() -> str:
    """A fresh request id (``req_`` + 24 hex digits)."""
    return new_id("req")


def is_valid_request_id(value: str) -> bool:
    """Whether a client-supplied ``x-request-id`` may be echoed and logged as is."""
    return _REQUEST_ID.fullmatch(value) is not None
