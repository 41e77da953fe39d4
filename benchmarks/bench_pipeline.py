"""Scan-to-archive benchmark (issue 2): throughput, overhead, CER, size; woa against OCRmyPDF.

On the same generated pages, in one run, one process, one OCR thread:
  * OCR engine alone (the exact engine call the pipeline makes, on the same page images),
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

from pipeline.archive import Archive  # noqa: E402
from pipeline.ingest import ingest_file  # noqa: E402
from pipeline.load import iter_pages  # noqa: E402
from pipeline.ocr import get_engine, read_page  # noqa: E402
from pipeline.ocr.base import cer  # noqa: E402
from pipeline.preprocess import prepare  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
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


def ocr_alone(docs: list[Path], engine_name: str) -> tuple[float, list[float]]:
    """Seconds spent in the engine alone, and per-page CER, on the pipeline's own OCR inputs."""
    settings = Settings(ocr_engine=engine_name)  # type: ignore[arg-type]
    engine = get_engine(settings)
    spent = 0.0
    rates = []
    for doc in docs:
        truth = truth_of(doc)
        for src, tp in zip(iter_pages(doc, settings), truth["pages"], strict=True):
            prep = prepare(src.image, src.dpi)
            t0 = time.perf_counter()
            lines = read_page(engine, prep.ocr_image, src.dpi, settings.ocr_max_dpi)
            spent += time.perf_counter() - t0
            rates.append(cer("\n".join(ln.text for ln in lines), tp["text"]))
    return spent, rates


def end_to_end(docs: list[Path], engine_name: str) -> dict:
    arch = OUT / f"archive-{engine_name}"
    shutil.rmtree(arch, ignore_errors=True)
    settings = Settings(archive_dir=arch, ocr_engine=engine_name)  # type: ignore[arg-type]
    archive = Archive(arch)
    t0 = time.perf_counter()
    results = [ingest_file(d, settings, archive=archive) for d in docs]
    seconds = time.perf_counter() - t0
    failed = [r for r in results if r.status != "archived"]
    in_bytes = out_bytes = pages = 0
    rates = []
    for d, r in zip(docs, results, strict=True):
        if r.status != "archived":
            continue
        doc = archive.load(r.doc_id)
        pages += len(doc.pages)
        in_bytes += doc.input_bytes
        out_bytes += doc.archive_bytes
        rates += [cer(p.text, t["text"]) for p, t in zip(doc.pages, truth_of(d)["pages"], strict=True)]
    return {
        "seconds": seconds,
        "pages": pages,
        "failed": [f"{r.path.name}: {r.error}" for r in failed],
        "input_bytes_per_page": in_bytes / max(1, pages),
        "archive_bytes_per_page": out_bytes / max(1, pages),
        "cer": rates,
    }


def ensure_ocrmypdf() -> Path:
    exe = OCRMYPDF_VENV / "bin" / "ocrmypdf"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(OCRMYPDF_VENV)], check=True)
        subprocess.run([str(OCRMYPDF_VENV / "bin" / "pip"), "install", "-q", "ocrmypdf==17.13.0"], check=True)
    return exe


def run_ocrmypdf(docs: list[Path]) -> dict:
    exe = ensure_ocrmypdf()
    out_dir = OUT / "ocrmypdf"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    seconds = 0.0
    rates, in_bytes, out_bytes, pages, failed = [], 0, 0, 0, []
    for d in docs:
        truth = truth_of(d)
        dest = out_dir / (d.stem + ".pdf")
        cmd = [str(exe), "-l", "chi_sim+eng", "--deskew", "--output-type", "pdfa-2", "--pdfa-backend", "internal",
               "--jobs", "1", "-q"]
        if d.suffix != ".pdf":
            cmd += ["--image-dpi", str(int(truth["pages"][0]["dpi"]))]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd + [str(d), str(dest)], capture_output=True, text=True,
                              env={**os.environ, "OMP_THREAD_LIMIT": "1"})
        seconds += time.perf_counter() - t0
        if proc.returncode != 0:
            failed.append(f"{d.name}: exit {proc.returncode}: {proc.stderr.strip().splitlines()[-1:]}")
            continue
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(dest), "-"], capture_output=True).stdout.decode()
        ref = "\n".join(p["text"] for p in truth["pages"])
        rates.append(cer(text, ref))
        pages += len(truth["pages"])
        in_bytes += d.stat().st_size
        out_bytes += dest.stat().st_size
    return {"seconds": seconds, "pages": pages, "failed": failed, "cer": rates,
            "input_bytes_per_page": in_bytes / max(1, pages), "archive_bytes_per_page": out_bytes / max(1, pages)}


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
    for eng in args.engines.split(","):
        alone_s, alone_cer = ocr_alone(docs, eng)
        e2e = end_to_end(docs, eng)
        real = sroie_cer(eng, args.receipts)
        res["engines"][eng] = {
            "ocr_alone_ppm": 60 * n_pages / alone_s,
            "end_to_end_ppm": 60 * e2e["pages"] / e2e["seconds"],
            "overhead": e2e["seconds"] / alone_s - 1,
            "cer_generated_mean": statistics.mean(e2e["cer"]),
            "cer_generated_median": statistics.median(e2e["cer"]),
            "cer_sroie_mean": statistics.mean(real),
            "cer_sroie_median": statistics.median(real),
            "input_bytes_per_page": e2e["input_bytes_per_page"],
            "archive_bytes_per_page": e2e["archive_bytes_per_page"],
            "failed": e2e["failed"],
        }
        print(eng, json.dumps(res["engines"][eng], indent=1), flush=True)
    if not args.no_ocrmypdf:
        om = run_ocrmypdf(docs)
        res["ocrmypdf"] = {
            "end_to_end_ppm": 60 * om["pages"] / om["seconds"] if om["seconds"] else 0,
            "cer_generated_mean": statistics.mean(om["cer"]) if om["cer"] else None,
            "cer_generated_median": statistics.median(om["cer"]) if om["cer"] else None,
            "input_bytes_per_page": om["input_bytes_per_page"],
            "archive_bytes_per_page": om["archive_bytes_per_page"],
            "failed": om["failed"],
        }
        print("ocrmypdf", json.dumps(res["ocrmypdf"], indent=1), flush=True)
    (OUT / "results.json").write_text(json.dumps(res, indent=1, ensure_ascii=False))
    print(f"results in {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
