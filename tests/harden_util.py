"""Helpers for the hardening tests: run the real ``woa`` command, build small real inputs and archives."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
WOA = [sys.executable, "-m", "woa.cli"]


def woa(*args: object, env: dict[str, str] | None = None, timeout: float = 300, cwd: Path | None = None,
        preexec_fn: object = None) -> subprocess.CompletedProcess[str]:
    """Run ``woa ARGS`` as a user would; output captured as text."""
    full_env = {**os.environ, "PYTHONWARNINGS": "default", **(env or {})}
    full_env.pop("WOA_ARCHIVE_DIR", None)
    return subprocess.run([*WOA, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=full_env,
                          cwd=cwd or ROOT, preexec_fn=preexec_fn)  # type: ignore[arg-type]


def no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout, proc.stdout


def small_scan(dest: Path, sample: str = "wo07_002.png", scale: float = 1 / 3, mode: str = "L") -> Path:
    """A committed sample, downscaled (cheap to OCR) and saved as ``dest`` (format from its suffix)."""
    with Image.open(SAMPLES / sample) as im:
        small = im.convert(mode).resize((max(1, int(im.width * scale)), max(1, int(im.height * scale))))
    small.save(dest, dpi=(round(200 * scale), round(200 * scale)))
    return dest


def copy_archive(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, symlinks=True)
    return dest


def index_state(archive: Path) -> tuple[str, list[str]]:
    """The live generation's name and every entry of ``index/`` (to see a rebuild or a stray build)."""
    idx = archive / "index"
    current = (idx / "CURRENT").read_text() if (idx / "CURRENT").exists() else ""
    return current, sorted(p.name for p in idx.iterdir()) if idx.is_dir() else []


def leftovers(archive: Path) -> list[str]:
    """Temp files and half-built index generations anywhere in the archive."""
    return sorted(p.relative_to(archive).as_posix() for p in archive.rglob("*")
                  if p.name.startswith(".woa-tmp-") or p.name.endswith(".building"))
