"""Fault injection: SIGKILL ``woa watch`` at random moments while it works, restart, check nothing was lost.

Used by the test suite (short run) and ``benchmarks/soak_watch.py`` (50 files, 5 kills). Run by
hand to check an installation: ``python -m watch_folder.soak --files 50 --kills 5``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.archive import Archive
from core.atomic import TMP_PREFIX
from watch_folder.journal import JOURNAL_NAME, Journal

FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def render_scan(n: int, *, size: tuple[int, int] = (360, 120), fmt: str = "PNG") -> bytes:
    """A small page with a few words of Chinese and a number that makes its bytes unique."""
    from PIL import Image, ImageDraw, ImageFont

    scale = size[1] / 120
    font = ImageFont.truetype(FONT, round(24 * scale))
    im = Image.new("L", size, 255)
    draw = ImageDraw.Draw(im)
    draw.text((10 * scale, 10 * scale), f"工单号 W{n:05d}", font=font, fill=0)
    draw.text((10 * scale, 60 * scale), "更换机油机滤", font=font, fill=0)
    buf = io.BytesIO()
    im.save(buf, format=fmt, dpi=(200, 200))
    return buf.getvalue()


@dataclass
class SoakResult:
    files: int
    kills: int
    archived: int
    seconds: float
    kill_points: list[int] = field(default_factory=list)  # files finished when each kill hit
    problems: list[str] = field(default_factory=list)


def _finished(archive: Path) -> int:
    path = archive / JOURNAL_NAME
    if not path.exists():
        return 0
    try:
        with Journal(path, readonly=True) as j:
            s = j.summary()
    except Exception:  # the journal is being created right now
        return 0
    return s.done + s.failed


def _check(tmp: Path, expected: dict[str, bytes], env: dict[str, str], cwd: Path) -> tuple[int, list[str]]:
    inbox, archive_dir, processed = tmp / "inbox", tmp / "archive", tmp / "processed"
    problems: list[str] = []
    with Journal(archive_dir / JOURNAL_NAME, readonly=True) as j:
        rows = j.rows()
    by_sha: dict[str, list[str]] = {}
    for r in rows:
        by_sha.setdefault(r.sha256, []).append(f"{r.state}/{r.outcome}")
    for name, data in expected.items():
        sha = hashlib.sha256(data).hexdigest()
        states = by_sha.get(sha, [])
        if states != ["done/archived"]:
            problems.append(f"{name}: journal rows {states}, expected exactly one done/archived")
        moved = processed / name
        if not moved.is_file() or moved.read_bytes() != data:
            problems.append(f"{name}: not in processed/ byte for byte")
    archive = Archive(archive_dir)
    ids = sorted(archive.ids())
    want = sorted(hashlib.sha256(d).hexdigest()[:16] for d in expected.values())
    if ids != want:
        problems.append(f"archive holds {len(ids)} documents, expected {len(want)}")
    for doc in archive.documents():
        if doc.duplicates:
            problems.append(f"{doc.id}: recorded duplicates {doc.duplicates} but every file was distinct")
    leftovers = [p for p in inbox.rglob("*") if p.is_file()]
    if leftovers:
        problems.append(f"files left in the inbox: {leftovers[:5]}")
    temps = list(tmp.rglob(TMP_PREFIX + "*"))
    if temps:
        problems.append(f"temporary files remain: {temps[:5]}")
    verify = subprocess.run(
        [sys.executable, "-m", "woa.cli", "verify", "--archive", str(archive_dir)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )
    if verify.returncode != 0:
        problems.append(f"woa verify failed ({verify.returncode}): {verify.stdout.strip()} {verify.stderr.strip()}")
    return len(ids), problems


def run_soak(
    tmp: Path,
    *,
    files: int = 50,
    kills: int = 5,
    seed: int = 1,
    workers: int = 2,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stable: float = 0.5,
    max_delay: float = 1.5,
) -> SoakResult:
    """Drop ``files`` scans, then ``kills`` times: start the service, let it finish a random number of
    files, SIGKILL it up to ``max_delay`` s later; finally run it to completion and check the archive,
    journal and folders."""
    rng = random.Random(seed)
    env = dict(env or os.environ)
    cwd = cwd or Path(__file__).resolve().parents[1]
    inbox, archive_dir = tmp / "inbox", tmp / "archive"
    inbox.mkdir(parents=True)
    expected = {f"soak_{n:03d}.png": render_scan(50_000 + seed * 1000 + n) for n in range(files)}
    for name, data in expected.items():
        (inbox / name).write_bytes(data)
    base = [sys.executable, "-m", "woa.cli", "watch", str(inbox), "--archive", str(archive_dir),
            "--stable", str(stable), "--workers", str(workers)]  # fmt: skip
    t0 = time.monotonic()
    result = SoakResult(files=files, kills=0, archived=0, seconds=0.0)
    for k in range(kills):
        log_path = tmp / f"run{k}.log"
        with open(log_path, "w") as log:
            # Let a random share of the remaining files finish, then kill at a random moment of
            # whatever comes next (OCR, sidecar write, index update, journal update, move).
            # Each run may finish at most ``room`` files, so every kill, this one and the ones
            # after it, hits a busy service with files still waiting: on a fast machine the
            # random delay alone would otherwise let the service drain the whole inbox.
            done_now = _finished(archive_dir)
            room = max(1, (files - done_now - (workers + 1)) // (kills - k))
            cap = done_now + room
            target = done_now + rng.randint(1, room)
            proc = subprocess.Popen(base, cwd=cwd, env=env, stdout=log, stderr=log)
            deadline = time.monotonic() + 600
            while _finished(archive_dir) < target and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            kill_at = time.monotonic() + rng.uniform(0.0, max_delay)
            while time.monotonic() < kill_at and _finished(archive_dir) < cap and proc.poll() is None:
                time.sleep(0.02)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                result.kills += 1
            proc.wait(30)
        result.kill_points.append(_finished(archive_dir))
    with open(tmp / "final.log", "w") as log:
        final = subprocess.run([*base, "--oneshot"], cwd=cwd, env=env, stdout=log, stderr=log, timeout=1800)
    if final.returncode != 0:
        result.problems.append(f"final run exited {final.returncode}: see {tmp / 'final.log'}")
    result.seconds = time.monotonic() - t0
    result.archived, problems = _check(tmp, expected, env, cwd)
    result.problems += problems
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=50)
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dir", type=Path, required=True, help="empty working folder")
    args = ap.parse_args()
    res = run_soak(args.dir, files=args.files, kills=args.kills, seed=args.seed, workers=args.workers)
    print(res)
    return 1 if res.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
