"""tlog-checkpoint parsing (C2SP example) and tlog-proof receipts."""

from __future__ import annotations

import pytest

from redline.audit import (
    Checkpoint,
    Receipt,
    generate_signer,
    inclusion_proof,
    leaf_hash,
    open_checkpoint,
    root_from_leaf_hashes,
    sign_checkpoint,
    verify_receipt,
)
from redline.errors import ProofError, SignatureError

SPEC_EXAMPLE = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5"
    "/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


def test_c2sp_example_body_parses() -> None:
    text = SPEC_EXAMPLE[: SPEC_EXAMPLE.rfind("\n\n") + 1]
    cp = Checkpoint.parse(text)
    assert (cp.origin, cp.size, len(cp.root)) == ("example.com/behind-the-sofa", 20852163, 32)
    assert cp.body() == text
    with pytest.raises(SignatureError, match="no signature by a known key"):
        open_checkpoint(
            SPEC_EXAMPLE.encode(), [generate_signer("example.com/behind-the-sofa").verifier]
        )


@pytest.mark.parametrize(
    "text",
    [
        "o\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "o\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2=\n",
        "o\n1\nAAAA\n",
        "\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",
        "o\n1\n",
    ],
)
def test_bad_checkpoint_bodies(text: str) -> None:
    with pytest.raises(SignatureError):
        Checkpoint.parse(text)


def test_extensions_round_trip_and_origin_pinning() -> None:
    signer = generate_signer("log.example/a")
    cp = Checkpoint(origin="log.example/a", size=3, root=b"\x01" * 32, extensions=("ext x",))
    note = sign_checkpoint(cp, signer)
    assert open_checkpoint(note, [signer.verifier]) == cp
    with pytest.raises(SignatureError, match="origin"):
        open_checkpoint(note, [signer.verifier], origin="log.example/b")


LEAVES = [leaf_hash(bytes([i])) for i in range(13)]
SIGNER = generate_signer("log.example/r")


def _receipt(index: int, extra: bytes | None = None) -> Receipt:
    cp = Checkpoint(origin="log.example/r", size=13, root=root_from_leaf_hashes(LEAVES))
    return Receipt(
        index=index,
        proof=tuple(inclusion_proof(LEAVES, index)),
        checkpoint=sign_checkpoint(cp, SIGNER),
        extra=extra,
    )


def test_receipt_round_trip_and_verify() -> None:
    for extra in (None, b"app data"):
        receipt = _receipt(5, extra)
        parsed = Receipt.parse(receipt.encode())
        assert parsed == receipt
        assert verify_receipt(parsed, LEAVES[5], [SIGNER.verifier]).size == 13
    assert _receipt(5).encode().startswith(b"c2sp.org/tlog-proof@v1\nindex 5\n")


def test_receipt_tampering() -> None:
    data = _receipt(5).encode()
    head, _, rest = data.partition(b"\n\n")
    lines = head.split(b"\n")
    truncated = b"\n".join(lines[:-1]) + b"\n\n" + rest
    extended = head + b"\n" + lines[-1] + b"\n\n" + rest
    for bad in (truncated, extended):
        with pytest.raises(ProofError):
            verify_receipt(Receipt.parse(bad), LEAVES[5], [SIGNER.verifier])
    with pytest.raises(ProofError):
        verify_receipt(Receipt.parse(data), LEAVES[6], [SIGNER.verifier])
    for bad in (
        b"c2sp.org/tlog-proof@v2" + data[22:],
        data.replace(b"index 5", b"index 05"),
        data.replace(b"\n\n", b"\n"),
    ):
        with pytest.raises(ProofError):
            Receipt.parse(bad)
    with pytest.raises(SignatureError):
        verify_receipt(Receipt.parse(data), LEAVES[5], [generate_signer("log.example/r").verifier])
