"""VIN (ISO 3779 / GB 16735): format, check digit, OCR-confusion repair with evidence, manufacturer.

Repair candidates are the readings within two OCR confusions (domain.md's O/0 I/1 Q/0 S/5 B/8 Z/2
G/6, B read as 6 and M read as H, as boxed VINs show, and a first L read as 1 or I) that pass the check digit and the structure: a
model-year code that exists at position 10 and, when the reading's WMI is not a known
manufacturer, a known one. Evidence decides:

- a VIN already in the archive with the same plate, reachable by those confusions: taken, the
  strongest evidence there is;
- otherwise the candidate is taken only when it is the one candidate and needs a single change (a
  random change validates 1 time in 11, so a unique one-change candidate alone proves little, and
  a two-change one is as likely a wrong "repair" of another misreading);
- two or more candidates: review, never a guess (the note lists them).

A repaired VIN's note says what was changed and from what reading.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from core.identifiers import VIN_CHARS, VIN_LEN
from core.models import OcrLine
from extractors.text import nfkc

ALLOWED = VIN_CHARS
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
# what a character read may have been: domain.md's pairs both ways; from boxed VINs, B read as 6
# and M read as H (one way: the other way round is not seen, and each extra pair adds candidates)
_CONFUSABLE = {"5": "S", "S": "5", "8": "B", "B": "8", "2": "Z", "Z": "2", "6": "GB", "G": "6", "H": "M"}
_CHECK_CONFUSABLE = {"S": "5", "B": "8", "Z": "2", "G": "6"}  # position 9 is a digit or X
# position 1: a vehicle made in China has L there (GB 16735 WMIs: L..), and an L printed over its
# cell's rule, or in dot-matrix with its foot faint, reads as 1 or I (one way: a 1 is no L misread)
_FIRST_CONFUSABLE = {"1": "L"}
MAX_REPAIRS = 2  # a repair is taken only if it is the one candidate with up to this many changes
# position 10: the model year (ISO 3779 / GB 16735): no 0, I, O, Q, U or Z
YEAR_CODES = set("ABCDEFGHJKLMNPRSTVWXY123456789")

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


def validates_as_read(text: str) -> bool:
    """Whether the VIN in ``text`` validates as read (I, O and Q, which a VIN cannot hold, read
    as 1 and 0), without any confusion repair."""
    found = _candidate(text)
    if found is None or found[1] or len(found[0]) != VIN_LEN:
        return False
    return is_valid("".join(_FORCED.get(c, c) for c in found[0]))


# Look-alikes the check digit counts alike (J and 1 both count 1): one read for the other still
# validates, so such a VIN is only as sure as OCR's reading of it
CHECK_BLIND = "1J"


def check_blind(vin: str) -> bool:
    """Whether ``vin`` holds a 1 or a J where the other may stand (not the check digit, not the
    last four, which are digits): the check digit does not tell LSGP91X17MB… from LSGP91XJ7MB…."""
    return len(vin) == VIN_LEN and any(c in CHECK_BLIND for i, c in enumerate(vin[:-4]) if i != 8)


def manufacturer(vin: str) -> str | None:
    return WMI.get(vin[:3])


def compact(text: str) -> str:
    """Upper-case ASCII with separators removed (``lsv 12-34`` → ``LSV1234``)."""
    return re.sub(r"[^0-9A-Z]", "", nfkc(text).upper())


def find_candidate(text: str) -> str | None:
    """The 17-character run in ``text`` that looks most like a VIN (or ``None``)."""
    found = _candidate(text)
    return None if found is None else found[0]


def _candidate(text: str) -> tuple[str, bool] | None:
    """The candidate and whether it was cut from a longer run of characters (an ``H`` read as
    ``11`` makes 18: no 17 of them is the VIN, so a cut candidate is never repaired)."""
    s = nfkc(text).upper()
    for token in re.findall(r"[0-9A-Z][0-9A-Z \-]{15,40}[0-9A-Z]", s):
        c = re.sub(r"[ \-]", "", token)
        if len(c) == VIN_LEN:
            return c, False
    runs = re.findall(r"[0-9A-Z]{17,}", s)
    exact = [r for r in runs if len(r) == VIN_LEN]
    if exact:
        return exact[0], False
    if runs:
        return runs[0][:VIN_LEN], True
    c = compact(text)
    joined = _RUN.findall(c)
    if joined:
        return joined[0], len(c) > VIN_LEN
    if 15 <= len(c) <= 19:
        return c, False
    return None


# position 10, the model year: a faint dot-matrix L read as 1 (LBVMYANY919592722 for …9L95…),
# the 2001 code for the 2020 one — a 2001 car is seldom in for service, a 2020 one often
_YEAR_CONFUSABLE = {"1": "L"}


def _alternatives(i: int, c: str) -> str:
    if i == 0 and c in _FIRST_CONFUSABLE:
        return _FIRST_CONFUSABLE[c]
    if i == 9 and c in _YEAR_CONFUSABLE:
        return _YEAR_CONFUSABLE[c]
    return _CHECK_CONFUSABLE.get(c, "") if i == 8 else _CONFUSABLE.get(c, "")


def _candidates(base: str, changes: int) -> list[str]:
    positions = [i for i, c in enumerate(base) if _alternatives(i, c)]
    out = []
    for combo in itertools.combinations(positions, changes):
        for alts in itertools.product(*(_alternatives(i, base[i]) for i in combo)):
            chars = list(base)
            for i, a in zip(combo, alts, strict=True):
                chars[i] = a
            cand = "".join(chars)
            if cand != base:
                out.append(cand)
    return out


def _validating(base: str, changes: int, read_wmi_known: bool) -> set[str]:
    """The repairs of ``changes`` OCR confusions of ``base`` that validate and look like a real VIN."""
    return {c for c in _candidates(base, changes) if is_valid(c) and plausible(c, read_wmi_known)}


def distance(a: str, b: str) -> int | None:
    """How many OCR confusions turn reading ``a`` into VIN ``b`` (``None``: not by confusions)."""
    if len(a) != len(b):
        return None
    n = 0
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x != y:
            if _FORCED.get(x) == y:
                continue
            if y not in _alternatives(i, _FORCED.get(x, x)):
                return None
            n += 1
    return n


# Dot-matrix letters whose bars the print lost read as others (E as F, E or F as 1 when only the
# upright is left, Z as 7): too often right as read to be confusion pairs (each adds candidates
# that validate by chance), a last resort for a reading whose check digit fails
BAR_LOST = {"F": "E", "1": "EFL", "7": "Z"}


def bar_lost_repair(v: str) -> str | None:
    """The one VIN a single bar-lost character of ``v`` (17 characters, its check digit failing)
    makes that validates, with a model-year code and a known manufacturer's code; None when none
    or several do. (``changes`` says what changed.)"""
    if len(v) != VIN_LEN or is_valid(v):
        return None
    out = set()
    for i, c in enumerate(v):
        for a in BAR_LOST.get(c, "") if i != 8 else "":
            cand = v[:i] + a + v[i + 1:]
            if is_valid(cand) and plausible(cand, False):
                out.add(cand)
    return out.pop() if len(out) == 1 else None


def plausible(v: str, read_wmi_known: bool) -> bool:
    """The structure a real VIN has: a model-year code, the serial's last four characters digits
    (ISO 3779, GB 16735), a known WMI when the reading had none."""
    return v[9] in YEAR_CODES and v[-4:].isdigit() and (read_wmi_known or v[:3] in WMI)


def changes(read: str, v: str) -> str:
    """What changed from the reading ``read`` to the VIN ``v`` (``1→F at 6``)."""
    return ", ".join(f"{a}→{b} at {i + 1}" for i, (a, b) in enumerate(zip(read, v, strict=True)) if a != b)


CUT_CONFIDENCE = 0.6
JOINED_CONFIDENCE = 0.6
# A WMI repaired from the table, not from an OCR confusion pair: any character of the three may have
# been misread (dot-matrix F read as P or 1, C as G), so a wrong reading elsewhere validates with a
# neighbouring WMI 1 time in 11: offered for review, never taken as sure.
WMI_REPAIR_CONFIDENCE = 0.7


# one character read as two: a dot-matrix or serif H whose crossbar is lost reads II or 11
_SPLIT_H = re.compile(r"(?=(II|11|I1|1I))")


def _joined_h(run: str) -> set[str]:
    """``run`` (18 or 19 characters) with one or two II/11 pairs read back as the H they were,
    where that gives a VIN that validates, with a known WMI and a model-year code."""
    need = len(run) - VIN_LEN
    if need not in (1, 2):
        return set()
    out = set()
    for combo in itertools.combinations([m.start() for m in _SPLIT_H.finditer(run)], need):
        if any(b - a < 2 for a, b in itertools.pairwise(combo)):
            continue  # overlapping pairs
        s = run
        for p in sorted(combo, reverse=True):
            s = s[:p] + "H" + s[p + 2:]
        v = "".join(_FORCED.get(c, c) for c in s)
        if set(v) <= ALLOWED and is_valid(v) and plausible(v, False):
            out.add(v)
    return out


def _cut_reading(text: str) -> VinReading:
    """More than 17 characters read in a row. An H read as II (or 11) is joined back when exactly
    one such reading validates (taken when one H was split; two: for review). Otherwise a window
    of 17 that validates as read is offered for review (one character read as two leaves no
    window that is the VIN, and a window validates by chance 1 time in 11: it must also look like a
    real VIN, ``plausible``). Nothing else is repaired."""
    run = max(re.findall(r"[0-9A-Z]+", nfkc(text).upper()) + [compact(text)], key=len)
    joined = _joined_h(run)
    windows = {run[i:i + VIN_LEN] for i in range(len(run) - VIN_LEN + 1)} - joined
    # a window's check digit validates by chance 1 time in 11, and a long run has several: only
    # one with a real VIN's structure (a known WMI) counts
    valid = sorted(joined | {w for w in windows if is_valid(w) and plausible(w, False)})
    if len(valid) == 1:
        v = valid[0]
        if v in joined:
            conf = 0.9 if len(run) == VIN_LEN + 1 else CUT_CONFIDENCE
            return VinReading(v, True, conf, f"repaired H read as two characters (read {run})", manufacturer(v))
        return VinReading(v, True, CUT_CONFIDENCE, f"{len(run)} characters read ({run}); these 17 validate",
                          manufacturer(v))
    if valid:
        return VinReading(run[:VIN_LEN], False, 0.2,
                          f"{len(run)} characters read ({run}); {len(valid)} readings validate: {', '.join(valid[:4])}")
    return VinReading(run[:VIN_LEN], False, 0.2, f"{len(run)} characters read ({run}), a VIN has 17")


def read_vin(text: str, known: Collection[str] = ()) -> VinReading | None:
    """Validate (and, when the evidence allows, repair) the VIN in ``text``.

    ``known``: VINs the archive has seen with this document's plate (evidence for a repair).
    """
    found = _candidate(text)
    if found is None:
        return None
    cand, cut = found
    if len(cand) == VIN_LEN - 1:
        bracketed = _bracket_read(text, known)
        if bracketed is not None:
            return bracketed
    if len(cand) == VIN_LEN - 1 and cand[0] != "L":
        lost = _first_l_lost(cand)
        if lost is not None:
            return lost
    if len(cand) != VIN_LEN:
        return VinReading(cand, False, 0.2, f"{len(cand)} characters, a VIN has 17")
    if cut:
        return _cut_reading(text)
    known = [k for k in known if is_valid(k)]
    if is_valid(cand):
        if cand not in re.sub(r"[ \-]", "", nfkc(text).upper()):
            # joined across dots, slashes or other marks ("1.11G/71 176K…"): a garbled reading that
            # validates by chance 1 time in 11 — for review
            return VinReading(cand, True, JOINED_CONFIDENCE, f"joined across punctuation (read {text.strip()})",
                              manufacturer(cand))
        first_l = _first_as_l(cand)
        if first_l is not None:
            return VinReading(first_l, True, WMI_REPAIR_CONFIDENCE,
                              f"repaired the first character {cand[0]}→L (read {cand}): {cand[:3]} is no known "
                              f"manufacturer, {first_l[:3]} is, and the check digit counts {cand[0]} and L alike",
                              manufacturer(first_l))
        return VinReading(cand, True, 1.0, "", manufacturer(cand))
    forced = "".join(_FORCED.get(c, c) for c in cand)
    if set(forced) - ALLOWED:
        return VinReading(cand, False, 0.2, "characters not allowed in a VIN")
    confirmed = sorted(k for k in known if (d := distance(cand, k)) is not None and d <= MAX_REPAIRS)
    if len(confirmed) == 1:
        v = confirmed[0]
        return VinReading(v, True, 0.97, f"repaired {changes(cand, v)} (read {cand}); the same plate's earlier "
                          "orders have this VIN", manufacturer(v))
    if forced != cand and is_valid(forced):
        return VinReading(forced, True, 0.9, f"repaired I/O/Q from {cand}", manufacturer(forced))
    wmi_known = forced[:3] in WMI
    one = _validating(forced, 1, wmi_known)
    two = _validating(forced, 2, wmi_known) - one
    valid = sorted(one | two)
    if len(valid) == 1 and valid[0] in one:
        v = valid[0]
        return VinReading(v, True, 0.9, f"repaired OCR confusion {changes(cand, v)} (read {cand})", manufacturer(v))
    if valid:
        return VinReading(forced, False, 0.3, f"check digit fails; {len(valid)} repairs possible: {', '.join(valid[:4])}")
    if not wmi_known:
        by_table = _wmi_neighbours(forced)
        if len(by_table) == 1:
            v = by_table[0]
            return VinReading(v, True, WMI_REPAIR_CONFIDENCE, f"repaired the manufacturer code {changes(cand, v)} "
                              f"(read {cand}): the one known WMI a character away that validates", manufacturer(v))
    return VinReading(forced, False, 0.3, f"check digit fails (expected {check_digit(forced)} at position 9)")


# letters the check digit counts as it counts L (3) at position 1, which OCR reads for a faint L
_AS_L = "CT"


def _first_as_l(v: str) -> str | None:
    """``v`` (valid as read) with its first character an L, when it is a C or a T, no known
    manufacturer code starts it and the L makes one (TVSUXUZY5NM540864: LVS is SAIC-Volkswagen's):
    the check digit cannot tell them apart, the manufacturer table can."""
    if v[0] in _AS_L and v[:3] not in WMI and "L" + v[1:3] in WMI:
        return "L" + v[1:]
    return None


# A box's character read as a bracket or a bar: dot-matrix J (its hook squared off) as ], L (its
# foot faint, on the box's rule) as [, 1 as |. (A ] could be a 1 too, but J and 1 count alike in
# the check digit: both would validate, and the ] has the J's foot.)
_BRACKETS = {"]": "J", "[": "L", "|": "1"}


def _bracket_read(text: str, known: Collection[str]) -> VinReading | None:
    """Sixteen characters and one bracket or bar among them (LE48DP724]4520865): the bracket as
    each character it may have been; taken, for review, when exactly one of them makes a VIN
    that validates (with the usual repairs: LE4BDP724J4520865)."""
    s = re.sub(r"[ \-]", "", nfkc(text).upper())
    for m in re.finditer(r"[0-9A-Z\[\]|]{17}", s):
        run = m.group(0)
        marks = [i for i, c in enumerate(run) if c in _BRACKETS]
        if len(marks) != 1:
            continue
        i = marks[0]
        got = {r.value: r for ch in _BRACKETS[run[i]]
               if (r := read_vin(run[:i] + ch + run[i + 1:], known)) is not None and r.valid}
        if len(got) == 1:
            r = next(iter(got.values()))
            note = f"read {run}: the {run[i]} as {r.value[i]}" + (f"; {r.note}" if r.note else "")
            return VinReading(r.value, True, min(r.confidence, WMI_REPAIR_CONFIDENCE), note, r.manufacturer)
    return None


def last_lost(read: str) -> str | None:
    """Sixteen characters, a known manufacturer code first, read up to the next box or label: the
    seventeenth, a digit (a serial ends in digits), is the one the check digit allows, when that
    is a VIN with a model-year code. The check digit confirms nothing here (its weight for the
    last position is 2, so some digit fits ten times in eleven): where the reading stopped is the
    evidence, and the caller says why it was cut."""
    v = "".join(_FORCED.get(c, c) for c in read)
    if len(v) != VIN_LEN - 1 or v[:3] not in WMI or set(v) - ALLOWED:
        return None
    fits = [v + d for d in "0123456789" if is_valid(v + d) and plausible(v + d, True)]
    return fits[0] if len(fits) == 1 else None


def _first_l_lost(read: str) -> VinReading | None:
    """Sixteen characters read and the first box's L lost at the box's edge (FVA1S985KM572126):
    the L of a Chinese WMI before them, when that validates with a known WMI — for review."""
    v = "L" + "".join(_FORCED.get(c, c) for c in read)
    if not set(v) <= ALLOWED:
        return None
    if is_valid(v) and plausible(v, False):
        return VinReading(v, True, WMI_REPAIR_CONFIDENCE, f"repaired the first character L, not read (read {read})",
                          manufacturer(v))
    # ... and one letter of the rest a misread digit (BVY5CSU5HK154749: the S a 5; a letter for a
    # digit only, which halves the chance repairs): taken when exactly one such repair validates
    # with a known WMI (for review, as above)
    fits = [c for c in _validating(v, 1, False) if c[0] == "L" and all(b.isdigit() for a, b in zip(v, c, strict=True) if a != b)]
    if len(fits) == 1:
        return VinReading(fits[0], True, WMI_REPAIR_CONFIDENCE,
                          f"repaired the first character L, not read, and {changes(v, fits[0])} (read {read})",
                          manufacturer(fits[0]))
    return None


def _wmi_neighbours(v: str) -> list[str]:
    """``v`` with its unknown WMI replaced by a known one differing in one character, where the
    VIN then validates and has a model-year code."""
    out = []
    for wmi in WMI:
        if sum(a != b for a, b in zip(wmi, v[:3], strict=True)) == 1:
            c = wmi + v[3:]
            if is_valid(c) and plausible(c, True):
                out.append(c)
    return sorted(out)


# What the readings of a VIN's boxes say at each position: a character is an option there when
# the readings, their recogniser's second choices among them, give it this much in all
COMBINED_FLOOR = 0.01
COMBINED_MAX_CHANGES = 2


def _runs_of_17(text: str) -> list[int]:
    """Where ``text`` holds exactly 17 letters and digits in a row (the boxes read as one run)."""
    return [m.start() for m in re.finditer(r"(?<![0-9A-Za-z])[0-9A-Za-z]{17}(?![0-9A-Za-z])", text)]


def position_support(readings: Sequence[OcrLine]) -> list[dict[str, float]]:
    """Per position of the VIN, each character the readings give there with its support: the
    sum, over the readings that hold a run of 17, of the recogniser's probability for it (a
    reading without second choices gives its character its line's confidence). I, O and Q count
    as the 1 and 0 a VIN holds."""
    support: list[dict[str, float]] = [{} for _ in range(VIN_LEN)]
    for r in readings:
        aligned = len(r.alternatives) == len(r.text)
        for at in _runs_of_17(r.text):
            for i in range(VIN_LEN):
                options = r.alternatives[at + i] if aligned else [(r.text[at + i], r.conf)]
                for ch, p in options:
                    c = _FORCED.get(ch.upper(), ch.upper())
                    if c in ALLOWED:
                        support[i][c] = support[i].get(c, 0.0) + p
    return support


def combined(readings: Sequence[OcrLine]) -> tuple[str, int] | None:
    """The VIN the readings of its boxes give together: at each position the character they
    support most; when that does not validate, the one or two changes to characters they also
    support (``COMBINED_FLOOR``) that make a VIN that validates, has a model-year code and a known
    manufacturer code (or the one read), the best supported. The VIN and how many positions were
    changed, or None (no reading of 17, or nothing validates)."""
    support = position_support(readings)
    if not all(support):
        return None
    base = "".join(max(s, key=lambda c: s[c]) for s in support)
    # a known manufacturer code first: TGB… validates as LGB… does (T and L count alike)
    for known_wmi in (True, False):
        for n in range(COMBINED_MAX_CHANGES + 1):
            best: tuple[float, str] | None = None
            for combo in itertools.combinations(range(VIN_LEN), n):
                choices = [[c for c, p in support[i].items() if c != base[i] and p >= COMBINED_FLOOR] for i in combo]
                for alts in itertools.product(*choices):
                    chars = list(base)
                    for i, a in zip(combo, alts, strict=True):
                        chars[i] = a
                    v = "".join(chars)
                    if not (is_valid(v) and plausible(v, not known_wmi and v[:3] == base[:3])):
                        continue
                    score = sum(support[i][c] for i, c in enumerate(v))
                    if best is None or score > best[0]:
                        best = (score, v)
            if best is not None:
                # a T or C first that makes no known manufacturer, where an L does, is the L
                # (the readings of a faint L: TVSUXUZY5NM540864 is LVS…, SAIC-Volkswagen's)
                return _first_as_l(best[1]) or best[1], n
    return None
