"""One settings object, loaded from a TOML file and ``WOA_*`` environment variables.

Precedence (highest first): explicit overrides (CLI flags), environment, TOML file, defaults.
The TOML file is ``$WOA_CONFIG`` if set, else ``./woa.toml``, else ``~/.config/woa/woa.toml``.
Environment variables are the field names upper-cased with a ``WOA_`` prefix, e.g.
``WOA_ARCHIVE_DIR=/srv/archive`` or ``WOA_OCR_ENGINE=tesseract``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    archive_dir: Path = Field(default=Path("woa-archive"), description="Root of the archive on disk")

    # OCR
    ocr_engine: Literal["rapidocr", "tesseract"] = "rapidocr"
    tesseract_lang: str = "chi_sim+eng"
    tesseract_psm: int = 4
    ocr_max_dpi: float = 200.0  # pages scanned finer are downscaled for OCR only (0 = never)
    ocr_threads: int = 1  # per worker process; OMP_THREAD_LIMIT / onnxruntime intra-op threads

    # Input guards
    max_file_bytes: int = 2 * 1024**3
    max_page_pixels: int = 150_000_000  # A3 at 600 dpi is ~70 Mpx; larger is treated as a bomb
    max_pages: int = 2000
    default_dpi: float = 300.0

    # Preprocessing
    deskew: bool = True
    max_skew_degrees: float = 10.0

    # Memory: after a page, freed heap memory goes back to the kernel when the process's resident
    # size is above this many MB (0: after every page). Without it a worker crept from 0.6 to
    # 1.7 GB over a 300-page PDF; trimming after every page costs a few percent of CPU.
    release_memory_above_mb: int = 640

    # Archive
    pdfa_level: Literal["1b", "2b"] = "2b"
    # Pages whose source was JPEG-compressed (JPEG files, JPEG in TIFF or PDF) and had to be
    # rotated or deskewed are re-encoded as JPEG at this quality (visually lossless; lossless
    # would be 4x the input); pages from lossless sources stay lossless. -1: everything lossless.
    archive_jpeg_quality: int = 90

    # Archive copy encoding (issue 13). "mrc": grey and colour pages become mixed raster
    # content (pipeline.mrc): a full-resolution CCITT G4 ink mask over a background at
    # mrc_background_dpi and an ink colour layer at mrc_foreground_dpi, both JPEG at
    # mrc_jpeg_quality; bilevel pages stay G4.
    # "faithful": each page image as it is (lossless sources stay lossless).
    archive_mode: Literal["mrc", "faithful"] = "faithful"
    mrc_background_dpi: float = Field(default=100.0, gt=0)
    mrc_foreground_dpi: float = Field(default=50.0, gt=0)
    mrc_jpeg_quality: int = Field(default=50, ge=1, le=100)

    # Extraction / review
    review_threshold: float = 0.8
    templates_dir: Path | None = None
    reviewer: str = Field(default_factory=lambda: os.environ.get("USER", "clerk"))

    # Watched inbox
    stable_seconds: float = 5.0
    poll_seconds: float = 0.0  # 0 = native events (auto-switch to polling on network filesystems)
    rescan_seconds: float = 300.0
    after_success: Literal["delete", "move"] = "move"
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1)
    max_attempts: int = 5

    @property
    def index_dir(self) -> Path:
        return self.archive_dir / "index"


def _config_path() -> Path | None:
    env = os.environ.get("WOA_CONFIG")
    if env:
        return Path(env)
    for cand in (Path("woa.toml"), Path.home() / ".config" / "woa" / "woa.toml"):
        if cand.is_file():
            return cand
    return None


def _env_values() -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in Settings.model_fields:
        raw = os.environ.get(f"WOA_{name.upper()}")
        if raw is not None:
            values[name] = raw
    return values


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from file, environment and explicit overrides (``None`` overrides are ignored)."""
    values: dict[str, Any] = {}
    path = config or _config_path()
    if path is not None:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        values.update(data.get("woa", data))
    values.update(_env_values())
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)
