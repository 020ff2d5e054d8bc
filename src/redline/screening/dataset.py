"""Labelled conversations for training and evaluation (JSON Lines).

One object per line: ``{"id", "messages": [...], "tools"?: [...], "label": <category id or
"allow">, "tags"?: [...], "lang"?: "..."}``. The file's stem is the batch name; batches
written from different perspectives are held out whole when measuring generalisation
(see ``data/screening/DATA_CARD.md``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from redline.domain import Message, ToolSpec
from redline.errors import RequestError
from redline.screening.conversation import messages_from_json, tools_from_json

__all__ = ["Example", "load_examples"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Example:
    """One labelled conversation."""

    id: str
    messages: tuple[Message, ...]
    tools: tuple[ToolSpec, ...]
    label: str
    batch: str
    tags: frozenset[str]
    lang: str


def load_examples(paths: Iterable[Path], *, require_label: bool = True) -> list[Example]:
    """Read examples from JSONL files.

    Raises:
        RequestError: a line is not a JSON object, or lacks ``messages`` / ``label``; the
            message names the file and line.
    """
    examples: list[Example] = []
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                try:
                    obj = json.loads(line)
                except ValueError as exc:
                    raise RequestError(f"{where}: not valid JSON: {exc}") from None
                if not isinstance(obj, dict) or not isinstance(obj.get("messages"), list):
                    raise RequestError(f"{where}: expected an object with a 'messages' array")
                label = obj.get("label", "")
                if require_label and not isinstance(label, str | type(None)):
                    raise RequestError(f"{where}: 'label' must be a string")
                if require_label and not label:
                    raise RequestError(f"{where}: missing 'label'")
                examples.append(
                    Example(
                        id=str(obj.get("id", f"{path.stem}-{number}")),
                        messages=messages_from_json(obj["messages"]),
                        tools=tools_from_json(obj.get("tools")),
                        label=str(label or ""),
                        batch=path.stem,
                        tags=frozenset(str(t) for t in obj.get("tags", []) or []),
                        lang=str(obj.get("lang", "")),
                    )
                )
    return examples
