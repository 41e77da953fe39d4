"""One settings object, loaded from a TOML file and ``WOA_*`` environment variables.

Precedence (highest first): explicit overrides (CLI flags), environment, TOML file, defaults.
The TOML file is ``$WOA_CONFIG`` if set, else ``./woa.toml``, else ``~/.config/woa/woa.toml``.
Environment variables are the field names upper-cased with a ``WOA_`` prefix, e.g.
``WOA_ARCHIVE_DIR=/srv/archive`` or ``WOA_OCR_ENGINE=tesseract``. Settings are loaded once per
run and passed down explicitly; worker processes receive the object (pickled, or as
``model_dump(mode="json")`` for Celery), never environment variables.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.plugins import OCR_ENGINES, PluginError, plugin
from core.retention import RetentionRule


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    archive_dir: Path = Field(default=Path("woa-archive"), description="Root of the archive on disk")

    # OCR
    ocr_engine: str = "rapidocr"  # a name registered under the woa.ocr_engines entry points (core.plugins)
    tesseract_lang: str = "chi_sim+eng"
    tesseract_psm: int = 4
    ocr_max_dpi: float = 200.0  # pages scanned finer are downscaled for OCR only (0 = never)
    ocr_threads: int = 1  # per worker process; OMP_THREAD_LIMIT / OpenVINO or onnxruntime threads
    # Runtime of RapidOCR's PP-OCR models: "openvino" (2.35x the pages/min of onnxruntime on one
    # thread at the same CER, docs/benchmarks.md) or "onnxruntime".
    ocr_runtime: Literal["openvino", "onnxruntime"] = "openvino"
    # A finer recogniser beside the first (RapidOCR only): PP-OCRv6's small model ("ppocrv6-small",
    # from the rapidocr 3.10 wheel; "none": PP-OCRv4 alone). It reads the values' second pass
    # (value_reread, vin_reread's cell): dot-matrix print, which PP-OCRv4 misreads (1.5L -> 1.5T).
    ocr_fine_model: Literal["ppocrv6-small", "none"] = "ppocrv6-small"
    # First-pass lines PP-OCRv4 is less sure of than ocr_fine_below are read again by the fine
    # recogniser (0: none), on pages where at least ocr_fine_page_share of the lines are (dot-matrix
    # or faint print: on the dev forms a median 0.41-0.56 of a dot-matrix page's lines are under
    # 0.95, 0.13-0.27 of a laser page's). A line read again costs ~2.3x; docs/benchmarks.md ("PP-OCRv6").
    ocr_fine_below: float = Field(default=0.95, ge=0.0, le=1.0)
    ocr_fine_page_share: float = Field(default=0.3, ge=0.0, le=1.0)

    # VIN second pass: a page with a VIN label but no valid VIN after OCR has the strip after the
    # label read again by the recogniser alone, box rules removed (extractors/vin_strip.py,
    # pipeline/ocr/region.py). Pages that already give a VIN are not read again.
    vin_reread: bool = True

    # Values' second pass: labelled values the first pass read doubtfully (invalid, unsure, or
    # none) are read again from their strip, brightest channel, rules removed, dots blurred
    # together (extractors/value_strip.py, pipeline/ocr/region.py read_value); readings vote.
    value_reread: bool = True

    # Input guards
    max_file_bytes: int = 2 * 1024**3
    max_page_pixels: int = 150_000_000  # A3 at 600 dpi is ~70 Mpx; larger is treated as a bomb
    max_pages: int = 2000
    default_dpi: float = 300.0
    # Page geometry, checked from the header before anything is decoded: a page with a side under
    # min_page_side_px pixels, or longer than max_page_aspect times its width, is no scan (a
    # 3x4000 PNG of 98 bytes made the text detector allocate 24 GB).
    min_page_side_px: int = 16
    max_page_aspect: float = 20.0

    # Preprocessing
    deskew: bool = True
    max_skew_degrees: float = 10.0
    # Turn pages upright (0/90/180/270) from PP-OCR's text detector. false: pages are taken as
    # scanned; with ocr_engine = "tesseract" no PP-OCR model is then loaded at all.
    detect_orientation: bool = True
    # A grey or colour page of faint print throughout (a worn ribbon, a faint copy) has its text
    # lines found on the page with its local contrast raised (CLAHE with this clip limit; 0: as
    # it is), and read on the page as it is; other pages are found and read as they are.
    # Measured in docs/benchmarks.md (issue 12, rules 10).
    detect_contrast: float = 2.0

    # Colour dropout (issue 12, pipeline/dropout.py): on a colour scan of a pre-printed colour
    # form (labels and rules in one colour, values printed in black over them) OCR reads the
    # values from an image with that colour dropped to paper and the labels from the colour
    # alone. Pages without such a form (grey, bilevel, plain black forms) are read as before.
    # Off by default: measured (docs/benchmarks.md) it gained 6 fields on the dev colour forms and
    # lost 1 net on the held-out ones, with 3 more confident errors there, at 1.8x the time of
    # such a page.
    colour_dropout: bool = False

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
    # mrc_jpeg_quality; bilevel pages stay G4; blurred and dot-matrix words are kept as
    # full-resolution JPEG patches (mrc_soft_patches). The default since the issue-13 benchmark
    # (a sixth of the size at the faithful copy's re-OCR CER: docs/benchmarks.md).
    # "faithful": each page image as it is (lossless sources stay lossless).
    archive_mode: Literal["mrc", "faithful"] = "mrc"
    mrc_background_dpi: float = Field(default=100.0, gt=0)
    mrc_foreground_dpi: float = Field(default=100.0, gt=0)
    mrc_min_dpi: float = Field(default=200.0, ge=0)  # coarser scans keep the faithful encoding
    mrc_jpeg_quality: int = Field(default=50, ge=1, le=100)
    mrc_soft_patches: bool = True  # blurred words as full-resolution JPEG patches, not in the mask

    # Extraction / review
    review_threshold: float = 0.8
    templates_dir: Path | None = None
    reviewer: str = Field(default_factory=lambda: os.environ.get("USER", "clerk"))

    # Worker processes (woa watch, woa batch, woa worker, woa verify): how many, and whether they
    # return page buffers to the OS (far less memory, about twice the OCR CPU time; benchmarks.md)
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    low_memory: bool = False

    # Watched inbox (woa watch; docs/watch.md)
    stable_seconds: float = 5.0
    poll_seconds: float = 0.0  # 0 = native events (auto-switch to polling on network filesystems)
    rescan_seconds: float = 300.0
    after_success: Literal["delete", "move"] = "move"
    max_attempts: int = Field(default=5, ge=1)  # per file, for transient failures
    backoff_base_seconds: float = 2.0  # wait before the 2nd attempt; doubles per attempt
    backoff_cap_seconds: float = 300.0
    file_timeout_seconds: float = 1800.0  # a file still in a worker after this long: a transient failure

    # Distributed batch (woa batch --broker, woa worker, woa index-writer; docs/digitisation.md).
    # A message whose worker died entirely is redelivered after visibility_timeout seconds, which
    # must exceed the longest task (a 300-page PDF takes several minutes on one core).
    broker_url: str = "redis://localhost:6379/0"
    visibility_timeout: float = Field(default=7200.0, gt=0)
    max_queued: int = Field(default=5000, ge=1)  # messages waiting in Redis at most

    # Records lifecycle (docs/lifecycle.md): retention rules, reminders, cold tier
    # Ordered [[retention]] tables; the first match sets retain_until; a 6-year default ends the list.
    retention: list[RetentionRule] = Field(default_factory=list)
    reminder_days: list[int] = Field(default_factory=lambda: [90, 30, 7])  # lead times before retain_until
    smtp_host: str = ""  # "" = no mail (reminders are still listed by `woa lifecycle run`)
    smtp_port: int = 25
    smtp_tls: Literal["none", "starttls", "ssl"] = "starttls"
    smtp_user: str = ""
    smtp_password_file: Path | None = None  # the password, in a file of its own (not in woa.toml)
    smtp_from: str = "woa@localhost"
    smtp_timeout: float = 30.0
    # store code -> recipients of that store's digest; "*" = stores without an entry of their own
    reminder_recipients: dict[str, list[str]] = Field(default_factory=dict)
    # Cold tier: "" = none; "s3://bucket/prefix" (S3-compatible) or a filesystem path (NAS, slow disk)
    tier_url: str = ""
    tier_endpoint: str = ""  # S3 endpoint URL (Aliyun OSS, Tencent COS, Huawei OBS, MinIO, Ceph, AWS)
    tier_region: str = "us-east-1"
    tier_access_key: str = ""
    tier_secret_key_file: Path | None = None
    tier_key_file: Path | None = None  # AES-256-GCM key (32 bytes, raw or hex), outside the archive
    tier_after_days: int = 0  # move documents whose order date is older than this; 0 = never
    # "date": by the order's date only; "last_access": also not opened (web, woa show --open) for as long
    tier_by: Literal["date", "last_access"] = "date"
    tier_batch: int = 500  # at most this many moves per `woa lifecycle run`
    tier_cache_days: int = 7  # fetched cold copies stay in ARCHIVE/cache this long

    @field_validator("ocr_engine")
    @classmethod
    def _registered_engine(cls, v: str) -> str:
        try:
            plugin(OCR_ENGINES, v)
        except PluginError as exc:
            raise ValueError(str(exc)) from None
        return v

    @field_validator("reminder_days")
    @classmethod
    def _lead_times(cls, v: list[int]) -> list[int]:
        if any(d <= 0 or d > 3660 for d in v):
            raise ValueError("reminder lead times are days before retain_until, 1..3660")
        return sorted(set(v), reverse=True)

    # Stores (门店): every document belongs to one. `woa ingest/batch --store`, the upload form and
    # `inbox_stores` set it; documents archived without one count as `default_store` ("" = none).
    default_store: str = ""
    inbox_stores: dict[str, str] = Field(default_factory=dict)  # inbox subfolder -> store code

    # Web application (web/, `woa serve`)
    database_url: str = ""  # "" = SQLite at <archive_dir>/db/web.sqlite3; or postgresql://user:pw@host:port/db
    web_secret_key_file: Path | None = None  # default <archive_dir>/db/secret_key (created 0600)
    web_debug: bool = False  # never in production: tracebacks in the browser
    web_allowed_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1", "localhost", "[::1]"])
    web_secure_cookies: bool = True  # Secure flag on session and CSRF cookies (browsers allow it on localhost)
    web_session_seconds: int = 8 * 3600  # idle time after which a session expires
    web_login_attempts: int = 5  # failed log-ins per user name (x4 per address) within the window ...
    web_login_window_seconds: int = 900  # ... before further attempts are refused for this long
    web_max_upload_bytes: int = 200 * 1024**2
    web_workers: int = 2  # gunicorn worker processes
    web_timeout_seconds: int = 300  # a request (an upload runs OCR) may take this long

    # Encryption at rest (docs/security.md). New originals, PDF/A copies and sidecars are written
    # AES-256-GCM encrypted when on; `woa encrypt` converts an existing archive. The master key
    # lives outside the archive: $WOA_MASTER_KEY, else the output of master_key_command, else
    # master_key_file (default ~/.config/woa/master.key, must be mode 0600).
    encrypt_at_rest: bool = False
    master_key_file: Path | None = None
    master_key_command: str = ""

    # Backups with restic (`woa backup`, docs/security.md). backup_repository: a local path,
    # sftp:user@host:/path or s3:https://host/bucket/prefix. The repository password comes from
    # backup_password_file (or $RESTIC_PASSWORD); S3 credentials from $AWS_ACCESS_KEY_ID and
    # $AWS_SECRET_ACCESS_KEY. Retention: restic forget --prune with these keep counts after each
    # backup. `woa backup verify` reads 1/backup_verify_subsets of the repository's data (the next
    # slice each run) and restores backup_verify_sample random documents.
    backup_repository: str = ""
    backup_password_file: Path | None = None
    backup_keep_last: int = 3  # the last few whatever their dates (several backups in one day)
    backup_keep_daily: int = 7
    backup_keep_weekly: int = 5
    backup_keep_monthly: int = 24
    backup_verify_sample: int = 20
    backup_verify_subsets: int = 12


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


class SettingsError(ValueError):
    """The settings cannot be used; the message names the file, the line and the reason."""


def _toml_line(text: str, loc: tuple[Any, ...]) -> int | None:
    """The line of ``text`` a pydantic error location points at (best effort: table, then key)."""
    if not loc:
        return None
    lines = text.splitlines()
    top = str(loc[0])
    start = 0
    if len(loc) > 1 and isinstance(loc[1], int):  # [[top]] array of tables: the n-th header
        seen = -1
        for i, line in enumerate(lines):
            if line.strip() in (f"[[{top}]]", f"[[woa.{top}]]"):
                seen += 1
                if seen == loc[1]:
                    start = i
                    break
        else:
            start = -1
        if start >= 0:
            key = str(loc[2]) if len(loc) > 2 else None
            if key:
                for j in range(start + 1, len(lines)):
                    s = lines[j].strip()
                    if s.startswith("["):
                        break
                    if s.split("=", 1)[0].strip() == key:
                        return j + 1
            return start + 1
    for i, line in enumerate(lines):
        s = line.strip()
        if s.split("=", 1)[0].strip() == top or s in (f"[{top}]", f"[[{top}]]", f"[woa.{top}]"):
            return i + 1
    return None


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from file, environment and explicit overrides (``None`` overrides are ignored).

    Invalid values raise ``SettingsError`` naming the file, the line and the reason.
    """
    values: dict[str, Any] = {}
    path = config or _config_path()
    text = ""
    if path is not None:
        with open(path, "rb") as fh:
            raw = fh.read()
        text = raw.decode("utf-8", errors="replace")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: {exc}") from None
        values.update(data.get("woa", data))
    values.update(_env_values())
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err.get("loc", ()))
        where = ".".join(str(p) for p in loc)
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            msg = (f"unknown field {str(loc[-1])!r}" if len(loc) > 1 else f"unknown setting {str(loc[-1])!r}") if loc else "unknown setting"
        line = _toml_line(text, loc) if text else None
        origin = f"{path}:{line}" if path is not None and line else (str(path) if path is not None else "settings")
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise SettingsError(f"{origin}: {where}: {msg}{more}") from None
