"""Sample-generator benchmark: time per document and file size per page, by format.

Generates ``--count`` documents (default 40, seed 101) into ``bench-out/samples-bench`` one at a
time and prints a markdown summary for docs/benchmarks.md. Usage::

    .venv/bin/python benchmarks/bench_samples.py [--count 40] [--seed 101]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("woa_samples_generate", ROOT / "samples" / "generate.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--seed", type=int, default=101)
    ap.add_argument("--out", default=str(ROOT / "bench-out" / "samples-bench"))
    args = ap.parse_args()
    gen = load_generator()
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    wall, cpu = [], []
    per_format: dict[str, list[float]] = {}
    pages = 0
    t_all = time.perf_counter()
    for plan in gen.plan_batch(args.count, args.seed):
        t0, c0 = time.perf_counter(), time.process_time()
        images, truth = gen.build_document(plan, args.seed)
        path = out / f"{plan.name}.{plan.fmt}"
        gen.save_pages(images, path, plan.fmt, plan.dpi, plan.record_dpi)
        (out / f"{plan.name}.truth.json").write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        pages += plan.pages
        per_format.setdefault(plan.fmt, []).append(path.stat().st_size / 1024 / plan.pages)
    total = time.perf_counter() - t_all
    uname = " ".join(platform.uname())
    print(f"### Synthetic samples ({date.today().isoformat()})\n")
    print(f"Machine: `{uname}`, nproc {os.cpu_count()}; command: "
          f"`.venv/bin/python benchmarks/bench_samples.py --count {args.count} --seed {args.seed}`\n")
    print(f"- {args.count} documents, {pages} pages in {total:.1f} s wall "
          f"({args.count / total * 60:.0f} documents/min on one core)")
    print(f"- per document: median wall {statistics.median(wall):.2f} s, median CPU {statistics.median(cpu):.2f} s, "
          f"max wall {max(wall):.2f} s")
    for fmt, sizes in sorted(per_format.items()):
        print(f"- {fmt}: median {statistics.median(sizes):.0f} KiB per page over {len(sizes)} documents")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
