"""Identifier rules shared by extraction, search and the OCR text assembly, written once.

- CJK: which characters are Chinese (ideographs) and which are "wide" (ideographs, CJK
  punctuation, full-width forms: no space between two of them when words are joined).
- Full-width folding: ``ＡＢＣ１２３：`` to ``ABC123:``, one character to one character (so offsets
  into the original text stay valid); the ideographic space becomes a space.
- Licence plates (GA 36): the province characters, the suffix characters, the separators OCR and
  clerks put inside a plate (``粤B·D12345`` is ``粤BD12345``).
- VIN (ISO 3779): the 33 characters a VIN may hold (no I, O, Q) and the compact upper-case form.
- Stored dates: the day a field, a tag or a sidecar entry holds (``YYYY-MM-DD``, as extraction
  writes it, or with / . 年 月; a time after it is ignored), read the same by the index and the
  retention rules.
"""

from __future__ import annotations

import re
from datetime import date

# -- CJK --------------------------------------------------------------------------------------
# Unified ideographs with extension A, compatibility ideographs, and extensions B and beyond
CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
CJK_RE = re.compile(f"[{CJK_CLASS}]")
# wide, besides ideographs: CJK symbols and punctuation (U+3000-303F), full-width forms (FF00-FFEF)
WIDE_CLASS = CJK_CLASS + "\u3000-\u303f\uff00-\uffef"
_WIDE_RE = re.compile(f"[{WIDE_CLASS}]")


def is_cjk(ch: str) -> bool:
    """Whether the first character of ``ch`` is a Chinese character."""
    return bool(ch) and CJK_RE.match(ch[0]) is not None


def is_wide(ch: str) -> bool:
    """Whether the first character of ``ch`` is a Chinese character, CJK punctuation or full-width form."""
    return bool(ch) and _WIDE_RE.match(ch[0]) is not None


# -- full-width forms -------------------------------------------------------------------------
_FULLWIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def fold_width(text: str) -> str:
    """Full-width ASCII forms and the ideographic space to ASCII, one character for one."""
    return text.translate(_FULLWIDTH)


# -- licence plates ---------------------------------------------------------------------------
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_SUFFIXES = "挂学警领港澳试超"
PLATE_SEPARATOR_CHARS = r"\s·•・∙⋅.．\-—_"
PLATE_SEPARATORS = re.compile(f"[{PLATE_SEPARATOR_CHARS}]")


def norm_plate(raw: str) -> str:
    """A plate without separators, width-folded and upper-cased (``粤b·d12345`` → ``粤BD12345``)."""
    return PLATE_SEPARATORS.sub("", fold_width(raw)).upper()


# -- VIN --------------------------------------------------------------------------------------
VIN_LEN = 17
VIN_CHARS = frozenset("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")  # I, O and Q never appear in a VIN


def compact_vin(raw: str) -> str:
    """Width-folded, upper-cased, only letters and digits: the form a VIN is read and compared in."""
    return re.sub(r"[^0-9A-Z]", "", fold_width(raw).upper())


# -- stored dates -----------------------------------------------------------------------------
_DAY_RE = re.compile(r"^\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})")


def parse_day(raw: object) -> date | None:
    """The day a stored value begins with (``2024-01-15``, ``2024-01-15T09:30``, ``2024/1/15``,
    ``2024年1月15日``), or None: nothing, another text, or no such day."""
    if raw is None:
        return None
    m = _DAY_RE.match(str(raw))
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
