"""Scan-to-archive benchmark (issue 2): throughput, overhead, CER, size; woa against OCRmyPDF.

On the same generated pages, in one run, one process, one OCR thread:
  * OCR engine alone (its own text detection and recognition, on upright, deskewed, cleaned pages),
  * woa end to end (``ingest_file``: load, orient, deskew, OCR, PDF/A, hashes, sidecar, fields, index),
  * OCRmyPDF ``-l chi_sim+eng --deskew --output-type pdfa-2 --pdfa-backend internal`` (from PyPI,
    in its own venv under bench-out/, since Debian's 14.0 lacks the internal PDF/A backend),
and CER of each engine on the generated pages and on real SROIE receipts.

    .venv/bin/python benchmarks/bench_pipeline.py --pages 100
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.ingest import ingest_file  # noqa: E402
from core.archive import Archive  # noqa: E402
from core.settings import Settings  # noqa: E402
from pipeline.load import iter_pages  # noqa: E402
from pipeline.ocr import get_engine, read_page  # noqa: E402
from pipeline.ocr.base import cer  # noqa: E402
from pipeline.preprocess import prepare  # noqa: E402
from samples.generate import generate  # noqa: E402

OUT = ROOT / "bench-out" / "pipeline"
OCRMYPDF_VENV = ROOT / "bench-out" / "ocrmypdf-venv"
EVAL = Path(os.environ.get("WOA_EVAL_DATA", ROOT.parent / "shared" / "eval-data"))


def truth_of(doc: Path) -> dict:
    return json.loads(doc.with_name(doc.stem + ".truth.json").read_text(encoding="utf-8"))


def make_docs(pages: int, seed: int) -> list[Path]:
    gen = OUT / f"gen-{seed}"
    docs = sorted(p for p in gen.glob("*") if p.suffix in (".pdf", ".jpg", ".png", ".tif")) if gen.is_dir() else []
    n = sum(len(truth_of(d)["pages"]) for d in docs)
    count = max(10, int(pages / 1.3))
    while n < pages:
        shutil.rmtree(gen, ignore_errors=True)
        docs = generate(gen, count, seed)
        n = sum(len(truth_of(d)["pages"]) for d in docs)
        count += 10
    return docs


def ocr_alone(doc: Path, engine_name: str) -> tuple[float, list[float]]:
    """Seconds the engine alone needs to read the prepared pages, and CER per page.

    The engine gets each page upright, deskewed and cleaned, and finds the text lines itself
    (RapidOCR: detection + recognition, as its own ``__call__`` does); the pipeline instead
    reuses the detection made for orientation and recognises lines cut from the page before
    deskewing.
    """
    settings = Settings.model_validate({"ocr_engine": engine_name})
    engine = get_engine(settings)
    spent = 0.0
    rates = []
    for src, tp in zip(iter_pages(doc, settings), truth_of(doc)["pages"], strict=True):
        prep = prepare(src.image, src.dpi, text_regions=False)
        t0 = time.perf_counter()
        lines = read_page(engine, prep.ocr_image, src.dpi, settings.ocr_max_dpi)
        spent += time.perf_counter() - t0
        rates.append(cer("\n".join(ln.text for ln in lines), tp["text"]))
    return spent, rates


def end_to_end(doc: Path, settings: Settings, archive: Archive) -> dict:
    t0 = time.perf_counter()
    r = ingest_file(doc, settings, archive=archive)
    seconds = time.perf_counter() - t0
    if r.status != "archived" or r.doc_id is None:
        return {"seconds": seconds, "failed": f"{doc.name}: {r.error}"}
    d = archive.load(r.doc_id)
    return {
        "seconds": seconds,
        "pages": len(d.pages),
        "input_bytes": d.input_bytes,
        "archive_bytes": d.archive_bytes,
        "cer": [cer(p.text, t["text"]) for p, t in zip(d.pages, truth_of(doc)["pages"], strict=True)],
    }


def ensure_ocrmypdf() -> Path:
    exe = OCRMYPDF_VENV / "bin" / "ocrmypdf"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(OCRMYPDF_VENV)], check=True)
        subprocess.run([str(OCRMYPDF_VENV / "bin" / "pip"), "install", "-q", "ocrmypdf==17.13.0"], check=True)
    return exe


def run_ocrmypdf(doc: Path) -> dict:
    exe = ensure_ocrmypdf()
    out_dir = OUT / "ocrmypdf"
    out_dir.mkdir(parents=True, exist_ok=True)
    truth = truth_of(doc)
    dest = out_dir / (doc.stem + ".pdf")
    cmd = [str(exe), "-l", "chi_sim+eng", "--deskew", "--output-type", "pdfa-2", "--pdfa-backend", "internal",
           "--jobs", "1", "-q"]
    if doc.suffix != ".pdf":
        cmd += ["--image-dpi", str(int(truth["pages"][0]["dpi"]))]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd + [str(doc), str(dest)], capture_output=True, text=True,
                          env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        return {"seconds": seconds, "failed": f"{doc.name}: exit {proc.returncode}: {proc.stderr.strip()[-200:]}"}
    text = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(dest), "-"], capture_output=True).stdout.decode()
    return {
        "seconds": seconds,
        "pages": len(truth["pages"]),
        "input_bytes": doc.stat().st_size,
        "archive_bytes": dest.stat().st_size,
        "cer": [cer(text, "\n".join(p["text"] for p in truth["pages"]))],  # per document
    }


def summarise(runs: list[dict]) -> dict:
    ok = [r for r in runs if "failed" not in r]
    pages = sum(r["pages"] for r in ok)
    seconds = sum(r["seconds"] for r in ok)
    rates = [c for r in ok for c in r["cer"]]
    return {
        "pages": pages,
        "seconds": seconds,
        "ppm": 60 * pages / seconds if seconds else 0.0,
        "cer_mean": statistics.mean(rates) if rates else None,
        "cer_median": statistics.median(rates) if rates else None,
        "input_bytes_per_page": sum(r["input_bytes"] for r in ok) / max(1, pages),
        "archive_bytes_per_page": sum(r["archive_bytes"] for r in ok) / max(1, pages),
        "failed": [r["failed"] for r in runs if "failed" in r],
    }


def sroie_cer(engine_name: str, n: int) -> list[float]:
    from tests.test_ocr_real import ocr_cer, receipt_truth

    labels = [json.loads(x) for x in (EVAL / "sroie-receipts-en" / "labels.jsonl").read_text().splitlines()[:n]]
    return [ocr_cer(EVAL / "sroie-receipts-en" / r["image"], receipt_truth(EVAL, r["id"]), engine_name) for r in labels]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--receipts", type=int, default=30)
    ap.add_argument("--engines", default="rapidocr,tesseract")
    ap.add_argument("--no-ocrmypdf", action="store_true")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    docs = make_docs(args.pages, args.seed)
    n_pages = sum(len(truth_of(d)["pages"]) for d in docs)
    print(f"{len(docs)} documents, {n_pages} pages", flush=True)
    res: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": platform.uname()._asdict(),
                 "cpus": os.cpu_count(), "docs": len(docs), "pages": n_pages, "engines": {}}
    engines = args.engines.split(",")
    settings = {e: Settings(archive_dir=OUT / f"archive-{e}", ocr_engine=e) for e in engines}
    for st in settings.values():
        shutil.rmtree(st.archive_dir, ignore_errors=True)
    shutil.rmtree(OUT / "ocrmypdf", ignore_errors=True)
    alone: dict[str, list[tuple[float, list[float]]]] = {e: [] for e in engines}
    e2e: dict[str, list[dict]] = {e: [] for e in engines}
    om: list[dict] = []
    # Interleaved per document, so that load from other processes on this shared machine
    # weighs on every contestant alike and the ratios stay meaningful.
    for i, doc in enumerate(docs, 1):
        for e in engines:
            alone[e].append(ocr_alone(doc, e))
            e2e[e].append(end_to_end(doc, settings[e], Archive(settings[e].archive_dir)))
        if not args.no_ocrmypdf:
            om.append(run_ocrmypdf(doc))
        print(f"{i}/{len(docs)} {doc.name}", flush=True)
    for e in engines:
        alone_s = sum(a for a, _ in alone[e])
        s2 = summarise(e2e[e])
        real = sroie_cer(e, args.receipts)
        res["engines"][e] = {
            "ocr_alone_ppm": 60 * n_pages / alone_s,
            "ocr_alone_cer_mean": statistics.mean(c for _, cs in alone[e] for c in cs),
            "end_to_end": s2,
            "overhead": s2["seconds"] / alone_s - 1,
            "cer_sroie_mean": statistics.mean(real),
            "cer_sroie_median": statistics.median(real),
        }
        print(e, json.dumps(res["engines"][e], indent=1), flush=True)
    if om:
        res["ocrmypdf"] = summarise(om)
        print("ocrmypdf", json.dumps(res["ocrmypdf"], indent=1), flush=True)
    (OUT / "results.json").write_text(json.dumps(res, indent=1, ensure_ascii=False))
    print(f"results in {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
