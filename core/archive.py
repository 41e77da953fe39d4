"""The archive on disk, which is the truth.

Layout under the archive root (``XX`` = first two hex digits of the document id)::

    originals/XX/<id>.<ext>     the scanner's file, byte for byte
    pdf/XX/<id>.pdf             PDF/A archive copy with an invisible text layer
    sidecars/XX/<id>.json       everything else (hashes, OCR text with boxes, fields, history)
    index/                      the Whoosh search index (derived; rebuildable from the sidecars)
    encryption.json             which master key the archive is encrypted with (encrypted archives)

A document id is the first 16 hex digits of the original's SHA-256. A document *exists* exactly
when its sidecar exists: the original and the PDF are written first, the sidecar last, each
atomically, so a crash leaves at worst orphan files that the next ingest of the same file
overwrites (and ``woa verify`` reports).

**Every read and write of an original, a PDF/A copy or a sidecar goes through this class** (no
``open()`` of those paths elsewhere): a stored file may be encrypted at rest (``core.crypto``),
and only these methods know. Reads always return the plaintext (``open_file``, ``read_bytes``,
``open_original``, ``read_pdf_bytes``, ``copy_out``, ``load``); ``sha256``/``size`` are of the
plaintext, i.e. what the sidecar records. Writes (``write_original``, ``write_pdf``,
``write_bytes``, ``save``) encrypt when the archive was opened with ``encrypt=True``
(``Archive.from_settings`` with ``encrypt_at_rest``). ``open_stored`` gives the bytes as stored
(ciphertext included) for copying a file elsewhere unchanged (tiers, backups);
``write_stored`` puts such bytes back. Paths (``original_path`` …) stay available for listing and
existence checks.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from core import crypto
from core.atomic import remove_dead_temps, write_atomic, write_bytes_atomic
from core.crypto import KeySource, KeyUnavailable, TamperedFile
from core.errors import SidecarError
from core.locks import file_lock
from core.models import Document

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)

ID_LEN = 16
ENCRYPTION_MARKER = "encryption.json"
# a PDF being written is spooled in memory up to this size before encryption (beyond: TMPDIR)
PDF_SPOOL_BYTES = 256 * 1024 * 1024


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


def _skip(doc_id: str, exc: BaseException, errors: list[str] | None) -> None:
    reason = str(exc) if isinstance(exc, SidecarError) else f"sidecar of {doc_id} unreadable: {exc}"
    log.error("%s (skipped)", reason)
    if errors is not None:
        errors.append(reason)


__all__ = ["Archive", "KeyUnavailable", "Stored", "TamperedFile", "UnknownDocument", "doc_id_for", "sha256_file"]


@dataclass(frozen=True)
class Stored:
    """A file just written to the archive: its archive-relative path, plaintext SHA-256 and size."""

    rel: str
    sha256: str
    size: int


def _hash_stream(fh: BinaryIO) -> tuple[str, int]:
    h = hashlib.sha256()
    n = 0
    for chunk in iter(lambda: fh.read(1024 * 1024), b""):
        h.update(chunk)
        n += len(chunk)
    return h.hexdigest(), n


def not_an_archive(root: Path) -> str | None:
    """Why ``root`` is no archive a command could read (one line), or None if it is one.

    An archive is a folder with a ``sidecars/`` folder (made by the first ingest); a mistyped
    ``--archive`` must not become an empty archive that answers "no documents match".
    """
    root = Path(root)
    if not root.exists():
        return f"no archive at {root} (no such folder)"
    if not root.is_dir():
        return f"no archive at {root} (it is a file, not a folder)"
    if not (root / "sidecars").is_dir():
        return f"no archive at {root} (no sidecars/ folder: nothing was ever archived there)"
    return None


class Archive:
    def __init__(self, root: Path, *, keys: KeySource | None = None, encrypt: bool = False) -> None:
        self.root = Path(root)
        self.keys = keys if keys is not None else KeySource(archive_root=self.root)
        self.encrypt = encrypt

    @classmethod
    def from_settings(cls, settings: Settings, root: Path | None = None) -> Archive:
        """The archive of these settings, with their master key source and ``encrypt_at_rest``."""
        root = Path(root if root is not None else settings.archive_dir)
        return cls(root, keys=key_source(settings, root), encrypt=settings.encrypt_at_rest)

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
        """The sidecar as JSON; ``SidecarError`` if it is not valid JSON (``OSError`` if unreadable)."""
        path = self.sidecar_path(doc_id)
        try:
            data: dict[str, Any] = json.loads(self.read_bytes(self.rel(path)).decode("utf-8"))
        except TamperedFile:
            raise
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
            raise SidecarError(f"sidecar {path} is damaged: {exc}") from exc
        return data

    def load(self, doc_id: str) -> Document:
        """The document; ``SidecarError`` (one line naming the file) if its sidecar is damaged."""
        data = self.load_raw(doc_id)
        try:
            return Document.from_dict(data)
        except SidecarError as exc:
            raise SidecarError(f"sidecar {self.sidecar_path(doc_id)} is damaged: {exc}") from exc

    def load_many(self, ids: list[str], errors: list[str] | None = None) -> list[Document]:
        """The documents with these ids (each once, in order); unreadable sidecars are logged,
        appended to ``errors`` and skipped."""
        docs: list[Document] = []
        for doc_id in dict.fromkeys(ids):
            try:
                docs.append(self.load(doc_id))
            except (OSError, ValueError, KeyError, KeyUnavailable) as exc:
                _skip(doc_id, exc, errors)
        return docs

    def documents(self, errors: list[str] | None = None) -> Iterator[Document]:
        """Every readable document; a damaged sidecar is logged, appended to ``errors`` and skipped."""
        for doc_id in self.ids():
            try:
                yield self.load(doc_id)
            except (OSError, ValueError, KeyError, KeyUnavailable) as exc:
                _skip(doc_id, exc, errors)

    # -- writes ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, doc_id: str) -> Iterator[None]:
        """Exclusive lock for writing one document (ingest, review, reprocess), across processes.

        256 lock stripes by the id's first two hex digits: bounded, and no file left per document.
        """
        with file_lock(self.root / "locks" / f"{doc_id[:2]}.lock"):
            yield

    def damage(self, doc_id: str, sha256: str) -> str | None:
        """What is wrong with the stored document ``doc_id`` (one line), or None when its sidecar
        loads and its original and PDF copy are there with the recorded hashes. (PDF/A validity is
        ``woa verify``'s: too slow for every duplicate.)"""
        try:
            doc = self.load(doc_id)
        except (OSError, ValueError) as exc:
            return f"sidecar unreadable: {exc}"
        if doc.sha256 != sha256:
            return f"sidecar records sha256 {doc.sha256}"
        if doc.tier:
            return None  # files in the cold tier are checked there
        for what, rel, expected in (("original", doc.original, doc.sha256), ("PDF", doc.archive_pdf, doc.archive_sha256)):
            try:
                actual = self.sha256(rel)
            except FileNotFoundError:
                return f"{what} {rel} missing"
            except (OSError, ValueError) as exc:
                return f"{what} {rel} unreadable: {exc}"
            if actual != expected:
                return f"{what} {rel} differs from its recorded sha256"
        return None

    def remove_dead_temps(self, doc_id: str | None = None) -> list[Path]:
        """Delete temp files a killed writer of this host left in ``doc_id``'s shards (every shard
        when None); each is logged."""
        kinds = ("originals", "pdf", "sidecars")
        if doc_id is not None:
            dirs = [self.root / kind / doc_id[:2] for kind in kinds]
        else:
            dirs = [d for kind in kinds if (self.root / kind).is_dir() for d in (self.root / kind).iterdir() if d.is_dir()]
        removed = remove_dead_temps(dirs)
        for p in removed:
            log.warning("removed %s, left by a writer that was killed mid-write", p)
        return removed

    def write_original(self, src: Path, doc_id: str) -> Stored:
        """Copy the scanner's file in (atomically); the returned hash is of the bytes copied."""
        dest = self.original_path(doc_id, src.suffix or ".bin")
        with open(src, "rb") as fh:
            return self._write_stream(dest, fh)

    def write_pdf(self, doc_id: str, writer: Callable[[BinaryIO], None]) -> Stored:
        """Write the PDF/A copy: ``writer`` gets a seekable binary stream at its start."""
        dest = self.pdf_path(doc_id)
        if not self.encrypt:
            write_atomic(dest, writer)
            return Stored(self.rel(dest), sha256_file(dest), dest.stat().st_size)
        master = self._write_key()
        with tempfile.SpooledTemporaryFile(max_size=PDF_SPOOL_BYTES) as spool:
            writer(spool)  # type: ignore[arg-type]
            spool.seek(0)
            return self._write_stream(dest, spool, master)  # type: ignore[arg-type]

    def write_bytes(self, rel: str, data: bytes) -> Stored:
        """Write (or replace) any archive file atomically, encrypted if the archive encrypts."""
        return self._write_stream(self.abs(rel), io.BytesIO(data))

    def save(self, doc: Document) -> None:
        """Write (or replace) a document's sidecar; this is the commit point of an ingest."""
        data = json.dumps(doc.to_dict(), ensure_ascii=False, indent=1, sort_keys=False).encode("utf-8")
        self.write_bytes(self.rel(self.sidecar_path(doc.id)), data)

    def _write_stream(self, dest: Path, src: BinaryIO, master: bytes | None = None) -> Stored:
        result: list[tuple[str, int]] = []
        if self.encrypt:
            key = master if master is not None else self._write_key()

            def _enc(fh: BinaryIO) -> None:
                result.append(crypto.encrypt_stream(src, fh, key))
        else:

            def _enc(fh: BinaryIO) -> None:
                h = hashlib.sha256()
                n = 0
                for chunk in iter(lambda: src.read(1024 * 1024), b""):
                    h.update(chunk)
                    fh.write(chunk)
                    n += len(chunk)
                result.append((h.hexdigest(), n))

        write_atomic(dest, _enc)
        return Stored(self.rel(dest), result[0][0], result[0][1])

    def _write_key(self) -> bytes:
        """The master key new files are encrypted with; refuses one that is not the archive's."""
        master = self.keys.current()
        recorded = self.encryption_key_id()
        kid = crypto.key_id(master).hex()
        if recorded is None:
            self.set_encryption_key_id(kid)
        elif recorded != kid:
            raise KeyUnavailable(
                f"{self.keys.describe()} holds master key {kid} but {self.root} is encrypted with {recorded}"
                " (wrong key? after 'woa keys rotate' the new key comes first)"
            )
        return master

    def require_keys(self) -> None:
        """Raise ``KeyUnavailable`` (one line) now if this archive cannot write what it must encrypt."""
        if self.encrypt:
            self._write_key()

    def encryption_key_id(self) -> str | None:
        path = self.root / ENCRYPTION_MARKER
        try:
            return str(json.loads(path.read_text(encoding="utf-8"))["current_key_id"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KeyUnavailable(f"{path}: unreadable ({exc})") from None

    def set_encryption_key_id(self, kid: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        marker = {"cipher": "AES-256-GCM, one data key per file (core/crypto.py)", "current_key_id": kid}
        write_bytes_atomic(self.root / ENCRYPTION_MARKER, (json.dumps(marker, indent=1) + "\n").encode())

    # -- reads (plaintext) -------------------------------------------------------------------
    def open_file(self, rel: str) -> BinaryIO:
        """The plaintext of an archive file, as a readable binary stream (close it).

        Raises ``FileNotFoundError``, ``KeyUnavailable`` (encrypted, no or wrong key) and, while
        reading, ``TamperedFile`` (an encrypted file whose content fails authentication).
        """
        path = self.abs(rel)
        fh = open(path, "rb")  # noqa: SIM115 - returned to the caller
        try:
            head = fh.read(len(crypto.MAGIC))
            fh.seek(0)
            if not crypto.is_encrypted_header(head):
                return fh
            return io.BufferedReader(crypto.DecryptingReader(fh, self.keys, rel), 1024 * 1024)
        except BaseException:
            fh.close()
            raise

    def read_bytes(self, rel: str) -> bytes:
        with self.open_file(rel) as fh:
            return fh.read()

    def open_original(self, doc: Document) -> BinaryIO:
        return self.open_file(doc.original)

    def open_pdf(self, doc: Document) -> BinaryIO:
        return self.open_file(doc.archive_pdf)

    def read_pdf_bytes(self, doc: Document) -> bytes:
        return self.read_bytes(doc.archive_pdf)

    def sha256(self, rel: str) -> str:
        """SHA-256 of the file's plaintext (what sidecars record)."""
        with self.open_file(rel) as fh:
            return _hash_stream(fh)[0]

    def copy_out(self, rel: str, dest: Path) -> Stored:
        """Write the plaintext of an archive file to ``dest`` (outside the archive), atomically."""
        out: list[tuple[str, int]] = []

        def _copy(fh: BinaryIO) -> None:
            h = hashlib.sha256()
            n = 0
            with self.open_file(rel) as src:
                for chunk in iter(lambda: src.read(1024 * 1024), b""):
                    h.update(chunk)
                    fh.write(chunk)
                    n += len(chunk)
            out.append((h.hexdigest(), n))

        write_atomic(Path(dest), _copy)
        return Stored(str(dest), out[0][0], out[0][1])

    def is_encrypted(self, rel: str) -> bool:
        return crypto.is_encrypted(self.abs(rel))

    # -- stored bytes as they are (tiers, backups, key rotation) ---------------------------
    def open_stored(self, rel: str) -> BinaryIO:
        """The file's bytes exactly as stored (ciphertext if encrypted)."""
        return open(self.abs(rel), "rb")  # noqa: SIM115 - returned to the caller

    def write_stored(self, rel: str, src: BinaryIO) -> None:
        """Put back bytes exactly as ``open_stored`` gave them (atomically, no re-encryption)."""

        def _copy(fh: BinaryIO) -> None:
            shutil.copyfileobj(src, fh, 1024 * 1024)

        write_atomic(self.abs(rel), _copy)

    def document_files(self, doc: Document) -> list[str]:
        """Archive-relative paths of everything a document owns: original, PDF, sidecar (last)."""
        return [p for p in (doc.original, doc.archive_pdf) if p] + [self.rel(self.sidecar_path(doc.id))]

    def remove_uncommitted(self, doc_id: str, ext: str) -> None:
        """Delete the original and PDF an interrupted ingest left behind, unless the sidecar exists."""
        if self.sidecar_path(doc_id).exists():
            return
        for p in (self.pdf_path(doc_id), self.original_path(doc_id, ext)):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    # -- encryption of existing files -------------------------------------------------------
    def encrypt_existing(self, rel: str, expected_sha256: str | None = None) -> bool:
        """Encrypt one plain archive file in place (atomically). False if it already was.

        With ``expected_sha256`` the plaintext must hash to it (else ``TamperedFile``, nothing
        written); the encrypted result is read back and compared before it replaces the file.
        """
        path = self.abs(rel)
        if crypto.is_encrypted(path):
            return False
        master = self._write_key()
        with open(path, "rb") as src:
            actual, _ = _hash_stream(src)
        if expected_sha256 is not None and actual != expected_sha256:
            raise TamperedFile(f"{rel}: sha256 {actual} differs from the sidecar's {expected_sha256}; not encrypted")

        def _enc(fh: BinaryIO) -> None:
            with open(path, "rb") as src:
                sha, _ = crypto.encrypt_stream(src, fh, master)
            if sha != actual:
                raise TamperedFile(f"{rel}: changed while being encrypted")
            fh.flush()
            fh.seek(0)
            with crypto.DecryptingReader(fh, self.keys, rel, close_source=False) as back:
                check, _ = _hash_stream(back)  # type: ignore[arg-type]
            if check != actual:
                raise TamperedFile(f"{rel}: encrypted copy does not read back")

        write_atomic(path, _enc, readable=True)
        return True

    def rewrap(self, rel: str, new_master: bytes) -> bool:
        """Re-wrap an encrypted file's data key under ``new_master``; chunks copied unchanged.

        False for a plain file or one already wrapped by ``new_master``.
        """
        path = self.abs(rel)
        with open(path, "rb") as src:
            raw = src.read(crypto.HEADER_LEN)
            if not crypto.is_encrypted_header(raw):
                return False
            if crypto.Header.parse(raw, rel).kid == crypto.key_id(new_master):
                return False
            header = crypto.rewrap_header(raw, self.keys, new_master, rel)

            def _copy(fh: BinaryIO) -> None:
                fh.write(header)
                shutil.copyfileobj(src, fh, 1024 * 1024)

            write_atomic(path, _copy)
        return True

    def record_duplicate(self, sha256: str, source_name: str, when: str) -> Document:
        doc = self.load(doc_id_for(sha256))
        if not any(d.get("source_name") == source_name for d in doc.duplicates) and source_name != doc.source_name:
            doc.duplicates.append({"source_name": source_name, "seen_at": when})
            self.save(doc)
        return doc


def default_key_file() -> Path:
    return Path.home() / ".config" / "woa" / "master.key"


def key_source(settings: Settings, root: Path | None = None) -> KeySource:
    """Where these settings take the master key from (``$WOA_MASTER_KEY``, a command, a file)."""
    return KeySource(
        key_file=Path(settings.master_key_file).expanduser() if settings.master_key_file else default_key_file(),
        key_command=settings.master_key_command,
        archive_root=Path(root if root is not None else settings.archive_dir),
    )
