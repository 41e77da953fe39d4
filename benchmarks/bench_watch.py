"""Watched inbox: drop-to-searchable latency of a one-page scan, and throughput with 1 and 2 workers.

The real ``woa watch`` runs as a subprocess on real folders with the default settings (OCR engine,
PDF/A level) except the ones named on the command line. Pages are the synthetic A4 work orders of
``samples/generate.py`` (one-page documents only).

    .venv/bin/python benchmarks/bench_watch.py --work /tmp/bench-watch

Latency: a scan is renamed into the inbox; the clock stops when ``index.search`` for its order
number (as printed) returns the document, or — if OCR misread the number — when its id is in the
index. Throughput: N scans dropped at once, clock from the drop to the last journal row done.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.archive import Archive  # noqa: E402
from watch_folder.journal import JOURNAL_NAME, Journal  # noqa: E402


def one_page_samples(folder: Path) -> list[tuple[Path, str]]:
    """(scan, order number) of every one-page sample in ``folder``."""
    out = []
    for truth in sorted(folder.glob("*.truth.json")):
        data = json.loads(truth.read_text(encoding="utf-8"))
        if len(data.get("pages", [])) != 1:
            continue
        scans = [p for p in folder.glob(truth.name.replace(".truth.json", ".*")) if not p.name.endswith(".json")]
        if scans:
            out.append((scans[0], str(data["fields"]["order_no"])))
    return out


class Service:
    def __init__(self, work: Path, name: str, workers: int, stable: float) -> None:
        self.inbox = work / name / "inbox"
        self.archive = work / name / "archive"
        self.staging = work / name / "staging"
        for d in (self.inbox, self.staging):
            d.mkdir(parents=True)
        self.log_path = work / name / "watch.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "woa.cli", "watch", str(self.inbox), "--archive", str(self.archive),
             "--workers", str(workers), "--stable", str(stable)],
            cwd=ROOT, stdout=self._log, stderr=self._log,
        )  # fmt: skip
        self._wait(lambda: "event=start" in self.log_path.read_text(errors="replace"), 120)

    def _wait(self, cond: object, timeout: float, poll: float = 0.05) -> None:
        deadline = time.monotonic() + timeout
        while not cond():  # type: ignore[operator]
            if self.proc.poll() is not None:
                raise RuntimeError(f"woa watch exited:\n{self.log_path.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out; log:\n{self.log_path.read_text()[-2000:]}")
            time.sleep(poll)

    def drop(self, files: list[Path]) -> float:
        staged = []
        for i, src in enumerate(files):
            dest = self.staging / f"{i:03d}_{src.name}"
            shutil.copyfile(src, dest)
            staged.append(dest)
        t0 = time.monotonic()
        for p in staged:
            os.rename(p, self.inbox / p.name)
        return t0

    def done(self) -> int:
        path = self.archive / JOURNAL_NAME
        if not path.exists():
            return 0
        with Journal(path, readonly=True) as j:
            return j.summary().done

    def wait_done(self, n: int, timeout: float = 1800) -> None:
        self._wait(lambda: self.done() >= n, timeout, poll=0.05)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(120)
        self._log.close()


def measure_latency(work: Path, samples: list[tuple[Path, str]], reps: int, stable: float) -> list[dict[str, Any]]:
    import index

    svc = Service(work, f"latency-stable{stable:g}", workers=1, stable=stable)
    archive = Archive(svc.archive)
    try:
        svc.drop([samples[0][0]])  # warm-up: the worker loads the OCR models once
        svc.wait_done(1)
        out: list[dict[str, Any]] = []
        for k, (scan, order_no) in enumerate(samples[1 : reps + 1], start=2):
            doc_id = hashlib.sha256(scan.read_bytes()).hexdigest()[:16]
            t0 = svc.drop([scan])
            found_by = ""
            while not found_by:
                if archive.sidecar_path(doc_id).exists():
                    hits = index.search(archive, order_no, limit=5).hits
                    if any(h.id == doc_id for h in hits):
                        found_by = "order_no"
                    elif svc.done() >= k:
                        from index import indexed_ids

                        if doc_id in (indexed_ids(archive) or set()):
                            found_by = "id"
                if time.monotonic() - t0 > 600:
                    raise TimeoutError(scan)
                time.sleep(0.05)
            t_search = time.monotonic() - t0
            svc.wait_done(k, timeout=120)  # the journal records the outcome just after the index commit
            with Journal(svc.archive / JOURNAL_NAME, readonly=True) as j:
                row = [r for r in j.rows() if r.doc_id == doc_id][0]
            out.append({"scan": scan.name, "seconds": t_search, "ingest": row.seconds or 0.0, "found_by": found_by})
            print(f"latency stable={stable:g}s {scan.name}: {t_search:.2f} s (ingest {row.seconds:.2f} s, by {found_by})", flush=True)
    finally:
        svc.stop()
    return out


def measure_throughput(work: Path, scans: list[Path], workers: int, stable: float) -> dict[str, float]:
    svc = Service(work, f"throughput-w{workers}", workers=workers, stable=stable)
    try:
        warm = scans[:workers]
        svc.drop(warm)
        svc.wait_done(len(warm))
        todo = scans[workers:]
        t0 = svc.drop(todo)
        svc.wait_done(len(warm) + len(todo))
        wall = time.monotonic() - t0
        with Journal(svc.archive / JOURNAL_NAME, readonly=True) as j:
            rows = j.rows()[len(warm) :]
        busy = sum(r.seconds or 0.0 for r in rows)
    finally:
        svc.stop()
    res = {
        "workers": workers,
        "pages": len(todo),
        "wall": wall,
        "pages_per_min": len(todo) / wall * 60,
        "ingest_seconds_sum": busy,
        "utilisation": busy / (wall * workers),
    }
    print(f"throughput workers={workers}: {res['pages']} pages in {wall:.1f} s = {res['pages_per_min']:.1f} pages/min "
          f"(worker utilisation {res['utilisation']:.0%})", flush=True)  # fmt: skip
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench-watch"))
    ap.add_argument("--reps", type=int, default=5, help="latency measurements per setting")
    ap.add_argument("--pages", type=int, default=24, help="pages for the throughput runs")
    ap.add_argument("--stable", type=float, nargs="+", default=[5.0, 1.0], help="stable_seconds values for latency")
    ap.add_argument("--only", choices=("latency", "throughput"), default=None, help="run one half only")
    args = ap.parse_args()
    if args.work.exists():
        shutil.rmtree(args.work)
    gen = args.work / "samples"
    subprocess.run([sys.executable, str(ROOT / "samples" / "generate.py"), "--out", str(gen), "--count",
                    str(args.pages * 2 + args.reps + 4), "--seed", "31"], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    samples = one_page_samples(gen)
    if len(samples) < args.pages + 2:
        raise SystemExit(f"only {len(samples)} one-page samples generated")
    load_before = os.getloadavg()
    latency = {} if args.only == "throughput" else {s: measure_latency(args.work, samples, args.reps, s) for s in args.stable}
    throughput = (
        []
        if args.only == "latency"
        else [measure_throughput(args.work, [p for p, _ in samples[: args.pages + w]], w, 1.0) for w in (1, 2)]
    )
    load_after = os.getloadavg()
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": " ".join(platform.uname()),
        "nproc": os.cpu_count(),
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "latency": {str(k): v for k, v in latency.items()},
        "latency_median": {str(k): statistics.median(float(x["seconds"]) for x in v) for k, v in latency.items()},
        "throughput": throughput,
        "speedup_2_vs_1": throughput[1]["pages_per_min"] / throughput[0]["pages_per_min"] if throughput else None,
    }
    out = args.work / "bench_watch.json"
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(json.dumps({k: result[k] for k in ("latency_median", "speedup_2_vs_1", "loadavg_before", "loadavg_after")}))
    print(f"full results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
