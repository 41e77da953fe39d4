"""``woa encrypt`` (convert an existing archive) and ``woa keys rotate`` (re-wrap every data key).

Both work document by document under the document's write lock (so a correction or a duplicate
running meanwhile is never lost), sidecar last, each file replaced atomically: interrupted, they
leave a readable archive and simply go on from where they stopped when run again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core import crypto
from core.archive import Archive, KeyUnavailable, TamperedFile
from core.crypto import KeySource, write_key_file

log = logging.getLogger(__name__)


@dataclass
class ConvertResult:
    documents: int = 0
    files_changed: int = 0
    problems: list[str] = field(default_factory=list)


def _doc_files(archive: Archive, doc_id: str) -> list[tuple[str, str | None]]:
    doc = archive.load(doc_id)
    sidecar = archive.rel(archive.sidecar_path(doc_id))
    return [(doc.original, doc.sha256), (doc.archive_pdf, doc.archive_sha256), (sidecar, None)]


def encrypt_archive(archive: Archive, progress: Callable[[int], None] | None = None) -> ConvertResult:
    """Encrypt every plain original, PDF/A copy and sidecar; each plaintext must match its sidecar's hash."""
    if not archive.encrypt:
        raise KeyUnavailable("set encrypt_at_rest = true first, so that new documents are encrypted too")
    archive.require_keys()
    res = ConvertResult()
    for i, doc_id in enumerate(list(archive.ids())):
        with archive.lock(doc_id):
            try:
                files = _doc_files(archive, doc_id)
            except (OSError, ValueError, KeyError, TamperedFile) as exc:
                res.problems.append(f"{doc_id}: sidecar unreadable, left as it is: {exc}")
                continue
            try:
                for rel, expected in files:
                    if rel and archive.encrypt_existing(rel, expected):
                        res.files_changed += 1
            except (OSError, TamperedFile) as exc:
                res.problems.append(f"{doc_id}: {exc}")
                continue
        res.documents += 1
        if progress is not None:
            progress(i + 1)
    return res


@dataclass
class RotateResult:
    new_key_id: str
    files_rewrapped: int = 0
    retired_file: Path | None = None
    problems: list[str] = field(default_factory=list)


def _all_stored(archive: Archive) -> list[tuple[str, str]]:
    """(doc_id, rel) of every file of every document, sidecar last per document."""
    out: list[tuple[str, str]] = []
    for doc_id in archive.ids():
        shard = doc_id[:2]
        rels = [p.relative_to(archive.root).as_posix() for p in (archive.root / "originals" / shard).glob(f"{doc_id}.*")]
        rels.append(archive.rel(archive.pdf_path(doc_id)))
        rels.append(archive.rel(archive.sidecar_path(doc_id)))
        out += [(doc_id, r) for r in rels if archive.abs(r).is_file()]
    return out


def rewrap_all(archive: Archive, new_master: bytes) -> tuple[int, list[str]]:
    n = 0
    problems: list[str] = []
    for doc_id, rel in _all_stored(archive):
        with archive.lock(doc_id):
            try:
                if archive.rewrap(rel, new_master):
                    n += 1
            except (OSError, KeyUnavailable, TamperedFile) as exc:
                problems.append(f"{rel}: {exc}")
    return n, problems


def rotate_keys(archive: Archive, key_file: Path | None) -> RotateResult:
    """Re-wrap every data key under a new master key.

    With a key file: a new key is generated and put first in the file (the old ones stay readable
    meanwhile), every file is re-wrapped, then the old keys move to ``<key file>.retired-<time>``
    (0600; keep it with the key backups while snapshots made before the rotation exist).
    With ``$WOA_MASTER_KEY`` or a key command the new key must already come first in what they
    give (old keys after it); the files are re-wrapped to it.
    """
    keys = archive.keys
    old = keys.master_keys()
    source_is_file = key_file is not None and keys.describe().startswith("key file")
    if source_is_file:
        assert key_file is not None
        new = crypto.new_master_key()
        write_key_file(key_file, [new, *old])
        archive.keys = KeySource.of([new, *old])
    else:
        if len(old) < 2:
            raise KeyUnavailable(f"{keys.describe()} holds one key: give the new key first, then the old one(s)")
        new = old[0]
    archive.set_encryption_key_id(crypto.key_id(new).hex())
    res = RotateResult(new_key_id=crypto.key_id(new).hex())
    res.files_rewrapped, res.problems = rewrap_all(archive, new)
    if source_is_file and not res.problems:
        assert key_file is not None
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        retired = key_file.with_name(f"{key_file.name}.retired-{stamp}")
        write_key_file(retired, old)
        write_key_file(key_file, [new])
        res.retired_file = retired
    return res
