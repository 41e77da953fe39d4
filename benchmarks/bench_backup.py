"""Restore drill and encryption benchmark.

1. A corpus of generated work orders (``samples/generate.py --born-digital --formats pdf``: PDFs
   with a real text layer, so ingest needs no OCR and 300 documents fit in minutes on a shared
   machine) ingested through the real pipeline into a plain archive and, interleaved document by
   document, into an encrypted one (``encrypt_at_rest``): CPU seconds of each ingest.
2. The encryption's own CPU cost per document (AES-256-GCM of the original, PDF and sidecar bytes),
   compared with the CPU time of an OCR ingest of the committed samples (``--ocr-samples``).
3. ``woa backup`` of the plain and the encrypted archive to local restic repositories: MB/s and
   documents/s; then ``--new`` more documents and an incremental backup (bytes added).
4. ``woa backup verify`` (restic check with 1/12 of the data read, 20 documents restored).
5. ``woa restore`` of the latest snapshot (MB/s, documents/s), then ``woa reindex`` and
   ``woa verify`` on it (plain and encrypted: the cost of decrypting every sidecar).

Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_backup.py --docs 300 --new 10 [--out bench-out/backup]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.backup import backup, init_repository, verify_backup  # noqa: E402
from app.ingest import ingest_file  # noqa: E402
from app.verify import verify_archive  # noqa: E402
from core import crypto  # noqa: E402
from core.archive import Archive  # noqa: E402
from core.settings import Settings, load_settings  # noqa: E402


def corpus(folder: Path, count: int, seed: int) -> list[Path]:
    have = sorted(folder.glob("*.pdf")) if folder.is_dir() else []
    if len(have) < count:
        subprocess.run([sys.executable, str(ROOT / "samples" / "generate.py"), "--out", str(folder), "--count", str(count),
                        "--seed", str(seed), "--born-digital", "--formats", "pdf"], check=True)
        have = sorted(folder.glob("*.pdf"))
    return have[:count]


def cpu() -> float:
    t = os.times()
    return t.user + t.system


def archive_bytes(root: Path) -> int:
    return sum(p.stat().st_size for kind in ("originals", "pdf", "sidecars") for p in (root / kind).rglob("*") if p.is_file())


def drill(name: str, settings: Settings, archive: Archive, new_docs: list[Path], work: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"archive_mb": archive_bytes(archive.root) / 1e6}
    init_repository(settings)
    t0 = time.perf_counter()
    first = backup(archive, settings, forget=False)
    t1 = time.perf_counter()
    out["backup_s"] = t1 - t0
    out["backup_docs"] = first.stage.documents
    out["backup_mb"] = first.stage.bytes / 1e6
    out["backup_added_mb"] = first.data_added / 1e6
    for p in new_docs:
        ingest_file(p, settings, archive=archive)
    t0 = time.perf_counter()
    second = backup(archive, settings, forget=False)
    out["incremental_s"] = time.perf_counter() - t0
    out["incremental_added_mb"] = second.data_added / 1e6
    out["incremental_new_files"] = second.files_new
    out["incremental_changed_files"] = second.files_changed
    t0 = time.perf_counter()
    v = verify_backup(archive, settings, sample=20, seed=1)
    out["verify_s"] = time.perf_counter() - t0
    out["verify_docs"], out["verify_problems"] = v.documents, len(v.problems)
    target = work / f"restored-{name}"
    shutil.rmtree(target, ignore_errors=True)
    from app.backup import restore

    t0 = time.perf_counter()
    restore(settings, "latest", target)
    out["restore_s"] = time.perf_counter() - t0
    restored = Archive(target, keys=archive.keys)
    import index

    t0 = time.perf_counter()
    out["reindex_docs"] = index.rebuild_index(restored)
    out["reindex_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = verify_archive(target, workers=2, archive=restored)
    out["verify_archive_s"] = time.perf_counter() - t0
    out["verify_archive_problems"] = len(report.problems)
    out["restore_docs"] = report.documents
    out["restore_mb"] = archive_bytes(target) / 1e6
    repo = Path(settings.backup_repository)
    out["repository_mb"] = sum(p.stat().st_size for p in repo.rglob("*") if p.is_file()) / 1e6
    return out


def encryption_cpu(archive: Archive, master: bytes, docs: int) -> float:
    """CPU seconds to encrypt the original, PDF and sidecar of ``docs`` documents (in memory)."""
    import io

    blobs = []
    for doc in list(archive.documents())[:docs]:
        for rel in archive.document_files(doc):
            blobs.append(archive.read_bytes(rel))
    c0 = cpu()
    for b in blobs:
        crypto.encrypt_stream(io.BytesIO(b), io.BytesIO(), master)
    return (cpu() - c0) / max(1, len(blobs) // 3)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=300)
    ap.add_argument("--new", type=int, default=10)
    ap.add_argument("--seed", type=int, default=41)
    ap.add_argument("--ocr-samples", type=int, default=4, help="committed samples OCR-ingested for the CPU reference")
    ap.add_argument("--out", type=Path, default=ROOT / "bench-out" / "backup")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    work: Path = args.out
    files = corpus(work / "corpus", args.docs + args.new, args.seed)
    base, new = files[: args.docs], files[args.docs :]
    load_before = os.getloadavg()
    for d in ("plain", "enc", "repo-plain", "repo-enc", "keys", "ocr-plain", "ocr-enc"):
        shutil.rmtree(work / d, ignore_errors=True)
    (work / "pw").write_text("bench\n")
    key_file = work / "keys" / "master.key"
    crypto.write_key_file(key_file, [crypto.new_master_key()])
    common = {"workers": 1, "backup_password_file": str(work / "pw")}
    plain_s = load_settings(archive_dir=work / "plain", backup_repository=str(work / "repo-plain"), **common)
    enc_s = load_settings(archive_dir=work / "enc", backup_repository=str(work / "repo-enc"), encrypt_at_rest=True,
                          master_key_file=key_file, **common)
    plain, enc = Archive.from_settings(plain_s), Archive.from_settings(enc_s)

    # 1. ingest, interleaved (order alternating so neither side always runs second)
    cpu_plain = cpu_enc = wall_plain = wall_enc = 0.0
    for i, f in enumerate(base):
        order = [(plain_s, plain, "p"), (enc_s, enc, "e")]
        for s, a, tag in order if i % 2 == 0 else order[::-1]:
            c0, w0 = cpu(), time.perf_counter()
            res = ingest_file(f, s, archive=a)
            dc, dw = cpu() - c0, time.perf_counter() - w0
            if not res.ok:
                raise SystemExit(f"{f}: {res.error}")
            if tag == "p":
                cpu_plain, wall_plain = cpu_plain + dc, wall_plain + dw
            else:
                cpu_enc, wall_enc = cpu_enc + dc, wall_enc + dw
    # 2. the encryption's own cost per document vs an OCR ingest of the samples
    enc_cpu_per_doc = encryption_cpu(plain, crypto.new_master_key(), min(50, args.docs))
    samples = sorted(p for p in (ROOT / "samples").iterdir() if p.suffix in (".jpg", ".png", ".tif"))[: args.ocr_samples]
    ocr_cpu_plain = ocr_cpu_enc = 0.0
    for i, f in enumerate(samples):
        for s, tag in ((plain_s, "p"), (enc_s, "e")) if i % 2 == 0 else ((enc_s, "e"), (plain_s, "p")):
            s2 = s.model_copy(update={"archive_dir": work / f"ocr-{'plain' if tag == 'p' else 'enc'}"})
            c0 = cpu()
            res = ingest_file(f, s2, archive=Archive.from_settings(s2))
            assert res.ok, res.error
            if tag == "p":
                ocr_cpu_plain += cpu() - c0
            else:
                ocr_cpu_enc += cpu() - c0
    # 3-5. drills
    results: dict[str, Any] = {
        "machine": " ".join(platform.uname()),
        "nproc": os.cpu_count(),
        "docs": args.docs,
        "new": args.new,
        "ingest_cpu_plain_s": cpu_plain,
        "ingest_cpu_enc_s": cpu_enc,
        "ingest_wall_plain_s": wall_plain,
        "ingest_wall_enc_s": wall_enc,
        "ingest_cpu_overhead_pct": 100 * (cpu_enc / cpu_plain - 1),
        "encrypt_cpu_per_doc_ms": 1000 * enc_cpu_per_doc,
        "ingest_cpu_per_doc_ms": 1000 * cpu_plain / len(base),
        "ocr_ingest_cpu_per_doc_s": ocr_cpu_plain / max(1, len(samples)),
        "ocr_ingest_cpu_enc_per_doc_s": ocr_cpu_enc / max(1, len(samples)),
        "ocr_samples": len(samples),
    }
    results["plain"] = drill("plain", plain_s, plain, new, work)
    results["enc"] = drill("enc", enc_s, enc, new, work)
    results["loadavg_before"] = load_before
    results["loadavg_after"] = os.getloadavg()
    results["corpus_sha"] = hashlib.sha256("".join(p.name for p in files).encode()).hexdigest()[:12]
    (work / "results.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
