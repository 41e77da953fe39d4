"""Text clean-up shared by the extractors: full-width forms, OCR spacing, separators."""

from __future__ import annotations

import re
import unicodedata

_CJK = r"\u3400-\u9fff"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
COLONS = ":：∶﹕"


def nfkc(s: str) -> str:
    """Full-width digits, letters and punctuation to ASCII (``１２：`` → ``12:``; ``￥`` → ``¥``)."""
    return unicodedata.normalize("NFKC", s)


def squeeze_cjk(s: str) -> str:
    """Remove the spaces OCR puts between Chinese characters (``车 架 号`` → ``车架号``)."""
    return _SPACE_BETWEEN_CJK.sub("", s)


def clean(s: str) -> str:
    return squeeze_cjk(nfkc(s)).strip()


def strip_label_punct(s: str) -> str:
    """Leading colons, brackets and spaces left between a label and its value."""
    return s.lstrip(" \t" + COLONS + ":|｜_-—=>》】]）)").strip()
