"""Side-by-side crops for docs/: original page / today's faithful copy / MRC copy (issue 13).

Each committed sample is archived twice (``archive_mode`` faithful and mrc); the copies are
rendered by pdftoppm at the scan's dpi and cut at the same place as the original page (turned
upright and deskewed exactly as the archive did). Crops: a red seal (wo07_008, page 2), a
handwritten value (wo07_009, the mileage), small print (wo07_009, the smallest printed line) and
blurred dot-matrix print (wo07_005, the VIN line), there with the MRC copy whose blurred words are
binarised too (``mrc_soft_patches = false``) beside the default one (full-resolution patches).

    .venv/bin/python benchmarks/mrc_crops.py --out docs
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.ingest import ingest_file  # noqa: E402
from core.archive import Archive  # noqa: E402
from core.models import Document  # noqa: E402
from core.settings import Settings  # noqa: E402
from pipeline.load import iter_pages  # noqa: E402
from pipeline.preprocess import prepare  # noqa: E402

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
LABELS = ("original scan", "faithful (today)", "MRC")


def archived(doc: Path, mode: str, tmp: Path, **options: float | bool) -> tuple[Document, Path]:
    settings = Settings.model_validate({"archive_dir": tmp / mode, "archive_mode": mode, **options})
    r = ingest_file(doc, settings, update_index=False)
    if r.doc_id is None or r.status != "archived":
        raise SystemExit(f"{doc.name}: {r.error}")
    archive = Archive(settings.archive_dir)
    d = archive.load(r.doc_id)
    return d, archive.root / d.archive_pdf


def render(pdf: Path, page: int, dpi: float) -> Image.Image:
    png = subprocess.run(
        ["pdftoppm", "-r", str(round(dpi)), "-f", str(page), "-l", str(page), "-png", "-singlefile", str(pdf)],
        capture_output=True,
        check=True,
    ).stdout
    return Image.open(io.BytesIO(png)).convert("RGB")


def original_page(doc: Path, page: int, settings: Settings) -> Image.Image:
    for src in iter_pages(doc, settings):
        if src.page_no == page:
            return prepare(src.image, src.dpi).archive_image.convert("RGB")
    raise SystemExit(f"{doc.name} has no page {page}")


def panel(
    images: list[Image.Image], box: tuple[int, int, int, int], title: str, labels: tuple[str, ...] = LABELS
) -> Image.Image:
    font = ImageFont.truetype(FONT, 22)
    w, h = box[2] - box[0], box[3] - box[1]
    out = Image.new("RGB", (len(images) * (w + 10) + 10, h + 70), "white")
    draw = ImageDraw.Draw(out)
    draw.text((10, 4), title, fill="black", font=font)
    for i, (im, label) in enumerate(zip(images, labels, strict=True)):
        out.paste(im.crop(box), (10 + i * (w + 10), 60))
        draw.text((10 + i * (w + 10), 32), label, fill=(80, 80, 80), font=font)
    return out


def centred(cx: float, cy: float, w: int, h: int, size: tuple[int, int]) -> tuple[int, int, int, int]:
    x0 = int(min(max(0, cx - w / 2), size[0] - w))
    y0 = int(min(max(0, cy - h / 2), size[1] - h))
    return x0, y0, x0 + w, y0 + h


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    ap.add_argument("--foreground-dpi", type=float, default=Settings().mrc_foreground_dpi)
    args = ap.parse_args()
    fg = {"mrc_foreground_dpi": args.foreground_dpi}
    settings = Settings()
    with tempfile.TemporaryDirectory(prefix="woa-crops-") as t:
        tmp = Path(t)
        jobs = []
        # the seal
        doc = ROOT / "samples" / "wo07_008.pdf"
        orig = original_page(doc, 2, settings)
        (_, faithful), (_, mrc) = archived(doc, "faithful", tmp), archived(doc, "mrc", tmp, **fg)
        dpi = json.loads(doc.with_name("wo07_008.truth.json").read_text())["pages"][1]["dpi"]
        shots = [orig, render(faithful, 2, dpi), render(mrc, 2, dpi)]
        arr = np.asarray(orig).astype(int)
        ys, xs = np.nonzero((arr[..., 0] - np.maximum(arr[..., 1], arr[..., 2])) > 60)
        jobs.append(("mrc-seal.png", shots, centred(xs.mean(), ys.mean(), 420, 340, orig.size), "red seal and signature",
                     LABELS))
        # the handwritten value and small print
        doc = ROOT / "samples" / "wo07_009.jpg"
        truth = json.loads(doc.with_name("wo07_009.truth.json").read_text())
        d, faithful = archived(doc, "faithful", tmp)
        _, mrc = archived(doc, "mrc", tmp, **fg)
        dpi = truth["pages"][0]["dpi"]
        orig = original_page(doc, 1, settings)
        shots = [orig, render(faithful, 1, dpi), render(mrc, 1, dpi)]
        lines = d.pages[0].lines
        value = truth["fields"]["mileage_km"]
        # the word the OCR read closest to the handwritten value (handwriting is read imperfectly)
        words = [w for ln in lines for w in ln.words]
        w = max(words, key=lambda w: len(set(w.text) & set(value)) - 0.1 * abs(len(w.text) - len(value)))
        cx, cy = (w.box[0] + w.box[2]) / 2, (w.box[1] + w.box[3]) / 2
        print(f"handwritten {value}: crop around the word read as {w.text!r}")
        jobs.append(("mrc-handwriting.png", shots, centred(cx, cy, 420, 160, orig.size), "handwritten mileage", LABELS))
        small = min((ln for ln in lines if len(ln.text) >= 12), key=lambda ln: ln.box[3] - ln.box[1])
        box = (int(small.box[0]) - 10, int(small.box[1]) - 20, int(small.box[0]) + 410, int(small.box[1]) + 60)
        jobs.append(("mrc-small-print.png", shots, box, "small print", LABELS))
        # blurred dot-matrix print
        doc = ROOT / "samples" / "wo07_005.jpg"
        truth = json.loads(doc.with_name("wo07_005.truth.json").read_text())
        d, faithful = archived(doc, "faithful", tmp)
        _, binarised = archived(doc, "mrc", tmp / "nopatch", mrc_soft_patches=False, **fg)
        _, mrc = archived(doc, "mrc", tmp, **fg)
        dpi = truth["pages"][0]["dpi"]
        orig = original_page(doc, 1, settings)
        shots = [orig, render(faithful, 1, dpi), render(binarised, 1, dpi), render(mrc, 1, dpi)]
        vin = truth["fields"]["vin"]
        line = max(d.pages[0].lines, key=lambda ln: len(set(ln.text) & set(vin)))
        box = (int(line.box[0]) - 10, int(line.box[1]) - 20, int(line.box[0]) + 410, int(line.box[1]) + 60)
        labels = (LABELS[0], LABELS[1], "MRC, blurred print binarised", "MRC (blurred print as patches)")
        jobs.append(("mrc-dot-matrix.png", shots, box, "dot-matrix print", labels))
        args.out.mkdir(parents=True, exist_ok=True)
        for name, images, box, title, names in jobs:
            panel(images, box, f"{title} — scan {dpi:.0f} dpi, shown at 100 %", names).save(args.out / name, optimize=True)
            print(args.out / name)


if __name__ == "__main__":
    main()
