"""Field-extraction benchmark.

1. Generated work orders (``samples/generate.py``) run through the real pipeline
   (``app.ingest.ingest_file``, RapidOCR); per-field exact-match accuracy and the
   confident-but-wrong rate (confidence >= review threshold and value wrong) against the truth.
2. Real receipts (SROIE) and Chinese VAT invoices: date and total via ``extractors.receipt``.

The OCR result of every document is cached as PageText JSON under ``--out`` so extraction can be
re-measured without OCR-ing again. Usage::

    .venv/bin/python benchmarks/bench_extract.py --count 300 --seed 31 [--workers 2] [--no-real]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.archive import Archive, sha256_file  # noqa: E402
from core.models import CANONICAL_FIELDS, OcrLine, PageText  # noqa: E402
from core.settings import Settings, load_settings  # noqa: E402
from extractors import extract  # noqa: E402
from extractors.dates import normalize_date  # noqa: E402
from extractors.fields import canonical_model  # noqa: E402
from extractors.money import normalize_money  # noqa: E402
from extractors.receipt import extract_receipt  # noqa: E402

EVAL = Path(os.environ.get("WOA_EVAL_DATA", ROOT.parent / "shared" / "eval-data"))
log = logging.getLogger("bench_extract")


# -- OCR through the real pipeline, cached -----------------------------------------------------

def _ocr_one(job: tuple[str, str, str]) -> tuple[str, float, str]:
    """Ingest one file into a scratch archive and cache its pages; returns (name, seconds, error)."""
    path, cache, archive_dir = job
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    from app.ingest import ingest_file

    settings = load_settings(archive_dir=Path(archive_dir), ocr_threads=1)
    t0 = time.perf_counter()
    res = ingest_file(Path(path), settings, update_index=False)
    if res.status == "failed" or res.doc_id is None:
        return Path(path).name, time.perf_counter() - t0, res.error or "failed"
    doc = Archive(Path(archive_dir)).load(res.doc_id)
    Path(cache).write_text(json.dumps([p.to_dict() for p in doc.pages], ensure_ascii=False), encoding="utf-8")
    return Path(path).name, time.perf_counter() - t0, ""


def ocr_cached(files: list[Path], cache_dir: Path, archive_dir: Path, workers: int,
               cached_only: bool = False, reverse: bool = False) -> dict[str, list[PageText]]:
    cache_dir.mkdir(parents=True, exist_ok=True)
    # the cache is keyed by content: a regenerated document is OCR-ed again
    caches = {f: cache_dir / f"{f.stem}.{sha256_file(f)[:12]}.pages.json" for f in files}
    jobs = [(str(f), str(c), str(archive_dir)) for f, c in caches.items() if not c.is_file()]
    if reverse:  # a second run working from the other end of the list
        jobs.reverse()
    if jobs and not cached_only:
        print(f"OCR of {len(jobs)} files with {workers} workers (cached in {cache_dir}) ...", file=sys.stderr)
        t0 = time.perf_counter()
        with ProcessPoolExecutor(workers) as pool:
            for i, (name, _secs, err) in enumerate(pool.map(_ocr_one, jobs), 1):
                if err:
                    print(f"  {name}: {err}", file=sys.stderr)
                if i % 25 == 0:
                    print(f"  {i}/{len(jobs)} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    out = {}
    for f, c in caches.items():
        if c.is_file():
            out[f.stem] = [PageText.from_dict(d) for d in json.loads(c.read_text(encoding="utf-8"))]
    return out


# -- the generator's drawn text as PageText (no OCR): measures labels and layout alone ----------

def pages_from_runs(count: int, seed: int, cache_dir: Path, layouts: str | None = None,
                    heldout: bool = False, dealers: int = 0) -> dict[str, list[PageText]]:
    """PageText built from the text runs the generator drew (exact text, boxes from the run positions)."""
    import importlib.util

    cache_dir.mkdir(parents=True, exist_ok=True)
    spec = importlib.util.spec_from_file_location("woa_samples_generate", ROOT / "samples" / "generate.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    sys.modules["woa_samples_generate"] = gen
    spec.loader.exec_module(gen)
    out: dict[str, list[PageText]] = {}
    lays = list(gen.FORM_LAYOUTS) if layouts == "forms" else layouts.split(",") if layouts else list(gen.LAYOUTS)
    for plan in gen.plan_batch(count, seed, layouts=lays, heldout=heldout, dealers=dealers):
        cache = cache_dir / f"{plan.name}.pages.json"
        if cache.is_file():
            out[plan.name] = [PageText.from_dict(d) for d in json.loads(cache.read_text(encoding="utf-8"))]
            continue
        pages = []
        for no, cv in enumerate(gen.compose(plan).rendered.canvases, 1):
            lines: list[OcrLine] = []
            for r in sorted(cv.runs, key=lambda r: (r.row, r.x)):
                w = cv.width(r.text, 10)
                if r.glue and lines:
                    last = lines[-1]
                    lines[-1] = OcrLine(last.text + r.text, (last.box[0], last.box[1], last.box[2] + cv.px(w), last.box[3]), 1.0)
                    continue
                lines.append(OcrLine(r.text, (cv.px(r.x), cv.px(r.row + 1), cv.px(r.x + w), cv.px(r.row + 5)), 1.0))
            pages.append(PageText(no, cv.size[0], cv.size[1], float(plan.dpi), lines))
        cache.write_text(json.dumps([p.to_dict() for p in pages], ensure_ascii=False), encoding="utf-8")
        out[plan.name] = pages
    return out


# -- generated work orders -----------------------------------------------------------------------

def bench_work_orders(out: Path, count: int, seed: int, workers: int, settings: Settings,
                      text_runs: bool = False, cached_only: bool = False, reverse: bool = False,
                      layouts: str | None = None, heldout: bool = False, formats: str | None = None,
                      without_reread: bool = False, dealers: int = 0,
                      without_value_reread: bool = False) -> dict[str, Any]:
    docs_dir = out / "docs"
    truths = sorted(docs_dir.glob("*.truth.json"))
    if len(truths) < count:
        print(f"generating {count} documents in {docs_dir} ...", file=sys.stderr)
        extra = (["--layouts", layouts] if layouts else []) + (["--heldout"] if heldout else []) \
            + (["--formats", formats] if formats else []) + (["--dealers", str(dealers)] if dealers else [])
        subprocess.run([sys.executable, str(ROOT / "samples" / "generate.py"), "--out", str(docs_dir),
                        "--count", str(count), "--seed", str(seed), *extra], check=True)
        truths = sorted(docs_dir.glob("*.truth.json"))
    truths = truths[:count]
    files = []
    for t in truths:
        stem = t.name.removesuffix(".truth.json")
        files += [p for p in docs_dir.glob(f"{stem}.*") if not p.name.endswith(".truth.json")]
    if text_runs:
        pages = pages_from_runs(count, seed, out / "runs", layouts, heldout, dealers)
    else:
        pages = ocr_cached(sorted(files), out / "ocr", out / "archive", workers, cached_only, reverse)

    per_field = {f: {"n": 0, "correct": 0, "confident_wrong": 0, "missing": 0, "correct_ignoring_spaces": 0}
                 for f in CANONICAL_FIELDS}
    errors: list[dict[str, Any]] = []
    extract_secs, review = [], 0
    by_layout: dict[str, list[int]] = {}
    field_layout: dict[str, dict[str, list[int]]] = {}  # layout -> field -> [correct, n, confident wrong]
    item_hits = item_truth = item_pred = 0
    for t in truths:
        truth = json.loads(t.read_text(encoding="utf-8"))
        name = truth["name"]
        if name not in pages:
            continue
        t0 = time.perf_counter()
        if without_reread:  # the first pass alone: what extraction gets without the VIN's second reading
            for p in pages[name]:
                p.region_reads = {}
        elif without_value_reread:  # the VIN's second reading only: without the values' (extractors.value_strip)
            for p in pages[name]:
                p.region_reads = {k: v for k, v in p.region_reads.items() if k == "vin"}
        ex = extract(pages[name], settings)
        extract_secs.append(time.perf_counter() - t0)
        review += ex.needs_review
        lay = by_layout.setdefault(truth["layout"], [0, 0])
        for f in CANONICAL_FIELDS:
            want = truth["fields"].get(f)
            if want is None:
                continue
            if f == "model":
                want = canonical_model(want)
            st = per_field[f]
            st["n"] += 1
            fl = field_layout.setdefault(truth["layout"], {}).setdefault(f, [0, 0, 0])
            fl[1] += 1
            fv = ex.fields.get(f)
            got = fv.value if fv else None
            lay[1] += 1
            if got is not None and "".join(got.split()) == "".join(want.split()):
                st["correct_ignoring_spaces"] += 1
            if got == want:
                st["correct"] += 1
                lay[0] += 1
                fl[0] += 1
                continue
            if got is None:
                st["missing"] += 1
            conf = fv.confidence if fv else 0.0
            if fv is not None and got is not None and conf >= settings.review_threshold:
                st["confident_wrong"] += 1
                fl[2] += 1
            errors.append({"doc": name, "layout": truth["layout"], "field": f, "want": want, "got": got,
                           "conf": round(conf, 3), "raw": fv.raw if fv else None, "note": fv.note if fv else ""})
        want_items = {(i["name"], i["amount"]) for i in truth.get("items", [])}
        got_items = {(i["name"], i["amount"]) for i in ex.items}
        item_truth += len(want_items)
        item_pred += len(got_items)
        item_hits += len(want_items & got_items)
    n_docs = len(extract_secs)
    table = {f: {**st, "accuracy": st["correct"] / st["n"] if st["n"] else None,
                 "confident_wrong_rate": st["confident_wrong"] / st["n"] if st["n"] else None}
             for f, st in per_field.items()}
    (out / (("errors-runs" if text_runs else "errors") + ("-without-reread" if without_reread else "-without-value-reread" if without_value_reread else "") + ".jsonl")).write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in errors), encoding="utf-8")
    return {
        "documents": n_docs,
        "fields": table,
        "needs_review": review,
        "extract_seconds_median": statistics.median(extract_secs) if extract_secs else None,
        "by_layout": {k: v[0] / v[1] for k, v in sorted(by_layout.items()) if v[1]},
        "field_by_layout": {k: v for k, v in sorted(field_layout.items())},
        "items": {"truth": item_truth, "predicted": item_pred, "matched": item_hits},
    }


# -- real receipts and invoices --------------------------------------------------------------------

def bench_sroie(out: Path, workers: int, cached_only: bool = False) -> dict[str, Any]:
    root = EVAL / "sroie-receipts-en"
    rows = [json.loads(x) for x in (root / "labels.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    pages = ocr_cached([root / r["image"] for r in rows], out / "sroie-ocr", out / "sroie-archive", workers, cached_only)
    today = date.today()
    ok_d = ok_t = n = 0
    misses = []
    for r in rows:
        stem = Path(r["image"]).stem
        if stem not in pages:
            continue
        n += 1
        got = extract_receipt(pages[stem], today)
        want_d = normalize_date(r["entities"]["date"], today=today, day_first=True)
        want_t = normalize_money(r["entities"]["total"])
        d = got["date"].value if got["date"] else None
        t = got["total"].value if got["total"] else None
        ok_d += d == want_d
        ok_t += t == want_t
        if d != want_d or t != want_t:
            misses.append({"id": stem, "date": [want_d, d], "total": [want_t, t]})
    (out / "sroie-misses.jsonl").write_text("".join(json.dumps(m) + "\n" for m in misses), encoding="utf-8")
    return {"documents": n, "date_accuracy": ok_d / n if n else None, "total_accuracy": ok_t / n if n else None}


def bench_vat(out: Path, workers: int, cached_only: bool = False) -> dict[str, Any]:
    root = EVAL / "vat-invoice-zh"
    rows = [json.loads(x) for x in (root / "key_fields.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    pages = ocr_cached([root / r["image"] for r in rows], out / "vat-ocr", out / "vat-archive", workers, cached_only)
    ok_d = ok_t = n = 0
    misses = []
    for r in rows:
        stem = Path(r["image"]).stem
        if stem not in pages:
            continue
        n += 1
        got = extract_receipt(pages[stem])
        want = r["fields_normalized"]
        d = got["date"].value if got["date"] else None
        t = got["total"].value if got["total"] else None
        ok_d += d == want["invoice_date"]
        ok_t += t == want["total_incl_tax"]
        if d != want["invoice_date"] or t != want["total_incl_tax"]:
            misses.append({"id": stem, "date": [want["invoice_date"], d], "total": [want["total_incl_tax"], t]})
    (out / "vat-misses.jsonl").write_text("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in misses), encoding="utf-8")
    return {"documents": n, "date_accuracy": ok_d / n if n else None, "total_accuracy": ok_t / n if n else None}


def label_recall(out: Path) -> dict[str, Any]:
    """OCR recall of the pre-printed (coloured) labels of the colour form, by ink colour and scan
    mode: the share of the info block's label wordings found in the page's OCR text."""
    from extractors.text import clean

    keys = ("order_no", "date_in", "date_out", "advisor", "customer", "phone", "plate", "vin", "model", "mileage")
    inks = {(200, 40, 45): "red", (35, 70, 170): "blue", (30, 130, 70): "green"}
    res: dict[str, list[int]] = {}
    for t_path in sorted((out / "docs").glob("*.truth.json")):
        t = json.loads(t_path.read_text(encoding="utf-8"))
        if t["layout"] != "colour_preprint":
            continue
        name = t["name"]
        caches = list((out / "ocr").glob(f"{name}.*.pages.json"))
        if not caches:
            continue
        pages = json.loads(caches[0].read_text(encoding="utf-8"))
        text = clean(" ".join(ln["text"] for ln in pages[0]["lines"])).replace(" ", "")
        mode = next(d["value"] for d in t["pages"][0]["degradations"] if d["kind"] == "mode")
        key = f"{inks.get(tuple(t['ink']), str(t['ink']))} ink, {mode} scan"
        r = res.setdefault(key, [0, 0])
        for k in keys:
            r[1] += 1
            r[0] += clean(t["labels"][k]).replace(" ", "") in text
    return {k: {"found": v[0], "labels": v[1], "recall": v[0] / v[1]} for k, v in sorted(res.items())}


GOALS = {"vin": 0.98, "plate": 0.97, "total_cost": 0.98, "date_in": 0.98}


def markdown(res: dict[str, Any], threshold: float) -> str:
    lines: list[str] = []
    if "work_orders" in res:
        lines += work_order_table(res, threshold)
    if "sroie" in res:
        lines += ["", "| real data | documents | date accuracy | total accuracy |", "|---|---|---|---|"]
        for label, key in (("SROIE receipts (en)", "sroie"), ("VAT invoices (zh)", "vat")):
            r = res[key]
            if r["documents"]:
                lines.append(f"| {label} | {r['documents']} | {r['date_accuracy']:.1%} | {r['total_accuracy']:.1%} |")
    return "\n".join(lines)


def work_order_table(res: dict[str, Any], threshold: float) -> list[str]:
    wo = res["work_orders"]
    how = ("text as drawn by the generator (no OCR: labels and layout alone)" if wo.get("source") == "text-runs"
           else "OCR RapidOCR via `app.ingest.ingest_file`")
    lines = [f"Generated work orders: {wo['documents']} documents (seed {res['seed']}), {how}; "
             f"review threshold {threshold}.", "",
             "| field | accuracy | goal | confident-but-wrong | missing | accuracy ignoring spaces |",
             "|---|---|---|---|---|---|"]
    for f, st in wo["fields"].items():
        goal = GOALS.get(f, 0.95)
        lines.append(f"| {f} | {st['accuracy']:.1%} ({st['correct']}/{st['n']}) | ≥ {goal:.0%} | "
                     f"{st['confident_wrong_rate']:.2%} ({st['confident_wrong']}) | {st['missing']} |"
                     + (f" {st['correct_ignoring_spaces'] / st['n']:.1%} |" if st["n"] else " |"))
    it = wo["items"]
    fbl = wo.get("field_by_layout", {})
    if len(fbl) > 1:
        lays = list(fbl)
        lines += ["", "| field | " + " | ".join(lays) + " |", "|---|" + "---|" * len(lays)]
        for f in wo["fields"]:
            cells = []
            for lay in lays:
                c, n, cw = fbl[lay].get(f, [0, 0, 0])
                cells.append(f"{c / n:.0%} ({cw} cw)" if n else "–")
            lines.append(f"| {f} | " + " | ".join(cells) + " |")
    lines += ["", f"Documents sent to review: {wo['needs_review']}/{wo['documents']}. "
              f"Accuracy by layout: " + ", ".join(f"{k} {v:.1%}" for k, v in wo["by_layout"].items()) + ". "
              f"Repair items (name and amount exact): {it['matched']}/{it['truth']} found, {it['predicted']} predicted. "
              f"Extraction time per document (median): {wo['extract_seconds_median'] * 1000:.0f} ms."]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--seed", type=int, default=31)
    ap.add_argument("--out", type=Path, default=ROOT / "bench-out" / "extract")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-real", action="store_true", help="skip the SROIE and VAT-invoice runs")
    ap.add_argument("--only-real", action="store_true", help="only the SROIE and VAT-invoice runs")
    ap.add_argument("--text-runs", action="store_true",
                    help="work orders from the generator's drawn text instead of OCR (labels and layout alone)")
    ap.add_argument("--cached-only", action="store_true", help="only documents already OCR-ed (no new OCR)")
    ap.add_argument("--layouts", help="generator layouts (e.g. 'forms': the four other dealers' / national forms)")
    ap.add_argument("--heldout", action="store_true", help="held-out wordings and layout variants (measure only)")
    ap.add_argument("--dealers", type=int, default=0, metavar="N",
                    help="each layout printed by N dealerships (samples/generate.py --dealers; 0: all drawn per document)")
    ap.add_argument("--formats", help="generator formats, e.g. jpg,png")
    ap.add_argument("--label-recall", action="store_true",
                    help="only: OCR recall of the colour form's pre-printed labels in --out's cached OCR")
    ap.add_argument("--reverse", action="store_true", help="OCR the work orders last to first")
    ap.add_argument("--without-reread", action="store_true",
                    help="extract without the VIN strip's second reading (PageText.region_reads): before/after on the same OCR")
    ap.add_argument("--without-value-reread", action="store_true",
                    help="extract without the values' second reading (region_reads other than the VIN's): before/after on the same OCR")
    args = ap.parse_args(argv)
    if args.label_recall:
        for k, v in label_recall(args.out).items():
            print(f"| {k} | {v['found']}/{v['labels']} | {v['recall']:.1%} |")
        return 0
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings()
    res: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": platform.uname()._asdict(),
                           "nproc": os.cpu_count(), "seed": args.seed}
    if not args.only_real:
        res["work_orders"] = bench_work_orders(args.out, args.count, args.seed, args.workers, settings,
                                               text_runs=args.text_runs, cached_only=args.cached_only,
                                               reverse=args.reverse, layouts=args.layouts, heldout=args.heldout,
                                               formats=args.formats, without_reread=args.without_reread,
                                               dealers=args.dealers, without_value_reread=args.without_value_reread)
        res["work_orders"]["source"] = "text-runs" if args.text_runs else "ocr"
    if not args.no_real:
        res["sroie"] = bench_sroie(args.out, args.workers, args.cached_only)
        res["vat"] = bench_vat(args.out, args.workers, args.cached_only)
    if args.cached_only:
        args.out = args.out / "cached-only"
        args.out.mkdir(parents=True, exist_ok=True)
    name = "results-real.json" if args.only_real else "results-runs.json" if args.text_runs else "results.json"
    if args.without_reread:
        name = name.replace(".json", "-without-reread.json")
    elif args.without_value_reread:
        name = name.replace(".json", "-without-value-reread.json")
    (args.out / name).write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    print(markdown(res, settings.review_threshold))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
