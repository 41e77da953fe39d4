"""Where to read a field's value a second time, and what the second readings say.

On a pre-printed colour form the values are dot-matrix print over coloured rules and labels, out
of register: the first OCR pass misreads the dots (杨阳 → 杨油, 1.5L → 1.5T), and where a value is
printed over its cell's rule the text detector starts its box after the rule and the first
character is lost (蔡艳轩 → 艳轩, 2520.00 → 520.00). ``value_strips`` says, for one OCR-ed page,
which labelled fields the first pass read doubtfully (not valid, or OCR unsure) and which strip
of the page holds each one's value: the first pass's value box widened (to the left up to the
label, where a lost first character would be), or, when no value was read, the strip right of the
label to the next label on its row. ``app.ingest`` reads each strip again, recognition only
(``pipeline.ocr.region.read_value``: brightest channel, rules removed, dots run together) into
``PageText.region_reads[field]``; ``reread_choice`` decides what those readings change.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from core.identifiers import is_cjk
from core.models import Box, OcrLine, PageText
from extractors.fields import (
    COMMON_SURNAMES,
    DOUBLE_SURNAMES,
    GIVEN_NAME_CHARACTERS,
    PARSERS,
    Parsed,
    has_surname,
)
from extractors.labels import Lexicon, find_labels, strip_value
from extractors.layout import Candidate, Line, PageIndex, candidates_for, same_row

# the fields read again (the VIN has its own pass: extractors.vin_strip)
FIELDS = ("order_no", "plate", "date_in", "date_out", "mileage_km", "customer_name", "phone", "model", "advisor",
          "labor_cost", "parts_cost", "total_cost")
VIN_CELL = "vin_cell"  # region_reads of the VIN's strip read as a value (app.ingest.reread_vin), beside "vin"
FREE_TEXT = ("customer_name", "advisor", "model")  # nothing validates them
PERSON_FIELDS = ("customer_name", "advisor")
# A valid first reading the recogniser is this sure of is not read again. 1.0: every labelled
# value is (dev forms, docs/benchmarks.md: a value printed over its cell's rule loses its first
# character with the recogniser sure of the rest, 124313 -> 24313 at 0.99; from 0.95 to 1.0 the
# colour forms gained 2 fields of 208 and the other layouts lost none, for about twice the strips)
SURE = 1.0
PARSED_SURE = 0.9  # ... unless its parser doubts it (a repair, a name without a common surname)
LEFT = 1.2  # the strip reaches this many line heights left of the first reading (a lost first character)
RIGHT = 0.6  # and this many right of it
PAD = 0.25  # and this much above and below
WIDEST = 14.0  # a strip where nothing was read reaches at most this many label heights right of the label
MAX_STRIPS = 12  # per page


@dataclass(frozen=True)
class ValueStrip:
    field: str
    page: int
    box: Box  # pixels of the processed page
    text_height: float  # the line's height
    first: str  # the first pass's reading ("" when none)


def _doubtful(fld: str, cand: Candidate, today: date, sure: float) -> bool:
    p = PARSERS[fld](cand.text, today)
    if p is None or not p.valid:
        return True
    return cand.ocr_conf < sure or p.confidence < PARSED_SURE


def _best(fld: str, cands: list[Candidate], today: date) -> Candidate | None:
    """The candidate extraction would take from this label: the first that is valid, else the first."""
    parsed = [(c, PARSERS[fld](c.text, today)) for c in cands]
    valid = [c for c, p in parsed if p is not None and p.valid]
    if valid:
        return valid[0]
    return next((c for c, p in parsed if p is not None), None)


def _next_label_x(ln: Line, k: int, page_lines: list[Line], after: float) -> float | None:
    xs = [ln.span_box(x.start, x.end)[0] for x in ln.hits[k + 1:]]
    xs += [o.box[0] for o in page_lines if o is not ln and o.hits and o.hits[0].start <= 1
           and same_row(o.box, ln.box) and o.box[0] > after]
    return min(xs, default=None)


def _strip(fld: str, ln: Line, k: int, page_lines: list[Line], page: PageText, today: date,
           sure: float) -> tuple[bool, ValueStrip | None]:
    """Whether label ``k`` of ``ln`` gives a sure value; if not, the strip to read again (None: no room)."""
    h = ln.height
    label = ln.span_box(ln.hits[k].start, ln.hits[k].end)
    cands = [c for c in candidates_for(ln, k, page_lines) if c.how in ("same-line", "right", "below")]
    best = _best(fld, cands, today)
    if best is not None and not _doubtful(fld, best, today, sure):
        return True, None
    if best is not None and best.how == "same-line":
        if k + 1 < len(ln.hits):
            # the value shares its OCR line with the label and the next key (a slip's 键：值 键：值):
            # where it ends is a guess from the character count (``Line.span_box``), and a strip
            # cut inside it reads a value with its last characters lost, twice alike
            return False, None
        # a value that ends its line: from the label's end (a guess, so a little before it) to
        # the line's end, and for a name, whose box may have ended before its last character
        # (SA：张军 of SA：张军鹏; ``reread_choice`` takes a lost last character of a name only), a
        # character's width past it; not into the next label on the row
        x0 = label[2] - 0.25 * h
        x1 = ln.box[2] + (LEFT if fld in PERSON_FIELDS else RIGHT) * h
        nxt = _next_label_x(ln, k, page_lines, ln.box[2] - 1)
        if nxt is not None:
            x1 = min(x1, nxt - 0.1 * h)
        box = (x0, ln.box[1] - PAD * h, x1, ln.box[3] + PAD * h)
        height, first = h, best.text
    elif best is not None:
        bh = max(1.0, best.box[3] - best.box[1])
        x0 = best.box[0] - LEFT * bh
        if same_row(best.box, ln.box):
            x0 = max(x0, label[2] + 0.1 * h)  # not into the label
        x1 = best.box[2] + RIGHT * bh
        nxt = _next_label_x(ln, k, page_lines, best.box[2] - 1) if same_row(best.box, ln.box) else None
        if nxt is not None:
            x1 = min(x1, nxt - 0.1 * h)
        box = (x0, best.box[1] - PAD * bh, x1, best.box[3] + PAD * bh)
        height, first = bh, best.text
    else:
        nxt = _next_label_x(ln, k, page_lines, label[2])
        x1 = min(nxt - 0.1 * h if nxt is not None else float(page.width), label[2] + WIDEST * h)
        box = (label[2] + 0.1 * h, ln.box[1] - PAD * h, x1, ln.box[3] + PAD * h)
        height, first = h, ""
    box = (max(0.0, box[0]), max(0.0, box[1]), min(float(page.width), box[2]), min(float(page.height), box[3]))
    if box[2] - box[0] < 1.5 * height or box[3] - box[1] < 0.5 * height:
        return False, None
    return False, ValueStrip(fld, page.page_no, box, height, first)


def value_strips(page: PageText, today: date | None = None, lexicon: Lexicon | None = None,
                 sure: float = SURE) -> list[ValueStrip]:
    """The strips to read again on ``page``: one per labelled field of ``FIELDS`` whose reading
    is missing, invalid or unsure under every label of it on the page, from its best label (an
    exact wording before a fuzzy one, a title that looks like a label). ``sure``: the OCR
    confidence from which a valid reading is not read again."""
    if page.source != "ocr":
        return []
    today = today or date.today()
    index = PageIndex.build([page], lexicon or Lexicon())
    lines = index.pages[0]
    hits: dict[str, list[tuple[Line, int]]] = {}
    for ln in lines:
        if ln.table_header:
            continue
        for k, hit in enumerate(ln.hits):
            if hit.field in FIELDS:
                hits.setdefault(hit.field, []).append((ln, k))
    out = []
    for fld, where in hits.items():
        where.sort(key=lambda lk: (not lk[0].hits[lk[1]].exact, lk[0].hits[lk[1]].rank))
        found = [_strip(fld, ln, k, lines, page, today, sure) for ln, k in where]
        if any(ok for ok, _ in found):  # some label of it gives a sure value
            continue
        strip = next((s for _, s in found if s is not None), None)
        if strip is not None:
            out.append(strip)
    return out[:MAX_STRIPS]


@dataclass(frozen=True)
class Choice:
    parsed: Parsed
    text: str  # the reading chosen
    ocr_conf: float
    support: int  # readings (the first pass's among them) that give this value


def value_text(text: str, lexicon: Lexicon | None = None) -> str:
    """A second reading without what the strip caught of the labels beside the value: the text
    after a label the reading starts with, or after a colon among its first characters (``号：R0…``,
    the end of 工单号 right of which the strip begins), and before the next label in it (a slip's
    next key printed close after the value: ``张三结算日期``)."""
    s, hits = find_labels(text, lexicon or Lexicon())
    start = 0
    lead = [h for h in hits if h.start <= 1]
    if lead:
        start = lead[0].end
    m = _LEADING_COLON.match(s[start:])
    if m:
        start += m.end()
    end = min((h.start for h in hits if h.start >= start + 1 and h.exact), default=len(s))
    return strip_value(s[start:end])


_LEADING_COLON = re.compile(r"^[^:：\d]{0,3}[:：]")


def _key(p: Parsed) -> str:
    return "".join(p.value.split())


def _first_character_lost(fld: str, first_key: str | None, best: dict[str, tuple[Parsed, str, float]],
                          votes: Counter[str]) -> Choice | None:
    """The first pass read a name without its first character (国建 for 闫国建, the character on the
    cell's rule never in its box), which two second readings or more hold, whatever they read it
    as (闫国建, 闰国建, 国国建): the one that starts with a surname, the surest of them first."""
    if fld not in PERSON_FIELDS or first_key is None:
        return None
    longer = [k for k in best if len(k) == len(first_key) + 1 and k.endswith(first_key)]
    if sum(votes[k] for k in longer) < 2:
        return None
    top = max(longer, key=lambda k: (has_surname(k), best[k][2]))
    if not has_surname(top):
        return None
    p, text, conf = best[top]
    return Choice(p, text, conf, votes[top])


# A second reading that holds a two-character name's lost character is taken alone when the
# recogniser is this sure of it (dev form 9311: 贺博 -> 贺博霞 at 0.999, 丽生 -> 董丽生 at 0.997),
# or, for the last character, this sure when no other second reading agrees with the first
# (form 9903: 向超 -> 向超鹏 at 0.921, the only second reading)
LOST_SURE = 0.99
LOST_LIKELY = 0.9


def _label_edges(lexicon: Lexicon) -> tuple[frozenset[str], frozenset[str]]:
    """The characters that start, and that end, a label wording of ``lexicon``: what a strip
    catches of the next key or of its own label."""
    words = [e.wording for e in lexicon.entries if not e.ascii]
    return frozenset(w[0] for w in words), frozenset(w[-1] for w in words)


LABEL_EDGES = _label_edges(Lexicon())  # the default wordings' (building a Lexicon takes a millisecond)


def _one_character_lost(fld: str, first_key: str | None, best: dict[str, tuple[Parsed, str, float]],
                        votes: Counter[str]) -> Choice | None:
    """The first pass read a three-character name as two, its first, middle or last character lost (贺博
    for 贺博霞: the text detector's box ended before it), and one second reading the recogniser
    is all but certain of (``LOST_SURE``) holds it; the last or middle character, one it is sure of
    (``LOST_LIKELY``) when no other reading agrees with the first. The character gained is no label's start
    (after the value: the next key, 张三结 of 结算日期) or end (before it: its own label, 方 of
    托修方), and the name starts with a surname."""
    if fld not in PERSON_FIELDS or first_key is None or len(first_key) != 2:
        return None
    starts, ends = LABEL_EDGES
    # the last character: the strip reaches less far right than left, where it catches the rule
    # and the label's end, so a reading no second one contradicts is enough
    last_sure = LOST_SURE if votes[first_key] > 1 else LOST_LIKELY
    for k in sorted(best, key=lambda k: -best[k][2]):
        p, text, conf = best[k]
        if len(k) != 3 or not has_surname(k):
            continue
        first_lost = k.endswith(first_key) and k[0] not in ends and conf >= LOST_SURE  # (a surname: CJK)
        last_lost = k.startswith(first_key) and is_cjk(k[2]) and k[2] not in starts and conf >= last_sure
        # ... or its middle one, faint dot-matrix print the first pass read past (顾超 of 顾霞超): no
        # label starts or ends inside a value, so as sure as the last one needs
        middle_lost = k[0] == first_key[0] and k[2] == first_key[1] and is_cjk(k[1]) and conf >= last_sure
        if first_lost or last_lost or middle_lost:
            return Choice(p, text, conf, votes[k])
    return None


# A second choice of the recogniser's for a name's first character is taken as the surname when
# the name as read starts with none and the recogniser gave it this much (dev forms: 同 read with
# 周 at 0.35, 未 with 朱 at 0.07, 诺葛 with 诸 at 0.02 beside them)
SURNAME_ALTERNATIVE = 0.01
# How much likelier a person's surname is one of the hundred commonest than any one given rarer
# surname, as the choice between the recogniser's readings weighs it: the hundred hold about 85 %
# of the population, the several hundred after them the rest (about 0.85 % against 0.04 % a
# surname: over 20 to 1, taken as 10 to 1). 米涵英 read with 宋 at 0.43 beside 米 at 0.52 is 宋涵英.
RARE_SURNAME_PRIOR = 0.1


def _surname_prior(name: str) -> float:
    if name[:2] in DOUBLE_SURNAMES or name[:1] in COMMON_SURNAMES:
        return 1.0
    return RARE_SURNAME_PRIOR if has_surname(name) else 0.0


def _surname_from_alternatives(text: str, line: OcrLine) -> str:
    """``text`` (a name cut from the reading ``line``) with its first character replaced by the
    recogniser's other choice for it that makes the likeliest name: the recogniser's probability
    times how common the surname it makes is (``RARE_SURNAME_PRIOR``), of the choices given at
    least ``SURNAME_ALTERNATIVE``. A name that starts with no surname takes one that makes it one
    (同霞海 → 周霞海 with 周 at 0.35 beside 同); one that starts with a rare surname, one that makes
    a common one likelier (米涵英 → 宋涵英). ``text`` when none does."""
    at = line.text.find(text)
    if at < 0 or len(line.alternatives) != len(line.text) or not line.alternatives[at]:
        return text
    own = next((p for ch, p in line.alternatives[at] if ch == text[:1]), 0.0)
    best, score = text, own * _surname_prior(text)
    for ch, p in line.alternatives[at]:
        name = ch + text[1:]
        if ch == text[:1] or p < SURNAME_ALTERNATIVE:
            continue
        if p * _surname_prior(name) > score:
            best, score = name, p * _surname_prior(name)
    return best


# ... and a second choice for a given name's character (GIVEN_NAME_CHARACTERS) at least this much
# (dev forms: 墩 read with 敏 at 0.42, 鹅 with 鹏 at 0.36, 沿 with 浩 at 0.21)
GIVEN_ALTERNATIVE = 0.05


def _given_start(name: str) -> int:
    """Where the given name starts: after a two-character surname (欧阳) or a one-character one."""
    return 2 if name[:2] in DOUBLE_SURNAMES else 1


UNCOMMON_GIVEN_VOTE = 0.5


def _common_given(name: str) -> bool:
    """Every character of the given name is a common one (熊然宇, not 熊然字)."""
    return all(c in GIVEN_NAME_CHARACTERS for c in name[_given_start(name):])


def _given_from_alternatives(text: str, line: OcrLine, at: int) -> str:
    """``text`` (a name that starts with a surname, cut from the reading ``line`` at ``at``) with
    each character of its given name that is no common one (``GIVEN_NAME_CHARACTERS``) replaced
    by the recogniser's likeliest other choice for it that is (叶玲墩 → 叶玲敏 with 敏 at 0.42)."""
    if not has_surname(text) or at < 0 or len(line.alternatives) != len(line.text):
        return text
    chars = list(text)
    for i in range(_given_start(text), len(chars)):
        if chars[i] in GIVEN_NAME_CHARACTERS or not is_cjk(chars[i]):
            continue
        chars[i] = next((ch for ch, p in line.alternatives[at + i][1:]
                         if p >= GIVEN_ALTERNATIVE and ch in GIVEN_NAME_CHARACTERS), chars[i])
    return "".join(chars)


# fields a lost first character leaves valid (nothing checks their length), and the characters a
# cell's rule is read as: a reading that gains one of these may have read the rule
LEADING_LOST_FIELDS = ("order_no", "mileage_km")
RULE_LIKE = "1lI|!/[]()"
LEADING_LOST_SURE = 0.9  # (form 9903: E21266589 and 249150 read again at 0.984 and 0.985)


def _leading_gained(fld: str, first_key: str | None, best: dict[str, tuple[Parsed, str, float]],
                    zero_led: str = "") -> list[str]:
    """The second readings (keys of ``best``, surest first) the recogniser is sure of
    (``LEADING_LOST_SURE``) that are an order number's or a mileage's first reading with one
    more leading letter or digit: what the text detector's box, starting after it, lost.
    ``zero_led``: the first reading's digits when they start with a 0 (02,096 of 102,096), which
    its parser dropped; a reading with one more digit before them is such a reading too."""
    if fld not in LEADING_LOST_FIELDS or first_key is None:
        return []
    return [k for k in sorted(best, key=lambda k: -best[k][2])
            if ((len(k) == len(first_key) + 1 and k.endswith(first_key))
                or (zero_led and len(k) == len(zero_led) + 1 and k.endswith(zero_led)))
            and k[0].isascii() and k[0].isalnum() and best[k][2] >= LEADING_LOST_SURE]


def _zero_led(fld: str, first: str | None) -> str:
    """A mileage's first reading's digits when it starts with a 0 before more digits (02,096):
    no printed number does, so its first digit was lost (a 1 on the cell's rule, which is no rule
    read as a 1 then)."""
    digits = re.sub(r"\D", "", first or "")
    return digits if fld == "mileage_km" and len(digits) > 1 and digits[0] == "0" else ""


def _leading_character_lost(fld: str, first_key: str | None, best: dict[str, tuple[Parsed, str, float]],
                            votes: Counter[str], first: str | None = None) -> Choice | None:
    """The first pass read an order number or a mileage without its first character (21266589
    for E21266589, 49150 for 249150, at 1.0 and 0.99), and a sure second reading of the wider
    strip holds it — a character a rule does not look like (``rule_or_character``), or any, after
    a first reading that starts with a 0 (``_zero_led``)."""
    zero_led = _zero_led(fld, first)
    k = next((k for k in _leading_gained(fld, first_key, best, zero_led)
              if k[0] not in RULE_LIKE or (zero_led and k.endswith(zero_led))), None)
    if k is None:
        return None
    p, text, conf = best[k]
    return Choice(p, text, conf, votes[k])


# A second reading of these that is the first with a character lost at either end does not win
# a tie: a strip that ends inside the value loses its end (2020.11.1 of 2020.11.12), one whose
# start is on the cell's rule its first character (56131 of 256131)
CUT_FIELDS = ("order_no", "date_in", "date_out", "mileage_km", "phone")


def _start_lost(first: str, second: str) -> bool:
    """``second`` is ``first`` without its first letter or digit, one a rule does not look like."""
    a = "".join(c for c in first if c.isascii() and c.isalnum())
    b = "".join(c for c in second if c.isascii() and c.isalnum())
    return len(b) >= 4 and len(a) == len(b) + 1 and a.endswith(b) and a[0] not in RULE_LIKE


def _cut_short(first: str, second: str) -> bool:
    if second.rstrip().endswith("日"):  # a date closed by its 日 is whole (2019年5月2日 of 2019年5月28)
        return False
    a = "".join(c for c in first if c.isascii() and c.isalnum())
    b = "".join(c for c in second if c.isascii() and c.isalnum())
    return len(b) == len(a) - 1 and len(b) > 0 and (a.startswith(b) or (a.endswith(b) and a[0] not in RULE_LIKE))


def _names_one_longer(fld: str, first: str | None, readings: list[OcrLine], fits: Callable[[str, str], bool],
                      as_read: Callable[[str], str] = lambda t: t) -> list[str]:
    """The second readings (``as_read`` of their value text) that are the first reading, a
    two-character Chinese name, with one character more where ``fits(name, reading)`` says."""
    name = "".join((first or "").split()) if fld in PERSON_FIELDS else ""
    if len(name) != 2 or not all(is_cjk(c) for c in name):
        return []
    return sorted({t for t in (as_read(value_text(r.text)) for r in readings) if len(t) == 3 and fits(name, t)})


def name_goes_on(fld: str, first: str | None, readings: list[OcrLine]) -> list[str]:
    """The second readings that are a two-character name with a third character after it (邓春磊
    and 邓春蕊 of 邓春, where neither is sure enough to be taken): the name's last character was
    seen, not read. Those readings' names."""
    return _names_one_longer(fld, first, readings,
                             lambda n, t: t.startswith(n) and is_cjk(t[2]) and t[2] not in LABEL_EDGES[0])


def name_goes_before(fld: str, first: str | None, readings: list[OcrLine]) -> list[str]:
    """The second readings that are a two-character name with a character before it that is no
    label's end (T强杰 and 丁强杰 of 强杰: the surname printed over the cell's rule, the 丁 read as
    the T it looks like), where none is sure enough to be taken. Those readings' names (T as 丁)."""
    return _names_one_longer(fld, first, readings,
                             lambda n, t: t.endswith(n) and is_cjk(t[0]) and t[0] not in LABEL_EDGES[1] and has_surname(t),
                             lambda t: "丁" + t[1:] if t[:1] == "T" else t)


def rule_or_character(fld: str, first: str | None, readings: list[OcrLine], today: date) -> str | None:
    """A sure second reading that is the first with one more leading character a rule looks like
    (123260 for 23260, 124313 for 24313): a digit lost at the cell's rule, or the rule read as
    one. Nothing tells which, so the value is for review. The longer value, or None."""
    p0 = PARSERS[fld](first, today) if first and fld in LEADING_LOST_FIELDS else None
    if p0 is None or not p0.valid:
        return None
    best: dict[str, tuple[Parsed, str, float]] = {}
    for r in readings:
        p = PARSERS[fld](value_text(r.text), today)
        if p is not None and p.valid and r.conf > best.get(_key(p), (p, "", -1.0))[2]:
            best[_key(p)] = (p, r.text, r.conf)
    k = next((k for k in _leading_gained(fld, _key(p0), best) if k[0] in RULE_LIKE), None)
    return None if k is None else best[k][0].value


def reread_choice(fld: str, first: str | None, first_conf: float, readings: list[OcrLine],
                  today: date) -> Choice | None:
    """What the second readings of a value say against the first pass's reading ``first``.

    The readings vote, the first pass's among them (valid readings only): the value most of them
    give wins, a tie goes to the reading the recogniser is surest of. None: the first's value
    wins, or nothing valid was read, or the winner of a name or model is the first reading with
    more after it or cut short at either end (what a strip catches after the value is the next
    key's start, a strip that ends inside the value loses its end, and a second reading can lose
    the first character on the cell's rule as the first can). A name the first pass read without
    its first character, which two second readings hold, is taken from them
    (``_first_character_lost``), and so is a two-character name one sure reading makes three
    (``_one_character_lost``). Money is left to the sum
    (``extractors.engine``).

    A name: a second reading that starts with no common surname takes the recogniser's second
    choice for its first character that makes it one (``_surname_from_alternatives``), and one
    whose given name has a character no name commonly has takes the second choice that is
    (``_given_from_alternatives``); a reading that starts with a surname wins over more that do
    not, and of as many, one whose given name is all common characters.
    """
    votes: Counter[str] = Counter()
    best: dict[str, tuple[Parsed, str, float]] = {}
    first_key = None
    for i, (raw, conf, line) in enumerate([(first or "", first_conf, None),
                                           *((r.text, r.conf, r) for r in readings)]):
        text = raw if line is None else value_text(raw)
        if line is not None and fld in PERSON_FIELDS and text:
            at = line.text.find(text)
            text = _given_from_alternatives(_surname_from_alternatives(text, line), line, at)
        p = PARSERS[fld](text, today) if text else None
        if p is None or not p.valid:
            continue
        k = _key(p)
        if i == 0:
            first_key = k
        votes[k] += 1
        if k not in best or conf > best[k][2]:
            best[k] = (p, text, conf)
    if not votes:
        return None
    lost = _first_character_lost(fld, first_key, best, votes) or _one_character_lost(fld, first_key, best, votes) \
        or _leading_character_lost(fld, first_key, best, votes, first)
    if lost is not None:
        return lost
    person = fld in PERSON_FIELDS
    # a name whose given name has a character no name commonly has counts half a reading: the
    # first pass and a strip that both read 郑住 (佳 at 0.73 beside 住 in the other) lose to 郑佳
    weight = {k: votes[k] * (1.0 if not person or _common_given(k) else UNCOMMON_GIVEN_VOTE) for k in votes}
    # ... and of as many, one that starts with one of the commonest surnames instead of a rarer one
    # (郑静丹 over 郎静丹; a reading with a character more is not such a reading: one is no evidence)
    size = len(first_key) if first_key is not None else 0
    top = max(votes, key=lambda k: (person and has_surname(k), weight[k], person and _common_given(k),
                                    person and len(k) == size and k[:1] in COMMON_SURNAMES, best[k][2]))
    if top == first_key:
        return None
    if first_key is not None and fld in FREE_TEXT and (
            top.startswith(first_key) or first_key.startswith(top) or first_key.endswith(top)):
        # the first reading with more after it (what follows the value), or cut short at either
        # end (a second reading that lost the first character on the cell's rule: 英涵 for 覃英涵)
        return None
    if first_key is not None and fld in PERSON_FIELDS and len(top) == len(first_key) + 1 \
            and top.endswith(first_key) and top[0] in LABEL_EDGES[1]:
        return None  # the first reading with its label's last character before it (方 of 托修方)
    if first_key is not None and fld in CUT_FIELDS and votes[top] <= votes[first_key] \
            and _cut_short(first or "", best[top][1]):
        return None
    if first_key is not None and fld in CUT_FIELDS and _start_lost(first or "", best[top][1]):
        # the first reading and a character before all of the second's that no rule looks like
        # (239569, read again twice as 39569): the wider strip's start is on the cell's rule; its
        # readings are of one image, their agreement no second witness
        return None
    p, text, conf = best[top]
    return Choice(p, text, conf, votes[top])
