"""Reproducing the safety stack's artifacts (``redline train``); never imported to serve.

* :mod:`~redline.training.pipeline` - :func:`train_all`: data files, the tiers, the manifest;
* :mod:`~redline.training.distill` - the static token table distilled from MiniLM;
* :mod:`~redline.training.tier1` - the tier-1 and unit heads (logistic regression);
* :mod:`~redline.training.tier2` - the fine-tuned MiniLM cross-encoder, exported to ONNX.

Needs the ``train`` extra; the gateway serves the committed artifacts after checking their
checksums (:mod:`redline.screening.artifacts`).
"""
