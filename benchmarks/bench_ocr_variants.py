"""Interleaved A/B of RapidOCR variants on the same prepared pages (issue 13): runtime, detection
scale, recognition batch. One process, one thread; the order of the variants flips every page.

    .venv/bin/python benchmarks/bench_ocr_variants.py samples/wo07_0*.{jpg,png,tif,pdf} \\
        --variants onnxruntime:1280:6,openvino:1280:6,onnxruntime:1280:24,openvino:1280:24,openvino:960:6
    .venv/bin/python benchmarks/bench_ocr_variants.py samples/wo07_0*.{jpg,png,tif,pdf} \\
        --variants openvino:1280:6:0,openvino:1280:6:128,openvino:1280:6:64
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.metrics import cer  # noqa: E402
from core.settings import Settings  # noqa: E402
from pipeline.load import iter_pages  # noqa: E402
from pipeline.ocr import read_page  # noqa: E402
from pipeline.ocr.rapid import RapidOcrEngine, round_recognition_widths  # noqa: E402
from pipeline.preprocess import prepare  # noqa: E402


def variant(spec: str) -> RapidOcrEngine:
    """``runtime:detection side:recognition batch[:width step]`` (step 0 or absent: the library's
    own recognition widths)."""
    runtime, side, batch, *rest = spec.split(":")
    step = int(rest[0]) if rest else 0
    engine = RapidOcrEngine(det_max_side=int(side), runtime=runtime)
    if runtime == "openvino":
        from rapidocr_openvino import RapidOCR as OpenVinoOCR

        engine._ocr = OpenVinoOCR(inference_num_threads=1, rec_batch_num=int(batch))
        if step:
            round_recognition_widths(engine._ocr, step)
    else:
        from rapidocr_onnxruntime import RapidOCR

        engine._ocr = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, rec_batch_num=int(batch))
    return engine


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("docs", nargs="+", type=Path)
    ap.add_argument("--variants", default="onnxruntime:1280:6,openvino:1280:6")
    args = ap.parse_args()
    specs = args.variants.split(",")
    engines = {s: variant(s) for s in specs}
    spent = dict.fromkeys(specs, 0.0)
    rates: dict[str, list[float]] = {s: [] for s in specs}
    settings = Settings()
    n = 0
    for doc in args.docs:
        truth = json.loads(doc.with_name(doc.stem + ".truth.json").read_text(encoding="utf-8"))["pages"]
        for src, page in zip(iter_pages(doc, settings), truth, strict=True):
            prep = prepare(src.image, src.dpi, text_regions=False)
            n += 1
            for s in specs if n % 2 else specs[::-1]:
                t0 = time.perf_counter()
                lines = read_page(engines[s], prep.ocr_image, src.dpi, settings.ocr_max_dpi)
                spent[s] += time.perf_counter() - t0
                rates[s].append(cer("\n".join(ln.text for ln in lines), page["text"]))
    for s in specs:
        print(f"| {s} | {60 * n / spent[s]:.1f} | {spent[specs[0]] / spent[s]:.2f} | {statistics.mean(rates[s]):.4f} |")
    print(f"{n} pages; load {os.getloadavg()}")


if __name__ == "__main__":
    main()
