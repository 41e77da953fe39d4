"""Document types on real scans: VAT invoices (zh), SROIE receipts (en), FUNSD forms (en), and the
generated work orders; classification, and for invoices 发票号码 / 开票日期 / 价税合计, for
receipts date and total. OCR through the real pipeline, cached by content under ``--out``
(``bench_extract.ocr_cached``), so extraction is re-measured without OCR-ing again::

    nice -n 10 .venv/bin/python benchmarks/bench_doctype.py [--ocr-only] [--workers 2] [--baseline main]

Every real set is split by a fixed rule into a **tuning** half and a **held-out** half (the
documents ranked by the SHA-256 of their file stem; the first half is tuning). Errors are written
only for the tuning half (``errors-tune.jsonl``); the held-out half is reported as counts, so a rule
that helps one half and not the other shows as over-fitting. ``--baseline REF`` measures the
code of git ``REF`` on the same cached OCR in the same run (this script run in a subprocess from
an export of ``REF``'s tree) and prints both.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_extract import EVAL, ocr_cached  # noqa: E402
from core.models import PageText  # noqa: E402

SETS = {"invoice": "vat-invoice-zh", "receipt": "sroie-receipts-en", "other": "funsd-forms-en"}
HALVES = ("tune", "held")


def halves(stems: list[str]) -> dict[str, str]:
    """stem -> "tune" | "held": ranked by SHA-256 of the stem, the first ceil(n/2) are tuning."""
    ranked = sorted(stems, key=lambda s: hashlib.sha256(s.encode("utf-8")).hexdigest())
    cut = (len(ranked) + 1) // 2
    return {s: HALVES[i >= cut] for i, s in enumerate(ranked)}


def pages_of(out: Path, workers: int, cached_only: bool) -> dict[str, dict[str, list[PageText]]]:
    res = {}
    for kind, d in SETS.items():
        files = sorted((EVAL / d / "images").iterdir())
        res[kind] = ocr_cached(files, out / f"{d}-ocr", out / f"{d}-archive", workers, cached_only)
    return res


def _rate(ok: int, n: int) -> float | None:
    return round(ok / n, 4) if n else None


def run(out: Path, workers: int, cached_only: bool, wo_root: Path = ROOT / "bench-out") -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(results, the tuning half's errors)."""
    from core.settings import Settings
    from extractors import extract
    from extractors.dates import normalize_date
    from extractors.doctype import classify, extract_invoice
    from extractors.money import normalize_money
    from extractors.receipt import extract_receipt

    today = date.today()
    pages = pages_of(out, workers, cached_only)
    res: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for want, docs in pages.items():
        half = halves(list(docs))
        counts: dict[str, dict[str, int]] = {h: {} for h in (*HALVES, "all")}
        for stem, p in docs.items():
            got = classify(p).kind
            for h in (half[stem], "all"):
                counts[h][got] = counts[h].get(got, 0) + 1
            if got != want and half[stem] == "tune":
                errors.append({"set": SETS[want], "id": stem, "kind": "class", "want": want, "got": got})
        res[want] = {"documents": len(docs), "classified": counts}
    # receipts: date and total (SROIE's ground truth is the printed date and the total paid)
    rows = [json.loads(x) for x in (EVAL / SETS["receipt"] / "labels.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    half = halves(list(pages["receipt"]))
    tally = {h: {"n": 0, "date": 0, "total": 0, "total_confident_wrong": 0, "total_right_to_review": 0} for h in (*HALVES, "all")}
    threshold = Settings().review_threshold
    for r in rows:
        stem = Path(r["image"]).stem
        if stem not in pages["receipt"]:
            continue
        got_r = extract_receipt(pages["receipt"][stem], today)
        want_d = normalize_date(r["entities"]["date"], today=today, day_first=True)
        want_t = normalize_money(r["entities"]["total"])
        d = got_r["date"].value if got_r["date"] else None
        t = got_r["total"].value if got_r["total"] else None
        for h in (half[stem], "all"):
            tally[h]["n"] += 1
            tally[h]["date"] += d == want_d
            tally[h]["total"] += t == want_t
            trusted = got_r["total"] is not None and got_r["total"].confidence >= threshold
            tally[h]["total_confident_wrong"] += t != want_t and trusted
            tally[h]["total_right_to_review"] += t == want_t and not trusted
        if half[stem] == "tune":
            for f, w, g in (("date", want_d, d), ("total", want_t, t)):
                if w != g:
                    errors.append({"set": SETS["receipt"], "id": stem, "kind": f, "want": w, "got": g})
    res["receipt_fields"] = {h: {"documents": v["n"], "date": _rate(v["date"], v["n"]), "total": _rate(v["total"], v["n"]),
                                 "total_confident_wrong": v["total_confident_wrong"],
                                 "total_right_to_review": v["total_right_to_review"]} for h, v in tally.items()}
    # generated work orders (a bench_extract.py output's OCR cache)
    # the held-out forms `make bench-forms` OCR-s (bench_extract.py --out bench-out/extract-heldout), and
    # the dev OCR set when present
    for wo_dir in (wo_root / "extract-heldout", wo_root / "extract-devocr"):
        if (wo_dir / "ocr").is_dir():
            wo: dict[str, int] = {}
            for wo_file in sorted((wo_dir / "ocr").glob("*.pages.json")):
                got = classify([PageText.from_dict(d) for d in json.loads(wo_file.read_text(encoding="utf-8"))]).kind
                wo[got] = wo.get(got, 0) + 1
            res[f"work_order ({wo_dir.name})"] = {"documents": sum(wo.values()), "classified": wo}
    # FUNSD forms: never a work-order field with high confidence
    settings = Settings()
    half = halves(list(pages["other"]))
    confident = [(half[name], f, fv.value) for name, p in pages["other"].items()
                 for f, fv in extract(p, settings).fields.items() if fv.value and fv.confidence >= settings.review_threshold]
    res["other_confident_work_order_fields"] = {h: sum(c[0] == h for c in confident) for h in HALVES}
    errors += [{"set": SETS["other"], "kind": "confident field", "field": f, "got": v} for h, f, v in confident if h == "tune"]
    # invoice fields
    rows = [json.loads(x) for x in (EVAL / SETS["invoice"] / "key_fields.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    half = halves(list(pages["invoice"]))
    keys = ("invoice_no", "invoice_date", "total_incl_tax", "amount", "tax")
    truth_key = {"amount": "amount_excl_tax", "tax": "tax_amount"}
    inv = {h: {"n": 0, **{k: 0 for k in keys}} for h in (*HALVES, "all")}
    for r in rows:
        stem = Path(r["image"]).stem
        if stem not in pages["invoice"]:
            continue
        got_i = extract_invoice(pages["invoice"][stem], today)
        want_i = r["fields_normalized"]
        for h in (half[stem], "all"):
            inv[h]["n"] += 1
        for k in keys:
            fv = got_i.get(k)
            ok = fv is not None and fv.value == want_i.get(truth_key.get(k, k))
            for h in (half[stem], "all"):
                inv[h][k] += ok
            if not ok and half[stem] == "tune":
                errors.append({"set": SETS["invoice"], "id": stem, "kind": k, "want": want_i.get(truth_key.get(k, k)),
                               "got": fv.value if fv else None})
    res["invoice_fields"] = {h: {"documents": v["n"], **{k: f"{v[k]}/{v['n']}" for k in keys}} for h, v in inv.items()}
    return res, errors


def baseline(ref: str, out: Path) -> dict[str, Any]:
    """The same benchmark with git ``ref``'s code (on the OCR already cached under ``out``)."""
    code = out / f"baseline-{ref.replace('/', '_')}"
    blob = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    if code.exists():
        shutil.rmtree(code)
    code.mkdir(parents=True)
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(code, filter="data")
    shutil.copy(Path(__file__), code / "benchmarks" / "bench_doctype.py")
    env = {**os.environ, "WOA_EVAL_DATA": str(EVAL)}
    proc = subprocess.run([sys.executable, str(code / "benchmarks" / "bench_doctype.py"), "--out", str(out.resolve()),
                           "--cached-only", "--quiet", "--wo-root", str(ROOT / "bench-out")],
                          check=True, capture_output=True, text=True, env=env)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench-out" / "doctype")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--ocr-only", action="store_true")
    ap.add_argument("--cached-only", action="store_true")
    ap.add_argument("--baseline", metavar="REF", help="also measure git REF's extractors/ on the same OCR, same run")
    ap.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--wo-root", type=Path, default=ROOT / "bench-out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.ocr_only:
        pages_of(args.out, args.workers, False)
        return 0
    res, errors = run(args.out, args.workers, args.cached_only, args.wo_root)
    if args.quiet:  # the baseline subprocess: the results on stdout, nothing written
        print(json.dumps(res, ensure_ascii=False))
        return 0
    if args.baseline:
        res = {"after": res, f"before ({args.baseline})": baseline(args.baseline, args.out)}
    (args.out / "results.json").write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    (args.out / "errors-tune.jsonl").write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in errors),
                                                    encoding="utf-8")
    print(json.dumps(res, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
