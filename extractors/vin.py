"""VIN (ISO 3779 / GB 16735): format, check digit, OCR-confusion repair, manufacturer.

A repair is accepted only when exactly one candidate with up to two confusions validates and it
needs a single change (a random change validates 1 time in 11, so a unique one-change candidate
alone proves little, and a two-change one is as likely a wrong "repair" of another misreading);
an invalid VIN is returned as read with low confidence, never silently fixed.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from extractors.text import nfkc

VIN_LEN = 17
ALLOWED = set("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")
_TRANSLIT = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# letters that cannot appear in a VIN have one reading; the rest may be confused both ways
_FORCED = {"O": "0", "I": "1", "Q": "0"}
_CONFUSABLE = {"5": "S", "S": "5", "8": "B", "B": "8", "2": "Z", "Z": "2", "6": "G", "G": "6"}
MAX_REPAIRS = 2  # a repair is taken only if it is the one candidate with up to this many changes

WMI = {
    "LSV": "SAIC-Volkswagen",
    "LFV": "FAW-Volkswagen",
    "LBV": "BMW Brilliance",
    "LE4": "Beijing Benz",
    "LGB": "Dongfeng Nissan",
    "LHG": "GAC Honda",
    "LFM": "FAW Toyota",
    "LVS": "Changan Ford",
    "LSG": "SAIC-GM",
    "LGX": "BYD",
    "LVG": "GAC Toyota",
    "LVH": "Dongfeng Honda",
    "LDC": "Dongfeng Peugeot-Citroen",
    "LFP": "FAW Car",
    "LGW": "Great Wall",
    "LB3": "Geely",
    "LJD": "Dongfeng Yueda Kia",
    "LBE": "Beijing Hyundai",
    "LVV": "Chery",
    "LS5": "Changan",
    "LRW": "Tesla Shanghai",
    "LYV": "Volvo Asia Pacific",
    "LPA": "Changan PSA",
    "LZW": "SAIC-GM-Wuling",
    "WBA": "BMW",
    "WDD": "Mercedes-Benz",
    "WVW": "Volkswagen",
    "WAU": "Audi",
    "JTD": "Toyota",
}

_RUN = re.compile(r"[0-9A-Z]{17}")


@dataclass(frozen=True)
class VinReading:
    value: str
    valid: bool
    confidence: float  # how far the reading itself can be trusted (before OCR confidence)
    note: str = ""
    manufacturer: str | None = None


def check_digit(vin: str) -> str:
    total = sum(_TRANSLIT[c] * w for c, w in zip(vin, _WEIGHTS, strict=True))
    r = total % 11
    return "X" if r == 10 else str(r)


def is_valid(vin: str) -> bool:
    return len(vin) == VIN_LEN and set(vin) <= ALLOWED and vin[8] == check_digit(vin)


def manufacturer(vin: str) -> str | None:
    return WMI.get(vin[:3])


def compact(text: str) -> str:
    """Upper-case ASCII with separators removed (``lsv 12-34`` → ``LSV1234``)."""
    return re.sub(r"[^0-9A-Z]", "", nfkc(text).upper())


def find_candidate(text: str) -> str | None:
    """The 17-character run in ``text`` that looks most like a VIN (or ``None``)."""
    s = nfkc(text).upper()
    for token in re.findall(r"[0-9A-Z][0-9A-Z \-]{15,40}[0-9A-Z]", s):
        c = re.sub(r"[ \-]", "", token)
        if len(c) == VIN_LEN:
            return c
    runs = _RUN.findall(compact(text))
    if runs:
        return runs[0]
    c = compact(text)
    if 15 <= len(c) <= 19:
        return c
    return None


def _candidates(base: str, changes: int) -> list[str]:
    positions = [i for i, c in enumerate(base) if c in _CONFUSABLE or (i == 8 and c not in "0123456789X")]
    out = []
    for combo in itertools.combinations(positions, changes):
        chars = list(base)
        for i in combo:
            c = chars[i]
            chars[i] = _CONFUSABLE.get(c, c) if i != 8 else {"S": "5", "B": "8", "Z": "2", "G": "6"}.get(c, c)
        cand = "".join(chars)
        if cand != base:
            out.append(cand)
    return out


def read_vin(text: str) -> VinReading | None:
    """Validate (and, when unambiguous, repair) the VIN in ``text``."""
    cand = find_candidate(text)
    if cand is None:
        return None
    if len(cand) != VIN_LEN:
        return VinReading(cand, False, 0.2, f"{len(cand)} characters, a VIN has 17")
    if is_valid(cand):
        return VinReading(cand, True, 1.0, "", manufacturer(cand))
    forced = "".join(_FORCED.get(c, c) for c in cand)
    if set(forced) - ALLOWED:
        return VinReading(cand, False, 0.2, "characters not allowed in a VIN")
    if forced != cand and is_valid(forced):
        return VinReading(forced, True, 0.9, f"repaired I/O/Q from {cand}", manufacturer(forced))
    valid = sorted({c for n in range(1, MAX_REPAIRS + 1) for c in _candidates(forced, n) if is_valid(c)})
    one_change = set(_candidates(forced, 1))
    if len(valid) == 1 and valid[0] in one_change:
        return VinReading(valid[0], True, 0.9, f"repaired OCR confusion from {cand}", manufacturer(valid[0]))
    if valid:
        return VinReading(forced, False, 0.3, f"check digit fails; {len(valid)} repairs possible: {', '.join(valid[:4])}")
    return VinReading(forced, False, 0.3, f"check digit fails (expected {check_digit(forced)} at position 9)")
