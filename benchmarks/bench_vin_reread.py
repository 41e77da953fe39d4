"""What the VIN's second pass costs per page (``app.ingest.reread_vin``).

Generated documents are ingested twice each, with ``vin_reread`` on and off in turn (interleaved,
the order alternating per document), through ``app.ingest.ingest_file`` with RapidOCR. Reported
per group (pages read again, pages not read again): the pass's own time per page
(``timings["vin_reread"]``: the check on every OCR-ed page, the strip reading where needed), the
whole ingest's time per page with and without the pass, and whether the VIN is right. Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_vin_reread.py --count 12 --seed 7501 --layouts national_std,form_colon
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.ingest import ingest_file  # noqa: E402
from core.archive import Archive  # noqa: E402
from core.settings import load_settings  # noqa: E402


def _ingest(path: Path, archive_dir: Path, reread: bool) -> tuple[float, dict[str, float], int, bool, str | None]:
    settings = load_settings(archive_dir=archive_dir, ocr_threads=1, vin_reread=reread)
    res = ingest_file(path, settings, update_index=False)
    if res.doc_id is None or res.status != "archived":
        raise SystemExit(f"{path.name}: {res.error}")
    doc = Archive(archive_dir).load(res.doc_id)
    vin = doc.fields.get("vin")
    return res.seconds, doc.timings, len(doc.pages), any(p.region_reads for p in doc.pages), vin.value if vin else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=12)
    ap.add_argument("--seed", type=int, default=7501)
    ap.add_argument("--layouts", default="national_std,form_colon")
    ap.add_argument("--heldout", action="store_true")
    ap.add_argument("--json", type=Path, help="write the raw results here")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    with tempfile.TemporaryDirectory(prefix="bench-vin-") as tmp:
        docs = Path(tmp) / "docs"
        subprocess.run([sys.executable, str(ROOT / "samples" / "generate.py"), "--out", str(docs), "--count",
                        str(args.count), "--seed", str(args.seed), "--layouts", args.layouts, "--formats", "png,jpg",
                        *(["--heldout"] if args.heldout else [])], check=True, capture_output=True)
        _ingest(next(docs.glob("*.png")), Path(tmp) / "warm", True)  # models loaded before timing
        rows: list[dict[str, Any]] = []
        for i, truth_file in enumerate(sorted(docs.glob("*.truth.json"))):
            truth = json.loads(truth_file.read_text(encoding="utf-8"))
            path = next(p for p in docs.glob(f"{truth['name']}.*") if not p.name.endswith(".json"))
            row: dict[str, Any] = {"doc": truth["name"], "layout": truth["layout"], "want": truth["fields"].get("vin")}
            for reread in ((True, False) if i % 2 == 0 else (False, True)):
                secs, timings, pages, reads, got = _ingest(path, Path(tmp) / f"a{i}{reread}", reread)
                key = "on" if reread else "off"
                row[key] = {"seconds": secs, "pages": pages, "vin": got, "reread_seconds": timings.get("vin_reread", 0.0),
                            "ocr_seconds": timings.get("ocr", 0.0), "read_again": reads}
            rows.append(row)
    print(f"{platform.platform()}, nproc {os.cpu_count()}, load {os.getloadavg()}")
    for group, pick in (("pages read again", True), ("pages not read again", False)):
        sel = [r for r in rows if r["on"]["read_again"] == pick]
        if not sel:
            continue
        per_page = [r["on"]["reread_seconds"] / r["on"]["pages"] for r in sel]
        on = [r["on"]["seconds"] / r["on"]["pages"] for r in sel]
        off = [r["off"]["seconds"] / r["off"]["pages"] for r in sel]
        ocr = [r["on"]["ocr_seconds"] / r["on"]["pages"] for r in sel]
        right_on = sum(r["on"]["vin"] == r["want"] for r in sel)
        right_off = sum(r["off"]["vin"] == r["want"] for r in sel)
        print(f"{group}: {len(sel)} documents; the pass {statistics.median(per_page) * 1000:.0f} ms/page median "
              f"(max {max(per_page) * 1000:.0f}), OCR {statistics.median(ocr) * 1000:.0f} ms/page; ingest "
              f"{statistics.median(on):.2f} s/page with, {statistics.median(off):.2f} without; VIN right "
              f"{right_on}/{len(sel)} with, {right_off}/{len(sel)} without")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
