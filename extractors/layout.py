"""Where a label's value is on the page: after it on the same line, in the next box to the right on
the same row, or in the cell below. Works on ``PageText`` lines in pixel coordinates."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.models import Box, OcrLine, PageText
from extractors.labels import IGNORE, LabelHit, Lexicon, find_labels, levenshtein_le1, strip_value
from extractors.text import COLONS

TABLE_HEADER_WORDS = ("数量", "单价", "金额", "序号", "序", "项目名称", "配件名称", "零件名称", "材料名称", "零件号", "零件编号",
                      "配件编号", "工时", "备注", "维修项目", "作业项目")


@dataclass
class Line:
    page: int
    idx: int
    text: str  # cleaned
    box: Box
    conf: float
    hits: list[LabelHit]
    table_header: bool = False

    @property
    def height(self) -> float:
        return max(1.0, self.box[3] - self.box[1])

    def span_box(self, start: int, end: int) -> Box:
        """Approximate box of characters ``start:end`` (proportional to the character count)."""
        x0, y0, x1, y1 = self.box
        n = max(1, len(self.text))
        w = x1 - x0
        return (x0 + w * start / n, y0, x0 + w * min(end, n) / n, y1)


@dataclass
class Candidate:
    text: str
    page: int
    box: Box
    ocr_conf: float
    how: str  # same-line | right | below | region | scan
    glued: bool = False  # same-line text directly after the label, no colon or space between


@dataclass
class PageIndex:
    pages: list[list[Line]]

    @classmethod
    def build(cls, pages: list[PageText], lexicon: Lexicon) -> PageIndex:
        out = []
        for p in pages:
            lines = []
            for i, ol in enumerate(p.lines):
                text, hits = find_labels(ol.text, lexicon)
                lines.append(Line(p.page_no, i, text, _box(ol), ol.conf, hits))
            _mark_table_headers(lines)
            out.append(lines)
        return cls(out)

    def all_lines(self) -> list[Line]:
        return [ln for page in self.pages for ln in page]

    def hits(self) -> list[tuple[Line, int, LabelHit]]:
        return [(ln, k, h) for ln in self.all_lines() for k, h in enumerate(ln.hits)
                if h.field != IGNORE and not ln.table_header]


def _box(ol: OcrLine) -> Box:
    return tuple(float(v) for v in ol.box)  # type: ignore[return-value]


def same_row(a: Box, b: Box) -> bool:
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    return overlap >= 0.5 * min(a[3] - a[1], b[3] - b[1])


# the titles of an item table's name column: no costs block prints them, so a row holding one (read
# with a character misread: 作业期目) is the table's header whatever else OCR kept of it
ITEM_TABLE_TITLES = ("作业项目", "维修项目", "项目名称", "配件名称", "零件名称", "材料名称", "零件编号", "配件编号")


def _item_table_title(cell: str) -> bool:
    """An item table's name column title, one character misread, or lost (维修项 of a fax)."""
    return len(cell) in (3, 4) and any(levenshtein_le1(cell, t) for t in ITEM_TABLE_TITLES)


def _titles(cell: str) -> list[str]:
    """Column titles a cell consists of; OCR merges neighbours ("序号维修项目")."""
    out = []
    while cell:
        t = next((w for w in sorted(TABLE_HEADER_WORDS, key=len, reverse=True) if cell.startswith(w)), None)
        if t is None:
            return []
        out.append(t)
        cell = cell[len(t):]
    return out


def _mark_table_headers(lines: list[Line]) -> None:
    """A row with three or more cells that are column titles (序号, 数量, 单价 ...) is a table header.

    Cells must *be* titles, not contain them: the cost row 工时费 | 配件费 | 优惠金额 is no header.
    Two titles make a header in a row of four cells or more (序 | 作业项目 | 工时 | 人工费: the
    item table's 人工费 column is not the costs block's 人工费), and so does the title of an item
    table's name column in a row of two cells or more (作业项目 | 人工费, the rest lost to OCR).
    """
    rows: list[list[Line]] = []
    for ln in sorted(lines, key=lambda o: (o.box[1] + o.box[3]) / 2):
        if rows and same_row(rows[-1][0].box, ln.box):
            rows[-1].append(ln)
        else:
            rows.append([ln])
    for row in rows:
        cells = [c.strip(" :：") for o in row for c in o.text.split()]
        titles = [t for c in cells for t in _titles(c)]
        header = (len(titles) >= 3 or (len(titles) == 2 and ("序号" in titles or "序" in titles or len(cells) >= 4))
                  or (len(cells) >= 2 and any(_item_table_title(c) for c in cells)))
        for ln in row:
            ln.table_header = header


def _text_until_label(line: Line, start: int, after_hit: int) -> str:
    nxt = [h.start for h in line.hits[after_hit + 1:]]
    end = nxt[0] if nxt else len(line.text)
    return strip_value(line.text[start:end])


def _starts_with_label(line: Line) -> bool:
    return bool(line.hits) and line.hits[0].start <= 1


def _value_of_line(line: Line) -> str:
    end = line.hits[0].start if line.hits else len(line.text)
    return strip_value(line.text[:end])


def _is_value_of_left_label(line: Line, row: list[Line]) -> bool:
    """``line``'s nearest neighbour on its left ends with a label: it is that label's value."""
    left = [o for o in row if o is not line and o.box[2] <= line.box[0] + 2]
    if not left:
        return False
    o = max(left, key=lambda o: o.box[2])
    return bool(o.hits) and not _text_until_label(o, o.hits[-1].end, len(o.hits) - 1)


def candidates_for(hit_line: Line, k: int, page_lines: list[Line], max_gap: float = 20.0,
                   below_anywhere: bool = False) -> list[Candidate]:
    """Value candidates for hit ``k`` of ``hit_line``, best first.

    ``max_gap`` is the widest gap (in line heights) between a label and a value box to its right;
    ``below_anywhere`` also takes the next row's value when it is not under the label (receipts
    print TOTAL at the left and the amount at the right, half a line lower).
    """
    hit = hit_line.hits[k]
    out: list[Candidate] = []
    same = _text_until_label(hit_line, hit.end, k)
    if same:
        start = hit_line.text.find(same, hit.end)
        glued = hit.end < len(hit_line.text) and hit_line.text[hit.end] not in " " + COLONS
        out.append(Candidate(same, hit_line.page, hit_line.span_box(start, start + len(same)), hit_line.conf,
                             "same-line", glued))
    label_box = hit_line.span_box(hit.start, hit.end)
    if k + 1 < len(hit_line.hits):
        # another label follows directly: nothing to the right on this line, but the value may be
        # in the box below (a row of labels read as one line)
        out += _below(hit_line, k, label_box, page_lines, below_anywhere)
        return out
    right = sorted((o for o in page_lines if o is not hit_line and same_row(o.box, hit_line.box)
                    and o.box[0] >= hit_line.box[2] - 0.5 * hit_line.height), key=lambda o: o.box[0])
    joined: list[Line] = []
    for o in right:  # the boxes to the right up to the next label: "RM" "50.00" is one value
        if _starts_with_label(o) or o.box[0] - (joined[-1].box[2] if joined else hit_line.box[2]) > max_gap * hit_line.height:
            break
        joined.append(o)
    if joined:
        v = _value_of_line(joined[0])
        if v:
            out.append(Candidate(v, joined[0].page, joined[0].box, joined[0].conf, "right"))
        if len(joined) > 1:
            text = "  ".join(_value_of_line(o) for o in joined)
            box = (joined[0].box[0], min(o.box[1] for o in joined), joined[-1].box[2], max(o.box[3] for o in joined))
            out.append(Candidate(text, hit_line.page, box, min(o.conf for o in joined), "right"))
    out += _below(hit_line, k, label_box, page_lines, below_anywhere)
    return out


def _column(hit_line: Line, k: int, label_box: Box, page_lines: list[Line]) -> tuple[float, float]:
    """The horizontal extent of the label's box: halfway to the neighbouring labels on its row.

    A label-above-value box centres or right-aligns its value; the value is whatever sits under
    the label, nearer to it than to the next label.
    """
    h = hit_line.height
    lefts = [hit_line.span_box(x.start, x.end)[2] for x in hit_line.hits[:k]]
    rights = [hit_line.span_box(x.start, x.end)[0] for x in hit_line.hits[k + 1:]]
    for o in page_lines:
        if o is hit_line or not o.hits or not same_row(o.box, hit_line.box):
            continue
        if o.box[2] <= label_box[0] + 1:
            lefts.append(o.span_box(o.hits[-1].start, o.hits[-1].end)[2])
        elif o.box[0] >= label_box[2] - 1:
            rights.append(o.span_box(o.hits[0].start, o.hits[0].end)[0])
    if not rights:
        # no label read right of it on its row, but text there (客 and 机 of 客户 and 手机, garbled
        # past recognising): the next box starts there all the same
        rights = [o.box[0] for o in page_lines if o is not hit_line and same_row(o.box, hit_line.box)
                  and o.box[0] >= label_box[2] + h]
    # the row's first or last label: as far out as half the gap to its one neighbour (a value
    # printed right of a row's last label, C260L 100 px past 品牌车型), at least two heights
    x0 = (max(lefts) + label_box[0]) / 2 if lefts else \
        label_box[0] - max(2 * h, (min(rights) - label_box[2]) / 2 if rights else 0.0)
    x1 = (min(rights) + label_box[2]) / 2 if rights else \
        label_box[2] + max(2 * h, (label_box[0] - max(lefts)) / 2 if lefts else 0.0)
    return x0, x1


UNDER_SHARE = 0.25  # of a box's width under a label (and its margins) for it to be the label's value


TOUCHING = 0.15  # boxes of one row this close (line heights) are one box the text detector cut
# ... or this close when the first ends in the point and the second is its cents (￥1506. | 15):
# no two amounts of a row are printed that near, nor does one end in a bare point
CUT_AT_POINT = 0.5
_AMOUNT_HEAD = re.compile(r"^(?:[¥￥Yy]|RMB)?\s*\d[\d,，]*$")
_AMOUNT_TO_POINT = re.compile(r"^(?:[¥￥Yy]|RMB)?\s*\d[\d,，]*[.．]$")


def _joined_amount(head: str, tail: str) -> str:
    """An amount cut in two boxes, as one: ``￥8`` and ``70.00`` are ``￥870.00``; ``RMB375`` and
    ``42``, its point lost between them, ``RMB375.42``; ``￥1506.`` and ``15``, ``￥1506.15``. ""
    when the pieces are no such amount."""
    head, tail = head.strip(), tail.strip()
    if _AMOUNT_TO_POINT.match(head):
        return head + tail if re.fullmatch(r"\d{2}", tail) else ""
    if not _AMOUNT_HEAD.match(head):
        return ""
    if re.fullmatch(r"\d[\d,，]*[.．]\d{2}", tail):
        return head + tail
    if re.fullmatch(r"\d{2}", tail):
        return head + "." + tail
    return ""


def _below(hit_line: Line, k: int, label_box: Box, page_lines: list[Line], below_anywhere: bool) -> list[Candidate]:
    h = hit_line.height
    c0, c1 = _column(hit_line, k, label_box, page_lines)

    def under(o: Line) -> bool:
        # under the label: a fair share of the box, not a pixel's edge (迪 of a seal over the next
        # box's label, its edge under 优惠金额, is not the discount)
        share = min(o.box[2], label_box[2] + 2 * h) - max(o.box[0], label_box[0] - h)
        if below_anywhere or share > UNDER_SHARE * (o.box[2] - o.box[0]):
            return True
        cx = (o.box[0] + o.box[2]) / 2
        return c0 <= cx <= c1 and o.box[0] >= c0 - h

    below = [o for o in page_lines if o.box[1] >= hit_line.box[3] - 0.5 * h
             and o.box[1] - hit_line.box[3] < 2.5 * h and o is not hit_line and under(o)]
    if below_anywhere:
        below.sort(key=lambda o: (round(o.box[1] / h), -o.box[0]))
    elif below:
        # the first row under the label, then the box nearest its left edge: boxes of one row
        # differ in their tops by a fraction of a pixel, which must not choose between them
        top = min(below, key=lambda o: o.box[1])
        below.sort(key=lambda o: (not same_row(o.box, top.box), abs(o.box[0] - label_box[0]), o.box[1]))
    if below:
        b = below[0]
        row = [o for o in page_lines if same_row(o.box, b.box)]
        if not _starts_with_label(b) and not b.table_header and not _is_value_of_left_label(b, row):
            v = _value_of_line(b)
            if v:
                out = [Candidate(v, b.page, b.box, b.conf, "below")]
                # the value's box cut in two where nothing parts them (￥8 | 70.00 of ￥870.00, at a
                # seal's edge): the two boxes as one, first
                near = (CUT_AT_POINT if _AMOUNT_TO_POINT.match(v.strip()) else TOUCHING) * h
                nxt = min((o for o in row if o is not b and 0 <= o.box[0] - b.box[2] < near), key=lambda o: o.box[0],
                          default=None)
                if nxt is not None and not _starts_with_label(nxt) and (w := _joined_amount(v, _value_of_line(nxt))):
                    box = (b.box[0], min(b.box[1], nxt.box[1]), nxt.box[2], max(b.box[3], nxt.box[3]))
                    out.insert(0, Candidate(w, b.page, box, min(b.conf, nxt.conf), "below"))
                return out
    return []


def lines_in_region(lines: list[Line], page: PageText, region: tuple[float, float, float, float]) -> list[Line]:
    """Lines whose centre lies in ``region`` (fractions of the page: x0, y0, x1, y1)."""
    rx0, ry0, rx1, ry1 = region[0] * page.width, region[1] * page.height, region[2] * page.width, region[3] * page.height
    out = []
    for ln in lines:
        cx, cy = (ln.box[0] + ln.box[2]) / 2, (ln.box[1] + ln.box[3]) / 2
        if rx0 <= cx <= rx1 and ry0 <= cy <= ry1:
            out.append(ln)
    return sorted(out, key=lambda ln: (ln.box[1], ln.box[0]))
