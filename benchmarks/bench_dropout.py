"""Cost of colour dropout per page: preprocessing and OCR with ``colour_dropout`` off and on,
interleaved (off, on, off, on ...) on the same pages so machine load hits both alike.

Pages: colour scans of pre-printed colour forms (where the dropout runs) and colour scans of
plain black forms (where only the check runs), from ``samples/generate.py``. Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_dropout.py --out bench-out/dropout-cost [--reps 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from core.settings import load_settings  # noqa: E402
from pipeline.dropout import read_dropout  # noqa: E402
from pipeline.load import iter_pages  # noqa: E402
from pipeline.ocr import get_engine, get_text_detector, read_page  # noqa: E402
from pipeline.preprocess import prepare  # noqa: E402


def colour_pages(docs: Path, layouts: tuple[str, ...], want: int) -> list[Path]:
    """Files whose first page is a colour scan, of the given layouts."""
    out = []
    for t in sorted(docs.glob("*.truth.json")):
        truth = json.loads(t.read_text(encoding="utf-8"))
        mode = next(d["value"] for d in truth["pages"][0]["degradations"] if d["kind"] == "mode")
        if truth["layout"] in layouts and mode == "colour" and truth["pages"][0].get("rotation_cw", 0) == 0:
            stem = t.name.removesuffix(".truth.json")
            out += [p for p in docs.glob(f"{stem}.*") if not p.name.endswith(".json")][:1]
    return out[:want]


def one_page(path: Path, dropout: bool) -> dict[str, Any]:
    settings = load_settings(colour_dropout=dropout, ocr_threads=1)
    engine = get_engine(settings)
    detector = get_text_detector(engine, settings)
    src = next(iter(iter_pages(path, settings)))
    t0 = time.perf_counter()
    prep = prepare(src.image, src.dpi, text_regions=engine.uses_text_regions, detector=detector,
                   ocr_runtime=settings.ocr_runtime, dropout=dropout)
    t1 = time.perf_counter()
    if prep.dropout is not None:
        lines = read_dropout(engine, prep.dropout, prep.ocr_image, src.dpi, settings.ocr_max_dpi,
                             regions=prep.text_regions, to_page=prep.to_archive)
    else:
        lines = read_page(engine, prep.ocr_image, src.dpi, settings.ocr_max_dpi, regions=prep.text_regions,
                          to_page=prep.to_archive)
    t2 = time.perf_counter()
    return {"preprocess": t1 - t0, "ocr": t2 - t1, "total": t2 - t0, "used": prep.dropout is not None,
            "lines": len(lines)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench-out" / "dropout-cost")
    ap.add_argument("--pages", type=int, default=4, help="pages of each kind")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=641)
    args = ap.parse_args()
    kinds = {"colour form": ("colour_preprint",), "plain form": ("grid_right", "form_colon", "two_column", "grid_below")}
    docs: dict[str, list[Path]] = {}
    for kind, layouts in kinds.items():
        d = args.out / kind.replace(" ", "_")
        if not any(d.glob("*.truth.json")):
            subprocess.run([sys.executable, str(ROOT / "samples" / "generate.py"), "--out", str(d), "--count", "24",
                            "--seed", str(args.seed), "--layouts", ",".join(layouts), "--formats", "png,jpg"], check=True)
        docs[kind] = colour_pages(d, layouts, args.pages)
    print("| pages | n | dropout used | off: preprocess / OCR / total s | on: preprocess / OCR / total s | on/off (median of pairs) |")
    print("|---|---|---|---|---|---|")
    for kind, files in docs.items():
        one_page(files[0], True)  # load the models once
        res: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
        for _ in range(args.reps):
            for f in files:
                for dropout in (False, True):
                    res[dropout].append(one_page(f, dropout))
        med = {k: {m: statistics.median(r[m] for r in v) for m in ("preprocess", "ocr", "total")} for k, v in res.items()}
        used = sum(r["used"] for r in res[True]) // args.reps
        print(f"| {kind} | {len(files)} | {used}/{len(files)} | "
              f"{med[False]['preprocess']:.2f} / {med[False]['ocr']:.2f} / {med[False]['total']:.2f} | "
              f"{med[True]['preprocess']:.2f} / {med[True]['ocr']:.2f} / {med[True]['total']:.2f} | "
              f"{statistics.median(b['total'] / a['total'] for a, b in zip(res[False], res[True], strict=True)):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
