"""Document types on real scans: VAT invoices (zh), SROIE receipts (en), FUNSD forms (en), and the
generated work orders; classification, and for invoices 发票号码 / 开票日期 / 价税合计, for
receipts date and total. OCR through the real pipeline, cached (``bench_extract.ocr_cached``)::

    .venv/bin/python benchmarks/bench_doctype.py [--ocr-only] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_extract import EVAL, ocr_cached  # noqa: E402
from core.models import PageText  # noqa: E402

SETS = {"invoice": "vat-invoice-zh", "receipt": "sroie-receipts-en", "other": "funsd-forms-en"}


def pages_of(out: Path, workers: int, cached_only: bool) -> dict[str, dict[str, list[PageText]]]:
    res = {}
    for kind, d in SETS.items():
        files = sorted((EVAL / d / "images").iterdir())
        res[kind] = ocr_cached(files, out / f"{d}-ocr", out / f"{d}-archive", workers, cached_only)
    return res


def run(out: Path, workers: int, cached_only: bool) -> dict[str, Any]:
    from extractors.doctype import classify, extract_invoice
    from extractors.receipt import extract_receipt

    pages = pages_of(out, workers, cached_only)
    res: dict[str, Any] = {}
    for want, docs in pages.items():
        counts: dict[str, int] = {}
        for p in docs.values():
            got = classify(p).kind
            counts[got] = counts.get(got, 0) + 1
        res[want] = {"documents": len(docs), "classified": counts}
    # generated work orders (a bench_extract.py output's OCR cache)
    for wo_dir in (ROOT / "bench-out" / "extract-heldout-after", ROOT / "bench-out" / "extract-devocr"):
        if (wo_dir / "ocr").is_dir():
            counts = {}
            for f in sorted((wo_dir / "ocr").glob("*.pages.json")):
                got = classify([PageText.from_dict(d) for d in json.loads(f.read_text(encoding="utf-8"))]).kind
                counts[got] = counts.get(got, 0) + 1
            res[f"work_order ({wo_dir.name})"] = {"documents": sum(counts.values()), "classified": counts}
    # FUNSD forms: never a work-order field with high confidence
    from core.settings import Settings
    from extractors import extract

    settings = Settings()
    confident = [(name, f, fv.value) for name, p in pages["other"].items()
                 for f, fv in extract(p, settings).fields.items() if fv.value and fv.confidence >= settings.review_threshold]
    res["other_confident_work_order_fields"] = confident
    # invoice fields
    rows = [json.loads(x) for x in (EVAL / SETS["invoice"] / "key_fields.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    ok = {"invoice_no": 0, "invoice_date": 0, "total_incl_tax": 0}
    n = 0
    for r in rows:
        stem = Path(r["image"]).stem
        if stem not in pages["invoice"]:
            continue
        n += 1
        got = extract_invoice(pages["invoice"][stem], date.today())
        want = r["fields_normalized"]
        for k in ok:
            fv = got.get(k)
            ok[k] += fv is not None and fv.value == want.get(k)
    res["invoice_fields"] = {"documents": n, **{k: v / n if n else None for k, v in ok.items()}}
    del extract_receipt
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench-out" / "doctype")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--ocr-only", action="store_true")
    ap.add_argument("--cached-only", action="store_true")
    args = ap.parse_args(argv)
    if args.ocr_only:
        pages_of(args.out, args.workers, False)
        return 0
    res = run(args.out, args.workers, args.cached_only)
    (args.out / "results.json").write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(res, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
