"""Encryption at rest: round trip, binding to review id and purpose, key file handling."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from redline.errors import ConfigError, StoreError
from redline.review import BodyCipher, Purpose, load_or_create_key


def test_round_trip_and_no_plaintext_in_the_blob() -> None:
    cipher = BodyCipher(b"k" * 32)
    blob = cipher.seal("rev_1", Purpose.REQUEST, b'{"secret": "troop positions"}')
    assert b"troop" not in blob
    assert cipher.open("rev_1", Purpose.REQUEST, blob) == b'{"secret": "troop positions"}'


def test_blob_is_bound_to_review_id_purpose_and_key() -> None:
    cipher = BodyCipher(b"k" * 32)
    blob = cipher.seal("rev_1", Purpose.REQUEST, b"body")
    with pytest.raises(StoreError, match="failed authentication"):
        cipher.open("rev_2", Purpose.REQUEST, blob)
    with pytest.raises(StoreError, match="failed authentication"):
        cipher.open("rev_1", Purpose.ANSWER, blob)
    with pytest.raises(StoreError, match="failed authentication"):
        BodyCipher(b"j" * 32).open("rev_1", Purpose.REQUEST, blob)
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(StoreError, match="failed authentication"):
        cipher.open("rev_1", Purpose.REQUEST, flipped)
    with pytest.raises(StoreError, match="unknown format"):
        cipher.open("rev_1", Purpose.REQUEST, b"\x02" + blob[1:])


def test_key_must_be_32_bytes() -> None:
    with pytest.raises(ConfigError, match="32 bytes"):
        BodyCipher(b"short")


def test_key_file_is_created_0600_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "d" / "review-body.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "review-body.key"
    load_or_create_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="group or others"):
        load_or_create_key(path)


def test_key_file_of_wrong_size_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "review-body.key"
    path.write_bytes(b"x" * 5)
    os.chmod(path, 0o600)
    with pytest.raises(ConfigError, match="32 bytes, has 5"):
        load_or_create_key(path)
