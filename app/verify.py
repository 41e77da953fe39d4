"""``woa verify``: the archive on disk is exactly what its sidecars say, and the index agrees.

Checks: every sidecar parses and names itself; original and PDF/A copy exist and match the
SHA-256 in the sidecar; every PDF is valid PDF/A at the sidecar's level; no orphan file in
``originals/`` or ``pdf/``, no temp file from an interrupted write; the search index holds exactly
the archived documents; every file the watcher journalled as archived has its document.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.archive import ID_LEN, Archive, sha256_file
from core.atomic import TMP_PREFIX
from core.models import Document
from core.settings import Settings

JOURNAL_FILES = ("watch-journal.sqlite", "watch-journal.sqlite-wal", "watch-journal.sqlite-shm", "watch.lock")


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
    cold: bool = False  # the files sit in the cold tier (checked by check_cold)


@dataclass
class Report:
    documents: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def _validate_pdfa(path: Path, level: str) -> str | None:
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


def check_document(root: Path, sidecar: Path) -> DocCheck:
    rel_sidecar = sidecar.relative_to(root).as_posix()
    try:
        doc = Document.from_dict(json.loads(sidecar.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return DocCheck(None, problems=[Problem("sidecar", rel_sidecar, f"does not parse: {type(exc).__name__}: {exc}")])
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
        actual = sha256_file(path)
        if actual != expected:
            problems.append(Problem(kind, rel, f"sha256 {actual} differs from the sidecar's {expected}"))
        if kind == "archive_pdf":
            reason = _validate_pdfa(path, doc.pdfa_level)
            if reason:
                problems.append(Problem("pdfa", rel, reason))
    return check


def _check_one(args: tuple[str, str]) -> DocCheck:
    return check_document(Path(args[0]), Path(args[1]))


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


def indexed_ids(archive: Archive) -> set[str] | None:
    """Ids of every document in the search index, or None when there is no index.

    Reads through ``index.store.with_searcher``, which (like any search) first completes an index
    write a crash interrupted; an index that cannot be opened at all raises.
    """
    index_pkg: Any
    try:
        import index as index_pkg
    except ImportError:
        return None
    lister = getattr(index_pkg, "indexed_ids", None)
    if lister is not None:
        result = lister(archive)
        return None if result is None else {str(i) for i in result}
    if not archive.index_dir.is_dir() or not any(archive.index_dir.iterdir()):
        return None
    from index.store import with_searcher

    return with_searcher(archive, lambda searcher: {str(f["id"]) for f in searcher.all_stored_fields() if "id" in f})


def check_index(archive: Archive, ids: set[str]) -> list[Problem]:
    try:
        in_index = indexed_ids(archive)
    except Exception as exc:  # a broken index is a finding, not a crash of verify
        return [Problem("index", "index", f"cannot be read: {type(exc).__name__}: {exc}")]
    if in_index is None:
        return [Problem("index", "index", f"no search index, but {len(ids)} documents")] if ids else []
    problems = [Problem("index", doc_id, "archived but not in the search index") for doc_id in sorted(ids - in_index)]
    problems += [Problem("index", doc_id, "in the search index but not archived") for doc_id in sorted(in_index - ids)]
    return problems


def check_journal(archive: Archive, ids: set[str]) -> list[Problem]:
    path = archive.root / "watch-journal.sqlite"
    if not path.is_file():
        return []
    from watch_folder.journal import Journal

    problems = []
    with Journal(path, readonly=True) as journal:
        for row in journal.rows("done"):
            if row.doc_id and row.doc_id not in ids:
                problems.append(Problem("journal", row.path, f"recorded as {row.outcome} {row.doc_id}, which is not archived"))
    return problems


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


def verify_archive(root: Path, *, workers: int = 1,
                   cold_check: Callable[[list[str]], list[Problem]] | None = None) -> Report:
    """Check the archive; ``cold_check(ids)`` checks the cold copies of these documents (else not read)."""
    root = Path(root)
    archive = Archive(root)
    sidecars = sidecar_files(root)
    jobs = [(str(root), str(p)) for p in sidecars]
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
        problems += cold_check(cold)
    problems += check_strays(root, referenced, sidecars)
    problems += check_index(archive, ids)
    problems += check_journal(archive, ids)
    problems += check_tombstones(archive, ids)
    return Report(documents=len(sidecars), problems=problems)


def _cold_checker(settings: Settings, sample: int | None) -> Callable[[list[str]], list[Problem]]:
    def check(ids: list[str]) -> list[Problem]:
        from app.lifecycle.tier import TierError, check_cold, context

        try:
            ctx = context(settings)
        except TierError as exc:
            return [Problem("tier", settings.tier_url or "tier", str(exc))]
        if ctx is None:
            return [Problem("tier", "tier_url", f"{len(ids)} documents are in a cold tier, but none is configured")]
        archive = Archive(Path(settings.archive_dir))
        return [Problem("tier", doc_id, reason) for doc_id, reason in check_cold(archive, ctx, archive.load_many(ids), sample)]

    return check


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "verify",
        parents=[common],
        help="check hashes, PDF/A validity, sidecars, strays and the index of the archive",
    )
    p.add_argument("--workers", type=int, default=None, metavar="N", help="parallel checks (default: cores)")
    p.add_argument("--sample", type=int, default=None, metavar="N",
                   help="check the cold-tier copies of N random cold documents (default: all)")
    p.set_defaults(func=verify_command)


def verify_command(args: argparse.Namespace, settings: Settings) -> int:
    root = Path(settings.archive_dir)
    if not root.is_dir():
        print(f"woa verify: no archive at {root}", file=sys.stderr)
        return 2
    report = verify_archive(root, workers=args.workers or settings.workers,
                            cold_check=_cold_checker(settings, getattr(args, "sample", None)))
    for problem in report.problems:
        print(problem)
    verdict = "no problems" if report.ok else f"{len(report.problems)} problem(s)"
    print(f"woa verify: {report.documents} documents checked in {root}: {verdict}", file=sys.stderr)
    return 0 if report.ok else 1
