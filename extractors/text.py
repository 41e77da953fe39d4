"""Text clean-up shared by the extractors: full-width forms, OCR spacing, separators."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from core.identifiers import CJK_CLASS

_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{CJK_CLASS}])\s+(?=[{CJK_CLASS}])")
COLONS = ":：∶﹕"


@dataclass(frozen=True)
class Reading:
    """What a reader of one kind of identifier (plate, phone) made of a text: the normalised value,
    whether it is one, its kind (``mobile``, ``new-energy small``…), how far the reading can be
    trusted (before the OCR's own confidence), and why it is doubtful."""

    value: str
    valid: bool
    kind: str
    confidence: float
    note: str = ""


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions of one character each."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def nfkc(s: str) -> str:
    """Full-width digits, letters and punctuation to ASCII (``１２：`` → ``12:``; ``￥`` → ``¥``)."""
    return unicodedata.normalize("NFKC", s)


# a thousands comma read as an apostrophe or accent (dot-matrix commas: "1'922.00", "160'352")
_QUOTE_SEPARATOR = re.compile(r"(?<=\d)['‘’`´′](?=\d{3}(?!\d))")


def quote_separators(s: str) -> str:
    """``s`` with thousands separators OCR read as quotes written as commas (``1'922.00`` →
    ``1,922.00``); a quote not followed by exactly three digits is left."""
    return _QUOTE_SEPARATOR.sub(",", s)


def squeeze_cjk(s: str) -> str:
    """Remove the spaces OCR puts between Chinese characters (``车 架 号`` → ``车架号``)."""
    return _SPACE_BETWEEN_CJK.sub("", s)


def clean(s: str) -> str:
    return squeeze_cjk(nfkc(s)).strip()
