"""Orientation and deskew accuracy (issue 2): real receipts turned 0/90/180/270, generated pages.

* Orientation: the first ``--receipts`` SROIE receipts (upright originals), each turned by 0, 90,
  180 and 270 degrees; the page is right when ``prepare`` turns it back upright.
* Orientation and residual skew on generated work orders with ground truth (``--docs`` of seed
  ``--seed``, plus the committed samples): residual = |true skew + applied correction|.

    .venv/bin/python benchmarks/bench_orientation.py --receipts 40 --docs 100
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.settings import Settings  # noqa: E402
from pipeline.load import iter_pages  # noqa: E402
from pipeline.preprocess import prepare  # noqa: E402
from samples.generate import generate  # noqa: E402

OUT = ROOT / "bench-out" / "orientation"
EVAL = Path(os.environ.get("WOA_EVAL_DATA", ROOT.parent / "shared" / "eval-data"))
SUFFIXES = (".pdf", ".jpg", ".png", ".tif")


def receipts(n: int) -> list[Path]:
    rows = [json.loads(x) for x in (EVAL / "sroie-receipts-en" / "labels.jsonl").read_text().splitlines()[:n]]
    return [EVAL / "sroie-receipts-en" / r["image"] for r in rows]


def receipt_orientation(paths: list[Path]) -> dict:
    right, wrong = 0, []
    for path in paths:
        with Image.open(path) as im:
            upright = im.convert("RGB")
        for turn in (0, 90, 180, 270):
            page = upright.rotate(-turn, expand=True)  # PIL turns counter-clockwise: this is `turn` clockwise
            prep = prepare(page, 200.0, deskew=False)
            if (prep.rotation + turn) % 360 == 0:  # prep.rotation: clockwise degrees applied
                right += 1
            else:
                wrong.append(f"{path.stem} turned {turn}: applied {prep.rotation}")
    return {"pages": 4 * len(paths), "right": right, "wrong": wrong}


def generated_pages(docs: list[Path], settings: Settings) -> dict:
    residuals: list[float] = []
    wrong: list[str] = []
    for doc in docs:
        truth = json.loads(doc.with_name(doc.stem + ".truth.json").read_text(encoding="utf-8"))
        for src, tp in zip(iter_pages(doc, settings), truth["pages"], strict=True):
            prep = prepare(src.image, src.dpi, text_regions=True)
            if (tp["rotation_cw"] + prep.rotation) % 360:
                wrong.append(f"{doc.name} p{src.page_no}: true {tp['rotation_cw']}, applied {prep.rotation}")
                continue
            residuals.append(abs(tp["skew_ccw"] + prep.skew))
    residuals.sort()
    return {
        "pages": len(residuals) + len(wrong),
        "orientation_wrong": wrong,
        "skew_residual_median": statistics.median(residuals),
        "skew_residual_p95": residuals[int(0.95 * (len(residuals) - 1))],
        "skew_residual_max": residuals[-1],
        "over_0.3": sum(r > 0.3 for r in residuals),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--receipts", type=int, default=40)
    ap.add_argument("--docs", type=int, default=100)
    ap.add_argument("--seed", type=int, default=31)
    args = ap.parse_args()
    settings = Settings()
    gen = OUT / f"gen-{args.seed}-{args.docs}"
    if not gen.is_dir():
        shutil.rmtree(OUT / "tmp", ignore_errors=True)
        generate(OUT / "tmp", args.docs, args.seed)
        (OUT / "tmp").rename(gen)
    docs = sorted(p for d in (gen, ROOT / "samples") for p in d.glob("*") if p.suffix in SUFFIXES)
    t0 = time.perf_counter()
    res = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.uname()._asdict(),
        "receipts": receipt_orientation(receipts(args.receipts)),
        "generated": generated_pages(docs, settings),
    }
    res["seconds"] = time.perf_counter() - t0
    (OUT / "results.json").write_text(json.dumps(res, indent=1, ensure_ascii=False))
    print(json.dumps(res, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
