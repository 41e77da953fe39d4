"""Small scans for the batch tests (a few Chinese words rendered by PIL, fast to OCR), and helpers."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageFont

pytestmark = pytest.mark.slow  # woa batch processes

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def make_scan(path: Path, n: int) -> Path:
    """A small work-order snippet; ``n`` makes its text, and so its SHA-256, unique."""
    font = ImageFont.truetype(FONT, 26)
    img = Image.new("L", (720, 220), 255)
    draw = ImageDraw.Draw(img)
    draw.text((24, 24), f"维修委托书 工单号 WO2024{n:05d}", font=font, fill=0)
    draw.text((24, 84), f"车牌号 粤B{10000 + n} 合计 ¥{100 + n}.00", font=font, fill=0)
    draw.text((24, 144), "结算日期 2024-03-15", font=font, fill=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, dpi=(150, 150))
    return path


def make_scans(folder: Path, count: int, start: int = 0) -> list[Path]:
    return [make_scan(folder / f"box{(start + i) % 3}" / f"scan-{start + i:03d}.png", start + i) for i in range(count)]


def woa(*args: str | os.PathLike[str], timeout: float = 240, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "woa.cli", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=timeout, **kw  # type: ignore[call-overload]
    )


def sidecars(archive: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((archive / "sidecars").glob("*/*.json"))]


def read_summary(report_dir: Path) -> dict[str, str]:
    with open(report_dir / "summary.csv", newline="", encoding="utf-8") as fh:
        return {row["metric"]: row["value"] for row in csv.DictReader(fh)}


def read_documents(report_dir: Path) -> list[dict[str, str]]:
    with open(report_dir / "documents.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_scans_are_distinct_pngs(tmp_path: Path) -> None:
    paths = make_scans(tmp_path, 4)
    assert len({p.read_bytes() for p in paths}) == 4
    with Image.open(paths[0]) as img:
        assert img.format == "PNG" and round(img.info["dpi"][0]) == 150
