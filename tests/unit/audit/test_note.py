"""Signed notes: the Go sumdb/note vector and the strict-parsing negative cases."""

from __future__ import annotations

import base64

import pytest

from redline.audit import NoteSigner, NoteVerifier, generate_signer, open_note, sign_note
from redline.errors import SignatureError

GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgY"
    "N1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
).encode()
PLUS_VKEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"


def test_go_vector_signs_and_opens_byte_for_byte() -> None:
    signer = NoteSigner.parse(GO_SKEY)
    assert signer.encode() == GO_SKEY
    assert signer.verifier.encode() == GO_VKEY
    assert sign_note(GO_TEXT, [signer]) == GO_NOTE
    opened = open_note(GO_NOTE, [NoteVerifier.parse(GO_VKEY)])
    assert opened.text == GO_TEXT
    assert opened.signers == ("PeterNeumann",)


def test_vkey_with_plus_in_base64() -> None:
    assert NoteVerifier.parse(PLUS_VKEY).encode() == PLUS_VKEY


@pytest.mark.parametrize(
    "bad",
    [
        GO_VKEY.replace("c74f20a3", "c74f20a4"),
        GO_VKEY[:-2],
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        GO_VKEY.replace("+AR", "+Ah"),
    ],
)
def test_bad_vkeys(bad: str) -> None:
    with pytest.raises(SignatureError):
        NoteVerifier.parse(bad)


def test_bad_skeys() -> None:
    with pytest.raises(SignatureError):
        NoteSigner.parse(GO_SKEY.replace("c74f20a3", "00000000"))
    with pytest.raises(SignatureError):
        NoteSigner.parse(GO_VKEY)


KEY = NoteVerifier.parse(GO_VKEY)


@pytest.mark.parametrize(
    ("note", "message"),
    [
        (GO_NOTE.replace(b"cryptography", b"cryptographY"), "does not verify"),
        (GO_NOTE + GO_NOTE[len(GO_TEXT) + 1 :], "duplicate"),
        (GO_NOTE[:-1], "newline"),
        (GO_NOTE.replace(b"\n\n", b"\n"), "no signature block"),
        (GO_NOTE.replace(b"\xe2\x80\x94 ", b"- "), "malformed"),
        (GO_NOTE.replace(b"problem,", b"problem,\x07"), "control"),
        (b"\xff" + GO_NOTE, "UTF-8"),
        (GO_TEXT.encode() + b"\n\xe2\x80\x94 PeterNeumann AAAA\n", "too short"),
        (GO_TEXT.encode() + b"\n\xe2\x80\x94 PeterNeumann !!!!\n", "base64"),
    ],
)
def test_strict_parsing(note: bytes, message: str) -> None:
    with pytest.raises(SignatureError, match=message):
        open_note(note, [KEY])


def test_unknown_keys_are_ignored_but_one_known_is_required() -> None:
    other = generate_signer("other.example/log")
    cosigned = GO_NOTE + sign_note(GO_TEXT, [other]).split(b"\n\n")[-1]
    assert open_note(cosigned, [KEY]).signers == ("PeterNeumann",)
    with pytest.raises(SignatureError, match="no signature by a known key"):
        open_note(GO_NOTE, [other.verifier])
    resigned = sign_note(GO_TEXT, [NoteSigner(name="PeterNeumann", seed=other.seed)])
    with pytest.raises(SignatureError, match="no signature by a known key"):
        open_note(resigned, [KEY])


def test_sign_refuses_bad_text() -> None:
    with pytest.raises(SignatureError):
        sign_note("no newline", [NoteSigner.parse(GO_SKEY)])
    with pytest.raises(SignatureError):
        generate_signer("has space")
    assert len(base64.b64decode(GO_VKEY.split("+", 2)[2])) == 33
