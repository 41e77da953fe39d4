"""Where a VIN the first OCR pass could not read whole is printed: the strip after its label.

The national standard form prints the VIN in 17 boxes right of 车辆识别代号; a text detector
finds few of the single characters, so nothing complete is there to join. ``vin_strips`` says,
for one OCR-ed page, whether the page has a VIN label but no valid VIN, and if so which strips
of the page to read again (``pipeline.ocr.region.read_region``, composed by ``app.ingest``):
right of the label to the next label on its row (or the page's edge), then the cell under it.
The readings come back as ``PageText.region_reads["vin"]`` and are candidates like any other
(``extractors.engine``): the check digit, the WMI and the repair rules decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.models import Box, PageText
from extractors.fields import parse_vin
from extractors.labels import Lexicon
from extractors.layout import Line, PageIndex, _column, candidates_for, same_row

VIN = "vin"
MARGIN = 0.5  # the strip reaches this many label heights above and below the label's line
BELOW = 2.0  # the cell under the label: this many label heights down


@dataclass(frozen=True)
class Strip:
    page: int
    box: Box  # pixels of the processed page
    text_height: float  # the label line's height: how tall the characters are, roughly
    how: str  # "right" | "below"


def _as_read(text: str, today: date) -> bool:
    p = parse_vin(text, today)
    return p is not None and p.valid and p.confidence >= 1.0


def _valid_vin(index: PageIndex, today: date) -> bool:
    """Whether the page already gives a VIN that validates as read (not repaired: a repair is a
    guess a second reading confirms or contradicts), under a VIN label or anywhere on a line."""
    for page_lines in index.pages:
        for ln in page_lines:
            if any(h.field == VIN for h in ln.hits):
                for k, h in enumerate(ln.hits):
                    if h.field == VIN and any(_as_read(c.text, today) for c in candidates_for(ln, k, page_lines)):
                        return True
            elif _as_read(ln.text, today):
                return True
    return False


def _strips_for(ln: Line, k: int, page_lines: list[Line], page: PageText) -> list[Strip]:
    h = ln.height
    label = ln.span_box(ln.hits[k].start, ln.hits[k].end)
    following = [o.box[0] for o in page_lines if o is not ln and o.hits and o.hits[0].start <= 1
                 and o.hits[0].field != VIN and same_row(o.box, ln.box) and o.box[0] > label[2]]
    following += [ln.span_box(x.start, x.end)[0] for x in ln.hits[k + 1:]]
    x1 = min(following, default=float(page.width))
    y0, y1 = max(0.0, ln.box[1] - MARGIN * h), min(float(page.height), ln.box[3] + MARGIN * h)
    out = []
    if x1 - label[2] > 2 * h:
        out.append(Strip(page.page_no, (label[2] + 0.2 * h, y0, x1, y1), h, "right"))
    c0, c1 = _column(ln, k, label, page_lines)
    below = (max(0.0, min(c0, label[0] - 0.5 * h)), ln.box[3] + 0.1 * h,
             min(float(page.width), max(c1, label[0] + 14 * h)), min(float(page.height), ln.box[3] + BELOW * h))
    if below[3] - below[1] > h and below[2] - below[0] > 2 * h:
        out.append(Strip(page.page_no, below, h, "below"))
    return out


def vin_strips(page: PageText, today: date | None = None, lexicon: Lexicon | None = None) -> list[Strip]:
    """The strips to read again for the VIN of ``page``, best first: none when the page has no VIN
    label or already gives a VIN valid as read (then a second pass would cost time and change
    nothing)."""
    if page.source != "ocr":
        return []
    index = PageIndex.build([page], lexicon or Lexicon())
    hits = [(ln, k) for ln in index.pages[0] if not ln.table_header for k, h in enumerate(ln.hits) if h.field == VIN]
    if not hits or _valid_vin(index, today or date.today()):
        return []
    out: list[Strip] = []
    for ln, k in hits:
        out += _strips_for(ln, k, index.pages[0], page)
    return sorted(out, key=lambda s: s.how != "right")
