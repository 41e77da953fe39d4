"""The archive on disk, which is the truth.

Layout under the archive root (``XX`` = first two hex digits of the document id)::

    originals/XX/<id>.<ext>     the scanner's file, byte for byte
    pdf/XX/<id>.pdf             PDF/A archive copy with an invisible text layer
    sidecars/XX/<id>.json       everything else (hashes, OCR text with boxes, fields, history)
    index/                      the Whoosh search index (derived; rebuildable from the sidecars)

A document id is the first 16 hex digits of the original's SHA-256. A document *exists* exactly
when its sidecar exists: the original and the PDF are written first, the sidecar last, each
atomically, so a crash leaves at worst orphan files that the next ingest of the same file
overwrites (and ``woa verify`` reports).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.atomic import copy_atomic, write_json_atomic
from core.models import Document

log = logging.getLogger(__name__)

ID_LEN = 16


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            h.update(chunk)
    return h.hexdigest()


def doc_id_for(sha256: str) -> str:
    return sha256[:ID_LEN]


class UnknownDocument(KeyError):
    pass


class Archive:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- paths -------------------------------------------------------------------------------
    def _shard(self, kind: str, doc_id: str, suffix: str) -> Path:
        return self.root / kind / doc_id[:2] / f"{doc_id}{suffix}"

    def sidecar_path(self, doc_id: str) -> Path:
        return self._shard("sidecars", doc_id, ".json")

    def pdf_path(self, doc_id: str) -> Path:
        return self._shard("pdf", doc_id, ".pdf")

    def original_path(self, doc_id: str, ext: str) -> Path:
        return self._shard("originals", doc_id, ext.lower())

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    # Records lifecycle (app/lifecycle): state, tombstones of disposed documents, fetched cold copies
    @property
    def lifecycle_dir(self) -> Path:
        return self.root / "lifecycle"

    def tombstone_path(self, doc_id: str) -> Path:
        return self.lifecycle_dir / "tombstones" / doc_id[:2] / f"{doc_id}.json"

    def cache_path(self, rel: str) -> Path:
        """Where a fetched cold copy of the archive file ``rel`` is cached (derived; never backed up)."""
        return self.root / "cache" / rel

    def disposed(self, sha256: str) -> dict[str, Any] | None:
        """The tombstone of a disposed document with this SHA-256, or None."""
        path = self.tombstone_path(doc_id_for(sha256))
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return data if data.get("sha256") == sha256 else None

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def abs(self, rel: str) -> Path:
        return self.root / rel

    # -- queries -----------------------------------------------------------------------------
    def has(self, sha256: str) -> bool:
        return self.sidecar_path(doc_id_for(sha256)).is_file()

    def ids(self) -> Iterator[str]:
        base = self.root / "sidecars"
        if not base.is_dir():
            return
        for shard in sorted(base.iterdir()):
            if shard.is_dir():
                for p in sorted(shard.glob("*.json")):
                    yield p.stem

    def resolve(self, id_prefix: str) -> str:
        """Full document id from an id or a unique prefix of at least 4 characters."""
        id_prefix = id_prefix.strip().lower()
        if len(id_prefix) >= ID_LEN and self.sidecar_path(id_prefix[:ID_LEN]).is_file():
            return id_prefix[:ID_LEN]
        if len(id_prefix) < 4:
            raise UnknownDocument(f"{id_prefix!r}: give at least 4 characters of the document id")
        shard = self.root / "sidecars" / id_prefix[:2]
        matches = [p.stem for p in shard.glob(f"{id_prefix}*.json")] if shard.is_dir() else []
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise UnknownDocument(f"no document with id {id_prefix!r} in {self.root}")
        raise UnknownDocument(f"id prefix {id_prefix!r} is ambiguous: {', '.join(sorted(matches)[:5])}")

    def load_raw(self, doc_id: str) -> dict[str, Any]:
        with open(self.sidecar_path(doc_id), encoding="utf-8") as fh:
            data: dict[str, Any] = json.load(fh)
        return data

    def load(self, doc_id: str) -> Document:
        return Document.from_dict(self.load_raw(doc_id))

    def load_many(self, ids: list[str]) -> list[Document]:
        """The documents with these ids (each once, in order); unreadable sidecars are logged and skipped."""
        docs: list[Document] = []
        for doc_id in dict.fromkeys(ids):
            try:
                docs.append(self.load(doc_id))
            except (OSError, ValueError, KeyError) as exc:
                log.error("sidecar of %s unreadable: %s", doc_id, exc)
        return docs

    def documents(self) -> Iterator[Document]:
        for doc_id in self.ids():
            try:
                yield self.load(doc_id)
            except (OSError, ValueError, KeyError) as exc:
                log.error("sidecar %s unreadable: %s", self.sidecar_path(doc_id), exc)

    # -- writes ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, doc_id: str) -> Iterator[None]:
        """Exclusive lock for writing one document (ingest, review, reprocess), across processes.

        256 lock stripes by the id's first two hex digits: bounded, and no file left per document.
        """
        lock_dir = self.root / "locks"
        lock_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_dir / f"{doc_id[:2]}.lock", os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def store_original(self, src: Path, doc_id: str) -> Path:
        dest = self.original_path(doc_id, src.suffix or ".bin")
        copy_atomic(src, dest)
        return dest

    def save(self, doc: Document) -> None:
        """Write (or replace) a document's sidecar; this is the commit point of an ingest."""
        write_json_atomic(self.sidecar_path(doc.id), doc.to_dict())

    def record_duplicate(self, sha256: str, source_name: str, when: str) -> Document:
        doc = self.load(doc_id_for(sha256))
        if not any(d.get("source_name") == source_name for d in doc.duplicates) and source_name != doc.source_name:
            doc.duplicates.append({"source_name": source_name, "seen_at": when})
            self.save(doc)
        return doc
