"""Helpers of the backup and encryption tests: the real ``woa`` CLI with a settings file, cheap new documents."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from core.archive import Archive
from woa.cli import main


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(v)
    return json.dumps(str(v), ensure_ascii=False)


class WoaRunner:
    """Runs ``woa`` in-process with a woa.toml built from ``settings``; keeps the last output."""

    def __init__(self, tmp: Path, archive: Path, repo: Path | None = None, **settings: Any) -> None:
        self.tmp = tmp
        self.archive = archive
        self.repo = repo or tmp / "repo"
        self.password_file = tmp / "restic-password"
        self.password_file.write_text("secretpw\n")
        self.password_file.chmod(0o600)
        self.settings: dict[str, Any] = {
            "backup_repository": str(self.repo),
            "backup_password_file": str(self.password_file),
            "workers": 1,
            **settings,
        }
        self.out = ""
        self.err = ""

    def config(self) -> Path:
        path = self.tmp / "woa.toml"
        path.write_text("".join(f"{k} = {_toml_value(v)}\n" for k, v in self.settings.items()), encoding="utf-8")
        return path

    def __call__(self, *args: str, archive: Path | None = None, env: dict[str, str] | None = None) -> int:
        out, err = io.StringIO(), io.StringIO()
        saved = {k: os.environ.get(k) for k in (env or {})}
        os.environ.update(env or {})
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                rc = main([*args, "--archive", str(archive or self.archive), "--config", str(self.config())])
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        self.out, self.err = out.getvalue(), err.getvalue()
        return rc

    def snapshot_ids(self) -> list[str]:
        env = dict(os.environ, RESTIC_REPOSITORY=str(self.repo), RESTIC_PASSWORD_FILE=str(self.password_file))
        proc = subprocess.run(["restic", "--no-lock", "snapshots", "--json"], env=env, capture_output=True, text=True,
                              check=True)
        return [s["short_id"] for s in sorted(json.loads(proc.stdout), key=lambda s: s["time"])]

    def added_mb(self) -> float:
        """MB added to the repository by the last ``woa backup`` (from its summary line)."""
        m = re.search(r"added ([0-9.]+) MB", self.out)
        assert m, self.out + self.err
        return float(m.group(1))


def text_pdf_variants(archive_root: Path, dest: Path, n: int, start: int = 0) -> list[Path]:
    """``n`` new inputs that ingest in a second: an archived PDF/A copy (it carries a text layer,
    so no OCR) with a distinct comment appended after its end, so each has its own bytes and id."""
    archive = Archive(archive_root)
    doc = next(d for d in archive.documents() if d.fields.get("vin") and d.fields["vin"].value)
    data = archive.read_pdf_bytes(doc)
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(start, start + n):
        p = dest / f"new_{i:03d}.pdf"
        p.write_bytes(data + f"\n% woa test variant {i}\n".encode())
        out.append(p)
    return out


def sidecar_hashes(root: Path) -> dict[str, tuple[str, str, str, str]]:
    """doc id -> (original, its sha256, pdf, its sha256) read straight from plain sidecars."""
    out = {}
    for p in sorted((root / "sidecars").rglob("*.json")):
        d = json.loads(p.read_text(encoding="utf-8"))
        out[d["id"]] = (d["original"], d["sha256"], d["archive_pdf"], d["archive_sha256"])
    return out
