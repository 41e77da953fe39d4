"""Loading: preflight checks, then pages streamed one at a time from PDF, TIFF, JPEG or PNG.

Every problem with the input becomes an ``InputError`` whose message is the one-line reason shown
to the user. Pages are produced lazily so a 300-page PDF never has all its pages in memory.
"""

from __future__ import annotations

import contextlib
import io
import logging
import struct
import subprocess
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pikepdf
from PIL import Image, UnidentifiedImageError

from core.errors import InputError
from core.models import OcrLine, OcrWord
from core.settings import Settings
from pipeline.ocr import scale_line
from pipeline.ocr.base import join_words

log = logging.getLogger(__name__)

A4_LONG_INCH = 297 / 25.4
COMMON_DPI = (72, 96, 100, 150, 200, 240, 300, 400, 600)
BORN_DIGITAL_MIN_CHARS = 20
RENDER_DPI = 200.0
# A PDF page side, in points (PDF 1.7 implementation limits; pipeline.pdfa enforces them on output).
PDF_MIN_SIDE_PT, PDF_MAX_SIDE_PT = 3.0, 14400.0
# What Pillow raises on a damaged file or frame (a truncated strip, a bad IFD: "Missing dimensions").
FRAME_ERRORS = (OSError, ValueError, SyntaxError, TypeError, EOFError, KeyError, IndexError, struct.error)  # for PDF pages that are not a single scanned image


@dataclass
class SourcePage:
    page_no: int  # 1-based
    image: Image.Image
    dpi: float
    dpi_inferred: bool = False
    text_lines: list[OcrLine] | None = None  # born-digital text, in pixels of ``image``
    jpeg_bytes: bytes | None = None  # the page's original JPEG data, if it is one
    lossy: bool = False  # the source image was JPEG/JPEG 2000 compressed


def sniff_kind(path: Path) -> str:
    """File kind from its first bytes, not its name: 'pdf', 'jpeg', 'png' or 'tiff'."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}") from exc
    if size == 0:
        raise InputError("empty file (0 bytes)")
    with open(path, "rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    shown = head[:12].decode("latin-1").encode("unicode_escape").decode("ascii")
    raise InputError(f"not a PDF, TIFF, JPEG or PNG file (it starts with '{shown}')")


def infer_dpi(width: int, height: int, dpi: tuple[float, float] | None) -> tuple[float, bool]:
    """The image's dpi, or the dpi that makes it an A4 page (snapped to a common value)."""
    if dpi and dpi[0] and dpi[0] > 1:
        d = float(dpi[0])
        # PNG stores pixels per metre: 150 dpi comes back as 150.0124.
        d = next((float(c) for c in COMMON_DPI if abs(d - c) < 0.5), round(d, 2))
        # Many writers put 72 or 96 dpi in files that are really scans: trust only what fits a page.
        long_inch = max(width, height) / d
        if 3.0 <= long_inch <= 20.0:
            return d, False
    guess = max(width, height) / A4_LONG_INCH
    for c in COMMON_DPI:
        if abs(guess - c) / c < 0.06:
            return float(c), True
    return round(guess, 1), True


def _check_pixels(w: int, h: int, settings: Settings, what: str = "page") -> None:
    if w <= 0 or h <= 0:
        raise InputError(f"{what} has no pixels ({w}x{h})")
    if w * h > settings.max_page_pixels:
        raise InputError(
            f"{what} is {w}x{h} pixels ({w * h / 1e6:.0f} Mpx), over the limit of "
            f"{settings.max_page_pixels / 1e6:.0f} Mpx (decompression bomb guard)"
        )


def check_geometry(w: int, h: int, settings: Settings, what: str = "page") -> None:
    """A page's shape, from its header, before any pixel is decoded: not too small, not a sliver."""
    _check_pixels(w, h, settings, what)
    if min(w, h) < settings.min_page_side_px:
        raise InputError(
            f"{what} is {w}x{h} pixels: too small to be a scanned page "
            f"(at least {settings.min_page_side_px} px a side, setting min_page_side_px)"
        )
    if max(w, h) > settings.max_page_aspect * min(w, h):
        raise InputError(
            f"{what} is {w}x{h} pixels: {max(w, h) / min(w, h):.0f} times longer than wide, not a page "
            f"(at most {settings.max_page_aspect:g}, setting max_page_aspect)"
        )


def _open_image(path: Path, settings: Settings) -> Image.Image:
    try:
        with pillow_warnings_logged(path):
            im = Image.open(path)
            with contextlib.suppress(*FRAME_ERRORS):
                im.getexif()  # parsed now, so a "Corrupt EXIF data" warning is caught here
    except Image.DecompressionBombError as exc:
        raise InputError(f"image too large (decompression bomb guard): {exc}") from exc
    except (UnidentifiedImageError, *FRAME_ERRORS) as exc:
        raise InputError(f"unreadable image: {exc}") from exc
    check_geometry(im.width, im.height, settings, "page 1" if im.format == "TIFF" else "page")
    return im


@contextlib.contextmanager
def pillow_warnings_logged(path: object) -> Iterator[None]:
    """Pillow's warnings about a file (corrupt EXIF, odd chunks) go to the log, not the terminal."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        log.info("%s: %s", path, w.message)


def _load_frame(im: Image.Image, what: str) -> Image.Image:
    try:
        with pillow_warnings_logged(what):
            im.load()
    except FRAME_ERRORS as exc:
        raise InputError(f"{what} is damaged or truncated: {exc}") from exc
    return to_page_mode(im)


def to_page_mode(im: Image.Image) -> Image.Image:
    """The image in "1", "L" or "RGB", its tones kept: 16-bit and float grey are scaled (not
    clipped: a 16-bit scan clipped to 8 bits is all white), transparency is laid on white paper,
    palettes are expanded."""
    if im.mode in ("1", "L", "RGB"):
        return im
    if im.mode.startswith(("I", "F")):
        arr = np.asarray(im)
        if im.mode.startswith("I;16"):
            full = 65535.0
        else:
            top = float(arr.max()) if arr.size else 0.0
            full = 1.0 if im.mode == "F" and top <= 1.0 else 255.0 if top <= 255 else 65535.0 if top <= 65535 else top
        grey = np.clip(np.rint(arr.astype(np.float64) * (255.0 / full)), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L")
    has_alpha = "A" in im.mode or "a" in im.mode or (im.mode == "P" and "transparency" in im.info)
    if has_alpha:
        grey_page = im.mode in ("LA", "La") or (im.mode == "P" and _grey_palette(im))
        rgba = im.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat = Image.alpha_composite(paper, rgba).convert("RGB")
        return flat.convert("L") if grey_page else flat
    if im.mode == "P":
        return im.convert("L") if _grey_palette(im) else im.convert("RGB")
    return im.convert("RGB")


def _grey_palette(im: Image.Image) -> bool:
    pal = im.getpalette() or []
    return all(pal[i] == pal[i + 1] == pal[i + 2] for i in range(0, len(pal) - 2, 3))


def count_pages(path: Path, settings: Settings) -> int:
    kind = sniff_kind(path)
    if kind == "pdf":
        with _open_pdf(path) as pdf:
            return len(pdf.pages)
    if kind == "tiff":
        return _frame_count(_open_image(path, settings))
    return 1


def iter_pages(path: Path, settings: Settings) -> Iterator[SourcePage]:
    kind = sniff_kind(path)
    if path.stat().st_size > settings.max_file_bytes:
        raise InputError(f"file is larger than the limit of {settings.max_file_bytes // 1024**2} MiB")
    if kind == "pdf":
        yield from _iter_pdf(path, settings)
    else:
        yield from _iter_image(path, kind, settings)


def _frame_count(im: Image.Image) -> int:
    try:
        with pillow_warnings_logged(im.filename if hasattr(im, "filename") else "image"):
            return int(getattr(im, "n_frames", 1))
    except FRAME_ERRORS as exc:
        readable = 0
        with pillow_warnings_logged("image"), contextlib.suppress(*FRAME_ERRORS):
            while True:
                im.seek(readable)
                readable += 1
        before = f"; the {readable} before it read fine" if readable else ""
        raise InputError(f"page {readable + 1} is damaged or truncated: {exc}{before}") from exc


def _iter_image(path: Path, kind: str, settings: Settings) -> Iterator[SourcePage]:
    im = _open_image(path, settings)
    try:
        yield from _frames(im, path, kind, settings)
    finally:
        # Close the file, not the image: Image.close() also drops the pixels of a page already
        # yielded (a single-frame page is the opened image itself), which a caller may still hold.
        fp = getattr(im, "fp", None)
        if fp is not None and not fp.closed:
            fp.close()


def _frames(im: Image.Image, path: Path, kind: str, settings: Settings) -> Iterator[SourcePage]:
    n = _frame_count(im)
    if n > settings.max_pages:
        raise InputError(f"{n} pages, over the limit of {settings.max_pages} (setting max_pages)")
    of = f" of {n}" if n > 1 else ""
    for i in range(1, n + 1):
        try:
            with pillow_warnings_logged(f"{path} page {i}"):
                if i > 1:
                    im.seek(i - 1)
                frame = im.copy() if kind == "tiff" else im
        except FRAME_ERRORS as exc:
            raise InputError(f"page {i}{of} is damaged or truncated: {exc}") from exc
        check_geometry(frame.width, frame.height, settings, f"page {i}")
        dpi_info = frame.info.get("dpi")
        page = _load_frame(frame, f"page {i}{of}")
        dpi, inferred = infer_dpi(page.width, page.height, dpi_info)
        jpeg = path.read_bytes() if kind == "jpeg" and page.mode in ("L", "RGB") else None
        lossy = kind == "jpeg" or str(frame.info.get("compression", "")) in ("jpeg", "tiff_jpeg")
        yield SourcePage(i, page, dpi, inferred, None, jpeg, lossy)


# -- PDF -------------------------------------------------------------------------------------


def _open_pdf(path: Path) -> pikepdf.Pdf:
    try:
        return pikepdf.open(path)
    except pikepdf.PasswordError as exc:
        raise InputError("password-protected PDF (remove the password and scan again)") from exc
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0].removeprefix(f"{path}: ")
        raise InputError(f"corrupt PDF: {reason[:200]}") from exc


def _iter_pdf(path: Path, settings: Settings) -> Iterator[SourcePage]:
    with _open_pdf(path) as pdf:
        n = len(pdf.pages)
        if n == 0:
            raise InputError("PDF has no pages")
        if n > settings.max_pages:
            raise InputError(f"{n} pages, over the limit of {settings.max_pages} (setting max_pages)")
        for i in range(n):
            try:
                page = pdf.pages[i]
                yield _pdf_page(path, page, i + 1, settings)
            except InputError:
                raise
            except (pikepdf.PdfError, OSError, ValueError, KeyError, TypeError) as exc:
                raise InputError(f"corrupt PDF page {i + 1}: {str(exc).splitlines()[0][:200]}") from exc


def _page_images(page: pikepdf.Page) -> list[pikepdf.Stream]:
    try:
        xobjs = page.resources.get("/XObject", pikepdf.Dictionary())
        return [x for x in xobjs.values() if isinstance(x, pikepdf.Stream) and x.get("/Subtype") == "/Image"]
    except (AttributeError, KeyError, TypeError):
        return []


def _pdf_page(path: Path, page: pikepdf.Page, page_no: int, settings: Settings) -> SourcePage:
    mbox = [float(v) for v in page.mediabox]
    w_pt, h_pt = abs(mbox[2] - mbox[0]), abs(mbox[3] - mbox[1])
    if not (PDF_MIN_SIDE_PT <= w_pt <= PDF_MAX_SIDE_PT and PDF_MIN_SIDE_PT <= h_pt <= PDF_MAX_SIDE_PT):
        raise InputError(f"page {page_no}: its MediaBox is {w_pt:g} x {h_pt:g} points; a page is "
                         f"{PDF_MIN_SIDE_PT:g} to {PDF_MAX_SIDE_PT:g} a side (PDF and PDF/A limits)")
    rotate = int(page.obj.get("/Rotate", 0)) % 360
    text_lines = _born_digital_text(path, page_no)
    images = _page_images(page)
    for img in images:
        _check_pixels(int(img.get("/Width", 0)), int(img.get("/Height", 0)), settings, f"page {page_no} image")

    if len(images) == 1:
        check_geometry(int(images[0].get("/Width", 0)), int(images[0].get("/Height", 0)), settings, f"page {page_no}")
        pdfimg = pikepdf.PdfImage(images[0])
        jpeg: bytes | None = None
        try:
            im = pdfimg.as_pil_image()
        except Exception as exc:  # pikepdf raises several types for unsupported/corrupt streams
            raise InputError(f"page {page_no}: image cannot be decoded: {exc}") from exc
        im = _load_frame(im, f"page {page_no}")
        lossy = any(f in ("/DCTDecode", "/JPXDecode") for f in pdfimg.filters)
        if pdfimg.filters == ["/DCTDecode"] and rotate == 0 and im.mode in ("L", "RGB"):
            jpeg = images[0].read_raw_bytes()
        if rotate:
            im = im.rotate(-rotate, expand=True)
        page_w_in = (h_pt if rotate in (90, 270) else w_pt) / 72.0
        dpi = round(im.width / page_w_in, 2) if page_w_in > 0 else settings.default_dpi
    else:
        dpi = RENDER_DPI if text_lines is not None else settings.default_dpi
        check_geometry(int(w_pt / 72 * dpi), int(h_pt / 72 * dpi), settings, f"page {page_no}")
        im = _render_pdf_page(path, page_no, dpi)
        jpeg, lossy = None, False
    if text_lines is not None:
        text_lines = [scale_line(ln, dpi / 72.0) for ln in text_lines]
    return SourcePage(page_no, im, dpi, False, text_lines, jpeg, lossy)


def _render_pdf_page(path: Path, page_no: int, dpi: float) -> Image.Image:
    from pdf2image import convert_from_path
    from pdf2image.exceptions import PDFPageCountError, PDFSyntaxError

    try:
        images = convert_from_path(str(path), dpi=int(round(dpi)), first_page=page_no, last_page=page_no, grayscale=False)
    except (PDFPageCountError, PDFSyntaxError, OSError) as exc:
        raise InputError(f"page {page_no} cannot be rendered: {exc}") from exc
    if not images:
        raise InputError(f"page {page_no} cannot be rendered")
    return _load_frame(images[0], f"page {page_no}")


def _born_digital_text(path: Path, page_no: int) -> list[OcrLine] | None:
    """The page's own text lines (boxes in PDF points, top-left origin), or None for a scan."""
    try:
        out = subprocess.run(
            ["pdftotext", "-f", str(page_no), "-l", str(page_no), "-bbox-layout", "-enc", "UTF-8", str(path), "-"],
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("pdftotext failed on %s page %d: %s", path, page_no, exc)
        return None
    if out.returncode != 0 or not out.stdout:
        return None
    return parse_bbox_layout(out.stdout)


def parse_bbox_layout(xhtml: bytes) -> list[OcrLine] | None:
    try:
        root = ET.parse(io.BytesIO(xhtml)).getroot()
    except ET.ParseError:
        return None
    ns = {"x": "http://www.w3.org/1999/xhtml"}
    lines: list[OcrLine] = []
    for ln in root.iterfind(".//x:line", ns):
        words = []
        for w in ln.iterfind("x:word", ns):
            text = (w.text or "").strip()
            if text:
                b = tuple(float(w.get(k, 0)) for k in ("xMin", "yMin", "xMax", "yMax"))
                words.append(OcrWord(text, b, 1.0))  # type: ignore[arg-type]
        if words:
            lb = tuple(float(ln.get(k, 0)) for k in ("xMin", "yMin", "xMax", "yMax"))
            lines.append(OcrLine(join_words([w.text for w in words]), lb, 1.0, words))  # type: ignore[arg-type]
    n_chars = sum(len(ln.text.replace(" ", "")) for ln in lines)
    return lines if n_chars >= BORN_DIGITAL_MIN_CHARS else None
