"""``woa verify``: the archive on disk is exactly what its sidecars say, and the index agrees.

Checks: every sidecar parses and names itself; original and PDF/A copy exist and match the
SHA-256 in the sidecar; every PDF is valid PDF/A at the sidecar's level; no orphan file in
``originals/`` or ``pdf/``, no temp file from an interrupted write; the search index holds exactly
the archived documents; and whatever ``extra_checks`` the caller adds (``woa verify`` adds the
watcher's: every file it journalled as archived has its document).
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import index
from core.archive import ID_LEN, Archive, KeyUnavailable, TamperedFile
from core.atomic import TMP_PREFIX
from core.models import Document


@dataclass(frozen=True)
class Problem:
    kind: str
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.path}: {self.detail}"


@dataclass
class DocCheck:
    doc_id: str | None
    referenced: list[str] = field(default_factory=list)  # archive-relative paths the sidecar owns
    problems: list[Problem] = field(default_factory=list)
    cold: bool = False  # the files sit in the cold tier (checked by a cold check, see verify_archive)


@dataclass
class Report:
    documents: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def _validate_pdfa(path: Path | BinaryIO, level: str) -> str | None:
    """None if valid, else a one-line reason."""
    import pikepdf.pdfa

    try:
        report = pikepdf.pdfa.validate_written(path, level)
    except ValueError as exc:
        return f"cannot check PDF/A-{level}: {exc}"
    if report.passed:
        return None
    first = report.findings[0] if report.findings else None
    return f"not valid PDF/A-{level} ({report.verdict}, {len(report.findings)} findings; first: {first})"


def check_document(archive: Archive, sidecar: Path) -> DocCheck:
    root = archive.root
    rel_sidecar = sidecar.relative_to(root).as_posix()
    try:
        doc = Document.from_dict(json.loads(archive.read_bytes(rel_sidecar).decode("utf-8")))
    except (KeyUnavailable, TamperedFile) as exc:
        return DocCheck(None, problems=[Problem("sidecar", rel_sidecar, str(exc).removeprefix(f"{rel_sidecar}: "))])
    except (OSError, ValueError) as exc:  # SidecarError is a ValueError: wrong shape, named
        return DocCheck(None, problems=[Problem("sidecar", rel_sidecar, f"damaged: {exc}")])
    check = DocCheck(doc.id, referenced=[doc.original, doc.archive_pdf], cold=bool(doc.tier))
    problems = check.problems
    cold_keys = doc.tier.get("keys", {}) if doc.tier else {}
    if doc.id != sidecar.stem:
        problems.append(Problem("sidecar", rel_sidecar, f"id {doc.id} does not match the file name"))
    if doc.sha256[:ID_LEN] != doc.id:
        problems.append(Problem("sidecar", rel_sidecar, f"id {doc.id} is not the prefix of sha256 {doc.sha256}"))
    for kind, rel, expected in (("original", doc.original, doc.sha256), ("archive_pdf", doc.archive_pdf, doc.archive_sha256)):
        path = root / rel
        if rel and not path.is_file() and cold_keys.get("original" if kind == "original" else "pdf"):
            continue  # in the cold tier (a hot leftover of an interrupted move is still checked)
        if not rel or not path.is_file():
            problems.append(Problem(kind, rel or rel_sidecar, f"missing (document {doc.id})"))
            continue
        try:
            actual = archive.sha256(rel)
        except (KeyUnavailable, TamperedFile) as exc:
            problems.append(Problem(kind, rel, str(exc).removeprefix(f"{rel}: ")))
            continue
        if actual != expected:
            problems.append(Problem(kind, rel, f"sha256 {actual} differs from the sidecar's {expected}"))
        if kind == "archive_pdf":
            reason = _validate_pdfa(io.BytesIO(archive.read_bytes(rel)) if archive.is_encrypted(rel) else path, doc.pdfa_level)
            if reason:
                problems.append(Problem("pdfa", rel, reason))
    return check


def _check_one(args: tuple[Archive, str]) -> DocCheck:
    return check_document(args[0], Path(args[1]))


def sidecar_files(root: Path) -> list[Path]:
    base = root / "sidecars"
    return sorted(p for p in base.rglob("*.json") if not p.name.startswith(TMP_PREFIX)) if base.is_dir() else []


def check_strays(root: Path, referenced: set[str], sidecars: Iterable[Path]) -> list[Problem]:
    """Temp files anywhere, and files under originals/, pdf/ or sidecars/ no document owns."""
    problems = [Problem("temp", p.relative_to(root).as_posix(), "temporary file left by an interrupted write")
                for p in sorted(root.rglob(TMP_PREFIX + "*"))]
    owned = set(referenced) | {p.relative_to(root).as_posix() for p in sidecars}
    for kind in ("originals", "pdf", "sidecars"):
        base = root / kind
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(root).as_posix()
            if path.is_file() and not path.name.startswith(TMP_PREFIX) and rel not in owned:
                problems.append(Problem("orphan", rel, "no sidecar refers to this file"))
    return problems


def check_index(archive: Archive, ids: set[str]) -> list[Problem]:
    try:
        in_index = index.indexed_ids(archive)
    except Exception as exc:  # a broken index is a finding, not a crash of verify
        return [Problem("index", "index", f"cannot be read: {type(exc).__name__}: {exc}")]
    if in_index is None:
        return [Problem("index", "index", f"no search index, but {len(ids)} documents")] if ids else []
    problems = [Problem("index", doc_id, "archived but not in the search index") for doc_id in sorted(ids - in_index)]
    problems += [Problem("index", doc_id, "in the search index but not archived") for doc_id in sorted(in_index - ids)]
    return problems


# A check a layer above adds (the watcher's journal): (archive, ids of the archived documents) -> problems
ExtraCheck = Callable[[Archive, set[str]], list[Problem]]
# Checks the cold-tier copies of these documents (app.lifecycle.tier.cold_check builds one from the settings)
ColdCheck = Callable[[Archive, list[str]], list[Problem]]


def check_tombstones(archive: Archive, ids: set[str]) -> list[Problem]:
    """A tombstone (a disposed document) parses, names itself, and nothing of its document is left."""
    base = archive.lifecycle_dir / "tombstones"
    problems: list[Problem] = []
    if not base.is_dir():
        return problems
    for path in sorted(base.rglob("*.json")):
        rel = archive.rel(path)
        try:
            tomb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(Problem("tombstone", rel, f"does not parse: {exc}"))
            continue
        if tomb.get("id") != path.stem or str(tomb.get("sha256", ""))[:ID_LEN] != path.stem:
            problems.append(Problem("tombstone", rel, "id and sha256 do not match the file name"))
        if path.stem in ids:
            problems.append(Problem("tombstone", rel, "disposal interrupted: the sidecar is still there "
                                                      "(the next 'woa lifecycle run' finishes it)"))
        if not tomb.get("approved_by"):
            problems.append(Problem("tombstone", rel, "no approver recorded"))
    return problems


def verify_archive(
    root: Path, *, workers: int = 1, extra_checks: Sequence[ExtraCheck] = (), archive: Archive | None = None,
    cold_check: ColdCheck | None = None,
) -> Report:
    """Check the archive at ``root``; ``archive`` (same root) brings the master key of an encrypted one.

    Documents in the cold tier are read back only with a ``cold_check``.
    """
    root = Path(root)
    archive = archive if archive is not None else Archive(root)
    sidecars = sidecar_files(root)
    with contextlib.suppress(KeyUnavailable):  # load the key once, not in every worker
        if archive.encryption_key_id() is not None:
            archive.keys.master_keys()
    jobs = [(archive, str(p)) for p in sidecars]
    if workers > 1 and len(jobs) > 4:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            checks = list(pool.map(_check_one, jobs, chunksize=4))
    else:
        checks = [_check_one(j) for j in jobs]
    problems: list[Problem] = []
    referenced: set[str] = set()
    ids: set[str] = set()
    cold: list[str] = []
    for check in checks:
        problems.extend(check.problems)
        referenced.update(check.referenced)
        if check.doc_id:
            ids.add(check.doc_id)
            if check.cold:
                cold.append(check.doc_id)
    if cold and cold_check is not None:
        problems += cold_check(archive, cold)
    problems += check_strays(root, referenced, sidecars)
    problems += check_index(archive, ids)
    problems += check_tombstones(archive, ids)
    for extra in extra_checks:
        problems += extra(archive, ids)
    return Report(documents=len(sidecars), problems=problems)
