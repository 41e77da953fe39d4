"""Batch and scale-out benchmark: pages per minute, scaling, Celery overhead, worker memory.

1. Generates work orders with ``samples/generate.py`` until there are at least ``--pages`` pages.
2. ``woa batch`` over them with 1 and with 2 local workers (fresh archive each time): pages per
   minute, scaling efficiency = ppm(2) / (2 × ppm(1)); goal ≥ 85 %.
3. The same pages through Celery: a real redis-server, one ``woa worker --concurrency 2`` and
   ``woa batch --broker``; overhead = ppm(local, 2) / ppm(celery, 2) − 1; goal ≤ 10 %.
4. A 300-page PDF (generated pages, JPEG in PDF) archived by one worker: the worker's peak
   resident memory (its own ``getrusage`` maximum, reported in the run report); goal ≤ 1 GB.

Every run goes through the ``woa`` command line as a user would run it. The machine's load
average is recorded with each phase: on a shared machine it explains noisy numbers.

    .venv/bin/python benchmarks/bench_batch.py --pages 200 --write docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.redis_server import redis_server  # noqa: E402

PY = sys.executable
SECTION = "## Batch and scale-out"


@dataclass
class Run:
    label: str
    workers: int
    files: int
    pages: int
    seconds: float
    ppm: float
    max_rss_mb: float
    failed: int
    load_before: float
    load_after: float


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def woa(*args: object, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PY, "-m", "woa.cli", *map(str, args)], cwd=ROOT, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]


def page_count(truth: Path) -> int:
    return len(json.loads(truth.read_text(encoding="utf-8"))["pages"])


def make_corpus(out: Path, pages: int, seed: int) -> tuple[int, int]:
    from samples.generate import generate

    out.mkdir(parents=True, exist_ok=True)
    total = sum(page_count(t) for t in out.rglob("*.truth.json"))  # a kept --work folder is reused
    batch = sum(1 for p in out.glob("part*"))
    while total < pages:
        need = max(1, int((pages - total) / 1.2))
        sub = out / f"part{batch}"
        generate(sub, need, seed + batch, pages_mix=True)
        total += sum(page_count(t) for t in sub.glob("*.truth.json"))
        batch += 1
    files = sum(1 for p in out.rglob("*") if p.suffix in {".pdf", ".png", ".jpg", ".tif"})
    return files, total


def read_summary(report: Path) -> dict[str, str]:
    with open(report / "summary.csv", newline="", encoding="utf-8") as fh:
        return {r["metric"]: r["value"] for r in csv.DictReader(fh)}


def to_run(label: str, workers: int, report: Path, load_before: float) -> Run:
    s = read_summary(report)
    return Run(
        label=label,
        workers=workers,
        files=int(s["files"]),
        pages=int(s["pages"]),
        seconds=float(s["wall_seconds"]),
        ppm=float(s["pages_per_minute"]),
        max_rss_mb=float(s["max_worker_rss_mb"]),
        failed=int(s["failed"]),
        load_before=load_before,
        load_after=loadavg(),
    )


def run_local(corpus: Path, work: Path, workers: int) -> Run:
    archive, report = work / f"archive-local{workers}", work / f"report-local{workers}"
    shutil.rmtree(archive, ignore_errors=True)
    load = loadavg()
    res = woa("batch", corpus, "--archive", archive, "--workers", workers, "--report", report, "--no-progress")
    if res.returncode not in (0, 1):
        raise RuntimeError(res.stderr)
    return to_run(f"local pool, {workers} worker(s)", workers, report, load)


@contextmanager
def celery_worker(url: str, archive: Path, concurrency: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    cmd = [PY, "-m", "woa.cli", "worker", "--broker", url, "--archive", str(archive), "--concurrency", str(concurrency),
           "--hostname", "bench@%h"]  # fmt: skip
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while b"ready." not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log.read_text(errors="replace"))
            time.sleep(0.2)
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_celery(corpus: Path, work: Path, concurrency: int) -> Run:
    archive, report = work / "archive-celery", work / "report-celery"
    shutil.rmtree(archive, ignore_errors=True)
    with redis_server() as server, celery_worker(server.url, archive, concurrency, work / "celery-worker.log"):
        load = loadavg()
        res = woa("batch", corpus, "--broker", server.url, "--archive", archive, "--report", report, "--no-progress")
        if res.returncode not in (0, 1):
            raise RuntimeError(res.stderr)
    return to_run(f"Celery, 1 worker × {concurrency} processes", concurrency, report, load)


def make_long_pdf(corpus: Path, out: Path, pages: int) -> Path:
    """A ``pages``-page scanned PDF of the corpus's 200 dpi pages (the scanners' usual setting) as JPEG streams."""
    import pikepdf
    from PIL import Image

    sources = [p for p in sorted(corpus.rglob("*")) if p.suffix in {".jpg", ".png"} and _dpi(p) == 200][:20]
    jpegs: list[tuple[bytes, int, int, float]] = []
    for p in sources:
        with Image.open(p) as im:
            dpi = 200.0
            grey = im.convert("L")
            buf = io.BytesIO()
            grey.save(buf, "JPEG", quality=75)
            jpegs.append((buf.getvalue(), grey.width, grey.height, dpi))
    pdf = pikepdf.new()
    for i in range(pages):
        data, w, h, dpi = jpegs[i % len(jpegs)]
        image = pikepdf.Stream(pdf, data, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=w, Height=h,
                               ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=8, Filter=pikepdf.Name.DCTDecode)  # fmt: skip
        pw, ph = w * 72 / dpi, h * 72 / dpi
        content = pikepdf.Stream(pdf, f"q {pw:.2f} 0 0 {ph:.2f} 0 0 cm /Im0 Do Q".encode())
        page = pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, pw, ph], Contents=content,
                                  Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image)))  # fmt: skip
        pdf.pages.append(pikepdf.Page(page))
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.save(out)
    return out


def _dpi(path: Path) -> int:
    from PIL import Image

    with Image.open(path) as im:
        return round(float(im.info.get("dpi", (0, 0))[0]))


def run_memory(corpus: Path, work: Path, pages: int, low_memory: bool = False) -> Run:
    """One worker archives a ``pages``-page PDF; the worker's peak RSS comes from its own getrusage."""
    big = make_long_pdf(corpus, work / f"long{pages}" / f"long-{pages}p.pdf", pages)
    tag = f"long{pages}{'-low' if low_memory else ''}"
    archive, report = work / f"archive-{tag}", work / f"report-{tag}"
    shutil.rmtree(archive, ignore_errors=True)
    load = loadavg()
    extra = ["--low-memory"] if low_memory else []
    res = woa("batch", big.parent, "--archive", archive, "--workers", 1, "--report", report, "--no-progress", *extra)
    if res.returncode not in (0, 1):
        raise RuntimeError(res.stderr)
    return to_run(f"one {pages}-page PDF, 1 worker{', --low-memory' if low_memory else ''}", 1, report, load)


_OCR_PEAK = """
import sys
import numpy as np
from PIL import Image
from rapidocr_onnxruntime import RapidOCR

ocr = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, max_side_len=int(sys.argv[2]))
page = np.asarray(Image.open(sys.argv[1]).convert("RGB"))
for _ in range(2):
    ocr(page)
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(int(hwm.split()[1]) // 1024)
"""


def run_ocr_peak(corpus: Path, sides: tuple[int, ...] = (4000, 2500)) -> list[tuple[int, int, int]]:
    """Peak RSS (MB) of a process that only runs RapidOCR twice on one page, per dpi and max_side_len.

    Explains the worker peak: RapidOCR detects text on the whole page at up to max_side_len pixels.
    """
    out = []
    for dpi in (200, 300):
        page = next((p for p in sorted(corpus.rglob("*")) if p.suffix in {".jpg", ".png"} and _dpi(p) == dpi), None)
        if page is None:
            continue
        for side in sides:
            res = subprocess.run([PY, "-c", _OCR_PEAK, str(page), str(side)], capture_output=True, text=True, check=True)
            out.append((dpi, side, int(res.stdout.strip())))
    return out


def machine() -> str:
    return f"`{' '.join(platform.uname())}`, nproc {os.cpu_count()}"


def render(runs: dict[str, Run], corpus_files: int, corpus_pages: int, ocr_peaks: list[tuple[int, int, int]] | None = None) -> str:
    lines = [
        SECTION,
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `benchmarks/bench_batch.py` on {machine()}.",
        f"Corpus: {corpus_files} generated work orders (`samples/generate.py`, mixed formats, 1–2 pages) = "
        f"{corpus_pages} pages; default settings (RapidOCR, one OCR thread per worker process). Pages per minute",
        "are wall-clock, from the start of `woa batch` to its report (worker start-up and model loading included).",
        "",
        "| run | files | pages | seconds | pages/min | peak RSS per worker (MB) | failed | load avg before → after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs.values():
        lines.append(
            f"| {r.label} | {r.files} | {r.pages} | {r.seconds:.0f} | {r.ppm:.1f} | {r.max_rss_mb:.0f} | {r.failed} "
            f"| {r.load_before:.1f} → {r.load_after:.1f} |"
        )
    lines.append("")
    if "local1" in runs and "local2" in runs:
        eff = runs["local2"].ppm / (2 * runs["local1"].ppm)
        lines.append(f"- Scaling 1 → 2 local workers: efficiency **{eff:.0%}** (goal ≥ 85 %).")
    if "local2" in runs and "celery" in runs:
        overhead = runs["local2"].ppm / runs["celery"].ppm - 1
        lines.append(f"- Celery mode against the local pool, same pages, 2 processes: overhead **{overhead:+.1%}** (goal ≤ 10 %).")
    if "memory" in runs:
        m = runs["memory"]
        base = runs.get("memory1")
        same = f"; its first page alone as a 1-page PDF: {base.max_rss_mb:.0f} MB" if base else ""
        lines.append(
            f"- Peak memory of the worker archiving a {m.pages}-page PDF (200 dpi A4 pages): "
            f"**{m.max_rss_mb:.0f} MB** (goal ≤ 1 GB){same}; {m.ppm:.1f} pages/min on one worker."
        )
    if "memory-low" in runs:
        m = runs["memory-low"]
        lines.append(
            f"- With `--low-memory` (fixed 128 KiB glibc mmap threshold): **{m.max_rss_mb:.0f} MB** on the "
            f"{m.pages}-page PDF, at {m.ppm:.1f} pages/min."
        )
    if ocr_peaks:
        lines.append(
            "- Where the worker's peak comes from: a process that only runs RapidOCR (twice) on one A4 page "
            "peaks at " + ", ".join(f"{mb} MB ({dpi} dpi, max_side_len {side})" for dpi, side, mb in ocr_peaks) + "."
        )
    lines.append("")
    return "\n".join(lines)


def write_section(doc: Path, body: str) -> None:
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    start = text.find(SECTION)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + body
    else:
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + body + ("" if nxt < 0 else text[nxt + 1 :])
    doc.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=200, help="pages in the corpus (at least)")
    ap.add_argument("--seed", type=int, default=601)
    ap.add_argument("--memory-pages", type=int, default=300)
    ap.add_argument("--phases", default="local1,local2,celery,memory1,memory,memory-low,ocrpeak")
    ap.add_argument("--work", type=Path, default=None, help="working folder (default: a temp folder, removed)")
    ap.add_argument("--write", type=Path, default=None, help="replace the section in this markdown file")
    args = ap.parse_args(argv)

    work = args.work or Path(tempfile.mkdtemp(prefix="woa-bench-batch-"))
    corpus = work / "corpus"
    try:
        files, pages = make_corpus(corpus, args.pages, args.seed)
        print(f"corpus: {files} files, {pages} pages in {corpus}", file=sys.stderr)
        runs: dict[str, Run] = {}
        peaks: list[tuple[int, int, int]] = []
        for phase in args.phases.split(","):
            if phase == "ocrpeak":
                peaks = run_ocr_peak(corpus)
                print(f"{phase}: {peaks}", file=sys.stderr, flush=True)
                continue
            if phase == "local1":
                runs[phase] = run_local(corpus, work, 1)
            elif phase == "local2":
                runs[phase] = run_local(corpus, work, 2)
            elif phase == "celery":
                runs[phase] = run_celery(corpus, work, 2)
            elif phase == "memory1":
                runs[phase] = run_memory(corpus, work, 1)
            elif phase == "memory":
                runs[phase] = run_memory(corpus, work, args.memory_pages)
            elif phase == "memory-low":
                runs[phase] = run_memory(corpus, work, args.memory_pages, low_memory=True)
            else:
                raise SystemExit(f"unknown phase {phase}")
            print(f"{phase}: {runs[phase]}", file=sys.stderr, flush=True)
            if args.write:  # after every phase: a long run that is stopped still leaves its numbers
                write_section(args.write, render(runs, files, pages, peaks))
        print(render(runs, files, pages, peaks))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
