"""Mainland licence plates (GA 36): blue/yellow, new-energy, suffix plates; stored without the dot."""

from __future__ import annotations

import re

from core.identifiers import PLATE_SEPARATOR_CHARS, PLATE_SUFFIXES, PROVINCES, is_cjk, norm_plate
from extractors.text import Reading, nfkc

SUFFIXES = PLATE_SUFFIXES
_BODY = "A-HJ-NP-Z0-9"  # letters without I and O

_PATTERNS = (
    ("new-energy small", re.compile(rf"^[{PROVINCES}][A-Z][DF][{_BODY}][0-9]{{4}}$")),
    ("new-energy large", re.compile(rf"^[{PROVINCES}][A-Z][0-9]{{5}}[DF]$")),
    ("standard", re.compile(rf"^[{PROVINCES}][A-Z][{_BODY}]{{5}}$")),
    ("suffix", re.compile(rf"^[{PROVINCES}][A-Z][{_BODY}]{{4}}[{SUFFIXES}]$")),
)
# the separators, and the middle dot as OCR reads it: a colon, an apostrophe or an asterisk
# (豫A:5942Y, 鄂A'D52296, 鲁A*05131); not in the search's plate normaliser (core.identifiers),
# where "km:12345" is no plate
_MISREAD_DOT = ":'‘’`´*"
_SEP = PLATE_SEPARATOR_CHARS + _MISREAD_DOT
_NO_MISREAD_DOT = str.maketrans("", "", _MISREAD_DOT)
MISREAD_DOT_CONFIDENCE = 0.75
_FIND = re.compile(rf"[{PROVINCES}][{_SEP}]*[Il1|]?[A-Za-z][{_SEP}]*[0-9A-Za-z]{{4,6}}[{SUFFIXES}]?")


def normalize(text: str) -> str:
    return norm_plate(nfkc(text).translate(_NO_MISREAD_DOT))


def plate_kind(plate: str) -> str | None:
    for kind, pat in _PATTERNS:
        if pat.match(plate):
            return kind
    return None


# OCR reads 川 as three strokes: "111", "lll", "|||", "III", its first (curved) stroke a J: "JII"
_CHUAN = re.compile(r"(?<![0-9A-Za-z])[1lI|J][1lI|]{2}(?=\s*[A-Z])")


# the issuing office's letter read as the digit it looks like (渝B09786 read 渝809786); each digit
# has one letter it is taken for (no I or O on plates)
_DIGIT_AS_LETTER = {"8": "B", "0": "D", "6": "G", "5": "S", "2": "Z", "4": "A"}


def _office_letter_repaired(c: str) -> Reading | None:
    """``c`` (a whole value, normalized) as a plate whose second character, a digit, is the
    office letter misread: for review (a guess from the shape, nothing checks it)."""
    if len(c) < 7 or c[0] not in PROVINCES or c[1] not in _DIGIT_AS_LETTER:
        return None
    fixed = c[0] + _DIGIT_AS_LETTER[c[1]] + c[2:]
    kind = plate_kind(fixed)
    if kind is None:
        return None
    return Reading(fixed, True, kind, 0.6, f"read {c[1]} as {fixed[1]} after the province (read {c})")


# a dot-matrix J read as ] (its hook squared off), an L as [ (as in a VIN's boxes)
_BRACKETS = {"]": "J", "[": "L"}
BRACKET_CONFIDENCE = 0.6


def read_plate(text: str) -> Reading | None:
    """Find and validate a plate in ``text``; I/O in the body are read as 1/0 (with lower confidence)."""
    s = nfkc(text)
    m = _FIND.search(s)
    if m is None and (strokes := _CHUAN.search(s)):
        r = read_plate(_CHUAN.sub("川", s, count=1))
        if r is not None and r.valid:
            return Reading(r.value, True, r.kind, min(r.confidence, 0.85), f"read {strokes[0]} as 川")
    if m is None and sum(s.count(b) for b in _BRACKETS) == 1:
        b = next(b for b in _BRACKETS if b in s)
        r = read_plate(s.replace(b, _BRACKETS[b]))
        if r is not None and r.valid:
            return Reading(r.value, True, r.kind, min(r.confidence, BRACKET_CONFIDENCE),
                           f"read {s.strip()}: the {b} as {_BRACKETS[b]}")
    if m is None:
        c = normalize(s)
        repaired_letter = _office_letter_repaired(c)  # only a value that is the plate and nothing else
        if repaired_letter is not None:
            return repaired_letter
        return Reading(c, False, "", 0.2, "not a plate") if c else None
    raw = normalize(m.group(0))
    kind = plate_kind(raw)
    if kind and any(c in _MISREAD_DOT for c in m.group(0)):
        # the dot read as a mark: the print was read poorly, and a new-energy plate with its last
        # digit lost is a standard plate (津G'D8330 for 津GD83307): for review
        return Reading(raw, True, kind, MISREAD_DOT_CONFIDENCE, f"read {m.group(0)}: the middle dot read as a mark")
    if kind:
        return Reading(raw, True, kind, 1.0)
    if raw.startswith("川") and raw[1:2] in ("I", "1", "L", "|") and plate_kind(raw[0] + raw[2:]):
        # the last stroke of 川 read as a separate I
        return Reading(raw[0] + raw[2:], True, plate_kind(raw[0] + raw[2:]) or "", 0.85, f"read {raw[:2]} as 川")
    repaired = raw[:2] + raw[2:].replace("O", "0").replace("I", "1")
    kind = plate_kind(repaired)
    if kind:
        return Reading(repaired, True, kind, 0.85, f"read I/O as 1/0 in {raw}")
    split = _h_as_eleven(repaired)
    if split is not None:
        return split
    energy = _energy_letter_repaired(repaired) if normalize(s) == raw else None  # the value is the plate alone
    if energy is not None:
        return energy
    return Reading(raw, False, "", 0.3, "does not match any plate format")


# what OCR makes of a new-energy plate's D or F (dot-matrix print: 陕U137027 for 陕UF37027)
_AS_F = "1TI|"
_AS_D = "0OQ"
ENERGY_LETTER_CONFIDENCE = 0.6


def _energy_letter_repaired(c: str) -> Reading | None:
    """``c``, a new-energy plate's length but no plate, whose D or F (third character of a small
    car's plate, last of a large one's) was read as a look-alike: the plate, for review, when one
    of the two places alone makes one. Not when it holds an 11, which may be an H as well
    (桂A111109)."""
    if len(c) != 8 or c[0] not in PROVINCES or "11" in c[2:]:
        return None
    found = []
    for i in (2, 7):
        letter = "F" if c[i] in _AS_F else "D" if c[i] in _AS_D else ""
        fixed = c[:i] + letter + c[i + 1:] if letter else ""
        kind = plate_kind(fixed) if fixed else None
        if kind is not None and kind.startswith("new-energy"):
            found.append(Reading(fixed, True, kind, ENERGY_LETTER_CONFIDENCE,
                                 f"read {c}: the new-energy plate's {letter} read as {c[i]}"))
    return found[0] if len(found) == 1 else None


H_AS_ELEVEN_CONFIDENCE = 0.6


def _h_as_eleven(c: str) -> Reading | None:
    """``c``, one character too long for a plate, with an H its two uprights made 11 (桂A071109 for
    桂A07H09): the plate, for review, when exactly one 11 of it makes one."""
    fixes = {c[:i] + "H" + c[i + 2:] for i in range(2, len(c) - 1) if c[i:i + 2] == "11"}
    valid = [f for f in fixes if plate_kind(f)]
    if len(valid) != 1:
        return None
    return Reading(valid[0], True, plate_kind(valid[0]) or "", H_AS_ELEVEN_CONFIDENCE, f"read H as 11 ({c})")


# what a lost or misread province character leaves before the office letter: nothing, another
# Chinese character (相 for 湘, 加 for 川), or a stroke read as a letter or digit (1A…, TAA…)
_PROVINCE_AS_STROKE = "I1LTJ|0"
LOCAL_PROVINCE_CONFIDENCE = 0.5


def with_province(text: str, province: str, place: str) -> Reading | None:
    """``text``, a plate without a readable province character, as a plate of ``province`` (the
    dealer's, named by ``place`` on its form): for review, a guess from where most customers live."""
    c = normalize(text)
    if not c or c[0] in PROVINCES:
        return None
    # a letter that is no stroke of one before the office letter is the office letter (AD12345 of
    # 川AD12345, a new-energy plate), else the province misread as a letter (PG20318 of 沪G20318,
    # ZA69168 of 云A69168, QU1N340 of 陕U1N340)
    bodies = [c[1:]] if is_cjk(c[0]) else [c[1:], c] if c[0] in _PROVINCE_AS_STROKE else [c, c[1:]]
    for body in bodies:
        if not body[:1].isascii() or not body[:1].isalpha():
            continue
        fixed = province + body[0] + body[1:].replace("O", "0").replace("I", "1")
        kind = plate_kind(fixed)
        if kind:
            return Reading(fixed, True, kind, LOCAL_PROVINCE_CONFIDENCE,
                           f"province not read (read {c}); the dealer's ({place} on the form) assumed")
    return None
