"""Small scans for the batch tests (a few Chinese words rendered by PIL, fast to OCR), and helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import make_scans

pytestmark = pytest.mark.slow  # woa batch processes


def test_scans_are_distinct_pngs(tmp_path: Path) -> None:
    paths = make_scans(tmp_path, 4)
    assert len({p.read_bytes() for p in paths}) == 4
    with Image.open(paths[0]) as img:
        assert img.format == "PNG" and round(img.info["dpi"][0]) == 150
