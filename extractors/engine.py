"""``extract()``: labels → value candidates by layout → per-field parsing → cross-checks → review flag."""

from __future__ import annotations

import itertools
import logging
import re
import statistics
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from core.identifiers import is_cjk
from core.models import CANONICAL_FIELDS, Box, FieldValue, OcrLine, PageText
from core.settings import Settings
from extractors import cut_amounts, mileage, money, plate, unlabelled, vin
from extractors.car_series import engine_word_repair, from_alternatives, lone_character, series_repair
from extractors.fields import COMMON_SURNAMES, COST_ROW, MONEY_FIELDS, PARSERS, UNSURE_OCR, Parsed
from extractors.items import ItemTable, item_tables
from extractors.labels import IGNORE, Lexicon, levenshtein_le1
from extractors.layout import Candidate, Line, PageIndex, candidates_for, lines_in_region, same_row
from extractors.learn import (
    PLACED,
    ROSTER_FIELDS,
    VALUE_FIELDS,
    LearnedTemplate,
    Mark,
    apply_learned,
    check_value,
    choose_learned,
    fingerprint,
    fold,
    print_damaged,
    same_shop,
)
from extractors.locality import local_province
from extractors.templates import Template, choose_template, load_templates
from extractors.text import nfkc
from extractors.value_strip import FIELDS as REREAD_FIELDS
from extractors.value_strip import (
    PERSON_FIELDS,
    VIN_CELL,
    name_goes_before,
    name_goes_on,
    reread_choice,
    rule_or_character,
    value_text,
)

log = logging.getLogger(__name__)

LAYOUT_FACTOR = {"same-line": 1.0, "right": 0.97, "below": 0.9, "region": 0.95, "scan": 0.9, "learned": 1.0,
                 PLACED: 1.0, "reread": 0.97, "items": 0.9}
LEARNED_HOWS = ("learned", PLACED)
PLACED_CONFIDENCE = 0.7  # a value at the learned place of a label not read: for review
FUZZY_LABEL_FACTOR = 0.95
GLUED_FACTOR = 0.88  # "客户及车辆信息" is a heading, "客户：张三" a label; OCR does drop colons, though
SCANNABLE = ("vin", "plate", "phone")  # formats distinctive enough to find without a label


@dataclass
class Extraction:
    fields: dict[str, FieldValue] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)
    confidence: float = 0.0
    needs_review: bool = False
    template: str | None = None
    doc_type: str = ""  # work_order | invoice | receipt | other
    doc_fields: dict[str, FieldValue] = field(default_factory=dict)  # an invoice's or receipt's own fields


@dataclass
class Scored:
    field: str
    parsed: Parsed
    cand: Candidate
    confidence: float
    rank: int
    order: tuple[int, float, float]  # page, y, x
    replaced: Scored | None = None  # the first pass's reading, where a second reading was taken instead
    ceiling: float = 1.0  # the lowest cap a note put on it: what confirms the reading later stays under it

    def key(self) -> tuple[bool, int, float]:
        """Valid first, then the most specific wording (行驶里程 over 里程), then confidence."""
        return (self.parsed.valid, -self.rank, round(self.confidence, 3))

    def add_note(self, note: str, *, cap: float | None = None) -> None:
        """``note`` after the reading's note; with ``cap``, confidence at most that (for review)."""
        if cap is not None:
            self.cap(cap)
        self.parsed = replace(self.parsed, note=joined(self.parsed.note, note))

    def cap(self, limit: float) -> None:
        """Confidence at most ``limit``, and no later ``lift`` past it (a doubt, for review)."""
        self.confidence = min(self.confidence, limit)
        self.ceiling = min(self.ceiling, limit)

    def lift(self, confidence: float) -> None:
        """Confidence raised to ``confidence`` by evidence that it is the value (a learned place,
        a known advisor), but not past what a doubt noted on it allows (``ceiling``): the learned
        place reads the same print, so a digit a rule found possibly lost stays possibly lost."""
        self.confidence = max(self.confidence, min(confidence, self.ceiling))

    def to_field(self) -> FieldValue:
        return FieldValue(
            value=self.parsed.value,
            confidence=max(0.0, min(1.0, self.confidence)),
            page=self.cand.page,
            box=self.cand.box,
            raw=self.cand.text,
            valid=self.parsed.valid,
            note=self.parsed.note,
        )


def joined(note: str, more: str) -> str:
    """Two notes on one value, in order ("; " between them when both are there)."""
    return f"{note}; {more}" if note and more else note or more


def ocr_factor(conf: float) -> float:
    return 0.6 + 0.4 * max(0.0, min(1.0, conf))


# Fields that nothing validates (no check digit, format or sum): a reading OCR itself doubts is
# not to be trusted. Measured on the dev forms: right readings had OCR confidence 0.985 (median),
# wrong ones 0.48 — but the confidently wrong ones 0.85-0.97. A plate's format lets B/8, G/6 and
# U/0 through (皖A8Q898 for 皖A8QB98, read at 0.74: confidently wrong on 3 of 50 of a learning
# dev set's slips; unsure plates to review took 44 of its 2600 fields out of the sure ones)
UNVALIDATED = ("customer_name", "advisor", "model", "order_no", "plate")
UNSURE_OCR_FACTOR = 0.85
# A VIN the check digit cannot confirm whole (a 1 or a J, which it counts alike: vin.check_blind)
# is as sure as its OCR: a line read at under this goes to review (held-out form 9901:
# LSGP91X17MB… for LSGP91XJ7MB… at 0.62, confidently wrong; under 0.9 would have sent 21 of 200
# right VINs of a learning dev set to review, under 0.7 sends 5)
VIN_BLIND_OCR = 0.7


def _score(fld: str, cand: Candidate, rank: int, exact: bool, today: date) -> Scored | None:
    parsed = PARSERS[fld](cand.text, today)
    if parsed is None:
        return None
    conf = parsed.confidence * LAYOUT_FACTOR[cand.how] * ocr_factor(cand.ocr_conf)
    if (fld in UNVALIDATED and cand.ocr_conf < UNSURE_OCR) or \
            (fld == "vin" and cand.ocr_conf < VIN_BLIND_OCR and vin.check_blind(parsed.value)):
        conf *= UNSURE_OCR_FACTOR
    if not exact:
        conf *= FUZZY_LABEL_FACTOR
    if cand.glued:
        conf *= GLUED_FACTOR
    return Scored(fld, parsed, cand, conf, rank, (cand.page, cand.box[1], cand.box[0]))


DOUBTED_NAME = 0.9  # a name's parser gives 0.95; one it doubts (no surname starts it: 0.6) less


def _labelled(index: PageIndex, today: date) -> tuple[dict[str, list[Scored]], dict[str, Line]]:
    found: dict[str, list[Scored]] = {}
    seen: dict[str, Line] = {}
    for page_lines in index.pages:
        for ln in page_lines:
            if ln.table_header:
                continue
            for k, hit in enumerate(ln.hits):
                if hit.field not in PARSERS:
                    continue
                seen.setdefault(hit.field, ln)
                for cand in candidates_for(ln, k, page_lines):
                    s = _score(hit.field, cand, hit.rank, hit.exact, today)
                    if s is not None:
                        found.setdefault(hit.field, []).append(s)
                        # a name the parser doubts (客机 beside 服务专员: no surname starts it, the
                        # garbled labels of the next boxes) does not end the search: the box below may hold it
                        if s.parsed.valid and not (hit.field in PERSON_FIELDS and s.parsed.confidence < DOUBTED_NAME):
                            break
    return found, seen


def _unclaimed_text(ln: Line) -> str:
    """The line without the spans of ignored labels and their values (a dealer's hotline)."""
    out, pos = [], 0
    for k, h in enumerate(ln.hits):
        if h.field == IGNORE:
            out.append(ln.text[pos:h.start])
            nxt = ln.hits[k + 1].start if k + 1 < len(ln.hits) else len(ln.text)
            pos = nxt
    out.append(ln.text[pos:])
    return " ".join(out)


def _in_priced_row(index: PageIndex, ln: Line) -> bool:
    """``ln`` shares its row with an amount printed as money: a line of an item table (an 11-digit
    part number 17816794308 beside 空调清洗剂 1 104.46 is a mobile's shape)."""
    return any(o is not ln and same_row(o.box, ln.box) and _MONEY_SHAPED.search(o.text)
               for o in index.pages[ln.page - 1])


def _scanned(index: PageIndex, fld: str, today: date, labelled: bool = False) -> list[Scored]:
    """Values of ``fld`` found by their shape on any line. ``labelled``: the field's label was
    read, its value not validly; what has the shape elsewhere on the page is then for review (on a
    colour form the customer's phone lost its leading 1 and a part number was taken: 6 of 50 phones
    of one dealer's form, confidently wrong)."""
    out = []
    for ln in index.all_lines():
        s = _score(fld, Candidate(_unclaimed_text(ln), ln.page, ln.box, ln.conf, "scan"), 99, True, today)
        if s is None or not s.parsed.valid or (fld == "phone" and s.parsed.note != "mobile"):
            continue
        if fld == "phone" and _in_priced_row(index, ln):
            continue
        if labelled:
            s.add_note("found by its shape elsewhere on the page: its label's value was not read",
                       cap=UNLABELLED_CONFIDENCE)
        out.append(s)
    return out


UNLABELLED_CONFIDENCE = 0.6


def _unlabelled(index: PageIndex, found: dict[str, list[Scored]], today: date) -> None:
    """Values found by their shape alone (``extractors.unlabelled``) for the fields no label
    gave a valid value: each for review."""
    def valid(fld: str) -> bool:
        return any(s.parsed.valid for s in found.get(fld, []))

    boxes: list[unlabelled.Unlabelled] = []
    if not valid("mileage_km"):
        boxes += unlabelled.mileage(index)
    if not valid("model"):
        boxes += unlabelled.model(index)
    if not valid("order_no"):
        boxes += unlabelled.order_no(index, today)
    for fld, other in (("customer_name", "advisor"), ("advisor", "customer_name")):
        if not valid(fld) and valid(other):
            o = _pick(found[other])
            if o.cand.how != "scan":
                boxes += unlabelled.person(index, fld, o.cand.box, o.parsed.value, today)
    taken = {f: _pick(found[f]).parsed.value for f in ("date_in", "date_out") if valid(f)}
    if len(taken) < 2:
        boxes += unlabelled.dates(index, today, {f: date.fromisoformat(v) for f, v in taken.items()})
    for b in boxes:
        ln = b.line
        s = _score(b.field, Candidate(b.text, ln.page, ln.box, ln.conf, "scan"), 99, True, today)
        if s is None or not s.parsed.valid:
            continue
        s.cap(UNLABELLED_CONFIDENCE)
        s.parsed = replace(s.parsed, note=joined(b.note, s.parsed.note))
        found.setdefault(b.field, []).append(s)


def _from_regions(index: PageIndex, pages: list[PageText], template: Template, today: date) -> dict[str, list[Scored]]:
    out: dict[str, list[Scored]] = {}
    for fld, region in template.regions.items():
        if fld not in PARSERS or not 1 <= region.page <= len(pages):
            continue
        lines = lines_in_region(index.pages[region.page - 1], pages[region.page - 1], region.box)
        if not lines:
            continue
        text = " ".join(ln.text for ln in lines)
        box = (min(ln.box[0] for ln in lines), min(ln.box[1] for ln in lines),
               max(ln.box[2] for ln in lines), max(ln.box[3] for ln in lines))
        conf = min(ln.conf for ln in lines)
        s = _score(fld, Candidate(text, region.page, box, conf, "region"), -1, True, today)
        if s is not None:
            out.setdefault(fld, []).append(s)
    return out


SURE_REREAD = 0.9  # recogniser confidence one of the agreeing readings of the boxes must reach


def _edge_joins(readings: list[str]) -> list[str]:
    """VINs made of two readings of the same boxes: one read all 17 but misread one, another lost
    the first or last character (on a cell's rule) and read the other 16 right. Only joins that
    validate as read."""
    out = []
    full = [r for r in readings if len(r) == 17]
    for short in (r for r in readings if len(r) == 16):
        for f in full:
            for joined in (f[0] + short, short + f[-1]):
                if joined not in out and vin.validates_as_read(joined):
                    out.append(joined)
    return out


def _reread(pages: list[PageText], fld: str, today: date, first: Collection[str] = ()) -> list[Scored]:
    """Candidates from the second, recognition-only reading of the strip after a label
    (``PageText.region_reads``: the VIN's boxes, ``extractors.vin_strip``). ``first``: the VINs
    the first pass's candidates validate to.

    The strip is read several ways (``pipeline.ocr.region``), and each reading is another chance
    for a misreading that a confusion repair turns into a wrong VIN that validates: a reading that
    validates only through such a repair is trusted when another reading (or the first pass)
    gives the same VIN. Readings that validate to different VINs: review, never a guess."""
    out = []
    for p in pages:
        reads = p.region_reads.get(fld, []) + (p.region_reads.get(VIN_CELL, []) if fld == "vin" else [])
        cands = [Candidate(ln.text, p.page_no, ln.box, ln.conf, "reread") for ln in reads]
        if reads:
            conf = min(ln.conf for ln in reads)
            cands += [Candidate(j, p.page_no, reads[0].box, conf, "reread")
                      for j in _edge_joins([vin.compact(ln.text) for ln in reads])]
        for c in cands:
            sc = _score(fld, c, 0, True, today)
            if sc is not None:
                out.append(sc)
    for sc in out:
        if not sc.parsed.valid:
            continue
        support = [o for o in out if o is not sc and o.parsed.valid and o.parsed.value == sc.parsed.value]
        if sc.parsed.value in first:
            continue  # the first pass agrees
        if not support:
            # one reading alone: the check digit passes by chance 1 time in 11, and the strip is
            # read several ways, so a lone reading (repaired or not) is for review
            sc.add_note("one reading of the boxes gives it: for review", cap=0.7)
        elif max(o.cand.ocr_conf for o in [sc, *support]) < SURE_REREAD:
            sc.add_note("the recogniser is unsure of every reading: for review", cap=0.7)
    values = sorted({sc.parsed.value for sc in out if sc.parsed.valid})
    if len(values) > 1:  # two readings that both validate: review, never a guess
        # the value offered: one with a known manufacturer code over one without (1VSP159F6M1373509
        # beside LVSP159E6ML373509: a faint L read as 1, the check digit satisfied by chance by the
        # other misreadings), then one that validates as read over a repaired one
        any_known = any(vin.manufacturer(v) for v in values)
        for sc in out:
            unknown = any_known and sc.parsed.valid and vin.manufacturer(sc.parsed.value) is None
            sc.cap(min(sc.confidence, 0.5) * (0.8 if unknown else 1.0)
                   * (1.0 if vin.validates_as_read(sc.cand.text) else 0.9))
            sc.parsed = Parsed(sc.parsed.value, sc.parsed.confidence, sc.parsed.valid,
                               f"readings of the boxes disagree: {', '.join(values)}")
    return out


# A value the second readings give instead of the first pass's is for review: the readings are
# of the same print, and two of them agreeing on a misreading was seen on the dev forms.
REREAD_REPLACED = 0.75


def _reread_values(pages: list[PageText], found: dict[str, list[Scored]], chosen: dict[str, Scored], today: date) -> None:
    """The second readings of doubtful values (``PageText.region_reads``, ``extractors.value_strip``):
    amounts become candidates for the sum to choose from; for the other fields the readings vote
    with the first's (``reread_choice``); a value they change is for review."""
    for fld in REREAD_FIELDS:
        reads = [(p.page_no, ln) for p in pages for ln in p.region_reads.get(fld, [])]
        cur = chosen.get(fld)
        if cur is not None and fld not in MONEY_FIELDS:  # the readings of the chosen value's strip
            reads = [(n, ln) for n, ln in reads if n == cur.cand.page and _overlap(ln.box, cur.cand.box) > 0]
        elif reads:  # nothing chosen: the first page's strip
            reads = [(n, ln) for n, ln in reads if n == reads[0][0]]
        if not reads:
            continue
        if fld in MONEY_FIELDS:
            for page_no, ln in reads:
                sc = _score(fld, Candidate(ln.text, page_no, ln.box, ln.conf, "reread"), 99, True, today)
                if sc is not None and sc.parsed.valid and Decimal(sc.parsed.value) > 0:  # "0元1图" is no amount
                    sc.cap(REREAD_REPLACED)
                    found.setdefault(fld, []).append(sc)
            continue
        lines = [ln for _, ln in reads]
        ch = reread_choice(fld, cur.cand.text if cur else None, cur.cand.ocr_conf if cur else 0.0, lines, today)
        if ch is None:
            if cur is not None and (longer := rule_or_character(fld, cur.cand.text, lines, today)) is not None:
                cur.add_note(f"read again as {longer}: a digit lost at the cell's rule, or the rule read as 1",
                             cap=REREAD_REPLACED)
            elif cur is not None and (more := name_goes_on(fld, cur.parsed.value, lines)):
                cur.add_note(f"read again as {'/'.join(more)}: its last character lost?", cap=REREAD_REPLACED)
            elif cur is not None and (more := name_goes_before(fld, cur.parsed.value, lines)):
                cur.add_note(f"read again as {'/'.join(more)}: its first character lost?", cap=REREAD_REPLACED)
            continue
        page_no, ln = reads[0]
        sc = _score(fld, Candidate(ch.text, page_no, ln.box, ch.ocr_conf, "reread"), 0, True, today)
        if sc is None or not sc.parsed.valid:
            continue
        was = f"; the first reading was {cur.parsed.value}" if cur is not None else ""
        sc.add_note(f"read again: {ch.support} readings agree{was}", cap=REREAD_REPLACED)
        sc.replaced = cur
        chosen[fld] = sc


# Values no check covers whose second reading shows the recogniser in two minds about a
# character (闽A59605 with S at 0.30 beside its last 5; 蒙迪欧 FcoBoost with E at 0.43 beside F),
# or that a sure second reading gives one character otherwise (鲁A75846, read again as 鲁A7S846
# at 0.98): for review
DOUBTED_FIELDS = ("plate", "model", "order_no", "phone", "mileage_km")
DOUBT = 0.25
DOUBT_SURE_READING = 0.9
DOUBTED_CONFIDENCE = 0.75


def _formatting(c: str) -> bool:
    """A space or a separator a value is printed with (苏A·99F0E, 2023.10.12), not part of it."""
    return c.isspace() or c in "·.-"


def _compact(text: str) -> str:
    return "".join(c for c in text if not _formatting(c))


def _doubted_characters(pages: list[PageText], chosen: dict[str, Scored], threshold: float, today: date) -> None:
    for fld in DOUBTED_FIELDS:
        s = chosen.get(fld)
        if s is None or s.confidence < threshold or not s.parsed.valid:
            continue
        value = _compact(s.parsed.value)
        reads = [ln for p in pages if p.page_no == s.cand.page for ln in p.region_reads.get(fld, [])
                 if _overlap(ln.box, s.cand.box) > 0]
        # a mileage's digits alone (53,654公里 is 53654)
        keep = str.isdigit if fld == "mileage_km" else (lambda c: not _formatting(c))
        for r in reads:
            text = "".join(c for c in value_text(r.text) if keep(c))
            if text == value and len(r.alternatives) == len(r.text):
                kept = [a for c, a in zip(r.text, r.alternatives, strict=True) if keep(c)]
                doubts = [(at[0][0], ch, p) for at in kept for ch, p in at[1:2]
                          if p >= DOUBT and ch.isalnum() and ch.upper() != at[0][0].upper()]
                if doubts:
                    c, ch, p = doubts[0]
                    s.add_note(f"read again, the recogniser saw {ch} ({p:.2f}) as well as {c}", cap=DOUBTED_CONFIDENCE)
                    break
            elif r.conf >= DOUBT_SURE_READING and len(read := _as_parsed(fld, value_text(r.text), today)) == len(value) \
                    and sum(a != b for a, b in zip(read, value, strict=True)) == 1:
                s.add_note(f"read again as {value_text(r.text)}", cap=DOUBTED_CONFIDENCE)
                break


# A name that starts with a rare surname where the recogniser saw one of the commonest as well
# (干磊福 with 于 at 0.05 beside its 干: the surname prior weighs 于 ten times 干, not enough to
# take it) is for review: a misread surname reads as a real, rare one
SURNAME_DOUBT = 0.03


def _doubted_surnames(pages: list[PageText], chosen: dict[str, Scored], threshold: float) -> None:
    for fld in PERSON_FIELDS:
        s = chosen.get(fld)
        if s is None or s.confidence < threshold or not s.parsed.value or s.parsed.value[0] in COMMON_SURNAMES:
            continue
        value = s.parsed.value
        for r in (ln for p in pages if p.page_no == s.cand.page for ln in p.region_reads.get(fld, [])
                  if _overlap(ln.box, s.cand.box) > 0):
            at = r.text.find(value)
            if at < 0 or len(r.alternatives) != len(r.text):
                continue
            common = [(ch, p) for ch, p in r.alternatives[at][1:] if ch in COMMON_SURNAMES and p >= SURNAME_DOUBT]
            if common:
                ch, p = common[0]
                s.add_note(f"read again, the recogniser saw {ch} ({p:.2f}), a commoner surname, as well as "
                           f"{value[0]}", cap=DOUBTED_CONFIDENCE)
                break


def _as_parsed(fld: str, text: str, today: date) -> str:
    """A second reading as its parser makes it, compact (R02409168177 is RO2409168177, as the
    first reading was: the parser's repair is no second opinion); as read when it is no valid value."""
    p = PARSERS[fld](text, today)
    return _compact(p.value if p is not None and p.valid else text)


COMBINED_CONFIDENCE = 0.7  # a VIN no one reading gives whole: for review


def _vin_combined(pages: list[PageText], found: dict[str, list[Scored]], chosen: dict[str, Scored],
                  threshold: float) -> None:
    """A VIN left for review, repaired, or not read, gets the one the readings of its boxes give together
    (``vin.combined``): position by position, each reading's characters and the recogniser's
    second choices voting (LVSXDFMC3K1602843 and LVSXDFMC9K160284B make LVSXDFMC9K1602843, where
    a confusion repair of the first alone gave LVSXDFMC3K1B02843). For review."""
    s = chosen.get("vin")
    if s is not None and s.parsed.valid and s.confidence >= threshold and vin.validates_as_read(s.cand.text):
        return
    reads = [ln for p in pages for ln in (*p.region_reads.get("vin", []), *p.region_reads.get(VIN_CELL, []))
             if s is None or p.page_no == s.cand.page]
    first = [OcrLine(c.cand.text, c.cand.box, c.cand.ocr_conf) for c in found.get("vin", []) if c.cand.how != "reread"]
    got = vin.combined([*first, *reads])
    if got is None or (s is not None and s.parsed.valid and got[0] == s.parsed.value):
        return
    v, changed = got
    if s is not None and s.parsed.valid and vin.manufacturer(s.parsed.value) and not vin.manufacturer(v):
        return  # a vote that leaves no known manufacturer code is no better than the reading that has one
    ln = reads[0] if reads else first[0]
    page = s.cand.page if s is not None else pages[0].page_no
    how = f", {changed} of them changed to characters the readings also give" if changed else ""
    note = f"the readings of the boxes combined position by position{how}"
    if s is not None:
        note += f" (read {s.parsed.value})"
    parsed = Parsed(v, COMBINED_CONFIDENCE, True, joined(note, f"manufacturer {vin.manufacturer(v)}"
                                                        if vin.manufacturer(v) else ""))
    chosen["vin"] = Scored("vin", parsed, Candidate(v, page, ln.box, ln.conf, "reread"), COMBINED_CONFIDENCE, 0,
                           (page, ln.box[1], ln.box[0]))


BAR_LOST_CONFIDENCE = 0.6  # a dot-matrix letter with a bar lost: a last resort, for review


def _vin_bar_lost(found: dict[str, list[Scored]], chosen: dict[str, Scored]) -> None:
    """No reading of the VIN validates: the chosen one's one character with a bar the dot-matrix
    print lost (LSVE814D1LJ040601: the F read as 1) that makes one (``vin.bar_lost_repair``)."""
    s = chosen.get("vin")
    if s is None or s.parsed.valid or any(o.parsed.valid for o in found.get("vin", [])):
        return
    v = vin.compact(s.parsed.value)
    fixed = vin.bar_lost_repair(v)
    if fixed is None:
        return
    s.parsed = Parsed(fixed, BAR_LOST_CONFIDENCE, True, f"read {v}: the check digit fails; repaired "
                      f"{vin.changes(v, fixed)}, a dot-matrix character with a bar lost (manufacturer "
                      f"{vin.manufacturer(fixed)})")
    s.confidence = BAR_LOST_CONFIDENCE
    s.cap(BAR_LOST_CONFIDENCE)


VIN_LAST_LOST_CONFIDENCE = 0.5  # a guess the place of the cut supports: for review


def _vin_cut_at_the_next_label(index: PageIndex, found: dict[str, list[Scored]], chosen: dict[str, Scored]) -> None:
    """A VIN read as 16 characters whose line runs up to the next label on its row (LVSB9N547PH28616
    ending at 1082 px, 车型 starting at 1080: printed out of register, its last character went
    under the cell's rule): the last is the digit the check digit allows (``vin.last_lost``)."""
    s = chosen.get("vin")
    if s is None or s.parsed.valid:
        return
    # the chosen reading first, then the other readings of the VIN (a second reading of the cell
    # that lost two characters may have been chosen over the first pass's sixteen)
    for c in [s, *sorted((o for o in found.get("vin", []) if o is not s and not o.parsed.valid and o.cand.how != "scan"),
                         key=lambda o: -o.confidence)]:
        v = vin.compact(c.parsed.value)
        full = vin.last_lost(v)
        if full is None:
            continue
        x0, _, x1, _ = c.cand.box
        char = (x1 - x0) / len(v)
        nxt = next((ln for ln in index.all_lines() if ln.page == c.cand.page and ln.hits and same_row(ln.box, c.cand.box)
                    and ln.box[0] > x0 + 0.5 * (x1 - x0) and ln.box[0] - x1 <= char), None)
        if nxt is None:
            continue
        c.parsed = Parsed(full, VIN_LAST_LOST_CONFIDENCE, True,
                          f"16 characters read ({v}), up to the next label ({nxt.text}): the 17th cut at the cell's "
                          f"edge, the digit the check digit allows")
        c.confidence = VIN_LAST_LOST_CONFIDENCE
        c.cap(VIN_LAST_LOST_CONFIDENCE)
        chosen["vin"] = c
        return


def _vin_readings_disagree(found: dict[str, list[Scored]], chosen: dict[str, Scored]) -> None:
    """The first pass's VIN (repaired) and the second reading's validate and differ: review."""
    s = chosen.get("vin")
    if s is None or not s.parsed.valid:
        return
    other = [o for o in found.get("vin", []) if o.parsed.valid and o.parsed.value != s.parsed.value
             and (o.cand.how == "reread") != (s.cand.how == "reread") and o.cand.how != "scan"]
    if other:
        s.add_note(f"the boxes read again give {other[0].parsed.value}", cap=0.7)


def _order_no_cut_on_another_page(found: dict[str, list[Scored]], chosen: dict[str, Scored]) -> None:
    """A continuation page repeats the order number (单据编号： 20230620892 over page 1's
    W20230620892): a reading that is another page's with its leading letters lost is that one's.
    Letters only: an extra 1 before the digits may be a rule read as one."""
    s = chosen.get("order_no")
    if s is None:
        return
    for o in found.get("order_no", []):
        v, w = s.parsed.value, o.parsed.value
        if o.parsed.valid and o.cand.page != s.cand.page and len(v) < len(w) <= len(v) + 2 \
                and w.endswith(v) and w[:len(w) - len(v)].isalpha():
            o.add_note(f"page {s.cand.page} has it as {v}, its first letters lost")
            chosen["order_no"] = o
            return


def _pick(cands: list[Scored]) -> Scored:
    return max(cands, key=lambda s: (*s.key(), s.order))


def _amount(s: Scored | None) -> Decimal | None:
    return Decimal(s.parsed.value) if s is not None and s.parsed.valid else None


# a piece of text printed as money: with its cents or a currency mark (an item's quantity 2 is
# no discount of ¥2.00 that closes a sum: 988 + 1354 + 20 - 2 = 2360 of ¥1354. for ¥1354.96)
_MONEY_SHAPED = re.compile(r"[¥￥元]|\d[.．]\d{2}(?!\d)")


def _printed_amounts(index: PageIndex, besides: Candidate | None = None) -> set[Decimal]:
    """The amounts printed on the pages; ``besides``: not those on lines that overlap its box on
    its row (its own print read in two pieces: ¥2650 and 0.99 of ¥2650.99)."""
    out = set()
    for ln in index.all_lines():
        if besides is not None and ln.page == besides.page and same_row(ln.box, besides.box) \
                and ln.box[0] < besides.box[2] and ln.box[2] > besides.box[0]:
            continue
        for piece in ln.text.split():
            a = money.parse_amount(piece) if _MONEY_SHAPED.search(piece) else None
            if a is not None:
                out.add(abs(a))
    return out


def _agree_with_printed_difference(index: PageIndex, totals: list[Scored], labor: Decimal, parts: Decimal,
                                   other: Decimal | None, discount: Decimal | None) -> list[Scored]:
    """Totals that agree once the discount (or other fee) is the printed amount the sum needs.

    The discount's label or value is often what OCR loses (a seal over it); an amount exact to the
    cent that closes the sum is strong evidence.
    """
    out = []
    for s in totals:
        t = _amount(s)
        assert t is not None
        printed = _printed_amounts(index, besides=s.cand)
        need_discount = labor + parts + (other or Decimal(0)) - t
        need_other = t - labor - parts + abs(discount or Decimal(0))
        if (Decimal(0) < need_discount < t and need_discount in printed) or (Decimal(0) < need_other < t and need_other in printed):
            out.append(s)
    return out


SUM_FIELDS = ("labor_cost", "parts_cost", "total_cost", "other_cost", "discount")
MAX_SUM_OPTIONS = 6  # readings per amount the sum search tries


CURRENCY_MARK = "read for the currency mark"
# the mark read as a mark (¥, RMB): the digit after it is the amount's; and a first digit with its
# thousands group after it (RMB 2,038.83) is no mark either
_MARK_READ = re.compile(r"[¥￥$]|(?<![A-Za-z])(?:RMB|RM|CNY)(?![A-Za-z])", re.IGNORECASE)
_GROUPED_FIRST = re.compile(r"(?<![\d,，.])\d[,，]\d{3}(?!\d)")
TWO_MISREAD_CONFIDENCE = 0.75  # two amounts read otherwise than printed: the sum the only evidence
LEADING_LOST_CONFIDENCE = 0.75  # a total's leading digits not on the page as read: for review
WORDS_AND_SUM_CONFIDENCE = 0.85  # labour and parts whose readings make the total's words: two checks agree
WORDS_DISAGREE_CONFIDENCE = 0.6  # a total its words deny, nothing settling which is right


def _misread_amounts(s: Scored) -> list[Scored]:
    """Other readings of an amount OCR may have garbled, to be tried against the sum only: the
    currency mark read as a digit ("¥667.00" as "7667.00", "¥2,622.65" as "82,622.65") and the
    decimal point lost ("3220.89" as "322089元")."""
    text = s.cand.text
    a = _amount(s)
    if a is None or a <= 0:
        return []
    out: list[tuple[Decimal, str]] = []
    whole = str(int(a))
    if len(whole) >= 2 and not _MARK_READ.search(text) and not _GROUPED_FIRST.search(text):
        out.append((Decimal(whole[1:] or "0") + a - int(a), f"a leading {whole[0]} {CURRENCY_MARK}"))
    if "." not in text and "．" not in text and len(whole) >= 3 and a == int(a):
        out.append((a / 100, "the decimal point lost"))
    alts = []
    for value, why in out:
        alt = Scored(s.field, Parsed(money.fmt(value), s.parsed.confidence, True, f"read {s.parsed.value}: {why}"),
                     s.cand, s.confidence, s.rank, s.order)
        alts.append(alt)
    return alts


def _marks_read_as_one_digit(misread: list[Scored]) -> bool:
    """Every misread amount is a currency mark read as a digit, and the same digit: one printer's ¥
    read one way (the digit each reading starts with: the mark as read)."""
    if not all(CURRENCY_MARK in c.parsed.note for c in misread):
        return False
    marks = {m.group(0) for c in misread if (m := re.search(r"\d", c.cand.text)) is not None}
    return len(marks) == 1


def _one_mark_misread(misread: list[Scored], total: Scored | None) -> bool:
    """Several amounts read with the same digit for their currency mark (¥416.00, ¥989.21 and
    ¥20.00 as 7416.00, 7989.21 and 720.00), the total read with its mark (¥1425.21): one printer's
    ¥ read one way, which the total, not repaired, confirms."""
    if total is None or total in misread or not any(c in total.cand.text for c in "¥￥") or len(misread) < 2:
        return False
    return _marks_read_as_one_digit(misread)


def _two_marks_misread(misread: list[Scored], total: Scored | None) -> bool:
    """Two currency marks read as digits: one of them the total's (¥812.00 and ¥2,820.00 as
    4812.00 and 12,820.00), or, the total read as printed, both read as one digit (¥1330.00 and
    ¥2.00 as 71330.00 and 72.00 beside a total of 2080.00). Not two amounts' other leading digits,
    which a total read without its own keeps adding up."""
    if total in misread:
        return all(CURRENCY_MARK in c.parsed.note for c in misread)
    return _marks_read_as_one_digit(misread)


def _sum_options(found: dict[str, list[Scored]], chosen: dict[str, Scored], f: str, repairs: bool) -> list[Scored | None]:
    """The readings of amount ``f`` the sum search tries: the chosen one first, then the other
    candidates (distinct values), with ``repairs`` also their misreadings; None for an
    optional amount (other fees, discount) that may be absent."""
    cands = sorted((c for c in found.get(f, []) if c.parsed.valid), key=lambda c: (*c.key(), c.order), reverse=True)
    if f in chosen and chosen[f].parsed.valid:
        cands.insert(0, chosen[f])
    out: list[Scored | None] = []
    seen: set[str] = set()
    for c in cands:
        for o in [c, *(_misread_amounts(c) if repairs else [])]:
            if o.parsed.value not in seen:
                seen.add(o.parsed.value)
                out.append(o)
    out = out[:MAX_SUM_OPTIONS]
    if f in ("other_cost", "discount"):
        out.append(None)
    return out


def _sum_combination(found: dict[str, list[Scored]], chosen: dict[str, Scored]) -> dict[str, Scored | None] | None:
    """The one combination of readings of labour, parts, total (other fees, discount) whose sum
    agrees, when the chosen readings do not: first among the labelled readings, then allowing
    one misreading of ``_misread_amounts``, then two currency marks read as digits (the total's
    one of them), then any of the amounts' marks read as one digit against a total read with its
    mark (``_one_mark_misread``). None when there is none, or more than one."""
    for repairs, most in ((False, 0), (True, 1), (True, 2), (True, len(SUM_FIELDS) - 1)):
        opts = {f: _sum_options(found, chosen, f, repairs) for f in SUM_FIELDS}
        if not opts["labor_cost"] or not opts["parts_cost"] or not opts["total_cost"]:
            return None
        agreeing: dict[tuple[str, ...], dict[str, Scored | None]] = {}
        for lab, par, tot, oth, dis in itertools.product(*(opts[f] for f in SUM_FIELDS)):
            # one misread amount, or two currency marks read as digits (a printer's ¥ that OCR
            # reads as 1 or 4 on one slip, "4812.00" and "12,820.00" for ¥812.00 and ¥2,820.00),
            # one of them the total's. Not more: dropping the leading digit of several four-digit
            # amounts keeps a sum whose leading digits add up (3300 + 2115.90 + 14.10 = 5430)
            misread = [c for c in (lab, par, tot, oth, dis) if c is not None and c.parsed.note.startswith("read ")]
            if len(misread) > most or (len(misread) == 2 and most == 2 and not _two_marks_misread(misread, tot)) \
                    or (most > 2 and not _one_mark_misread(misread, tot)):
                continue
            if money.totals_agree(_amount(lab), _amount(par), _amount(tot), _amount(oth), _amount(dis)):
                combo = dict(zip(SUM_FIELDS, (lab, par, tot, oth, dis), strict=True))
                key = tuple(c.parsed.value if c else "" for c in (lab, par, tot))
                agreeing.setdefault(key, combo)
        if len(agreeing) == 1:
            return next(iter(agreeing.values()))
        if agreeing:
            return None
    return None


ITEMS_SUM_CONFIDENCE = 0.75  # an amount the item table's sum gives instead of the reading: for review
ITEMS_ONLY_CONFIDENCE = 0.5  # ... where nothing was read: the sum alone (right 77 % of the time, "rules 11")


def _costs_by_items(tables: list[ItemTable], found: dict[str, list[Scored]], chosen: dict[str, Scored]) -> None:
    """Labour or parts read otherwise than its item table adds up to: the work items' amounts make
    the labour cost, the parts lines' the parts cost (the tables of that kind, each read whole; a
    table continued on the next page repeats its header).

    The sum is taken where the reading is it without its leading digits (1050.00 read 050.00元, its
    1 on the cell's rule: the amounts right-aligned in the table lose none), or with one digit more
    before it (8469.14 of ¥469.14: the mark or the rule read as a digit), or where with it the costs
    make the total read without its cents (¥885. of 885.16), for review; or where with it the costs
    add up to a total read and as read they add up to none (the sum check then trusts it as a
    repaired reading). A sum alone proves nothing: a row missed or misread makes it wrong as often
    as a reading is."""
    sums: dict[str, Decimal] = {}
    for f, kind in (("labor_cost", "labour"), ("parts_cost", "parts")):
        of_kind = [t for t in tables if t.kind == kind]
        if of_kind and all(t.complete and t.items for t in of_kind):
            sums[f] = sum((t.total() for t in of_kind), Decimal(0))
    if not sums:
        return
    totals = [a for s in found.get("total_cost", []) if s.parsed.valid and (a := _amount(s)) is not None]
    other, discount = _amount(chosen.get("other_cost")), _amount(chosen.get("discount"))

    def adds_up(labor: Decimal | None, parts: Decimal | None) -> bool:
        return any(money.totals_agree(labor, parts, t, other, discount) for t in totals)

    read = {f: _amount(chosen.get(f)) for f in ("labor_cost", "parts_cost")}
    for f, total in sums.items():
        if read[f] is None:  # not read at all (a faded carbon copy's cell, a seal over it): the sum, for review
            table = next(t for t in tables if t.kind == ("labour" if f == "labor_cost" else "parts"))
            note = f"read no amount: the item table's amounts add up to {money.fmt(total)}"
            chosen[f] = Scored(f, Parsed(money.fmt(total), ITEMS_ONLY_CONFIDENCE, True, note),
                               Candidate(money.fmt(total), table.page, table.box, 1.0, "items"),
                               ITEMS_ONLY_CONFIDENCE, 99, (table.page, table.box[1], table.box[0]))
            read[f] = total
    if adds_up(read["labor_cost"], read["parts_cost"]):
        return
    differ = [f for f, total in sums.items() if read[f] is not None and read[f] != total]

    def with_sums(fields: tuple[str, ...]) -> tuple[Decimal | None, Decimal | None]:
        v = {**read, **{f: sums[f] for f in fields}}
        return v["labor_cost"], v["parts_cost"]

    def cents_lost(labor: Decimal | None, parts: Decimal | None) -> bool:
        return labor is not None and parts is not None and any(
            _cents_lost(money.expected_total(labor, parts, other, discount), s.cand.text) for s in found.get("total_cost", []))

    options = [c for n in (1, 2) for c in itertools.combinations(differ, n)]
    confirmed = [c for c in options if adds_up(*with_sums(c))]
    loose = [c for c in options if cents_lost(*with_sums(c))] if not confirmed else []
    taken: dict[str, tuple[str, bool]] = {}  # field -> (why, for review)
    if len(confirmed) == 1:  # the sum check that follows trusts it as a repaired reading
        taken = dict.fromkeys(confirmed[0], ("with it labour + parts (+ other - discount) = the total read", False))
    elif len(loose) == 1:  # ¥885. of ¥885.16: the sum gives the cents
        taken = dict.fromkeys(loose[0], ("with it labour + parts (+ other - discount) = the total read without its "
                                         "cents", True))
    for f in differ:
        if f in taken:
            continue
        first = read[f] or Decimal(0)
        if _leading_digits_lost(sums[f], first, least=Decimal(0)):
            taken[f] = ("its leading digits lost at the cell's rule", True)
        elif len(money.fmt(first)) == len(money.fmt(sums[f])) + 1 and _leading_digits_lost(first, sums[f], least=Decimal(0)):
            taken[f] = ("a currency mark or the cell's rule read as a first digit", True)
    for f, (why, review) in taken.items():
        s = chosen[f]
        s.parsed = Parsed(money.fmt(sums[f]), s.parsed.confidence, True,
                          f"read {s.parsed.value}: the item table's amounts add up to {money.fmt(sums[f])} ({why})")
        if review:
            s.cap(ITEMS_SUM_CONFIDENCE)


def _cross_check_money(index: PageIndex, found: dict[str, list[Scored]], chosen: dict[str, Scored]) -> None:
    labor, parts = _amount(chosen.get("labor_cost")), _amount(chosen.get("parts_cost"))
    other, discount = _amount(chosen.get("other_cost")), _amount(chosen.get("discount"))
    totals = [s for s in found.get("total_cost", []) if s.parsed.valid]
    if labor is None or parts is None or not any(
            money.totals_agree(labor, parts, _amount(s), other, discount) for s in totals):
        # the chosen readings do not add up: another labelled reading (a label of the item
        # table's 工时费 column beside the costs block's), or a garbled one, may
        combo = _sum_combination(found, chosen)
        if combo is not None:
            for f, c in combo.items():
                if c is not None:
                    chosen[f] = c
                elif f in chosen:
                    chosen.pop(f)
            labor, parts = _amount(chosen.get("labor_cost")), _amount(chosen.get("parts_cost"))
            other, discount = _amount(chosen.get("other_cost")), _amount(chosen.get("discount"))
    if labor is None or parts is None:
        return
    agreeing = [s for s in totals if money.totals_agree(labor, parts, _amount(s), other, discount)]
    if "total_cost" in chosen and money.totals_agree(labor, parts, _amount(chosen["total_cost"]), other, discount):
        agreeing = [chosen["total_cost"]]
    if not agreeing:
        agreeing = _agree_with_printed_difference(index, totals, labor, parts, other, discount)
    if not agreeing and _unsettled_rereads(found, chosen):
        labor, parts = _amount(chosen.get("labor_cost")), _amount(chosen.get("parts_cost"))
        if labor is None or parts is None:
            return
        agreeing = [s for s in totals if money.totals_agree(labor, parts, _amount(s), other, discount)]
    if agreeing:
        best = _pick(agreeing)
        chosen["total_cost"] = best
        misread = sum(chosen[f].parsed.note.startswith("read ") for f in SUM_FIELDS if f in chosen)
        cut = any(_LEADING_ZERO.search(chosen[f].cand.text) for f in SUM_FIELDS if f in chosen)
        # ¥2823. + ¥5. (of ¥2823.56 and ¥5.56): two amounts that lost their cents alike still add
        # up (one alone the sum pins down: its cents are what the others leave)
        cents = sum(bool(_CENTS_NOT_READ.search(chosen[f].cand.text)) for f in SUM_FIELDS if f in chosen) >= 2
        for f in MONEY_FIELDS:
            s = chosen[f]
            repaired = s.parsed.note if s.parsed.note.startswith("read ") else ""
            if cut or cents:  # amounts that lost their leading digits (40 + 15 = 055) or cents alike
                s.confidence = min(s.confidence, LEADING_LOST_CONFIDENCE)
                why = "an amount read with a leading 0: digits before it lost?" if cut else \
                    "an amount read without its cents (¥2823.): cents lost?"
                s.parsed = Parsed(s.parsed.value, s.parsed.confidence, True,
                                  (repaired + "; " if repaired else "") + "labour + parts (+ other - discount) = "
                                  "total, but " + why)
                continue
            s.confidence = TWO_MISREAD_CONFIDENCE if misread > 1 else max(s.confidence, 0.9 if repaired else 0.97)
            s.parsed = Parsed(s.parsed.value, s.parsed.confidence, True,
                              (repaired + "; " if repaired else "") + "labour + parts (+ other - discount) = total")
        _rereads_add_up_too(found, chosen)
    elif "total_cost" in chosen:
        for f in MONEY_FIELDS:
            s = chosen[f]
            s.confidence = min(s.confidence, 0.6)
            s.parsed = Parsed(s.parsed.value, s.parsed.confidence, s.parsed.valid,
                              joined(s.parsed.note, "labour + parts (+ other - discount) does not equal total"))
        read = _amount(chosen["total_cost"])
        expected = money.expected_total(labor, parts, other, discount)
        net = read is not None and _discount_unread(read, expected, discount)  # of a discount not read
        if read is not None and _leading_digits_lost(expected, read):
            s = chosen["total_cost"]
            s.parsed = Parsed(money.fmt(expected), s.parsed.confidence, True,
                              f"read {s.parsed.value}: its leading digits lost (a seal or a rule over them); "
                              "labour + parts (+ other - discount) give the rest")
            s.confidence = min(s.confidence, LEADING_LOST_CONFIDENCE)
            for f in ("labor_cost", "parts_cost"):
                chosen[f].parsed = replace(chosen[f].parsed, note="labour + parts (+ other - discount) give the "
                                           "total, its leading digits not read")
        elif read is not None and _cents_lost(expected, chosen["total_cost"].cand.text):
            s = chosen["total_cost"]
            s.parsed = Parsed(money.fmt(expected), s.parsed.confidence, True,
                              f"read {s.cand.text.strip()}: its cents not read; labour + parts (+ other - discount) "
                              "give them")
            s.confidence = min(s.confidence, LEADING_LOST_CONFIDENCE)
        elif read is not None and (read < (labor + parts) / 2 or (
                chosen["total_cost"].cand.how in LEARNED_HOWS and not net)):
            # a total under half of labour + parts is a truncated reading ("¥5" for "¥5,460.59"),
            # and one a learned place gives (no label read) that the sum does not confirm is no
            # better than the sum (74003.00 read where 1,924.46 was): offer the sum instead, for review
            chosen.pop("total_cost")
        elif read is not None and net:
            chosen["total_cost"].add_note(f"no discount read; the total is {money.fmt(expected - read)} "
                                          "under labour + parts (+ other): a discount not read?")


# a total this much under labour + parts (+ other) may be net of a discount (its value lost to the seal)
UNREAD_DISCOUNT_SHARE = Decimal("0.2")


def _discount_unread(read: Decimal, expected: Decimal, discount: Decimal | None) -> bool:
    """``read`` is what the sum would be with a discount no reading gave: the sum, without it, is
    no better evidence than the total read (2373.61 read, 1800 + 942.48 + 50 = 2792.48, the
    discount's 418.87 under the seal)."""
    return discount is None and expected * (1 - UNREAD_DISCOUNT_SHARE) <= read < expected


# An amount's second reading the sum cannot settle (no total read, or none that agrees) that
# shows what the first pass lost: its leading digits, lost on the cell's rule (40.00元 of
# 1140.00元, read again at 0.999 from the wider strip), or its decimal point (234000元 of 2340.00),
# or that two second readings agree on against it (1259.02 of 1359.02, read again twice)
UNSETTLED_SURE = 0.9


def _unsettled_choice(s: Scored, reads: list[Scored]) -> tuple[Scored, str] | None:
    first = _amount(s)
    if first is None:
        return None
    no_point = not any(c in s.cand.text for c in ".．,，")
    for r in sorted((r for r in reads if r.cand.ocr_conf >= UNSETTLED_SURE), key=lambda r: -r.cand.ocr_conf):
        again = Decimal(r.parsed.value)
        if _leading_digits_lost(again, first, least=Decimal(0)):
            return r, "its leading digits lost at the cell's rule"
        if no_point and _TWO_DECIMALS.search(r.cand.text) and again == first / 100:
            return r, "its decimal point lost"
    votes = Counter(r.parsed.value for r in reads)
    top = max(votes, key=lambda v: votes[v], default=None)
    if top is not None and votes[top] >= 2:
        return next(r for r in reads if r.parsed.value == top), f"{votes[top]} readings agree"
    return None


def _unsettled_rereads(found: dict[str, list[Scored]], chosen: dict[str, Scored]) -> bool:
    """Labour and parts as their second readings give them, where those show what the first
    reading lost and no total settles which is right (``_unsettled_choice``): for review. Whether
    any changed."""
    changed = False
    for f in ("labor_cost", "parts_cost"):
        s = chosen.get(f)
        if s is None or s.cand.how == "reread":
            continue
        reads = [c for c in found.get(f, []) if c.cand.how == "reread" and c.parsed.valid
                 and c.parsed.value != s.parsed.value]
        ch = _unsettled_choice(s, reads)
        if ch is None:
            continue
        r, why = ch
        r.add_note(f"read again as {r.parsed.value}: {why} (first read {s.parsed.value}); no total settles it",
                   cap=REREAD_REPLACED)
        chosen[f] = r
        changed = True
    return changed


# an amount read with a 0 before its other digits (055.00元): no DMS prints one, the digits
# before the 0 were lost (at a box's edge, a fax's smear) — and the sum of amounts that all lost
# theirs can agree (40.00 + 15.00 = 055.00), so it proves nothing
_LEADING_ZERO = re.compile(r"(?<![\d.,，])0\d")
# an amount whose decimal point was read and its cents not (¥2823.): the cents are unknown, not 00
# (¥5. 56: the cents apart, not parsed with the amount)
_CENTS_NOT_READ = re.compile(r"\d[.,]\s*元?\s*$|\d\.\s+\d")


def _leading_digits_lost(expected: Decimal, read: Decimal, least: Decimal = Decimal(100)) -> bool:
    """``read`` is ``expected`` without its first one or two digits ("509.11" of "2,509.11"): with
    the default ``least``, at least five digits agree to the cent (a second reading the recogniser
    is sure of needs fewer: 40.00 of 1140.00)."""
    want, got = money.fmt(expected), money.fmt(read)
    return read >= least and 1 <= len(want) - len(got) <= 2 and want.endswith(got)


_TWO_DECIMALS = re.compile(r"\d\s*[.．:：]\s*\d\s*\d")


def _cents_lost(expected: Decimal, raw: str) -> bool:
    """``raw`` is the total ``expected`` without its last decimals ("¥2,257" or "3734.2" of
    ¥2,257.94 and ¥3,734.25: a rule, a seal or faint dots over the cents): no two decimals read,
    and what was read is the start of ``expected`` — at least three whole digits agree."""
    if _TWO_DECIMALS.search(raw):
        return False
    got = money.parse_amount(raw)
    if got is None or got < 100 or got == expected:
        return False
    whole, _, cents = money.fmt(expected).partition(".")
    got_whole, _, got_cents = money.fmt(got).partition(".")
    read_cents = got_cents.rstrip("0") if "." in raw or "．" in raw else ""
    return got_whole == whole and cents.startswith(read_cents)


def _rereads_add_up_too(found: dict[str, list[Scored]], chosen: dict[str, Scored]) -> None:
    """The chosen amounts add up, but so do their second readings (``value_strip``), and they differ.

    A sum does not tell a leading 1 lost on one cell's rule and read into another's from it
    (750.00 + 1,308.88 read as 1750.00 + 308.88), nor a 1 read from the rule before both a part
    and the total (1,832.54 and 3,510.00 read 11,832.54 and 13,510.00): the amounts still add up.
    When the second readings (the wider strip, the finer recogniser) give another combination that
    adds up too, they are taken — they hold the characters the first pass lost at the rule — and
    every amount is for review: two readings of the costs add up, which is no proof of either.
    """
    fields = ("labor_cost", "parts_cost", "total_cost")
    options = []
    for f in fields:
        reads = [c for c in found.get(f, []) if c.cand.how == "reread" and c.parsed.valid
                 and c.parsed.value != chosen[f].parsed.value]
        options.append([chosen[f], *([_pick(reads)] if reads else [])])
    other, discount = _amount(chosen.get("other_cost")), _amount(chosen.get("discount"))
    alternatives = [combo for combo in itertools.product(*options)
                    if sum(c is not chosen[f] for f, c in zip(fields, combo, strict=True)) >= 2
                    and money.totals_agree(_amount(combo[0]), _amount(combo[1]), _amount(combo[2]), other, discount)]
    if not alternatives:
        return
    if len(alternatives) > 1:  # more than one other way to add up: review, as first read
        for f in fields:
            chosen[f].add_note("the amounts read again add up in other ways too", cap=REREAD_REPLACED)
        return
    firsts = ", ".join(f"{chosen[f].parsed.value}" for f in fields)
    for f, c in zip(fields, alternatives[0], strict=True):
        c.parsed = replace(c.parsed, valid=True, note="labour + parts (+ other - discount) = total both as read "
                           f"again and as first read ({firsts})")
        c.confidence = min(c.confidence, REREAD_REPLACED)
        chosen[f] = c


# parts read where its label was not (丰材睾费 for 材料费) by what labour, other fees and the
# discount leave of a printed amount beside it: for review, the sum is all that says so
UNLABELLED_PARTS_CONFIDENCE = 0.75


def _parts_by_the_sum(index: PageIndex, chosen: dict[str, Scored], today: date) -> None:
    """No parts cost read under a label: the costs row printed right of labour, in the order every
    form prints it (parts, other fees and discount, total last), closes the sum one way only —
    labour + parts, each amount between it and the total added or taken off, = the total (the
    chosen total, else the row's last amount). Then parts (and that total) are taken, for review."""
    lab = chosen.get("labor_cost")
    if "parts_cost" in chosen or lab is None or not lab.parsed.valid or lab.cand.page - 1 >= len(index.pages):
        return
    labor = Decimal(lab.parsed.value)
    known = money.expected_total(labor, Decimal(0), _amount(chosen.get("other_cost")), _amount(chosen.get("discount")))
    boxes = [s.cand.box for s in chosen.values()]
    row = sorted(((a, ln) for ln in index.pages[lab.cand.page - 1]
                  if ln.box[0] > lab.cand.box[2] and same_row(ln.box, lab.cand.box) and ln.box not in boxes
                  and _MONEY_SHAPED.search(ln.text) and (a := money.parse_amount(ln.text)) is not None and a >= 0),
                 key=lambda t: t[1].box[0])
    total = _amount(chosen.get("total_cost"))
    if len(row) < (2 if total is None else 1):
        return
    parts, middle = row[0], row[1:] if total is not None else row[1:-1]
    tot = total if total is not None else row[-1][0]
    middle = [m for m in middle if m[0] != 0]  # ¥0.00 fees or discount: either sign alike
    if len(middle) > 3 or parts[0] <= 0 or parts[0] >= tot:
        return
    ways = [signs for signs in itertools.product((1, -1), repeat=len(middle))
            if known + parts[0] + sum((s * m[0] for s, m in zip(signs, middle, strict=True)), Decimal(0)) == tot]
    if len(ways) != 1:
        return
    why = "the parts label not read; labour + this (+ the row's other amounts) = the total"
    ln = parts[1]
    sc = _score("parts_cost", Candidate(ln.text, ln.page, ln.box, ln.conf, "scan"), 99, True, today)
    if sc is None or not sc.parsed.valid or Decimal(sc.parsed.value) != parts[0]:
        return
    sc.add_note(why, cap=UNLABELLED_PARTS_CONFIDENCE)
    chosen["parts_cost"] = sc
    if total is None:
        tl = row[-1][1]
        st = _score("total_cost", Candidate(tl.text, tl.page, tl.box, tl.conf, "scan"), 99, True, today)
        if st is not None and st.parsed.valid and Decimal(st.parsed.value) == tot:
            st.add_note("the total label not read: labour + parts (+ the row's other amounts) = it",
                        cap=UNLABELLED_PARTS_CONFIDENCE)
            chosen["total_cost"] = st
    lab.add_note("the parts label not read: the sum found its amount", cap=UNLABELLED_PARTS_CONFIDENCE)


SEALED_CONFIDENCE = 0.75  # a discount and total the sum found among their pieces: for review
EVEN_CELLS = 0.1  # cells' starts this even (of their spacing): a row of cells of one width


def _label_x0(ln: Line, fld: str) -> float:
    hit = next(h for h in ln.hits if h.field == fld)
    return ln.span_box(hit.start, hit.end)[0]


def _costs_under_a_seal(index: PageIndex, seen: dict[str, Line], chosen: dict[str, Scored], today: date) -> None:
    """The discount and the total read in pieces under a seal (``cut_amounts``): on a costs row
    printed under its labels with the currency mark, labour and parts read whole, and the sum not
    closing with a total read whole, the one pair that fits the pieces is taken, for review."""
    lab, par = chosen.get("labor_cost"), chosen.get("parts_cost")
    if lab is None or par is None or not lab.parsed.valid or not par.parsed.valid \
            or not all(f in seen for f in ("labor_cost", "parts_cost", "discount")):
        return
    if "other_cost" in seen and not ("other_cost" in chosen and chosen["other_cost"].parsed.valid):
        return
    other = _amount(chosen.get("other_cost")) or Decimal(0)
    labor, parts = Decimal(lab.parsed.value), Decimal(par.parsed.value)
    if money.totals_agree(labor, parts, _amount(chosen.get("total_cost")), other, _amount(chosen.get("discount"))):
        return
    text = nfkc(lab.cand.text).replace(" ", "")
    ll = seen["labor_cost"]
    if text[:1] not in cut_amounts.MARKS or nfkc(par.cand.text).strip()[:1] not in cut_amounts.MARKS \
            or any(seen[f].page != lab.cand.page or not same_row(seen[f].box, ll.box) for f in COST_ROW if f in seen) \
            or lab.cand.box[1] < ll.box[3] - 0.5 * ll.height:
        return
    starts = [_label_x0(seen[f], f) for f in COST_ROW if f in seen]
    if "total_cost" not in seen:
        # the total's label under the seal too: the next cell of a row of cells of one width
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        if len(gaps) < 2 or max(gaps) - min(gaps) > EVEN_CELLS * min(gaps):
            return
        starts.append(starts[-1] + statistics.mean(gaps))
    width = (lab.cand.box[2] - lab.cand.box[0]) / len(text)
    shift = lab.cand.box[0] - starts[0]  # the print's register against the form
    d0, t0 = starts[-2] + shift, starts[-1] + shift
    row = sorted((ln for ln in index.pages[lab.cand.page - 1] if same_row(ln.box, lab.cand.box)), key=lambda ln: ln.box[0])
    disc = [p for ln in row if d0 - width <= ln.box[0] < t0 - width
            and (p := cut_amounts.piece(ln.text, ln.box[0], ln.box[2], d0, width)) is not None]
    tot = [p for ln in row if ln.box[0] >= t0 - width
           and (p := cut_amounts.piece(ln.text, ln.box[0], ln.box[2], t0, width)) is not None]
    if "total_cost" in chosen and len(tot) < 2:  # a total read whole that disagrees: no seal's doing
        return
    found = cut_amounts.solve(labor + parts + other, disc, tot)
    if found is None or any(p.digits == money.fmt(found[1]) for p in tot):  # the total read whole: no seal over it
        return
    why = ("read in pieces (a seal over the discount and the total): the one discount and total that add up "
           "with labour, parts and other fees and fit the pieces")
    taken = {}
    for fld, amount, x0 in (("discount", found[0], d0), ("total_cost", found[1], t0)):
        box = (x0, lab.cand.box[1], x0 + width * (len(money.fmt(amount)) + 1), lab.cand.box[3])
        sc = _score(fld, Candidate(money.fmt(amount), lab.cand.page, box, lab.cand.ocr_conf, "below"), 99, True, today)
        if sc is None or not sc.parsed.valid:
            return
        sc.add_note(why, cap=SEALED_CONFIDENCE)
        taken[fld] = sc
    chosen.update(taken)
    for f in ("labor_cost", "parts_cost"):
        chosen[f].add_note("the total found by the sum, not read: labour and parts unchecked", cap=SEALED_CONFIDENCE)


BY_POSITION_CONFIDENCE = 0.75  # costs whose labels OCR lost, told by their cells' order and the sum: for review


def _costs_by_position(index: PageIndex, seen: dict[str, Line], chosen: dict[str, Scored], today: date) -> None:
    """A costs row of five label cells, some labels read (材材管理费, 优惠金物) and the others lost
    or garbled past recognising (时费, 有件费, 收融): every form prints labour, parts, other fees,
    discount and total in that order, so each cell is known by its place. The amounts under the
    cells whose field has no value are taken when the five then add up, for review."""
    missing = [f for f in MONEY_FIELDS if f not in chosen or not chosen[f].parsed.valid]
    if missing == ["total_cost"] and "discount" in seen and "discount" not in chosen:
        missing.append("discount")  # a total and a discount lost together: a seal over both?
    read = [f for f in COST_ROW if f in seen and f not in missing]
    if missing in ([], ["total_cost"]) or len(read) < 2:  # a total alone: _infer_total finds it printed
        return
    first = seen[read[0]]
    if any(seen[f].page != first.page or not same_row(seen[f].box, first.box) for f in read):
        return
    cells = sorted((ln for ln in index.pages[first.page - 1] if same_row(ln.box, first.box)), key=lambda ln: ln.box[0])
    if len(cells) != len(COST_ROW) or any(cells[COST_ROW.index(f)] is not seen[f] for f in read):
        return
    h = first.height
    taken: dict[str, Scored] = {}
    discount_unread = False
    for f in missing:
        at = COST_ROW.index(f)
        cell = cells[at]
        # the cell spans to the next one's label (a right-aligned amount ends past its own label)
        right = cells[at + 1].box[0] if at + 1 < len(cells) else float("inf")
        below = [ln for ln in index.pages[first.page - 1] if 0 <= ln.box[1] - cell.box[3] < 1.5 * h
                 and ((ln.box[0] < cell.box[2] and ln.box[2] > cell.box[0])
                      or cell.box[0] <= (ln.box[0] + ln.box[2]) / 2 < right)]
        sc = None
        if len(below) == 1:
            ln = below[0]
            sc = _score(f, Candidate(ln.text, ln.page, ln.box, ln.conf, "below"), 99, True, today)
        if sc is not None and sc.parsed.valid:
            taken[f] = sc
        elif f == "discount" and len(below) <= 1 and f not in chosen:
            discount_unread = True  # the seal's place: its amount lost (RMB read, or nothing)
        else:
            return
    costs = {f: (taken[f] if f in taken else chosen[f]) for f in MONEY_FIELDS}
    labor, parts, total = (_amount(costs[f]) for f in MONEY_FIELDS)
    other = _amount(chosen.get("other_cost"))  # never among the missing: only the costs and the discount are
    if discount_unread:
        # the total's cell in its place, and what it leaves of labour + parts (+ other) a discount
        # a seal hides: no sum checks it (the discount's own amount is not read)
        # (the discount is among the missing only with the total, which was taken or ended it)
        if labor is None or parts is None or total is None \
                or not _discount_unread(total, money.expected_total(labor, parts, other), None):
            return
        note = (f"its label not read: the costs row's last cell; no discount read, the total is "
                f"{money.fmt(money.expected_total(labor, parts, other) - total)} under labour + parts (+ other): "
                "a discount under the seal?")
    elif money.totals_agree(labor, parts, total, other, _amount(taken.get("discount") or chosen.get("discount"))):
        note = "its label not read: the costs row's cell in its place, and labour + parts (+ other - discount) = total"
    else:
        return
    for f, sc in taken.items():
        sc.add_note(note, cap=BY_POSITION_CONFIDENCE)
        chosen[f] = sc


def _infer_total(index: PageIndex, chosen: dict[str, Scored], today: date) -> FieldValue | None:
    """No total read under a label: find the amount that labour + parts (+ other - discount) make.

    Printed somewhere (its label lost to OCR): taken, a little less trusted. Not printed or not
    read: the sum is offered with low confidence, so the document goes to review.
    """
    labor, parts = _amount(chosen.get("labor_cost")), _amount(chosen.get("parts_cost"))
    if labor is None or parts is None:
        return None
    expected = money.expected_total(labor, parts, _amount(chosen.get("other_cost")), _amount(chosen.get("discount")))
    if expected <= 0:  # a discount misread larger than the bill (11467.00 of 114.67): no total to offer
        return None
    for ln in reversed(index.all_lines()):
        for piece in ln.text.split():
            a = money.parse_amount(piece)
            if a is not None and a == expected and not ln.table_header:
                conf = 0.9 * ocr_factor(ln.conf)
                return FieldValue(money.fmt(a), conf, ln.page, ln.box, ln.text, True,
                                  "total label not read; the amount equals labour + parts (+ other - discount)")
    found = _total_beside_a_discount_without_cents(index, chosen, expected)
    if found is not None:
        return found
    if chosen.get("discount") is None:
        # the discount's label may be lost too: a printed pair total + discount = the sum
        gross = expected
        printed = _printed_amounts(index)
        # labour and parts themselves are no such pair (598 + 33 = 631: a total of 598 with a
        # discount of 33 is what the sum's own amounts always make)
        own = {labor, parts}
        pairs = sorted(a for a in printed - own if gross * Decimal("0.8") <= a < gross and (gross - a) in printed - own)
        if pairs:
            total = pairs[-1]
            for ln in reversed(index.all_lines()):
                if any(money.parse_amount(p) == total for p in ln.text.split()):
                    return FieldValue(money.fmt(total), 0.75, ln.page, ln.box, ln.text, True,
                                      "total label not read; total + a printed discount = labour + parts (+ other)")
    return FieldValue(money.fmt(expected), 0.5, None, None, None, False,
                      "not read; computed as labour + parts (+ other - discount)")


def _total_beside_a_discount_without_cents(index: PageIndex, chosen: dict[str, Scored],
                                           expected: Decimal) -> FieldValue | None:
    """The discount read without its cents (``￥1.`` of ¥1.62, the dealer's 抹零 written off): the
    total is under labour + parts (+ other) − the discount read by less than a yuan, and an amount
    printed so on the costs row, its label not read, is it — for review."""
    d = chosen.get("discount")
    costs = [chosen[f] for f in ("labor_cost", "parts_cost") if f in chosen]
    read = _amount(d)
    if d is None or read is None or not _CENTS_NOT_READ.search(d.cand.text) or not costs:
        return None
    for ln in index.all_lines():
        if ln.table_header or not any(ln.page == c.cand.page and same_row(ln.box, c.cand.box) for c in costs):
            continue
        if not _MONEY_SHAPED.search(ln.text):
            continue
        for a in {money.parse_amount(p) for p in [ln.text, *ln.text.split()]}:
            if a is not None and expected - 1 < a < expected and a not in (_amount(c) for c in costs):
                return FieldValue(money.fmt(a), DISCOUNT_CENTS_CONFIDENCE, ln.page, ln.box, ln.text, True,
                                  f"{DISCOUNT_CENTS_NOTE} ({d.cand.text.strip()}): "
                                  f"labour + parts (+ other) − {money.fmt(expected - a + read)} is this amount")
    return None


DISCOUNT_CENTS_CONFIDENCE = 0.75
DISCOUNT_CENTS_NOTE = "total label not read; the discount read without its cents"


def _upper_amount(index: PageIndex, read: Callable[[str], Decimal | None] = money.parse_upper_amount
                  ) -> tuple[Decimal, Line] | None:
    """The total in Chinese capital numerals (金额大写), an independent second reading of it."""
    for ln in index.all_lines():
        a = read(ln.text)
        if a is not None and a > 0:
            return a, ln
    return None


LOOSE_WORDS_CONFIDENCE = 0.85  # words read with look-alike numerals that the sum, or the total read, confirms
LOOSE_WORDS_ALONE_CONFIDENCE = 0.6  # ... that nothing confirms: for review


def _check_with_loose_upper(index: PageIndex, result: dict[str, FieldValue], chosen: dict[str, Scored]) -> None:
    """The words read only with look-alike numerals (叁什零柒拾元肆角肆分): they confirm a total read
    as they say, or the sum's total where the total was misread (汽9070.44 for 3070.44); they
    deny nothing."""
    upper = _upper_amount(index, money.upper_amount_read_loosely)
    total = result.get("total_cost")
    if upper is None or total is None:
        return
    amount, ln = upper
    in_words = f"the amount in words, read with look-alike numerals ({money.fmt(amount)})"
    if total.valid and total.value == money.fmt(amount):
        total.confidence = max(total.confidence, LOOSE_WORDS_CONFIDENCE)
        total.note = joined(total.note, f"{in_words} agrees")
        return
    if not _chosen_make(chosen, amount):
        if total.box is None:  # no total read, only the sum computed: the words are the one reading of it
            result["total_cost"] = FieldValue(money.fmt(amount), LOOSE_WORDS_ALONE_CONFIDENCE, ln.page, ln.box, ln.text,
                                              True, f"from {in_words}; the sum ({total.value}) disagrees")
        return
    read = f"; read {total.value}" if total.value is not None and total.raw else ""
    result["total_cost"] = FieldValue(money.fmt(amount), LOOSE_WORDS_CONFIDENCE, ln.page, ln.box, ln.text, True,
                                      f"from {in_words}; labour + parts (+ other - discount) agree{read}")
    _confirm_costs(result, LOOSE_WORDS_CONFIDENCE, f"with {in_words}, the sum agrees")


def _chosen_make(chosen: dict[str, Scored], total: Decimal) -> bool:
    """The chosen labour and parts (+ other - discount) make ``total``."""
    return bool(money.totals_agree(_amount(chosen.get("labor_cost")), _amount(chosen.get("parts_cost")), total,
                                   _amount(chosen.get("other_cost")), _amount(chosen.get("discount"))))


def _confirm_costs(result: dict[str, FieldValue], confidence: float, note: str = "") -> None:
    """Labour and parts trusted to at least ``confidence``: the sum they make is confirmed."""
    for f in ("labor_cost", "parts_cost"):
        if f in result:
            result[f].confidence = max(result[f].confidence, confidence)
            if note:
                result[f].note = joined(result[f].note, note)


def _costs_for_total(found: dict[str, list[Scored]], chosen: dict[str, Scored], total: Decimal) -> dict[str, Scored] | None:
    """The labour and parts readings (first pass or second) that, with the chosen other fee and
    discount, make ``total``: the one such pair, or None (none, or more than one)."""
    other, discount = _amount(chosen.get("other_cost")), _amount(chosen.get("discount"))
    labours = {s.parsed.value: s for s in found.get("labor_cost", []) if s.parsed.valid}
    parts = {s.parsed.value: s for s in found.get("parts_cost", []) if s.parsed.valid}
    pairs = [(a, b) for a in labours.values() for b in parts.values()
             if money.totals_agree(Decimal(a.parsed.value), Decimal(b.parsed.value), total, other, discount)]
    return {"labor_cost": pairs[0][0], "parts_cost": pairs[0][1]} if len(pairs) == 1 else None


def _take_costs(result: dict[str, FieldValue], pair: dict[str, Scored], note: str) -> None:
    """Labour and parts as ``pair`` reads them (a value it changes says what had been taken), each with ``note``."""
    for f, s in pair.items():
        was = result.get(f)
        if was is None or was.value != s.parsed.value:
            result[f] = s.to_field()
        result[f].note = joined(result[f].note, note + (f" (taken: {was.value})" if was is not None
                                                        and was.value != s.parsed.value else ""))


def _costs_after_words(found: dict[str, list[Scored]], result: dict[str, FieldValue], chosen: dict[str, Scored],
                       total: Decimal) -> None:
    """The total replaced by its words' amount (its leading digits lost as read): labour and parts
    the old total confirmed (both read without their leading 1 at a rule, 334.00 + 324.26 + 80.00 −
    260.74 = 477.52 of 1477.52) are confirmed no more. The readings that make the new total are
    taken, for review; none: the two go to review as read."""
    if _chosen_make(chosen, total):
        return
    pair = _costs_for_total(found, chosen, total)
    if pair is not None:
        _take_costs(result, pair, "with the total's words, labour + parts (+ other - discount) agree")
    for f in ("labor_cost", "parts_cost"):
        if f in result:
            result[f].confidence = min(result[f].confidence, LEADING_LOST_CONFIDENCE)
            if pair is None:
                result[f].note = joined(result[f].note, "the sum agreed with the total as read, not with its words")


def _check_with_upper(index: PageIndex, result: dict[str, FieldValue], chosen: dict[str, Scored],
                      found: dict[str, list[Scored]]) -> None:
    """Compare the total with its 大写 form: agreement confirms it, a disagreement the sum settles."""
    upper = _upper_amount(index)
    if upper is None:
        _check_with_loose_upper(index, result, chosen)
        return
    amount, ln = upper
    total = result.get("total_cost")
    in_words = f"the amount in words ({money.fmt(amount)})"
    if total is not None and total.value == money.fmt(amount) and total.valid:
        total.confidence = max(total.confidence, 0.95)
        total.note = joined(total.note, f"{in_words} agrees")
        return
    if total is not None and total.valid and total.value is not None \
            and _leading_digits_lost(amount, Decimal(total.value)):
        # the total read without the leading digits its words have (245.55 for 壹仟贰佰肆拾伍元伍角伍分)
        result["total_cost"] = FieldValue(money.fmt(amount), LEADING_LOST_CONFIDENCE, ln.page, ln.box, ln.text, True,
                                          f"from {in_words}; read {total.value}: its leading digits lost")
        _costs_after_words(found, result, chosen, amount)
        return
    sum_agrees = _chosen_make(chosen, amount)
    pair = _costs_for_total(found, chosen, amount) if not sum_agrees else None
    if pair is not None:
        # other readings of labour and parts make the words' total (450.00 read again where 50.00
        # was taken, the 4 as a currency mark; the total read 70.00, its 4 under the seal)
        result["total_cost"] = FieldValue(money.fmt(amount), 0.9, ln.page, ln.box, ln.text, True,
                                          f"from {in_words}; labour + parts (+ other - discount) of their other "
                                          "readings agree")
        changed = {f: s for f, s in pair.items() if f not in result or result[f].value != s.parsed.value}
        _take_costs(result, changed, f"with {in_words}, the sum agrees")
        for f in pair:
            result[f].confidence = max(min(result[f].confidence, 0.9), WORDS_AND_SUM_CONFIDENCE)
        return
    if total is None or not total.valid or sum_agrees:
        conf = 0.9 if sum_agrees else 0.7
        note = f"from {in_words}" + ("; labour + parts (+ other - discount) agree" if sum_agrees else "")
        result["total_cost"] = FieldValue(money.fmt(amount), conf, ln.page, ln.box, ln.text, True, note)
        if sum_agrees:
            _confirm_costs(result, 0.9)
        return
    # the words and the total disagree, and no readings settle it: neither is trusted (a total
    # the sum confirmed, both it and a cost read without the same leading digit: 70.00 and 50.00
    # for 470.00 and 450.00, 肆佰柒拾元整 in words)
    total.confidence = min(total.confidence, WORDS_DISAGREE_CONFIDENCE)
    total.note = joined(total.note, f"{in_words} disagrees")
    for f in ("labor_cost", "parts_cost"):
        if f in result:
            result[f].confidence = min(result[f].confidence, LEADING_LOST_CONFIDENCE)


NEXT_SERVICE_CONFIRMED = 0.95  # a mileage the service reminder's next reading confirms
NEXT_SERVICE_REPAIRED = 0.75  # ... or gives the leading digits of: for review
NEXT_SERVICE_DOUBT = 0.75  # ... or denies (no round interval between them): for review


# A value printed over its cell's left rule loses its first character on the first pass (JS-… read
# S-…, 010-7258… read 10-7258…); a mileage's lost leading 1 leaves no trace (a 1 on the vertical
# rule: 118,083 read 18,083 at 0.96, the second reading too). Values printed out of register are
# all shifted alike, so where another value of the mileage's column (labels starting together)
# lost its first character, the mileage is for review.
COLUMN_LOST_FIELDS = ("mileage_km",)
COLUMN_LOST_CONFIDENCE = 0.75


def _label_left_of(index: PageIndex, fld: str, box: Box, page: int) -> Line | None:
    """The line holding ``fld``'s label on the row of ``box``, left of it (the nearest)."""
    rows = [ln for ln in index.pages[page - 1] if ln.box[2] <= box[0] + 0.5 * ln.height
            and same_row(ln.box, box) and any(h.field == fld for h in ln.hits)]
    return max(rows, key=lambda ln: ln.box[2], default=None)


def _first_character_lost(first: str, value: str) -> bool:
    """``first`` (the first pass's reading) is ``value`` without its first character, one other
    misread allowed (O and 0 alike)."""
    a = "".join(c for c in first.upper() if c.isalnum()).replace("O", "0")
    b = "".join(c for c in value.upper() if c.isalnum()).replace("O", "0")
    return len(b) >= 5 and len(a) == len(b) - 1 and levenshtein_le1(a, b[1:]) and not levenshtein_le1(a, b[:-1])


def _columns_lost_first(index: PageIndex, found: dict[str, list[Scored]], chosen: dict[str, Scored]) -> None:
    labelled: dict[str, tuple[Line, Scored]] = {}
    for fld, s in chosen.items():
        lab = _label_left_of(index, fld, s.cand.box, s.cand.page)
        if lab is not None:
            labelled[fld] = (lab, s)
    lost = []
    for fld, (lab, s) in labelled.items():
        if fld in ("vin", "plate"):  # a VIN's faint first L, a plate's province character: lost anywhere
            continue
        firsts = [c for c in found.get(fld, []) if c.cand.how == "right" and c.cand.page == lab.page
                  and same_row(c.cand.box, lab.box)]
        if firsts and _first_character_lost(firsts[0].cand.text, s.parsed.value):
            lost.append((fld, lab))
    for fld in COLUMN_LOST_FIELDS:
        if fld not in labelled:
            continue
        lab, s = labelled[fld]
        others = [g for g, la in lost if g != fld and la.page == lab.page and abs(la.box[0] - lab.box[0]) < 0.5 * lab.height]
        if others:
            s.add_note(f"the {', '.join(g.replace('_', ' ') for g in others)} of its column lost the first character on the cell's rule: "
                       "a lost leading 1 would leave no trace", cap=COLUMN_LOST_CONFIDENCE)


def _mileage_by_next_service(index: PageIndex, chosen: dict[str, Scored]) -> None:
    """The mileage against the service reminder's next reading (下次保养里程 149685公里), printed
    apart from the cell and its rules: a usual interval between them confirms it; a reading that
    is one of the usual interval's mileages without its leading digits (44685 of 144685, its 1 on
    the cell's rule) is that mileage, for review; a difference no round interval is (not a
    multiple of 500 km from 1,000 to 30,000) doubts it, for review."""
    s = chosen.get("mileage_km")
    nexts = {k for ln in index.all_lines() if (k := mileage.next_service_km(ln.text)) is not None}
    if s is None or not s.parsed.valid or len(nexts) != 1:
        return
    nxt = nexts.pop()
    read = int(s.parsed.value)
    options = mileage.this_visit_km(nxt)
    if read in options:
        s.add_note(f"the next service at {nxt} km is a usual interval after it")
        s.lift(NEXT_SERVICE_CONFIRMED)
        return
    lost = [o for o in options if _leading_digits_lost(Decimal(o), Decimal(read), least=Decimal(0))]
    if len(lost) == 1:
        s.parsed = Parsed(str(lost[0]), s.parsed.confidence, True,
                          joined(s.parsed.note, f"read {read}: its leading digits lost at the cell's rule? the next "
                                 f"service at {nxt} km is {nxt - lost[0]} km after {lost[0]}"))
        s.cap(NEXT_SERVICE_REPAIRED)
    elif not (1000 <= nxt - read <= 30000 and (nxt - read) % 500 == 0):
        s.add_note(f"the next service at {nxt} km is no round interval after it: misread?", cap=NEXT_SERVICE_DOUBT)


def _plate_with_local_province(page_text: str, found: dict[str, list[Scored]], chosen: dict[str, Scored]) -> None:
    """A plate read without its province character gets the dealer's province, for review: the
    surest of the plate's readings that becomes a plate so (not only the one chosen, which may be
    another box's text no province makes a plate)."""
    s = chosen.get("plate")
    if s is None or s.parsed.valid:
        return
    local = local_province(page_text)
    if not local:
        return
    for c in [s, *sorted((o for o in found.get("plate", []) if o is not s), key=lambda o: -o.confidence)]:
        r = plate.with_province(c.cand.text, *local)
        if r is not None:
            c.parsed = Parsed(r.value, r.confidence, True, r.note)
            c.confidence = r.confidence * LAYOUT_FACTOR[c.cand.how] * ocr_factor(c.cand.ocr_conf)
            chosen["plate"] = c
            return


SERIES_CONFIDENCE = 0.6  # a model whose series name was repaired (car_series): for review


def _model_series(pages: list[PageText], page_text: str, chosen: dict[str, Scored]) -> None:
    """A model whose series name or trim is no known word gets the one the recogniser's second
    choice for one of its characters makes (探品 with 岳 beside 品: 探岳; 耦英版: 精英版); else a
    series name no car has, one character from one the market has (减派 for 凌派; between two, the
    one of the make the page names), gets that series. Both for review. One that starts with a
    lone character no series is (度1.5LCVT) goes to review."""
    s = chosen.get("model")
    if s is None:
        return
    for ln in (ln for p in pages for ln in p.region_reads.get("model", [])):
        r = from_alternatives(s.parsed.value, ln)
        if r is not None:
            s.parsed = Parsed(r, SERIES_CONFIDENCE, True,
                              f"read {s.parsed.value}: a character misread, the recogniser's second choice taken")
            s.confidence = min(s.confidence, SERIES_CONFIDENCE)
            return
    r = series_repair(s.parsed.value, page_text)
    if r is not None:
        s.parsed = Parsed(r, SERIES_CONFIDENCE, True, f"read {s.parsed.value}: a character of the series name misread")
        s.confidence = min(s.confidence, SERIES_CONFIDENCE)
    elif (r := engine_word_repair(s.parsed.value)) is not None:
        s.parsed = Parsed(r, SERIES_CONFIDENCE, True, f"read {s.parsed.value}: a letter of an engine's name misread")
        s.confidence = min(s.confidence, SERIES_CONFIDENCE)
    elif lone_character(s.parsed.value) and s.parsed.confidence > SERIES_CONFIDENCE:
        s.parsed = Parsed(s.parsed.value, SERIES_CONFIDENCE, s.parsed.valid,
                          "one character that is no series: the first of its name lost?")
        s.confidence = min(s.confidence, SERIES_CONFIDENCE)


# Digits dot-matrix print and a fax make one another (a stroke or a dot row lost or gained)
DATE_DIGIT_CONFUSIONS = {"0": "86", "1": "7", "3": "8", "5": "86", "6": "58", "7": "1", "8": "0356", "9": "8"}
STAY_DAYS = 31  # a car stays at most this long for a repair whose dates are repaired so
DATE_REPAIRED_CONFIDENCE = 0.6
DATE_SURER_BY = 0.2  # one date's reading this much surer than the other's: the other is the misread one


def _date_neighbours(value: str) -> list[str]:
    """``value`` (YYYY-MM-DD…) with one digit of its month or day read as a confusable one, each a real date."""
    out = []
    for i in (5, 6, 8, 9):
        for d in DATE_DIGIT_CONFUSIONS.get(value[i], ""):
            v = value[:i] + d + value[i + 1:]
            try:
                date.fromisoformat(v[:10])
            except ValueError:
                continue
            out.append(v)
    return out


def _stay_days(din: str, dout: str) -> int:
    return (date.fromisoformat(dout[:10]) - date.fromisoformat(din[:10])).days


def _cross_check_dates(chosen: dict[str, Scored]) -> None:
    """Date out before date in: one of them misread. When one confusable digit of one of them
    (2021-05-01 for 2021-08-01: a 5 and an 8 are one dot row apart) makes a stay of 0 to
    ``STAY_DAYS`` days, and only one does, it is taken, for review; else both go to review."""
    din, dout = chosen.get("date_in"), chosen.get("date_out")
    if not (din and dout and din.parsed.valid and dout.parsed.valid and dout.parsed.value < din.parsed.value):
        return
    a, b = din.parsed.value, dout.parsed.value
    try:
        fixes = [(din, v, a) for v in _date_neighbours(a) if 0 <= _stay_days(v, b) <= STAY_DAYS] \
            + [(dout, v, b) for v in _date_neighbours(b) if 0 <= _stay_days(a, v) <= STAY_DAYS]
    except ValueError:  # a value that is no ISO date: nothing to compare digit by digit
        fixes = []
    if len(fixes) == 2 and fixes[0][0] is not fixes[1][0]:
        # one fix for each date: the one read much less surely is the misread one (出厂日期 at 0.49
        # against 进厂日期 at 0.83 and its second reading at 1.0)
        surer = max(din.cand.ocr_conf, dout.cand.ocr_conf)
        if abs(din.cand.ocr_conf - dout.cand.ocr_conf) >= DATE_SURER_BY:
            fixes = [f for f in fixes if f[0].cand.ocr_conf < surer]
    if len(fixes) == 1:
        s, v, read = fixes[0]
        s.parsed = Parsed(v, DATE_REPAIRED_CONFIDENCE, True,
                          joined(s.parsed.note, f"read {read}, before the other date: a digit misread"))
        s.confidence = min(s.confidence, DATE_REPAIRED_CONFIDENCE)
        return
    for s in (din, dout):
        s.confidence = min(s.confidence, 0.5)
        s.parsed = Parsed(s.parsed.value, s.parsed.confidence, False, "date out is before date in")


VinsForPlate = Callable[[str], Collection[str]]


def _vin_with_evidence(found: dict[str, list[Scored]], chosen: dict[str, Scored], vins_for_plate: VinsForPlate) -> None:
    """Read the VIN candidates again with the VINs the archive has seen with this plate."""
    plate, current = chosen.get("plate"), chosen.get("vin")
    if plate is None or not plate.parsed.valid or current is None or (current.parsed.valid and current.parsed.confidence >= 1.0):
        return
    try:
        known = [v for v in vins_for_plate(plate.parsed.value) if vin.is_valid(v)]
    except Exception:  # evidence is a help; its failure must not fail extraction
        log.exception("looking up the VINs of plate %s failed", plate.parsed.value)
        return
    if not known:
        return
    for s in found.get("vin", []):
        r = vin.read_vin(s.cand.text, known)
        if r is not None and r.valid and r.value in known:
            note = r.note + (f"; manufacturer {r.manufacturer}" if r.manufacturer else "")
            s.parsed = Parsed(r.value, r.confidence, True, note)
            s.confidence = r.confidence * LAYOUT_FACTOR[s.cand.how] ** 0.5 * ocr_factor(max(s.cand.ocr_conf, 0.9))
            chosen["vin"] = s
            return


ODOMETER_DOUBT = 0.6  # a mileage the vehicle's other orders deny (the odometer ran backwards): for review
MileagesFor = Callable[[str], Collection[tuple[str, int]]]


def _mileage_with_history(chosen: dict[str, Scored], mileages_for: MileagesFor) -> None:
    """The mileage against the vehicle's other orders in the archive (by its VIN, else its plate):
    an odometer does not run backwards, so an earlier order's higher reading, or a later order's
    lower one, doubts this one (177821 read 77821, its 1 on the cell's rule, after 170000 km
    three months before), for review."""
    s, day = chosen.get("mileage_km"), chosen.get("date_in") or chosen.get("date_out")
    v, p = chosen.get("vin"), chosen.get("plate")
    key = v.parsed.value if v is not None and v.parsed.valid else p.parsed.value if p is not None and p.parsed.valid else None
    if s is None or not s.parsed.valid or day is None or not day.parsed.valid or key is None:
        return
    km, when = int(s.parsed.value), day.parsed.value
    others = list(mileages_for(key))
    earlier = [(d, m) for d, m in others if d < when and m > km]
    later = [(d, m) for d, m in others if d > when and m < km]
    if earlier:
        d, m = max(earlier, key=lambda dm: dm[1])
        s.add_note(f"an earlier order of this vehicle ({d}) read {m} km: an odometer does not run backwards",
                   cap=ODOMETER_DOUBT)
    elif later:
        d, m = min(later, key=lambda dm: dm[1])
        s.add_note(f"a later order of this vehicle ({d}) read {m} km, fewer: an odometer does not run backwards",
                   cap=ODOMETER_DOUBT)


def _from_learned(index: PageIndex, pages: list[PageText], t: LearnedTemplate, today: date,
                  marks: list[Mark] | None = None) -> dict[str, list[Scored]]:
    """Candidates where the learned template says the value is; trusted as far as the rule was right.

    A learned place never outranks the labels: it is a fallback where the labels give no valid
    value, and otherwise evidence about the labels' reading (``_learned_evidence``)."""
    out: dict[str, list[Scored]] = {}
    for fld, cand in apply_learned(t, index, pages, today, marks).items():
        lf = t.fields[fld]
        s = _score(fld, cand, 99, True, today)
        if s is not None:
            s.confidence *= 0.6 + 0.4 * lf.trust ** 2  # 1 right: 0.7, 3: 0.83, 5 and never wrong: 0.88
            s.add_note(f"learned template {t.name} ({lf.right} right, {lf.wrong} wrong)")
            if cand.how == PLACED:
                s.add_note(f"its label ({lf.anchor}) not read: the value at the label's learned place",
                           cap=PLACED_CONFIDENCE)
            out.setdefault(fld, []).append(s)
    return out


CONFIRM_UNSURE_CAP = 0.79  # a confirmed reading OCR doubts stays under the review threshold (0.8)


def _overlap(a: Box, b: Box) -> float:
    """The share of the smaller box that the two boxes share."""
    w, h = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / max(1.0, min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])))


def _learned_not_anothers(found: dict[str, list[Scored]], chosen: dict[str, Scored]) -> None:
    """A value from a learned place that another field's label reads there (a scan shifted the
    total's line into the parts box) is that field's, not this one's: the next candidate, or none."""
    others = [o for o in chosen.values() if o.cand.how not in LEARNED_HOWS]
    for fld, cands in found.items():
        taken = [c for c in cands if c.cand.how in LEARNED_HOWS and any(
            o.field != fld and o.cand.page == c.cand.page and o.parsed.value == c.parsed.value
            and _overlap(o.cand.box, c.cand.box) > 0.5 for o in others)]
        if not taken:
            continue
        found[fld] = [c for c in cands if c not in taken]
        if chosen.get(fld) in taken:
            if found[fld]:
                chosen[fld] = _pick(found[fld])
            else:
                del chosen[fld]


def _learned_evidence(found: dict[str, list[Scored]], chosen: dict[str, Scored], t: LearnedTemplate) -> None:
    """What the learned place reads, against the labels' reading: the same value confirms it (its
    confidence rises with the rule's record), a different valid value sends the field to review."""
    for fld, s in chosen.items():
        if s.cand.how in LEARNED_HOWS or not s.parsed.valid or fld not in t.fields:
            continue
        learned = [o for o in found.get(fld, []) if o.cand.how in LEARNED_HOWS and o.parsed.valid]
        if not learned:
            continue
        lf = t.fields[fld]
        if fld in UNVALIDATED and any(len(o.parsed.value) >= 2 and s.parsed.value != o.parsed.value
                                      and (fold(o.parsed.value) in fold(s.parsed.value)
                                           or fold(s.parsed.value) in fold(o.parsed.value)) for o in learned):
            # the learned box, as wide as a shorter value was, holds a piece of this longer one, or
            # this one and a piece of the next box (OCR joined them): no evidence either way
            continue
        if any(o.parsed.value == s.parsed.value for o in learned):
            # the label and the learned place point at the same value: which text is the value is
            # settled; how well OCR read it is not (both read the same print), so the OCR's doubt
            # stays: a line OCR doubts is not lifted over the review threshold, nor a number whose
            # print is damaged (2l7396KM read as 2 km, in both places)
            if print_damaged(fld, s.cand.text, s.parsed.value):  # both read the same broken print
                s.add_note(f"printed {s.cand.text.strip()}: the value read is a piece of it", cap=0.7)
                continue
            reading = s.parsed.confidence * ocr_factor(s.cand.ocr_conf)
            if fld in UNVALIDATED and s.cand.ocr_conf < UNSURE_OCR:
                reading *= UNSURE_OCR_FACTOR
            lifted = min(0.99, reading * (0.9 + 0.1 * lf.trust))
            if s.cand.ocr_conf < UNSURE_OCR:
                lifted = min(lifted, CONFIRM_UNSURE_CAP)
            s.lift(lifted)
            s.add_note(f"confirmed by learned template {t.name} ({lf.right} right, {lf.wrong} wrong)")
        else:
            s.add_note(f"the learned template reads {learned[0].parsed.value}; the labels disagree", cap=0.7)


def _learned_values(chosen: dict[str, Scored], t: LearnedTemplate, today: date) -> None:
    """The chosen readings against what this layout's values look like (``learn.check_value``):
    a repair is offered with the pattern's trust, at most just above the review threshold; a
    reading that does not fit the pattern goes to review; a known advisor read exactly is surer."""
    for fld in VALUE_FIELDS:
        s = chosen.get(fld)
        if s is None or not s.parsed.value:
            continue
        vc = check_value(t, fld, s.parsed.value, s.cand.text, s.cand.ocr_conf)
        if vc is None:
            continue
        first = s.replaced
        if not vc.agrees and first is not None and first.parsed.valid and (
                fc := check_value(t, fld, first.parsed.value, first.cand.text, first.cand.ocr_conf)) is not None \
                and fc.agrees and not fc.repaired:
            # a second reading that does not fit this layout's pattern replaced a first that does
            # (RU2112273966 read again for RO2112273966): the first, for review as both were
            first.add_note(f"read again as {s.parsed.value}, which does not fit this layout; {fc.note}",
                           cap=REREAD_REPLACED)
            chosen[fld] = first
            continue
        if vc.repaired:
            p = PARSERS[fld](vc.value, today)
            if p is None or not p.valid:
                continue
            s.confidence = 0.5 + 0.4 * vc.trust  # 3 of 3 documents: 0.8; 9 of 9: 0.86
            s.parsed = Parsed(p.value, p.confidence, True, joined(s.parsed.note, vc.note))
        elif not vc.agrees:
            s.add_note(vc.note, cap=0.7)
        else:
            if fld in ROSTER_FIELDS and s.parsed.valid:
                s.lift(min(0.95, 0.8 + 0.15 * vc.trust) * ocr_factor(max(s.cand.ocr_conf, 0.9)))
            s.add_note(vc.note)


def extract(pages: list[PageText], settings: Settings, *, today: date | None = None,
            vins_for_plate: VinsForPlate | None = None, learned: list[LearnedTemplate] | None = None,
            mileages_for: MileagesFor | None = None) -> Extraction:
    """Canonical fields and repair items of one document's pages.

    ``vins_for_plate(plate)``: the VINs the archive has seen with a plate (from app/ingest), the
    evidence that confirms a VIN repair. ``learned``: the archive's learned templates; the one
    whose layout fingerprint matches this document adds its learned candidates.
    ``mileages_for(vin_or_plate)``: the (date, km) of the vehicle's other orders, evidence that a
    mileage was misread (``_mileage_with_history``).
    """
    today = today or date.today()
    templates = load_templates(settings.templates_dir) if settings.templates_dir else []
    template = choose_template(templates, "\n".join(p.text for p in pages))
    lexicon = Lexicon().extended(template.labels) if template else Lexicon()
    index = PageIndex.build(pages, lexicon)

    found, seen = _labelled(index, today)
    marks = fingerprint(index, pages) if learned else None
    lt = choose_learned(learned, marks, pages, index, today) if learned and marks is not None else None
    if lt is not None:
        for fld, scored in _from_learned(index, pages, lt, today, marks).items():
            found.setdefault(fld, []).extend(scored)
    if template:
        for fld, scored in _from_regions(index, pages, template, today).items():
            found.setdefault(fld, []).extend(scored)
    if not any(s.parsed.valid and s.parsed.confidence >= 1.0 for s in found.get("vin", [])):
        first = {sc.parsed.value for sc in found.get("vin", []) if sc.parsed.valid}
        found.setdefault("vin", []).extend(_reread(pages, "vin", today, first))
    for fld in SCANNABLE:
        if not any(s.parsed.valid for s in found.get(fld, [])):
            found.setdefault(fld, []).extend(_scanned(index, fld, today, labelled=fld in seen or bool(found.get(fld))))
    _unlabelled(index, found, today)

    chosen = {fld: _pick(c) for fld, c in found.items() if c}
    _order_no_cut_on_another_page(found, chosen)
    _vin_readings_disagree(found, chosen)
    _vin_combined(pages, found, chosen, settings.review_threshold)
    _vin_cut_at_the_next_label(index, found, chosen)
    _vin_bar_lost(found, chosen)
    _reread_values(pages, found, chosen, today)
    _doubted_characters(pages, chosen, settings.review_threshold, today)
    _doubted_surnames(pages, chosen, settings.review_threshold)
    if lt is not None:
        _learned_not_anothers(found, chosen)
        _learned_evidence(found, chosen, lt)
        if same_shop(lt, pages) is not False:  # another dealer's values are not this one's
            _learned_values(chosen, lt, today)
    if vins_for_plate is not None:
        _vin_with_evidence(found, chosen, vins_for_plate)
    tables = item_tables(index)  # once: evidence for the costs here, the document's items below
    _costs_by_items(tables, found, chosen)
    _cross_check_money(index, found, chosen)
    _costs_under_a_seal(index, seen, chosen, today)
    _costs_by_position(index, seen, chosen, today)
    _parts_by_the_sum(index, chosen, today)
    _cross_check_dates(chosen)
    _columns_lost_first(index, found, chosen)
    _mileage_by_next_service(index, chosen)
    if mileages_for is not None:
        _mileage_with_history(chosen, mileages_for)
    page_text = "\n".join(ln.text for ln in index.all_lines())
    _plate_with_local_province(page_text, found, chosen)
    _model_series(pages, page_text, chosen)

    result = Extraction(template=lt.name if lt else template.name if template else None)
    for fld in CANONICAL_FIELDS:
        if fld in chosen:
            result.fields[fld] = chosen[fld].to_field()
        elif fld in seen:
            ln = seen[fld]
            result.fields[fld] = FieldValue(None, 0.0, ln.page, ln.box, ln.text, False, "label found, no value read")
    if "total_cost" not in chosen:
        inferred = _infer_total(index, chosen, today)
        if inferred is not None:
            result.fields["total_cost"] = inferred
        # a computed total (or none) checks nothing, one that leaves the discount's cents open
        # checks them to the yuan: labour and parts stay unverified
        if inferred is None or not inferred.valid or inferred.note.startswith(DISCOUNT_CENTS_NOTE):
            for f in ("labor_cost", "parts_cost"):
                if f in result.fields:
                    result.fields[f].confidence = min(result.fields[f].confidence, 0.75)
    _check_with_upper(index, result.fields, chosen, found)
    result.items = [item for table in tables for item in table.items]
    _document_type(pages, lexicon, result, today, settings.review_threshold)
    _poor_copy(pages, result, settings.review_threshold)
    finish(result.fields, result, settings.review_threshold)
    return result


def _document_type(pages: list[PageText], lexicon: Lexicon, result: Extraction, today: date, threshold: float) -> None:
    """Classify the document; on an invoice, a receipt or a non-Chinese page no work-order field is trusted."""
    from extractors.doctype import INVOICE, RECEIPT, WORK_ORDER, classify, extract_invoice
    from extractors.receipt import extract_receipt

    dt = classify(pages, lexicon)
    result.doc_type = dt.kind
    if dt.kind == INVOICE:
        result.doc_fields = extract_invoice(pages, today)
    elif dt.kind == RECEIPT:
        result.doc_fields = {k: v for k, v in extract_receipt(pages, today).items() if v is not None}
    # a page with few work-order markers may still be one (a partial scan, a second page): only
    # another type, or a page without Chinese (these work orders are Chinese documents), is
    # positively not a work order
    text = "".join(ln.text for p in pages for ln in p.lines)
    letters = sum(ch.isalpha() for ch in text)
    cjk = sum(is_cjk(ch) for ch in text)
    if dt.kind in (INVOICE, RECEIPT) or (dt.kind != WORK_ORDER and letters and cjk < 0.05 * letters):
        for fv in result.fields.values():
            fv.confidence = min(fv.confidence, threshold * 0.6)
            fv.note = joined(fv.note, f"the document looks like {dt.kind.replace('_', ' ')}, not a work order")


# A page whose text OCR read at a median confidence under this is a poor copy (a fax of a
# dot-matrix form, a faint carbon): its values may be wrong in ways no check sees (a phone's 4
# read as 1 at the recogniser's 1.00), so each goes to review. On two dev sets (160 documents)
# the other pages read at a median of 0.935-0.99; five of the six under 0.92 had errors (13, 7,
# 6, 4 and 2 fields), one a confidently wrong phone (RapidOCR's confidences; Tesseract's are not on this scale, but
# only RapidOCR reads the work orders' Chinese)
POOR_COPY_MEDIAN = 0.92
POOR_COPY_MIN_LINES = 10


def _poor_copy(pages: list[PageText], result: Extraction, threshold: float) -> None:
    confs = [ln.conf for p in pages if p.source == "ocr" for ln in p.lines]
    if len(confs) < POOR_COPY_MIN_LINES:
        return
    median = statistics.median(confs)
    if median >= POOR_COPY_MEDIAN:
        return
    for fv in result.fields.values():
        if fv.value is not None and fv.confidence >= threshold:
            fv.confidence = round(threshold * 0.95, 3)
            fv.note = joined(fv.note, f"a poor copy (its text read at a median OCR confidence of {median:.2f}): to be checked")


def finish(fields: dict[str, FieldValue], result: Extraction | None, threshold: float) -> tuple[float, bool]:
    """Document confidence (lowest field) and whether any field is under the review threshold."""
    confs = [fv.confidence for fv in fields.values()]
    confidence = min(confs) if confs else 0.0
    needs_review = any(c < threshold for c in confs) or not confs
    if result is not None:
        result.confidence, result.needs_review = confidence, needs_review
    return confidence, needs_review
