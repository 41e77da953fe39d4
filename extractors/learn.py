"""Learning a form from a clerk's corrections: layout fingerprints and learned templates.

A dealership prints the same few layouts for years. A correction in review says where, on this
layout, a field's value sits: next to which printed label (the *anchor*), at what offset from it.
Documents are grouped by a **fingerprint** of the layout: the printed labels of the page's upper
half (their positions as fractions of the page; wording may differ between documents of one
layout, positions do not). A **learned template** holds, per field, the anchor wording, the value
box relative to the anchor (in anchor heights) and how often that rule was right on the documents
that taught it; it is a readable TOML file (docs/templates.md) that an admin may edit.

``learn(template, pages, truth)`` updates a template from one corrected document;
``apply_learned(template, index, pages)`` gives the learned candidates of a new document.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from core.identifiers import PROVINCES
from core.models import Box, PageText
from extractors.car_series import listed_series
from extractors.fields import MONEY_FIELDS, PARSERS, UNSURE_OCR, cut_at_hyphen
from extractors.labels import Lexicon
from extractors.layout import Candidate, Line, PageIndex
from extractors.text import edit_distance, nfkc
from extractors.vin import manufacturer

log = logging.getLogger(__name__)

MATCH_DISTANCE = 0.02  # fraction of the page: two labels at the same place
MIN_SIMILARITY = 0.7  # share of fingerprint labels found at the same place
MAX_SHIFT = 0.1  # fraction of the page a scan may be cropped by
MAX_SCALE = 0.15  # and scaled by
FINGERPRINT_TOP = 0.4  # the labels of the upper part of the page (the header block; tables grow below it)


@dataclass(frozen=True)
class Mark:
    """One printed label of a layout: its wording, what it labels, its centre (fractions of the page)."""

    wording: str
    field: str
    x: float
    y: float


@dataclass
class LearnedField:
    anchor: str  # wording of the label the value sits relative to
    anchor_at: tuple[float, float]  # where that label was (fractions of the page), to find a reworded one
    offset: tuple[float, float, float, float]  # value box minus anchor box origin, in anchor heights
    right: int = 0
    wrong: int = 0

    @property
    def trust(self) -> float:
        """How often the rule was right, with a prior of one miss: 1 right -> 0.5, 5 -> 0.83."""
        return (self.right + 0.0) / (self.right + self.wrong + 1.0)


@dataclass
class LearnedTemplate:
    name: str
    fingerprint: list[Mark]
    fields: dict[str, LearnedField] = field(default_factory=dict)
    documents: list[str] = field(default_factory=list)  # ids of the documents that taught it
    # what the values of this layout look like (the dealer's order-number pattern, the plate's
    # province and city, the advisors' names): field -> shape / prefix / name -> documents
    values: dict[str, dict[str, int]] = field(default_factory=dict)
    path: Path | None = None
    # document id -> the fields it has taught (a document corrected field by field teaches each
    # field once: its second correction must not count the first one's rule right again)
    taught: dict[str, list[str]] = field(default_factory=dict)
    # field -> [right, wrong]: how often a corrected document's value was what ``values`` expected
    checks: dict[str, list[int]] = field(default_factory=dict)
    # the dealer's own printed text (its name: ...有限公司, ...4S店) -> on how many taught documents:
    # one form (the national standard one) is printed by many dealers; their values differ
    shop: dict[str, int] = field(default_factory=dict)


def fingerprint(index: PageIndex, pages: list[PageText]) -> list[Mark]:
    """The printed labels of the first page's upper part, with their positions."""
    if not pages or not index.pages:
        return []
    p = pages[0]
    out = []
    for ln in index.pages[0]:
        for h in ln.hits:
            b = ln.span_box(h.start, h.end)
            cx, cy = (b[0] + b[2]) / 2 / p.width, (b[1] + b[3]) / 2 / p.height
            if cy <= FINGERPRINT_TOP:
                out.append(Mark(h.wording, h.field, round(cx, 4), round(cy, 4)))
    return out


SHOP_WORDS = ("公司", "4S", "店", "集团")
SHOP_MIN_SHARE = 0.6  # a line on this share of the taught documents is the dealer's own


def _top_lines(pages: list[PageText]) -> list[str]:
    """The lines of the first page's upper part of six characters or more, spaces removed; once each."""
    if not pages:
        return []
    p = pages[0]
    out: list[str] = []
    for ln in p.lines:
        text = "".join(nfkc(ln.text).split())
        if (ln.box[1] + ln.box[3]) / 2 <= FINGERPRINT_TOP * p.height and len(text) >= 6 and text not in out:
            out.append(text)
    return out


def shop_lines(pages: list[PageText]) -> list[str]:
    """The lines of the first page's upper part that name a company (the dealer: ...汽车销售服务有限公司)."""
    return [text for text in _top_lines(pages) if any(w in text for w in SHOP_WORDS)]


def same_shop(t: LearnedTemplate, pages: list[PageText]) -> bool | None:
    """Is this document the dealer's whose corrections taught ``t``? True when a line the dealer
    printed on most of them is on it (OCR may misread a character or two); False when the template
    knows such lines and none is here — the same form printed by another dealer, whose order
    numbers, advisors and models are its own; None when the template knows none."""
    n = len(t.documents)
    own = [k for k, c in t.shop.items() if n and c / n >= SHOP_MIN_SHARE]
    if not own:
        return None
    here = _top_lines(pages)  # OCR may have lost the 司 of 公司
    return any(edit_distance(k, h) <= max(1, len(k) // 6) for k in own for h in here)


def _fit(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    """Least squares ``u = a * v + b`` over (v, u) pairs; the scale kept near 1 (a scan is cropped
    or scaled a little, never squeezed)."""
    n = len(pairs)
    mv, mu = sum(v for v, _ in pairs) / n, sum(u for _, u in pairs) / n
    var = sum((v - mv) ** 2 for v, _ in pairs)
    a = sum((v - mv) * (u - mu) for v, u in pairs) / var if var > 1e-4 else 1.0
    a = min(1 + MAX_SCALE, max(1 - MAX_SCALE, a))
    return a, mu - a * mv


def _aligned(a: list[Mark], b: list[Mark]) -> tuple[float, float, float, float]:
    """The scale and shift per axis that bring ``a``'s labels onto ``b``'s: scans of one layout are
    cropped and scaled differently (the same label 3 % of the page apart). Tried: the shifts that
    put a label onto a label of the same wording; refined by least squares on the pairs it makes."""
    shifts = {(0.0, 0.0)} | {(o.x - m.x, o.y - m.y) for m in a for o in b
                             if m.field == o.field and m.wording == o.wording
                             and abs(o.x - m.x) <= MAX_SHIFT and abs(o.y - m.y) <= MAX_SHIFT}

    def pairs(dx: float, dy: float) -> list[tuple[Mark, Mark]]:
        out = []
        for m in a:
            near = [o for o in b if o.field == m.field and abs(m.x + dx - o.x) <= 2 * MATCH_DISTANCE
                    and abs(m.y + dy - o.y) <= 2 * MATCH_DISTANCE]
            if near:
                out.append((m, min(near, key=lambda o: abs(m.x + dx - o.x) + abs(m.y + dy - o.y))))
        return out

    dx, dy = max(sorted(shifts), key=lambda s: len(pairs(*s)))
    pr = pairs(dx, dy)
    if len(pr) < 3:
        return 1.0, dx, 1.0, dy
    ax, bx = _fit([(m.x, o.x) for m, o in pr])
    ay, by = _fit([(m.y, o.y) for m, o in pr])
    return ax, bx, ay, by


def similarity(a: list[Mark], b: list[Mark]) -> float:
    """How alike two fingerprints are, 0..1: once aligned (``_aligned``), the share of the labels
    that have a label of the same field at the same place in the other (the wording may change
    from document to document, the place does not), counted over the fingerprint with fewer
    labels — OCR loses labels, it does not print new ones at a layout's places."""
    if not a or not b:
        return 0.0
    ax, bx, ay, by = _aligned(a, b)

    def same(m: Mark, o: Mark) -> bool:
        return (m.field == o.field and abs(ax * m.x + bx - o.x) <= MATCH_DISTANCE
                and abs(ay * m.y + by - o.y) <= MATCH_DISTANCE)

    in_b = sum(any(same(m, o) for o in b) for m in a)
    in_a = sum(any(same(m, o) for m in a) for o in b)
    return min(in_a, in_b) / min(len(a), len(b))


# Two layouts of one dealer that grid the same fields alike match at 0.71-0.86 (learning dev sets
# 9331, 10002: the colour form against the label-above one), a layout's own scans at 0.69 and up:
# a match under SURE_SIMILARITY must also find valid values in at least EXPLAINED of the places
# the template learned (its own scans: 0.62 and up, but for fax copies whose labels are sure
# and values illegible; the other layout's: 0.46 at most)
SURE_SIMILARITY = 0.95
EXPLAINED = 0.5


def explained(t: LearnedTemplate, index: PageIndex, pages: list[PageText], today: date) -> float:
    """The share of ``t``'s learned fields whose learned place on ``pages`` holds a valid value."""
    fields = [f for f in t.fields if f in PARSERS]
    if not fields or not pages:
        return 0.0
    valid = 0
    for f in fields:
        c = _predict(t.fields[f], index, pages, today, f)
        p = PARSERS[f](c.text, today) if c is not None else None
        valid += p is not None and p.valid
    return valid / len(fields)


def choose_learned(templates: list[LearnedTemplate], marks: list[Mark],
                   pages: list[PageText] | None = None, index: PageIndex | None = None,
                   today: date | None = None) -> LearnedTemplate | None:
    """The template of this layout (the most similar fingerprint, at least ``MIN_SIMILARITY``,
    and with ``index`` given, under ``SURE_SIMILARITY`` only when it ``explained`` the page);
    given the ``pages``, among the templates of one form the one of this document's dealer first
    (``same_shop``: its own before one that knows no dealer, before another dealer's)."""
    best, key = None, (-1, MIN_SIMILARITY)
    for t in templates:
        s = similarity(t.fingerprint, marks)
        if s < MIN_SIMILARITY:
            continue
        if s < SURE_SIMILARITY and index is not None and pages and \
                explained(t, index, pages, today or date.today()) < EXPLAINED:
            continue
        shop = same_shop(t, pages) if pages is not None else None
        k = (0 if shop is False else 1 if shop is None else 2, s)
        if k >= key:
            best, key = t, k
    return best


def new_template(marks: list[Mark], shop: list[str] | None = None) -> LearnedTemplate:
    """A new template for the layout of ``marks`` (of the dealer printing ``shop``, when another
    dealer's template of the same form exists)."""
    digest = hashlib.sha256(json.dumps([(m.x, m.y) for m in marks] + (shop or []), ensure_ascii=False).encode()).hexdigest()[:10]
    return LearnedTemplate(f"layout-{digest}", marks)


def _fixed_text(ln: Line) -> bool:
    """Short text without digits that is no label we know: printed form text (用车人, 使用者 ...)."""
    t = ln.text.strip(" :：")
    return not ln.hits and 2 <= len(t) <= 8 and not any(c.isdigit() for c in t)


def _anchors(index: PageIndex, page_no: int, fld: str | None = None) -> list[tuple[str, Box]]:
    """The labels of a page (of field ``fld`` only, when given; else also other fixed text)."""
    out = []
    for ln in index.pages[page_no - 1]:
        for h in ln.hits:
            if fld is None or h.field == fld:
                out.append((h.wording, ln.span_box(h.start, h.end)))
        if fld is None and _fixed_text(ln):
            out.append((ln.text.strip(" :："), ln.box))
    return out


def _left_text(index: PageIndex, ln: Line) -> list[tuple[str, Box]]:
    """The fixed text directly left of ``ln`` on its row (an unknown label), if any."""
    row = [o for o in index.pages[ln.page - 1] if o is not ln and _fixed_text(o) and o.box[2] <= ln.box[0] + 2
           and min(o.box[3], ln.box[3]) - max(o.box[1], ln.box[1]) >= 0.5 * min(o.box[3] - o.box[1], ln.box[3] - ln.box[1])]
    if not row:
        return []
    o = max(row, key=lambda o: o.box[2])
    return [(o.text.strip(" :："), o.box)] if ln.box[0] - o.box[2] < 15 * max(1.0, o.box[3] - o.box[1]) else []


def _value_lines(index: PageIndex, fld: str, value: str, today: date) -> list[Line]:
    """Lines (or the text after a label in them) that read as ``value`` for ``fld``."""
    parser = PARSERS[fld]
    out = []
    for ln in index.all_lines():
        texts = [ln.text] + [ln.text[h.end:] for h in ln.hits]
        if any((p := parser(t, today)) is not None and p.value == value for t in texts if t.strip()):
            out.append(ln)
    return out


def _placed_anchor(lf: LearnedField, index: PageIndex, page: PageText,
                   align: tuple[float, float, float, float]) -> Box | None:
    """Where the anchor label should be on this page, from where it was on the taught ones and
    how this scan lies against them (``_aligned``): a fax can leave a layout's small labels
    unreadable (进日0 for 进厂日期) and its values legible. Its height is the page's labels'
    (median), its width its wording's at a character per height."""
    heights = sorted(ln.box[3] - ln.box[1] for ln in index.pages[0] if ln.hits)
    if not heights:
        return None
    h = heights[len(heights) // 2]
    ax, bx, ay, by = align
    return _label_box(lf.anchor, (ax * lf.anchor_at[0] + bx) * page.width, (ay * lf.anchor_at[1] + by) * page.height, h)


def _label_box(wording: str, cx: float, cy: float, h: float) -> Box:
    """The box a label of ``wording`` centred at (``cx``, ``cy``) takes at height ``h``: a Chinese
    character a height wide, a Latin one a little over half."""
    w = sum(1.0 if not c.isascii() else 0.55 for c in wording) * h
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


ROW_DISTANCE = 0.01  # fraction of the page: two learned anchors this close in height share a row


def _beside_anchor(lf: LearnedField, row: list[LearnedField], index: PageIndex, page: PageText,
                   align: tuple[float, float, float, float] | None) -> Box | None:
    """Where the anchor label should be, from another field's anchor on its row that is read (合计
    under a seal, 人工费 and 优惠金额 legible): a form's cost row moves with its item table's length,
    which the page's alignment (``_placed_anchor``) does not know; along the row its labels keep
    their places. Its height is the neighbour's, its width its wording's at a character per height."""
    scale = align[0] if align is not None else 1.0
    lines = [ln for ln in index.pages[0] if not ln.table_header]
    for nf in sorted(row, key=lambda o: abs(o.anchor_at[0] - lf.anchor_at[0])):
        found = [ln.span_box(h.start, h.end) for ln in lines for h in ln.hits if h.wording == nf.anchor]
        if len(found) != 1:  # not read, or printed twice: which one is the row's?
            continue
        b = found[0]
        cx = (b[0] + b[2]) / 2 + scale * (lf.anchor_at[0] - nf.anchor_at[0]) * page.width
        return _label_box(lf.anchor, cx, (b[1] + b[3]) / 2, b[3] - b[1])
    return None


PLACED = "placed"  # a candidate's ``how``: read at the learned place of an anchor not read


def _predict(lf: LearnedField, index: PageIndex, pages: list[PageText], today: date, fld: str,
             align: tuple[float, float, float, float] | None = None,
             row: list[LearnedField] | None = None) -> Candidate | None:
    """The value where ``lf`` says it is: relative to its anchor label, found by its wording or
    at its place; when no label is read there, where the anchor should be (``how`` = ``PLACED``):
    beside the other anchors of its ``row`` that are read, else by ``align`` (the scan against the
    taught ones)."""
    p = pages[0]
    anchors = _anchors(index, 1)
    same = [b for w, b in anchors if w == lf.anchor]
    if not same:  # the label reworded on this document: the label at the anchor's place
        ax, ay = lf.anchor_at
        same = [b for _, b in anchors if abs((b[0] + b[2]) / 2 / p.width - ax) <= MATCH_DISTANCE
                and abs((b[1] + b[3]) / 2 / p.height - ay) <= MATCH_DISTANCE]
    if not same and row:
        a = _beside_anchor(lf, row, index, p, align)
        c = _read_box(lf, index, a, fld) if a is not None else None
        if c is not None:
            return replace(c, how=PLACED)
    if not same and align is not None:
        a = _placed_anchor(lf, index, p, align)
        c = _read_box(lf, index, a, fld) if a is not None else None
        return None if c is None else replace(c, how=PLACED)
    if not same:
        return None
    ax, ay = lf.anchor_at
    # the anchor nearest the learned place first; when its wording is printed twice (人工费 as a
    # table heading and as the costs label, the costs block lower or higher with the table's
    # length), the first whose box holds a valid value
    same.sort(key=lambda b: abs((b[0] + b[2]) / 2 / p.width - ax) + abs((b[1] + b[3]) / 2 / p.height - ay))
    first = None
    for a in same:
        c = _read_box(lf, index, a, fld)
        if c is not None:
            parsed = PARSERS[fld](c.text, today)
            if parsed is not None and parsed.valid:
                return c
            first = first or c
    return first


# a model's words run on past the box the shorter models it was learned from filled (轩逸 1.6L XL
# after 轩逸 1.6L): the next piece of the same line, a space after, is the value's too
RUNS_ON = ("model",)


def _read_box(lf: LearnedField, index: PageIndex, a: Box, fld: str = "") -> Candidate | None:
    """The text in the learned box of an anchor at ``a``."""
    h = max(1.0, a[3] - a[1])
    box = (a[0] + lf.offset[0] * h, a[1] + lf.offset[1] * h, a[0] + lf.offset[2] * h, a[1] + lf.offset[3] * h)
    pieces = []
    for ln in index.pages[0]:
        cy = (ln.box[1] + ln.box[3]) / 2
        if not box[1] - 0.6 * h <= cy <= box[3] + 0.6 * h:
            continue
        inside, prev_end = False, 0
        for start, end in _value_spans(ln):
            pb = ln.span_box(start, end)
            runs_on = inside and fld in RUNS_ON and not ln.text[prev_end:start].strip()  # spaces, no label
            inside = box[0] - h <= (pb[0] + pb[2]) / 2 <= box[2] + h or runs_on  # this piece lies in the box
            prev_end = end
            if inside:
                pieces.append((ln, pb, ln.text[start:end].strip(" :：")))
    if not pieces:
        return None
    pieces.sort(key=lambda x: x[1][0])
    text = " ".join(t for _, _, t in pieces if t)
    if not text.strip():
        return None
    out_box = (min(b[0] for _, b, _ in pieces), min(b[1] for _, b, _ in pieces),
               max(b[2] for _, b, _ in pieces), max(b[3] for _, b, _ in pieces))
    return Candidate(text, 1, out_box, min(ln.conf for ln, _, _ in pieces), "learned")


def _value_spans(ln: Line) -> list[tuple[int, int]]:
    """The pieces of a line that are not labels, split at spaces (OCR joins two boxes' values into
    one line: "2023-06-21 2023-06-20"; the learned box says which one is the field's)."""
    spans, pos = [], 0
    cuts = [(h.start, h.end) for h in ln.hits] + [(len(ln.text), len(ln.text))]
    for a, b in cuts:
        seg_start = pos
        for i in range(pos, a + 1):
            if i == a or ln.text[i] == " ":
                if ln.text[seg_start:i].strip(" :："):
                    spans.append((seg_start, i))
                seg_start = i + 1
        pos = b
    return spans


def apply_learned(t: LearnedTemplate, index: PageIndex, pages: list[PageText], today: date,
                  marks: list[Mark] | None = None) -> dict[str, Candidate]:
    """The learned candidates of a new document; ``marks``: its fingerprint, when already made."""
    out = {}
    align = _aligned(t.fingerprint, fingerprint(index, pages) if marks is None else marks)
    for fld, lf in t.fields.items():
        if fld in PARSERS:
            row = [o for o in t.fields.values() if o.anchor != lf.anchor
                   and abs(o.anchor_at[1] - lf.anchor_at[1]) <= ROW_DISTANCE]
            c = _predict(lf, index, pages, today, fld, align, row)
            if c is not None:
                out[fld] = c
    return out


def learn(t: LearnedTemplate, pages: list[PageText], truth: dict[str, str], doc_id: str,
          lexicon: Lexicon | None = None, today: date | None = None) -> None:
    """Update ``t`` from one document whose fields a clerk corrected or confirmed (``truth``)."""
    today = today or date.today()
    index = PageIndex.build(pages, lexicon or Lexicon())
    if not pages:
        return
    p = pages[0]
    done = t.taught.setdefault(doc_id, [])
    new = {fld: value for fld, value in truth.items() if fld in PARSERS and value and fld not in done}
    learn_values(t, index, new, today)
    done.extend(new)
    for fld, value in new.items():
        lf = t.fields.get(fld)
        if lf is not None:  # first score the rule as it stands on this document
            c = _predict(lf, index, pages, today, fld)
            parsed = PARSERS[fld](c.text, today) if c is not None else None
            if parsed is not None and parsed.value == value:
                lf.right += 1
                continue
            lf.wrong += 1
        found = [ln for ln in _value_lines(index, fld, value, today) if ln.page == 1]
        # the field's own label is the anchor when the page has one; else any label, but only
        # when the value is printed once (the same date as in and out: which one is it?)
        anchors = (_anchors(index, 1, fld) or [a for ln in found for a in _left_text(index, ln)]
                   or (_anchors(index, 1) if len(found) == 1 else []))
        if not found or not anchors:
            continue
        best: tuple[float, str, Box, Box] | None = None
        for ln in found:
            for w, ab in anchors:
                if ab[0] >= ln.box[0] - 1 and ab[1] >= ln.box[1] - 1 and ab[2] <= ln.box[2] + 1:
                    # the label is inside the value's own line: the value is the text after it
                    vbox: Box = (ab[2], ln.box[1], ln.box[2], ln.box[3])
                else:
                    vbox = ln.box
                h = max(1.0, ab[3] - ab[1])
                dx = max(0.0, vbox[0] - ab[2], ab[0] - vbox[2])
                dy = max(0.0, vbox[1] - ab[3], ab[1] - vbox[3])
                left_or_above = vbox[0] >= ab[0] - 2 * h and vbox[1] >= ab[1] - 0.5 * h
                d = (dx + 2 * dy) / h + (0 if left_or_above else 50)
                if best is None or d < best[0]:
                    best = (d, w, ab, vbox)
        assert best is not None
        _, w, ab, vbox = best
        h = max(1.0, ab[3] - ab[1])
        offset = ((vbox[0] - ab[0]) / h, (vbox[1] - ab[1]) / h, (vbox[2] - ab[0]) / h, (vbox[3] - ab[1]) / h)
        anchor_at = (round((ab[0] + ab[2]) / 2 / p.width, 4), round((ab[1] + ab[3]) / 2 / p.height, 4))
        if lf is None:
            t.fields[fld] = LearnedField(w, anchor_at, tuple(round(v, 3) for v in offset), 1, 0)  # type: ignore[arg-type]
        else:  # the rule missed: the new position replaces it, keeping its record
            lf.anchor, lf.anchor_at = w, anchor_at
            lf.offset = tuple(round(v, 3) for v in offset)  # type: ignore[assignment]
    if doc_id not in t.documents:
        for text in shop_lines(pages):
            t.shop[text] = t.shop.get(text, 0) + 1
        t.documents.append(doc_id)


# -- what the layout's values look like ---------------------------------------------------------------
#
# A dealership runs one DMS (one order-number format, one way of printing money), has a handful
# of service advisors and sells one brand's few models. Each corrected document adds its values
# (``values``) and first scores what the template already knew against them (``checks``: was this
# document's order number of the pattern, its advisor one already seen ...). That record, not the
# number of documents, is how far a repair or a doubt from these values is trusted.

ROSTER_FIELDS = ("advisor", "model")  # a few values that repeat: repaired to a known one
VALUE_FIELDS = ("order_no", "plate", "vin", *ROSTER_FIELDS, *MONEY_FIELDS)
VALUE_MIN_DOCUMENTS = 3  # a pattern needs this many corrected documents ...
VALUE_MIN_SHARE = 0.8  # ... and this share of them, before it repairs or doubts a reading
# OCR's confusions between letters and digits, both ways
TO_DIGIT = {"O": "0", "D": "0", "Q": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "B": "8", "G": "6", "T": "7"}
TO_LETTER = {"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B", "6": "G", "7": "T"}
# glyphs OCR reads for one another in names and model names: folded before comparing
_FOLD = str.maketrans({"0": "O", "Q": "O", "D": "O", "1": "I", "L": "I", "|": "I", "!": "I", "5": "S",
                       "8": "B", "2": "Z", "6": "G", "-": "", "_": "", ".": "", "·": "", "•": "", " ": ""})
PREFIX_REPAIR_TRUST = 0.7  # an order number whose prefix OCR misread: the digits are unverified (0.5 + 0.4 x 0.7 = 0.78)
ROSTER_DOUBT_TRUST = 0.7  # a roster this reliable (3 of 3 right, 5 of 6) doubts a name it does not know
SURE_MISREAD_TRUST = 0.7  # a repair of a reading OCR was sure of: for review (0.5 + 0.4 x 0.7 = 0.78)


def shape(value: str) -> str:
    """An order number's pattern: digits as 9, letters kept (WO20240315001 -> WO99999999999)."""
    return "".join("9" if c.isdigit() else c for c in value.upper())


_MONEY_TEXT = re.compile(r"(\d[\d,，]*)(?:[.．](\d+))?\s*(元)?")


def money_format(raw: str) -> str:
    """How an amount is printed, from its text: decimals and a 元 after it (``¥1,234.50`` -> ``9.99``,
    ``320元`` -> ``9元``); "" when there is no amount. The currency sign is left out: OCR reads ¥ as
    Y or drops it."""
    found = list(_MONEY_TEXT.finditer(nfkc(raw)))
    if not found:
        return ""
    m = found[-1]  # the amount is printed after its label
    return "9" + ("." + "9" * len(m.group(2)) if m.group(2) else "") + (m.group(3) or "")


def fold(value: str) -> str:
    """A name or model name with OCR's look-alike glyphs made one (case, O/0, I/1/l, S/5 ...)."""
    return nfkc(value).upper().translate(_FOLD)


NUMERIC = ("mileage_km", "phone", *MONEY_FIELDS)


def print_damaged(fld: str, raw: str, value: str) -> bool:
    """A number whose printed digits are not the value's: OCR broke the print (``2l7396KM`` read as
    2 km, ``¥1,O79.41`` as 1.00), so the value is a piece of it. An amount may be printed with
    fewer decimals than the value has (``¥35.2``, ``320元``)."""
    if fld not in NUMERIC:
        return False
    printed = re.sub(r"\D", "", nfkc(raw))
    short = value.rstrip("0").rstrip(".") if fld in MONEY_FIELDS and "." in value else value
    return bool(printed) and printed not in (re.sub(r"\D", "", value), re.sub(r"\D", "", short))


def _value_key(fld: str, value: str, raw: str = "") -> str:
    if fld == "order_no":
        return shape(value)
    if fld == "plate" and len(value) >= 2:
        return value[:2]  # province and city: a dealer's cars are mostly local
    if fld == "vin" and len(value) == 17:
        return value[:3]  # the manufacturer code: a dealer services its brand's cars
    if fld in ROSTER_FIELDS:
        return value
    if fld in MONEY_FIELDS:
        return money_format(raw)
    return ""


def _dominant(counts: dict[str, int]) -> tuple[str, int, int]:
    key, n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    return key, n, sum(counts.values())


def _predicted(t: LearnedTemplate, fld: str, key: str) -> bool | None:
    """Would the template have expected this document's value (before learning it)? None: it knew
    nothing yet about the field."""
    counts = t.values.get(fld)
    if not counts:
        return None
    if fld in ROSTER_FIELDS:
        return key in counts
    return _dominant(counts)[0] == key


def value_trust(t: LearnedTemplate, fld: str) -> float:
    """How often this layout's values of ``fld`` were what the template expected, with a prior of
    one miss: the record in ``checks`` (right / (right + wrong + 1)); for a file without one, the
    dominant value's share of the documents (n / (documents + 1))."""
    rec = t.checks.get(fld)
    if rec is not None:
        return rec[0] / (rec[0] + rec[1] + 1.0)
    counts = t.values.get(fld) or {}
    if not counts:
        return 0.0
    if fld in ROSTER_FIELDS:  # no record: the share of documents whose value was seen on another
        return sum(c - 1 for c in counts.values()) / (sum(counts.values()) + 1.0)
    _, n, total = _dominant(counts)
    return n / (total + 1.0)


def learn_values(t: LearnedTemplate, index: PageIndex, truth: dict[str, str], today: date) -> None:
    """Score what the template knew of each value field against this document's values, then add them."""
    for fld, value in truth.items():
        if fld not in VALUE_FIELDS or not value:
            continue
        raw = ""
        if fld in MONEY_FIELDS:
            # the amount as printed: by its own label when a line has one
            lines = sorted(_value_lines(index, fld, value, today), key=lambda ln: not any(h.field == fld for h in ln.hits))
            if not lines:
                continue
            raw = lines[0].text
        key = _value_key(fld, value, raw)
        if not key:
            continue
        hit = _predicted(t, fld, key)
        if hit is not None:
            rec = t.checks.setdefault(fld, [0, 0])
            rec[0 if hit else 1] += 1
        counts = t.values.setdefault(fld, {})
        counts[key] = counts.get(key, 0) + 1


@dataclass(frozen=True)
class ValueCheck:
    value: str  # the reading, repaired when ``repaired``
    repaired: bool
    agrees: bool  # the reading is what this layout's values look like
    trust: float  # how often the template's values were right on its corrected documents
    note: str


CUT_MODEL_CHARS = 2  # DM-i, DM-p: what a model cut at its hyphen may have lost


def _roster_match(fld: str, known: dict[str, int], value: str, ocr_conf: float, held: bool) -> tuple[str, str] | None:
    """The one known value ``value`` is a misreading of, and how: equal once look-alike glyphs are
    folded; the known value with text of the next box run into it (``向远芳服务眼司``); one character
    off, when OCR itself doubts the reading (an advisor 张敏 read with confidence is no misread 张伟)."""
    fv = fold(value)
    same = [k for k in known if fold(k) == fv]
    if len(same) == 1:
        return same[0], "look-alike characters"
    if same:
        return None
    # a model cut after a hyphen (宋PLUSDM- of 宋PLUSDM-i): the one known model it is the start of
    hyphen_cut = fld == "model" and cut_at_hyphen(value)
    cut = [k for k in known if hyphen_cut and fold(k).startswith(fv) and len(k) - len(value) <= CUT_MODEL_CHARS]
    if len(cut) == 1:
        return cut[0], "its last characters lost"
    # a name with the next box's text run in; not a model, whose longer names extend shorter ones
    # (卡罗拉1.2T, 卡罗拉1.2T精英版)
    inside = [k for k in known if len(k) >= 2 and k in value and len(value) - len(k) >= 2] if fld == "advisor" else []
    if len(inside) == 1:
        return inside[0], "text of a neighbouring box run in"
    # an advisor's name or a model without its first character (俊洋 for 董俊洋, 3xDrive30i for
    # X3xDrive30i: the character printed over the cell's rule, never in the text box), whatever
    # OCR's confidence, where names repeat
    lost = [k for k in known if len(k) == len(value) + 1 and len(value) >= 2 and fold(k[1:]) == fv] \
        if held else []
    if len(lost) == 1:
        return lost[0], "its first character lost"
    # OCR sure of a two-character name one character off a known one: another name (张敏, 张伟);
    # of a longer one, the known one misread (孟梅关 for 孟梅美 at 0.95, dot-matrix print), offered
    # for review (``SURE_MISREAD_TRUST``); sure of a model whose series no car has (朗选1.5L舒适版 at
    # 0.89, 朗逸1.5L舒适版 known): a misread glyph all the same
    if not held or (ocr_conf >= UNSURE_OCR and not (fld == "model" and listed_series(value) is None)
                    and not (fld == "advisor" and len(value) >= 3)):
        return None
    near = _near(known, value)
    if fld == "advisor" and ocr_conf >= UNSURE_OCR:  # a character misread, none lost or gained (张伟明 is another)
        near = [k for k in near if len(k) == len(value)]
    if fld == "model":  # 宋PLUSDM-i read, 秦PLUSDM-i known: two series of the make, no misreading
        mine = listed_series(value)
        near = [k for k in near if mine is None or listed_series(k) in (None, mine)]
    if len(near) == 1:
        return near[0], "a character misread or lost" if edit_distance(fold(near[0]), fv) == 1 else "characters misread"
    return None


def _near(known: dict[str, int], value: str) -> list[str]:
    """The known values ``value`` is a few edits from (one per five characters, at least one);
    more than one is no repair (秦PLUSDM-i and 宋PLUSDM-i, both known, and 泰PLUSDM-i read)."""
    fv = fold(value)
    return [k for k in known if len(fold(k)) >= 2 and edit_distance(fold(k), fv) <= max(1, len(fold(k)) // 5)]


def _order_tail(value: str, key: str) -> tuple[str, bool] | None:
    """An order number whose printed prefix (the pattern's letters before its first digit: WO, JS-,
    H) was misread, lost or grown (H0…, 5-…, IW0…, 11…) while the digits after it fit the pattern:
    the pattern's prefix and the reading's digits, and whether the reading starts with the end of
    the prefix or its look-alike digits (S-2024… or 5-2024… for JS-…, 0202202… for WO202202…: the
    prefix's first character lost, nothing else misread). None when that is not so."""
    first = key.find("9")
    if first <= 0:
        return None
    prefix, rest = key[:first], key[first:]
    v = value.upper()
    if len(v) < len(rest):
        return None
    head, tail = v[:len(v) - len(rest)], v[len(v) - len(rest):]
    if abs(len(head) - len(prefix)) > 1 or head == prefix:
        return None
    # the digits as printed, exactly: a letter among them (RO231030830 for RO2310308730: a digit
    # lost, the O of RO taken for a digit) is no misread prefix
    if shape(tail) != rest:
        return None
    lost_start = 0 < len(head) < len(prefix) and prefix.endswith("".join(TO_LETTER.get(c, c) for c in head))
    return prefix + tail, lost_start


def check_value(t: LearnedTemplate, fld: str, value: str, raw: str = "", ocr_conf: float = 1.0) -> ValueCheck | None:
    """The reading of ``fld`` against what the corrected documents of this layout showed: repaired
    when one confusion away from the layout's pattern (an order number's letter read as a digit, a
    plate's province misread, an advisor's or a model's name misread), doubted when it does not fit;
    None when the layout has no pattern for the field (too few documents, or they vary)."""
    counts = t.values.get(fld)
    if not counts or fld not in VALUE_FIELDS:
        return None
    trust = value_trust(t, fld)
    if fld in ROSTER_FIELDS:  # a dealer has a few advisors, sells a few models: each one seen is known
        what = "an advisor" if fld == "advisor" else "a model"
        if value in counts:
            return ValueCheck(value, False, True, trust, f"{what} of this layout ({counts[value]} documents)")
        # a name a character or two off a known one is that one only where names do repeat: a
        # roster that never held (every corrected document a new advisor) repairs no such reading
        rec = t.checks.get(fld)
        held = rec[0] > 0 if rec is not None else any(c >= 2 for c in counts.values())
        m = _roster_match(fld, counts, value, ocr_conf, held)
        if m is None:
            near = _near(counts, value)
            # an advisor read with confidence, yet close to a known one: a new one, or a misreading
            # (OCR misreads names with confidence: 方丽 for 万丽 at 0.92); a model one character off
            # another is mostly another model of the brand (秦/宋PLUS), and OCR's confident misreadings
            # of models are look-alike glyphs, repaired above
            if near and fld == "advisor":
                return ValueCheck(value, False, False, trust, f"close to {'/'.join(near)}, {what} of this layout; "
                                  "not repaired (OCR is sure of its reading, several are as close, or names have not repeated here)")
            if rec is not None and trust >= ROSTER_DOUBT_TRUST:  # the roster has nearly always held
                return ValueCheck(value, False, False, trust, f"not {what} of this layout ({len(counts)} known, "
                                  f"right on {rec[0]} of {rec[0] + rec[1]} corrected documents)")
            return None
        name, how = m
        if fld == "advisor" and ocr_conf >= UNSURE_OCR and fold(name) != fold(value):  # OCR was sure of another name
            trust = min(trust, SURE_MISREAD_TRUST)
        return ValueCheck(name, True, True, trust, f"read {value}; repaired to {name}, {what} of this layout "
                          f"({counts[name]} documents; {how})")
    key, n, total = _dominant(counts)
    if n < VALUE_MIN_DOCUMENTS or n / total < VALUE_MIN_SHARE:
        return None
    if fld in MONEY_FIELDS:
        got = money_format(raw)
        if got and print_damaged(fld, raw, value):
            return ValueCheck(value, False, False, trust, f"printed {raw.strip()}: the amount read is a piece of it")
        if not got or got == key:
            return ValueCheck(value, False, True, trust, "") if got else None
        return ValueCheck(value, False, False, trust, f"printed {got}, this layout prints amounts as {key} "
                          f"({n} of {total} documents)")
    if fld == "order_no":
        if shape(value) == key:
            return ValueCheck(value, False, True, trust, f"fits this layout's order-number pattern {key}")
        # RO… read with confidence is another series; S-… for JS-… is the prefix with its first
        # character lost on the cell's rule, however sure OCR is of the rest
        found = _order_tail(value, key)
        tail = found[0] if found is not None and (ocr_conf < UNSURE_OCR or found[1]) else None
        if tail is not None:  # the digits are as doubtful as the prefix was: for review
            return ValueCheck(tail, True, True, min(trust, PREFIX_REPAIR_TRUST), f"read {value}; repaired to this "
                              f"layout's order-number pattern {key} ({n} of {total} documents; its printed prefix misread)")
        if len(value) == len(key):
            out = []
            for c, k in zip(value.upper(), key, strict=True):
                if k == "9":
                    out.append(c if c.isdigit() else TO_DIGIT.get(c, ""))
                elif c == k:
                    out.append(c)
                else:
                    out.append(k if TO_LETTER.get(c) == k else "")
            if all(out):
                fixed = "".join(out)
                return ValueCheck(fixed, True, True, trust,
                                  f"read {value}; repaired to this layout's order-number pattern {key} ({n} of {total} documents)")
        return ValueCheck(value, False, False, trust,
                          f"does not fit this layout's order-number pattern {key} ({n} of {total} documents)")
    if fld == "vin":
        # a VIN with no known manufacturer's code one character off this layout's (LBWWGDLH0P4380631
        # on a BMW dealer's form: V read as W twice, the check digit satisfied by chance): for review;
        # another known maker's code is another brand's car, no misreading
        if value[:3] == key:
            return ValueCheck(value, False, True, trust, f"this layout's manufacturer code {key}")
        if manufacturer(value) is None and edit_distance(value[:3], key) == 1:
            return ValueCheck(value, False, False, trust, f"manufacturer code {value[:3]} is no known maker's; "
                              f"this layout's VINs start {key} ({n} of {total} documents)")
        return None
    # plate: the province misread (电A84227 on a layout whose plates are 粤A): only an invalid
    # reading is repaired (a car from another province is no misreading)
    if value[:2] == key:  # (鲁A:4848N is read as 鲁A4848N: extractors.plate)
        return ValueCheck(value, False, True, trust, f"this layout's plate prefix {key}")
    if len(value) >= 2 and value[1] == key[1] and value[0] not in PROVINCES:
        # for review: a plate whose province OCR misread often has another character misread too
        # (ZA67906 for 辽A679Q6), which no pattern of the layout can tell
        return ValueCheck(key[0] + value[1:], True, True, min(trust, PREFIX_REPAIR_TRUST),
                          f"read {value}; province repaired to this layout's {key} ({n} of {total} documents)")
    return None


# -- files ------------------------------------------------------------------------------------------

def _q(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a TOML basic string


def dumps(t: LearnedTemplate) -> str:
    lines = [
        "# learned from clerks' corrections (woa templates show); edit with care",
        f"name = {_q(t.name)}",
        "kind = \"learned\"",
        f"documents = [{', '.join(_q(d) for d in t.documents)}]",
        "fingerprint = [",
        *[f"  {{ wording = {_q(m.wording)}, field = {_q(m.field)}, x = {m.x}, y = {m.y} }}," for m in t.fingerprint],
        "]",
    ]
    for fld, lf in sorted(t.fields.items()):
        lines += ["", f"[learned.{fld}]", f"anchor = {_q(lf.anchor)}",
                  f"anchor_at = [{lf.anchor_at[0]}, {lf.anchor_at[1]}]",
                  "offset = [" + ", ".join(str(v) for v in lf.offset) + "]  # value box from the anchor, in anchor heights",
                  f"right = {lf.right}", f"wrong = {lf.wrong}"]
    if t.taught:
        lines += ["", "[taught]  # document -> the fields it taught"]
        lines += [f"{_q(d)} = [{', '.join(_q(f) for f in fs)}]" for d, fs in t.taught.items()]
    for fld, counts in sorted(t.values.items()):
        what = {"order_no": "order-number patterns", "plate": "plate prefixes", "advisor": "advisors",
                "model": "models"}.get(fld, "how amounts are printed" if fld in MONEY_FIELDS else "values")
        lines += ["", f"[values.{fld}]  # {what} seen on the corrected documents: how many times",
                  *[f"{_q(k)} = {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]]
    if t.shop:
        lines += ["", "[shop]  # the dealer's own printed text (its name): on how many of the corrected documents",
                  *[f"{_q(k)} = {v}" for k, v in sorted(t.shop.items(), key=lambda kv: (-kv[1], kv[0]))]]
    if t.checks:
        lines += ["", "[checks]  # field -> [right, wrong]: a corrected document's value was what [values] expected"]
        lines += [f"{fld} = [{r}, {w}]" for fld, (r, w) in sorted(t.checks.items())]
    return "\n".join(lines) + "\n"


def loads(data: dict[str, Any], path: Path | None = None) -> LearnedTemplate:
    marks = [Mark(str(m["wording"]), str(m.get("field", "")), float(m["x"]), float(m["y"])) for m in data.get("fingerprint", [])]
    if not marks:
        raise ValueError("a learned template needs a fingerprint")
    fields = {}
    for fld, d in data.get("learned", {}).items():
        off = tuple(float(v) for v in d["offset"])
        at = tuple(float(v) for v in d["anchor_at"])
        if len(off) != 4 or len(at) != 2:
            raise ValueError(f"learned.{fld}: offset needs 4 numbers, anchor_at 2")
        fields[fld] = LearnedField(str(d["anchor"]), (at[0], at[1]), (off[0], off[1], off[2], off[3]),
                                   int(d.get("right", 0)), int(d.get("wrong", 0)))
    values = {str(fld): {str(k): int(v) for k, v in counts.items()} for fld, counts in data.get("values", {}).items()}
    taught = {str(d): [str(f) for f in fs] for d, fs in data.get("taught", {}).items()}
    checks = {}
    for fld, rec in data.get("checks", {}).items():
        if len(rec) != 2:
            raise ValueError(f"checks.{fld}: needs [right, wrong]")
        checks[str(fld)] = [int(rec[0]), int(rec[1])]
    shop = {str(k): int(v) for k, v in data.get("shop", {}).items()}
    return LearnedTemplate(str(data.get("name") or (path.stem if path else "learned")), marks, fields,
                           [str(x) for x in data.get("documents", [])], values, path, taught, checks, shop)


def load_learned(directory: Path) -> list[LearnedTemplate]:
    """Every learned template (``*.toml`` with ``kind = "learned"``) in ``directory``; broken files are logged."""
    out: list[LearnedTemplate] = []
    if not directory.is_dir():
        return out
    for p in sorted(directory.glob("*.toml")):
        try:
            with open(p, "rb") as fh:
                data = tomllib.load(fh)
            if data.get("kind") == "learned":
                out.append(loads(data, p))
        except (OSError, ValueError, KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
            log.error("learned template %s ignored: %s", p, exc)
    return out
