"""Trained artifacts: versioned files with SHA-256 checksums, verified before use.

``artifacts/manifest.json`` names every file the stack serves from and its checksum; a
missing or altered file is a :class:`ClassifierError` at load, so a gateway never screens
with a model other than the one recorded (and the manifest's own hash goes into every
audit record as the safety stack's version). Serving never downloads anything.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from redline.errors import ClassifierError

__all__ = [
    "ARTIFACTS_DIR",
    "MULTILINGUAL_HEAD",
    "MULTILINGUAL_SPECIAL",
    "MULTILINGUAL_TABLE",
    "MULTILINGUAL_TOKENIZER",
    "MULTILINGUAL_UNIT_HEAD",
    "Manifest",
    "load_manifest",
    "sha256_file",
]

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
#: The multilingual static table (multilingual-e5-small's input embeddings, XLM-R
#: SentencePiece vocabulary pruned to the pieces the data needs; see NOTICE.txt) and its
#: tokenizer; ids below MULTILINGUAL_SPECIAL are <s>, <pad>, </s>, <unk>.
MULTILINGUAL_TABLE = "static_ml.npy"
MULTILINGUAL_TOKENIZER = "static_ml_tokenizer.json"
MULTILINGUAL_SPECIAL = 4
#: The heads that read the multilingual block (whole conversation, units): they score only
#: text the language gate calls foreign, next to the English heads ``tier1.npz`` and
#: ``units.npz`` (:class:`redline.screening.linear.GatedHead`).
MULTILINGUAL_HEAD = "tier1_ml.npz"
MULTILINGUAL_UNIT_HEAD = "units_ml.npz"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    """The verified manifest of an artifact directory."""

    directory: Path
    version: str
    sha256: str
    files: dict[str, str]
    classes: tuple[str, ...]
    metrics: dict[str, object]

    def path(self, name: str) -> Path:
        """Path of a listed (and verified) file."""
        if name not in self.files:
            raise ClassifierError(f"artifact {name!r} is not listed in the manifest")
        return self.directory / name


def load_manifest(directory: Path = ARTIFACTS_DIR, *, verify: bool = True) -> Manifest:
    """Read ``manifest.json`` and check every listed file's checksum.

    Raises:
        ClassifierError: missing manifest or file, or a checksum mismatch.
    """
    path = directory / "manifest.json"
    try:
        raw = path.read_bytes()
        data = json.loads(raw)
    except (OSError, ValueError) as exc:
        raise ClassifierError(f"cannot read safety-stack manifest {path}: {exc}") from exc
    files = {str(k): str(v) for k, v in dict(data.get("files", {})).items()}
    if verify:
        for name, expected in files.items():
            file = directory / name
            if not file.is_file():
                raise ClassifierError(f"safety-stack artifact missing: {file}")
            actual = sha256_file(file)
            if actual != expected:
                raise ClassifierError(
                    f"safety-stack artifact {name} has checksum {actual[:16]}..., "
                    f"manifest says {expected[:16]}...: refusing to serve with it"
                )
    return Manifest(
        directory=directory,
        version=str(data.get("version", "")),
        sha256=hashlib.sha256(raw).hexdigest(),
        files=files,
        classes=tuple(data.get("classes", ())),
        metrics=dict(data.get("metrics", {})),
    )
