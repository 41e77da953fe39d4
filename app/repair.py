"""``woa verify --repair``: bring damaged documents back from a good copy of their original.

A document is damaged when its sidecar does not load, or its original or PDF/A copy is missing or
differs from the hash its sidecar records (what ``woa verify`` finds). It is repaired by ingesting
a good copy of the original again (``app.ingest.ingest_file`` re-archives a damaged document it is
given the bytes of, keeping the old sidecar's review history, duplicates and tags when it still
loads). Good copies come from *sources*, tried in order:

- the archive's own stored original, when it still has the recorded bytes (a lost sidecar or PDF);
- ``FileSource``: files and folders named on the command line;
- later, the cold tier and backups: anything with ``name`` and ``fetch(doc_id, sha256, dest_dir)``
  (``RepairSource``) plugs in.

The index is rebuilt when it disagrees with the archive, half-built generations and temp files of
dead writers are removed. What could not be repaired is reported, one line per document.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from app.ingest import ingest_file
from app.verify import Problem
from core.archive import ID_LEN, Archive, sha256_file
from core.atomic import TMP_PREFIX
from core.settings import Settings
from index.store import rebuild, remove_stale_builds, write_lock

log = logging.getLogger(__name__)

DOC_KINDS = ("sidecar", "original", "archive_pdf", "pdfa", "orphan")
OLD_TEMP_SECONDS = 3600.0  # a temp file without its writer's name, untouched this long, is stale


class RepairSource(Protocol):
    """Somewhere a good copy of an original may be found."""

    name: str

    def fetch(self, doc_id: str, sha256: str | None, dest_dir: Path) -> Path | None:
        """A local file with the original's bytes (SHA-256 ``sha256``, or, when the sidecar and with
        it the full hash is lost, a hash starting with ``doc_id``), possibly written into
        ``dest_dir``; None if this source has no such copy."""
        ...


class FileSource:
    """Files and folders given on the command line, hashed once on first use."""

    name = "the files given"

    def __init__(self, paths: Iterable[Path]) -> None:
        self.paths = [Path(p) for p in paths]
        self._by_sha: dict[str, Path] | None = None

    def _index(self) -> dict[str, Path]:
        if self._by_sha is None:
            self._by_sha = {}
            for p in self.paths:
                for f in sorted(p.rglob("*")) if p.is_dir() else [p]:
                    try:
                        if f.is_file():
                            self._by_sha.setdefault(sha256_file(f), f)
                    except OSError as exc:
                        log.warning("repair source %s unreadable: %s", f, exc)
        return self._by_sha

    def fetch(self, doc_id: str, sha256: str | None, dest_dir: Path) -> Path | None:
        for sha, path in self._index().items():
            if sha == sha256 or (sha256 is None and sha.startswith(doc_id)):
                return path
        return None


class StoredOriginal:
    """The archive's own copy of the original, when it still has the bytes (sidecar or PDF lost)."""

    name = "the archive's original"

    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    def fetch(self, doc_id: str, sha256: str | None, dest_dir: Path) -> Path | None:
        shard = self.archive.root / "originals" / doc_id[:2]
        for cand in sorted(shard.glob(f"{doc_id}.*")) if shard.is_dir() else []:
            if cand.name.startswith(TMP_PREFIX):
                continue
            dest = dest_dir / f"{doc_id}{cand.suffix}"
            try:
                got = self.archive.copy_out(self.archive.rel(cand), dest)
            except (OSError, ValueError) as exc:
                log.debug("stored original %s unusable: %s", cand, exc)
                continue
            if got.sha256 == sha256 or (sha256 is None and got.sha256.startswith(doc_id)):
                return dest
        return None


@dataclass
class RepairReport:
    repaired: list[str] = field(default_factory=list)  # one line each: what was repaired, from where
    failed: list[str] = field(default_factory=list)  # one line each: what could not be repaired, why
    actions: list[str] = field(default_factory=list)  # index rebuilt, stale files removed

    @property
    def ok(self) -> bool:
        return not self.failed


def doc_id_of(rel: str) -> str | None:
    """The document id a path under originals/, pdf/ or sidecars/ belongs to."""
    name = Path(rel).name
    stem = name.split(".", 1)[0]
    if len(stem) == ID_LEN and all(c in "0123456789abcdef" for c in stem):
        return stem
    return None


def _recorded_sha(archive: Archive, doc_id: str) -> str | None:
    try:
        return archive.load(doc_id).sha256
    except (OSError, ValueError):
        return None


def repair_archive(archive: Archive, settings: Settings, problems: Sequence[Problem],
                   sources: Sequence[RepairSource] = ()) -> RepairReport:
    """Repair what ``problems`` (from ``app.verify.verify_archive``) name; returns what was done."""

    report = RepairReport()
    damaged: dict[str, list[str]] = {}
    for prob in problems:
        kind, path, detail = prob.kind, prob.path, prob.detail
        if kind in DOC_KINDS:
            doc_id = doc_id_of(path)
            if doc_id:
                damaged.setdefault(doc_id, []).append(f"{kind} {detail}")
    chain: list[RepairSource] = [StoredOriginal(archive), *sources]
    with tempfile.TemporaryDirectory(prefix="woa-repair-") as tmp:
        for doc_id, what in sorted(damaged.items()):
            sha = _recorded_sha(archive, doc_id)
            found: tuple[Path, str] | None = None
            for source in chain:
                try:
                    got = source.fetch(doc_id, sha, Path(tmp))
                except Exception as exc:  # a source that fails is one line, and the next is tried
                    log.warning("repair source %s failed for %s: %s", source.name, doc_id, exc)
                    continue
                if got is not None:
                    found = (got, source.name)
                    break
            if found is None:
                report.failed.append(f"{doc_id}: not repaired ({'; '.join(what)}): no good copy of its original "
                                     f"(give one: woa verify --repair FILE...)")
                continue
            res = ingest_file(found[0], settings, archive=archive)
            if res.status == "archived" and res.doc_id == doc_id:
                report.repaired.append(f"{doc_id}: repaired from {found[1]} ({found[0]})")
            elif res.status == "duplicate":
                report.repaired.append(f"{doc_id}: intact again ({found[1]})")
            else:
                report.failed.append(f"{doc_id}: re-ingesting {found[0]} failed: {res.error}")
    index_dir = archive.index_dir
    if index_dir.is_dir():
        with write_lock(index_dir, blocking=False) as free:
            if free:
                for p in remove_stale_builds(index_dir):
                    report.actions.append(f"removed {archive.rel(p)} (a build that did not finish)")
    for p in archive.remove_dead_temps():
        report.actions.append(f"removed {archive.rel(p)} (temp file of a killed writer)")
    now = time.time()
    for p in sorted(archive.root.rglob(TMP_PREFIX + "*")):
        try:
            if p.is_file() and now - p.stat().st_mtime > OLD_TEMP_SECONDS:
                p.unlink()
                report.actions.append(f"removed {archive.rel(p)} (temp file untouched for an hour)")
        except OSError:
            continue
    if any(p.kind == "index" for p in problems) or report.repaired:
        stats = rebuild(archive)
        report.actions.append(f"index rebuilt: {stats.docs} documents")
    return report
