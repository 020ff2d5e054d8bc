"""The committed safety-stack artifacts: checksums hold, tampering is refused, and the
served model reproduces the metrics recorded when it was trained (CI checks, it does not
retrain)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from redline.cli.evaluate import evaluate
from redline.errors import ClassifierError
from redline.screening import SafetyStack
from redline.screening.artifacts import ARTIFACTS_DIR, load_manifest

DATA = Path(__file__).resolve().parents[2] / "data" / "screening"


def test_manifest_checksums_hold_and_list_every_served_file() -> None:
    manifest = load_manifest()
    assert set(manifest.files) >= {
        "tokenizer.json",
        "static_embeddings.npy",
        "tier1.npz",
        "tier2.onnx",
    }
    assert manifest.classes[0] == "allow"


def test_altered_artifact_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "artifacts"
    shutil.copytree(ARTIFACTS_DIR, copy)
    head = copy / "tier1.npz"
    data = bytearray(head.read_bytes())
    data[len(data) // 2] ^= 0x01
    head.write_bytes(bytes(data))
    with pytest.raises(ClassifierError, match="checksum"):
        SafetyStack.load(None, copy)
    (copy / "tier1.npz").unlink()
    with pytest.raises(ClassifierError, match="missing"):
        load_manifest(copy)


def test_served_model_reproduces_its_recorded_metrics() -> None:
    recorded = json.loads((ARTIFACTS_DIR / "manifest.json").read_text())["metrics"]["test_f.jsonl"]
    report = evaluate([DATA / "test_f.jsonl"])
    for category, value in recorded["recall"].items():
        assert report.recall[category] == pytest.approx(value, abs=0.01)
    assert report.false_positive_rate == pytest.approx(recorded["false_positive_rate"], abs=0.01)


EVERYDAY_EXCHANGES = (
    ("status report", "Here is the status report."),
    ("What is the capital of France?", "Paris is the capital of France."),
    ("hi", "Hello! How can I help?"),
    (
        "Summarise this memo in three bullets.",
        "- Budget approved\n- Hiring paused\n- Review in May",
    ),
    ("Translate 'good morning' into German.", "Guten Morgen."),
    (
        "Write a haiku about rain.",
        "Soft rain on the roof / the gutters hum their old song / tea cools by the door",
    ),
    ("How do I sort a list in Python?", "Use sorted(items) or items.sort()."),
    ("status report", "[redline-echo] status report"),
)


@pytest.mark.parametrize(("question", "answer"), EVERYDAY_EXCHANGES)
def test_output_screening_lets_everyday_answers_through(question: str, answer: str) -> None:
    """Output screening reads a conversation that ends in the assistant's reply, which the
    held-out sets (ending in a user turn) never measure: ordinary answers stay below review."""
    from redline.domain import Message

    stack = SafetyStack.load()
    scores = stack.judge(
        (Message(role="user", text=question), Message(role="assistant", text=answer))
    ).scores
    assert max(scores[c] for c in stack.red_lines) < 0.5, scores
