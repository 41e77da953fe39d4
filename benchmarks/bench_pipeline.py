"""Scan-to-archive benchmark (issue 2): throughput, overhead, CER, size; woa against OCRmyPDF.

On the same generated pages, in one run, one process, one OCR thread:
  * OCR engine alone (its own text detection and recognition, on upright, deskewed, cleaned pages),
  * woa end to end (``ingest_file``: load, orient, deskew, OCR, PDF/A, hashes, sidecar, fields, index),
  * OCRmyPDF ``-l chi_sim+eng --deskew --output-type pdfa-2 --pdfa-backend internal`` (from PyPI,
    in its own venv under bench-out/, since Debian's 14.0 lacks the internal PDF/A backend),
and CER of each engine on the generated pages and on real SROIE receipts.

Archive options (issue 13, ``--archive-modes faithful,mrc,mrc-1b``): woa end to end once per
option on every document, interleaved; archive bytes per page overall and by page kind
(colour / grey / bilevel, from the page's images), every copy re-validated
(``pikepdf.pdfa.validate_written``; PDFBox Preflight for the 1b option), and with
``--legibility`` the copy's pages rendered by pdftoppm at the scan's dpi and read again by the
same OCR, against the same OCR of the original pages. OCRmyPDF runs with ``--optimize 3``
(``--ocrmypdf-optimize``). ``--samples`` adds the committed samples to the corpus.

    .venv/bin/python benchmarks/bench_pipeline.py --pages 100
    .venv/bin/python benchmarks/bench_pipeline.py --pages 20 --samples --engines rapidocr \
        --archive-modes faithful,mrc,mrc-1b --legibility --receipts 0
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

from pikepdf import pdfa  # noqa: E402

from app.ingest import ingest_file  # noqa: E402
from benchmarks.metrics import cer, ocr_cer, receipt_truth  # noqa: E402
from core.archive import Archive  # noqa: E402
from core.settings import Settings  # noqa: E402
from pipeline.load import iter_pages  # noqa: E402
from pipeline.ocr import get_engine, read_page  # noqa: E402
from pipeline.preprocess import prepare  # noqa: E402
from samples.generate import generate  # noqa: E402
from tests.pdfbox import preflight_1b  # noqa: E402

ARCHIVE_MODES = {
    "faithful-onnxruntime": {"archive_mode": "faithful", "ocr_runtime": "onnxruntime"},  # before issue 13
    "faithful": {"archive_mode": "faithful"},
    "mrc": {"archive_mode": "mrc"},
    "mrc-1b": {"archive_mode": "mrc", "pdfa_level": "1b"},
    "mrc-fg50": {"archive_mode": "mrc", "mrc_foreground_dpi": 50},
    "mrc-nopatch": {"archive_mode": "mrc", "mrc_soft_patches": False},  # blurred words binarised too
}

OUT = Path(os.environ.get("WOA_BENCH_OUT", ROOT / "bench-out" / "pipeline"))  # another run beside this one: its own
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


def page_kinds(pdf_path: Path, dpis: list[float]) -> list[tuple[str, int]]:
    """(kind, image bytes) per page of an archive copy: colour, grey or bilevel; colour and grey
    pages scanned below 200 dpi are "colour<200" and "grey<200" (the size goal is for 200-300 dpi)."""
    import pikepdf

    out = []
    with pikepdf.open(pdf_path) as pdf:
        for page, dpi in zip(pdf.pages, dpis, strict=True):
            kind, size = "bilevel", 0
            for img in page.Resources.get("/XObject", {}).values():
                size += len(img.read_raw_bytes())
                if "/Mask" in img:
                    size += len(img.Mask.read_raw_bytes())
                if img.get("/ColorSpace") == "/DeviceRGB":
                    kind = "colour"
                elif int(img.get("/BitsPerComponent", 1)) == 8 and kind != "colour":
                    kind = "grey"
            out.append((kind + ("<200" if kind != "bilevel" and dpi < 190 else ""), size))
    return out


def reocr_pages(images: list[tuple[object, float]], engine_name: str) -> list[str]:
    """The same OCR as ``ocr_alone`` on page images (PIL, dpi): the legibility probe."""
    settings = Settings.model_validate({"ocr_engine": engine_name})
    engine = get_engine(settings)
    texts = []
    for im, dpi in images:
        prep = prepare(im, dpi, text_regions=False)  # type: ignore[arg-type]
        texts.append("\n".join(ln.text for ln in read_page(engine, prep.ocr_image, dpi, settings.ocr_max_dpi)))
    return texts


def render_pages(pdf_path: Path, dpis: list[float]) -> list[tuple[object, float]]:
    import io

    from PIL import Image

    out = []
    for i, dpi in enumerate(dpis, 1):
        png = subprocess.run(["pdftoppm", "-r", str(round(dpi)), "-f", str(i), "-l", str(i), "-png", "-singlefile",
                              str(pdf_path)], capture_output=True, check=True).stdout
        out.append((Image.open(io.BytesIO(png)).convert("RGB"), dpi))
    return out


def end_to_end(doc: Path, settings: Settings, archive: Archive, legibility: str | None = None) -> dict:
    t0 = time.perf_counter()
    r = ingest_file(doc, settings, archive=archive)
    seconds = time.perf_counter() - t0
    if r.status != "archived" or r.doc_id is None:
        return {"seconds": seconds, "failed": f"{doc.name}: {r.error}"}
    d = archive.load(r.doc_id)
    truth = truth_of(doc)["pages"]
    pdf_path = archive.root / d.archive_pdf
    out = {
        "seconds": seconds,
        "pages": len(d.pages),
        "input_bytes": d.input_bytes,
        "archive_bytes": d.archive_bytes,
        "cer": [cer(p.text, t["text"]) for p, t in zip(d.pages, truth, strict=True)],
        "kinds": page_kinds(pdf_path, [p.dpi for p in d.pages]),
        "name": doc.name,
        "valid": bool(pdfa.validate_written(pdf_path, settings.pdfa_level).passed),
    }
    if settings.pdfa_level == "1b":
        out["preflight"] = preflight_1b(pdf_path)[0]
    if legibility:
        texts = reocr_pages(render_pages(pdf_path, [p.dpi for p in d.pages]), legibility)
        out["reocr_cer"] = [cer(x, t["text"]) for x, t in zip(texts, truth, strict=True)]
    return out


def reocr_original(doc: Path, engine_name: str) -> list[float]:
    settings = Settings.model_validate({"ocr_engine": engine_name})
    texts = reocr_pages([(src.image, src.dpi) for src in iter_pages(doc, settings)], engine_name)
    return [cer(x, t["text"]) for x, t in zip(texts, truth_of(doc)["pages"], strict=True)]


def ensure_ocrmypdf() -> Path:
    exe = OCRMYPDF_VENV / "bin" / "ocrmypdf"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(OCRMYPDF_VENV)], check=True)
        subprocess.run([str(OCRMYPDF_VENV / "bin" / "pip"), "install", "-q", "ocrmypdf==17.13.0"], check=True)
    return exe


def run_ocrmypdf(doc: Path, optimize: int = 1) -> dict:
    exe = ensure_ocrmypdf()
    out_dir = OUT / f"ocrmypdf-O{optimize}"
    out_dir.mkdir(parents=True, exist_ok=True)
    truth = truth_of(doc)
    dest = out_dir / (doc.stem + ".pdf")
    cmd = [str(exe), "-l", "chi_sim+eng", "--deskew", "--output-type", "pdfa-2", "--pdfa-backend", "internal",
           "--jobs", "1", "-q", "--optimize", str(optimize)]
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


def by_kind(ok: list[dict]) -> dict:
    kinds: dict[str, list[int]] = {}
    for r in ok:
        for kind, size in r.get("kinds", []):
            kinds.setdefault(kind, []).append(size)
    return {k: {"pages": len(v), "image_bytes_per_page": sum(v) / len(v)} for k, v in sorted(kinds.items())}


def summarise(runs: list[dict]) -> dict:
    ok = [r for r in runs if "failed" not in r]
    pages = sum(r["pages"] for r in ok)
    seconds = sum(r["seconds"] for r in ok)
    rates = [c for r in ok for c in r["cer"]]
    extra: dict = {}
    if ok and "kinds" in ok[0]:
        extra["by_kind"] = by_kind(ok)
        extra["valid"] = f"{sum(r['valid'] for r in ok)}/{len(ok)}"
    if ok and "preflight" in ok[0]:
        extra["preflight"] = f"{sum(r['preflight'] for r in ok)}/{len(ok)}"
    if ok and "reocr_cer" in ok[0]:
        extra["reocr_cer_mean"] = statistics.mean(c for r in ok for c in r["reocr_cer"])
    return extra | {
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
    labels = [json.loads(x) for x in (EVAL / "sroie-receipts-en" / "labels.jsonl").read_text().splitlines()[:n]]
    return [ocr_cer(EVAL / "sroie-receipts-en" / r["image"], receipt_truth(EVAL, r["id"]), engine_name) for r in labels]


def table(res: dict, modes: list[str]) -> str:
    """One markdown row per archive option: size and speed side by side; × faithful is against
    the "faithful" option (else the first), per page overall and for 200-300 dpi colour and grey."""
    base = res["archive_modes"]["faithful" if "faithful" in modes else modes[0]]
    orig = res.get("original_reocr_cer_mean")
    rows = ["| option | KB/page | colour KB/page | grey KB/page | bilevel KB/page | <200 dpi KB/page | × faithful "
            "(all / colour / grey) | pages/min | CER | re-OCR CER (original "
            + (f"{orig:.4f}" if orig is not None else "–") + ") | valid |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]

    def per_page(r: dict, kind: str) -> float | None:
        k = r.get("by_kind", {})
        return k[kind]["image_bytes_per_page"] if kind in k else None

    for m in modes:
        r = res["archive_modes"][m]
        k = r.get("by_kind", {})

        def kb(kind: str, k: dict = k) -> str:
            return f"{k[kind]['image_bytes_per_page'] / 1e3:.0f} ({k[kind]['pages']})" if kind in k else "–"

        low = {kind: v for kind, v in k.items() if kind.endswith("<200")}
        low_kb = (f"{sum(v['image_bytes_per_page'] * v['pages'] for v in low.values()) / 1e3 / sum(v['pages'] for v in low.values()):.0f}"
                  f" ({sum(v['pages'] for v in low.values())})") if low else "–"
        ratios = [f"{r['archive_bytes_per_page'] / base['archive_bytes_per_page']:.3f}"]
        for kind in ("colour", "grey"):
            mine, theirs = per_page(r, kind), per_page(base, kind)
            ratios.append(f"{mine / theirs:.3f}" if mine is not None and theirs else "–")
        reocr = r.get("reocr_cer_mean")
        valid = r.get("valid", "") + (f", Preflight {r['preflight']}" if "preflight" in r else "")
        rows.append(f"| {m} | {r['archive_bytes_per_page'] / 1e3:.0f} | {kb('colour')} | {kb('grey')} | {kb('bilevel')} | "
                    f"{low_kb} | {' / '.join(ratios)} | {r['ppm']:.1f} | "
                    f"{r['cer_mean']:.4f} | {f'{reocr:.4f}' if reocr is not None else '–'} | {valid} |")
    return "\n".join(rows)


def per_document_reocr(by_mode: dict[str, list[dict]], original: dict[str, float]) -> str:
    """Re-OCR CER per document: the original's and each option's."""
    names = list(original)
    lines = ["document: original " + " ".join(m for m, runs in by_mode.items() if runs and "reocr_cer" in runs[0])]
    for name in names:
        cells = [f"{original[name]:.4f}"]
        for runs in by_mode.values():
            for r in runs:
                if r.get("name") == name and "reocr_cer" in r:
                    cells.append(f"{sum(r['reocr_cer']) / len(r['reocr_cer']):.4f}")
        lines.append(f"{name}: " + " ".join(cells))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--receipts", type=int, default=30)
    ap.add_argument("--engines", default="rapidocr,tesseract")
    ap.add_argument("--no-ocrmypdf", action="store_true")
    ap.add_argument("--ocrmypdf-optimize", type=int, default=1, help="OCRmyPDF --optimize level (3: its best size)")
    ap.add_argument("--samples", default="", help="add committed samples to the corpus: 'all' or names (wo07_008,...)")
    ap.add_argument("--archive-modes", default="", help=f"comma list of {', '.join(ARCHIVE_MODES)} (first engine)")
    ap.add_argument("--legibility", action="store_true", help="re-OCR the rendered archive copies and the originals")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    docs = make_docs(args.pages, args.seed)
    if args.samples:
        names = None if args.samples == "all" else set(args.samples.split(","))
        docs += sorted(p for p in (ROOT / "samples").glob("wo07_*")
                       if p.suffix in (".pdf", ".jpg", ".png", ".tif") and (names is None or p.stem in names))
    n_pages = sum(len(truth_of(d)["pages"]) for d in docs)
    print(f"{len(docs)} documents, {n_pages} pages", flush=True)
    res: dict = {"load_before": os.getloadavg(), "date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": platform.uname()._asdict(),
                 "cpus": os.cpu_count(), "docs": len(docs), "pages": n_pages, "engines": {}}
    engines = args.engines.split(",")
    settings = {e: Settings(archive_dir=OUT / f"archive-{e}", ocr_engine=e) for e in engines}
    for st in settings.values():
        shutil.rmtree(st.archive_dir, ignore_errors=True)
    shutil.rmtree(OUT / f"ocrmypdf-O{args.ocrmypdf_optimize}", ignore_errors=True)
    modes = [m for m in args.archive_modes.split(",") if m]
    mode_settings = {m: Settings.model_validate({"archive_dir": OUT / f"archive-{m}", "ocr_engine": engines[0],
                                                 **ARCHIVE_MODES[m]}) for m in modes}
    for st in mode_settings.values():
        shutil.rmtree(st.archive_dir, ignore_errors=True)
    alone: dict[str, list[tuple[float, list[float]]]] = {e: [] for e in engines}
    e2e: dict[str, list[dict]] = {e: [] for e in engines}
    by_mode: dict[str, list[dict]] = {m: [] for m in modes}
    original_reocr: list[float] = []
    original_by_doc: dict[str, float] = {}
    om: list[dict] = []
    # Interleaved per document, so that load from other processes on this shared machine
    # weighs on every contestant alike and the ratios stay meaningful.
    for i, doc in enumerate(docs, 1):
        for e in engines if not modes else []:  # archive options compare woa end to end only
            alone[e].append(ocr_alone(doc, e))
            e2e[e].append(end_to_end(doc, settings[e], Archive(settings[e].archive_dir)))
        for m in modes if i % 2 else modes[::-1]:
            leg = engines[0] if args.legibility and m in ("faithful", "mrc", "mrc-fg50", "mrc-nopatch") else None
            by_mode[m].append(end_to_end(doc, mode_settings[m], Archive(mode_settings[m].archive_dir), leg))
        if args.legibility and modes:
            rates = reocr_original(doc, engines[0])
            original_reocr += rates
            original_by_doc[doc.name] = sum(rates) / len(rates)
        if not args.no_ocrmypdf:
            om.append(run_ocrmypdf(doc, args.ocrmypdf_optimize))
        print(f"{i}/{len(docs)} {doc.name} load {os.getloadavg()[0]:.1f}", flush=True)
    for e in engines if not modes else []:
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
    if modes:
        res["archive_modes"] = {m: summarise(by_mode[m]) for m in modes}
        if original_reocr:
            res["original_reocr_cer_mean"] = statistics.mean(original_reocr)
        print("archive modes", json.dumps(res["archive_modes"], indent=1), flush=True)
        print(table(res, modes), flush=True)
        if original_by_doc:
            print(per_document_reocr(by_mode, original_by_doc), flush=True)
    if om:
        res["ocrmypdf"] = summarise(om)
        res["ocrmypdf"]["optimize"] = args.ocrmypdf_optimize
        print("ocrmypdf", json.dumps(res["ocrmypdf"], indent=1), flush=True)
    res["load_after"] = os.getloadavg()
    (OUT / "results.json").write_text(json.dumps(res, indent=1, ensure_ascii=False))
    print(f"results in {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
