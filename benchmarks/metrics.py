"""Evaluation metrics of the benchmarks and the accuracy tests (not used by the product)."""

from __future__ import annotations

import unicodedata


def normalize_for_cer(text: str) -> str:
    """NFKC, no whitespace: how OCR text is compared with ground truth (Chinese has no spaces)."""
    t = unicodedata.normalize("NFKC", text)
    return "".join(t.split())


def cer(hyp: str, ref: str) -> float:
    """Character error rate: Levenshtein distance / reference length, on normalised text."""
    a, b = normalize_for_cer(hyp), normalize_for_cer(ref)
    if not b:
        return 0.0 if not a else 1.0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return prev[-1] / len(b)
