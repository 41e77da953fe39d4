"""The invisible OCR text layer of an archive page: a glyphless CID font and the text operators.

The font is the one Tesseract's PDF renderer uses: a Type0 font with Identity-H encoding whose
character codes (CIDs) are Unicode code points, a descendant CIDFontType2 that maps every CID to
the single blank glyph of Tesseract's ``pdf.ttf`` (Apache-2.0), and a ToUnicode CMap that maps
each CID back to its code point, so that search, selection and ``pdftotext`` give back the text.
Characters outside the Basic Multilingual Plane get CIDs from the surrogate range (which no real
character uses) with their own ToUnicode entries.

Each word is drawn in text render mode 3 (invisible) at its box: the font size is the line
height (its width for a vertical line) and the horizontal scaling (``Tz``) stretches the word
to its box width. Poppler then reports word boxes within a fraction of a point of the OCR boxes. Between two
words the line's text decides what follows: a space glyph that fills the gap (Latin words), or
nothing, the word being stretched up to the next one so that no gap remains (CJK runs, where a
gap would make text extractors insert a space).
"""

from __future__ import annotations

import functools
import glob
import os
import unicodedata
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name

from core.models import Box, OcrLine, OcrWord, PageText
from pipeline.ocr.base import is_cjk

# Tesseract's glyphless font, installed with its language data (tesseract-ocr 4 or 5).
GLYPHLESS_FONT_PATTERNS = (
    "/usr/share/tesseract-ocr/*/tessdata/pdf.ttf",
    "/usr/share/tessdata/pdf.ttf",
    "/usr/local/share/tessdata/pdf.ttf",
)
FONT_NAME = "GlyphLessFont"
# Advance of the blank glyph (GID 1) of pdf.ttf: 1024 of 2048 units per em, i.e. 500/1000.
GLYPH_WIDTH = 500
GLYPH_GID = 1
SPACE_CID = 0x20
REPLACEMENT_CID = 0xFFFD
# CIDs handed out to characters outside the BMP (never used by a BMP character).
SUPPLEMENTARY_CIDS = range(0xD800, 0xE000)
MAX_BFRANGES = 100  # entries per beginbfrange block (PDF limit)
# Poppler puts a space between two words only if the gap is about 0.2 em or more (pdftotext
# -raw; 0.05 em in its default mode): a space in the text is drawn at least this wide.
MIN_SPACE = 0.25
SPACE_ADVANCE = 0.3  # em, for lines given without words
MAX_TZ = 30000.0  # PDF/A-1 limits reals to ±32767
VERTICAL_RATIO = 2.0  # a line this many times taller than wide is written top to bottom


@dataclass
class CidMap:
    """Unicode → CID for one document; BMP characters are their own CID."""

    supplementary: dict[str, int] = field(default_factory=dict)

    def cid(self, ch: str) -> int | None:
        """The CID for one character, or None for characters that carry no text (controls)."""
        cp = ord(ch)
        if unicodedata.category(ch) in ("Cc", "Cs"):
            return None
        if cp <= 0xFFFF:
            return cp
        if ch not in self.supplementary:
            if len(self.supplementary) >= len(SUPPLEMENTARY_CIDS):
                return REPLACEMENT_CID
            self.supplementary[ch] = SUPPLEMENTARY_CIDS[len(self.supplementary)]
        return self.supplementary[ch]

    def encode(self, text: str) -> tuple[bytes, int]:
        """Text as Identity-H codes (2 bytes per character) and the number of glyphs."""
        cids = [c for c in (self.cid(ch) for ch in text) if c is not None]
        return b"".join(c.to_bytes(2, "big") for c in cids), len(cids)


def to_unicode_cmap(cids: CidMap) -> bytes:
    """The ToUnicode CMap: BMP CIDs map to themselves, surrogate-range CIDs to their characters."""
    ranges = [f"<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>" for hi in range(0x100) if not 0xD8 <= hi <= 0xDF]
    body: list[str] = []
    for i in range(0, len(ranges), MAX_BFRANGES):
        block = ranges[i : i + MAX_BFRANGES]
        body += [f"{len(block)} beginbfrange", *block, "endbfrange"]
    chars = [
        f"<{cid:04X}> <{ch.encode('utf-16-be').hex().upper()}>" for ch, cid in cids.supplementary.items()
    ]
    for i in range(0, len(chars), MAX_BFRANGES):
        block = chars[i : i + MAX_BFRANGES]
        body += [f"{len(block)} beginbfchar", *block, "endbfchar"]
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <FFFF>",
        "endcodespacerange",
        *body,
        "endcmap",
        "CMapName currentdict /CMap defineresource pop",
        "end",
        "end",
    ]
    return ("\n".join(lines) + "\n").encode("ascii")


@functools.cache
def glyphless_font() -> bytes:
    """The font program: ``$TESSDATA_PREFIX/pdf.ttf`` or the first installed copy."""
    candidates = [Path(os.environ["TESSDATA_PREFIX"]) / "pdf.ttf"] if "TESSDATA_PREFIX" in os.environ else []
    candidates += [Path(p) for pattern in GLYPHLESS_FONT_PATTERNS for p in sorted(glob.glob(pattern))]
    for path in candidates:
        if path.is_file():
            return path.read_bytes()
    raise FileNotFoundError("Tesseract's pdf.ttf not found (install tesseract-ocr or set TESSDATA_PREFIX)")


def add_text_font(pdf: pikepdf.Pdf) -> pikepdf.Object:
    """Add the glyphless Type0 font to ``pdf``; returns the indirect font dictionary.

    Its ToUnicode stream covers the BMP; call ``finish_text_font`` once all pages are written
    to add the entries for characters outside the BMP.
    """
    program = glyphless_font()
    font_file_stream = pikepdf.Stream(pdf, program)
    font_file_stream.Length1 = len(program)
    descriptor = pdf.make_indirect(
        Dictionary(
            Type=Name.FontDescriptor,
            FontName=Name("/" + FONT_NAME),
            Flags=5,
            FontBBox=Array([0, 0, GLYPH_WIDTH, 1000]),
            ItalicAngle=0,
            Ascent=1000,
            Descent=-1,  # as in the font program; poppler replaces 0 by -0.35 em
            CapHeight=1000,
            StemV=80,
            FontFile2=font_file_stream,
        )
    )
    cid_to_gid = pikepdf.Stream(pdf, GLYPH_GID.to_bytes(2, "big") * 0x10000)
    cid_font = pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.CIDFontType2,
            BaseFont=Name("/" + FONT_NAME),
            CIDSystemInfo=Dictionary(Registry="Adobe", Ordering="Identity", Supplement=0),
            FontDescriptor=descriptor,
            DW=GLYPH_WIDTH,
            CIDToGIDMap=cid_to_gid,
        )
    )
    return pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.Type0,
            BaseFont=Name("/" + FONT_NAME),
            Encoding=Name("/Identity-H"),
            DescendantFonts=Array([cid_font]),
            ToUnicode=pikepdf.Stream(pdf, zlib.compress(to_unicode_cmap(CidMap())), Filter=Name.FlateDecode),
        )
    )


def finish_text_font(pdf: pikepdf.Pdf, font: pikepdf.Object, cids: CidMap) -> None:
    if cids.supplementary:
        font.ToUnicode = pikepdf.Stream(pdf, zlib.compress(to_unicode_cmap(cids)), Filter=Name.FlateDecode)


def _num(v: float) -> str:
    s = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


@dataclass
class _Run:
    text: str
    box: Box
    space_after: bool


def _space_flags(line_text: str, texts: list[str]) -> list[bool] | None:
    """Whether the line text has a space after each word; None if the words are not found in it."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for text in texts:
        at = line_text.find(text, pos)
        if at < 0:
            return None
        spans.append((at, at + len(text)))
        pos = at + len(text)
    flags = [any(c.isspace() for c in line_text[a[1] : b[0]]) for a, b in zip(spans, spans[1:], strict=False)]
    return [*flags, False]


def _advance(text: str) -> float:
    """Rough printed width in em: full-width characters 1, others about half."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.55 for ch in text)


def _split_line(text: str, box: Box) -> list[_Run]:
    """A line given without words, cut at its spaces; each piece gets the share of the box its
    estimated width takes, so that positions stay close and spaces stay spaces."""
    pieces = text.split()
    widths = [_advance(p) for p in pieces]
    total = sum(widths) + SPACE_ADVANCE * (len(pieces) - 1)
    x, unit = box[0], (box[2] - box[0]) / total
    runs = []
    for i, (piece, width) in enumerate(zip(pieces, widths, strict=True)):
        runs.append(_Run(piece, (x, box[1], x + width * unit, box[3]), i + 1 < len(pieces)))
        x += (width + SPACE_ADVANCE) * unit
    return runs


def _runs(line: OcrLine) -> list[_Run]:
    """The line's words (or pieces of the line), each with whether a space follows it."""
    words = [(w.text.strip(), w.box) for w in line.words if w.text.strip()]
    if not words:
        return _split_line(line.text, line.box) if line.text.strip() else []
    texts = [t for t, _ in words]
    flags = _space_flags(line.text, texts)
    if flags is None:  # words edited apart from the line text: join them as the OCR stage does
        joined = [is_cjk(a[-1]) and is_cjk(b[0]) for a, b in zip(texts, texts[1:], strict=False)]
        flags = [not j for j in joined] + [False]
    return [_Run(t, box, f) for (t, box), f in zip(words, flags, strict=True)]


def _extents(runs: list[_Run], scale_x: float, size: float) -> list[tuple[float, float]]:
    """Where each run is drawn, in points: its box, stretched to the next run when no space
    separates them, shrunk to leave a gap of at least ``MIN_SPACE`` em when one does."""
    extents = []
    for i, run in enumerate(runs):
        left, right = run.box[0] * scale_x, run.box[2] * scale_x
        if i + 1 < len(runs):
            nxt = runs[i + 1].box[0] * scale_x
            if not run.space_after:
                right = max(right, nxt)
            else:
                right = max(min(right, nxt - MIN_SPACE * size), left + (right - left) / 2)
        extents.append((left, max(right, left + 0.01)))
    return extents


def _tz(width: float, glyphs: int, size: float) -> str:
    """Horizontal scaling (percent) that makes ``glyphs`` glyphs of the font fill ``width``."""
    return _num(min(max(100 * width / (glyphs * GLYPH_WIDTH / 1000 * size), 0.01), MAX_TZ))


def _is_vertical(line: OcrLine) -> bool:
    """A line written top to bottom: much taller than wide, with more than one character."""
    x0, y0, x1, y1 = line.box
    return y1 - y0 > VERTICAL_RATIO * (x1 - x0) and len(line.text.strip()) > 1


def _transposed(line: OcrLine) -> OcrLine:
    """The line with x and y swapped, so that a vertical line is laid out like a horizontal one."""

    def t(box: Box) -> Box:
        return (box[1], box[0], box[3], box[2])

    return OcrLine(line.text, t(line.box), line.conf, [OcrWord(w.text, t(w.box), w.conf) for w in line.words])


def text_layer(
    page: PageText, scale_x: float, scale_y: float, page_height: float, font: str, cids: CidMap
) -> bytes:
    """Content-stream operators drawing the page's text invisibly over its boxes.

    ``scale_x``/``scale_y`` convert the PageText's pixels to points; ``page_height`` is in points
    (PDF's origin is bottom-left, the boxes' top-left). One font size and baseline per line (its
    box), so that text extractors see one line. Vertical lines are drawn top to bottom (text
    turned 90° clockwise), their size being the line's width.
    """
    ops: list[str] = []
    for line in page.lines:
        vertical = _is_vertical(line)
        runs = _runs(_transposed(line) if vertical else line)  # boxes along the writing direction
        if vertical:
            size = (line.box[2] - line.box[0]) * scale_x
            along = scale_y
        else:
            size = (line.box[3] - line.box[1]) * scale_y
            along = scale_x
        if size <= 0 or not runs:
            continue
        ops.append(f"{font} {_num(size)} Tf")
        extents = _extents(runs, along, size)
        for i, (run, (start, end)) in enumerate(zip(runs, extents, strict=True)):
            code, n = cids.encode(run.text)
            if not n:
                continue
            if vertical:
                matrix = f"0 -1 1 0 {_num(line.box[0] * scale_x)} {_num(page_height - start)}"
            else:
                matrix = f"1 0 0 1 {_num(start)} {_num(page_height - line.box[3] * scale_y)}"
            ops.append(f"{_tz(end - start, n, size)} Tz {matrix} Tm <{code.hex()}> Tj")
            if run.space_after and i + 1 < len(runs):
                # the space glyph fills the gap up to the next word, so selection spans it
                ops.append(f"{_tz(extents[i + 1][0] - end, 1, size)} Tz <{SPACE_CID:04x}> Tj")
    if not ops:
        return b""
    return ("BT\n3 Tr\n" + "\n".join(ops) + "\nET\n").encode("ascii")
