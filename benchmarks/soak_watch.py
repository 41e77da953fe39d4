"""Soak test of the watched inbox: 50 files, SIGKILL at 5 random moments, restart, check everything.

    .venv/bin/python benchmarks/soak_watch.py --work /tmp/soak-watch [--files 50 --kills 5 --seed 1]

Prints the result (kills, files finished at each kill, problems found, seconds) as JSON; exit 1 if
any problem was found. See benchmarks/soak.py for what is checked.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.soak import run_soak  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/soak-watch"))
    ap.add_argument("--files", type=int, default=50)
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    if args.work.exists():
        shutil.rmtree(args.work)
    load_before = os.getloadavg()
    res = run_soak(args.work, files=args.files, kills=args.kills, seed=args.seed, workers=args.workers, cwd=ROOT)
    out = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": " ".join(platform.uname()),
        "nproc": os.cpu_count(),
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        **asdict(res),
    }
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 1 if res.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
