"""The cold tier: S3-compatible object storage (boto3) or a second filesystem path.

A move is copy -> verify -> record -> delete, under the document's lock:

1. **copy**: the original and the PDF/A copy are encrypted (AES-256-GCM, key file outside the
   archive) and put into the tier;
2. **verify**: what the tier holds is read back, decrypted and its SHA-256 compared with the sidecar's;
3. **record**: the sidecar gets ``tier = {name, where, keys, ...}`` (the commit point);
4. **delete**: the hot copies are removed.

A crash before 3 leaves the document hot (the objects are overwritten by the next attempt); a crash
after 3 leaves hot leftovers that the next pass deletes. Opening a cold document fetches, decrypts,
checks and caches it under ``ARCHIVE/cache/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from core.archive import Archive
from core.atomic import write_bytes_atomic
from core.models import Document
from core.settings import Settings

log = logging.getLogger(__name__)

MAGIC = b"WOA1"
NONCE_LEN = 12


class TierError(RuntimeError):
    """The tier cannot be used or a copy is wrong (one line; the document stays where it was)."""


class Tier(Protocol):
    name: str
    where: str

    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def usage(self) -> tuple[int, int]: ...  # (objects, bytes)


# -- encryption ------------------------------------------------------------------------------
class Cipher:
    """AES-256-GCM; a blob is ``WOA1 | nonce (12) | ciphertext+tag``, the object key as associated data."""

    def __init__(self, key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(key) != 32:
            raise TierError("the tier key must be 32 bytes (AES-256)")
        self._aead = AESGCM(key)

    def seal(self, name: str, data: bytes) -> bytes:
        nonce = os.urandom(NONCE_LEN)
        return MAGIC + nonce + self._aead.encrypt(nonce, data, name.encode())

    def open(self, name: str, blob: bytes) -> bytes:
        from cryptography.exceptions import InvalidTag

        if not blob.startswith(MAGIC):
            raise TierError(f"{name}: not a woa-encrypted object")
        nonce = blob[len(MAGIC):len(MAGIC) + NONCE_LEN]
        try:
            return self._aead.decrypt(nonce, blob[len(MAGIC) + NONCE_LEN:], name.encode())
        except InvalidTag:
            raise TierError(f"{name}: decryption failed (wrong key or damaged copy)") from None


def load_key(settings: Settings) -> bytes:
    path = settings.tier_key_file
    if path is None:
        raise TierError("no tier_key_file: copies to a tier are encrypted; create one with 'woa tier keygen PATH'")
    path = Path(path).expanduser().resolve()
    archive_root = Path(settings.archive_dir).expanduser().resolve()
    if path.is_relative_to(archive_root):
        raise TierError(f"tier_key_file {path} lies inside the archive; keep the key outside it")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TierError(f"tier_key_file {path}: {exc.strerror or exc}") from None
    text = raw.strip()
    if len(text) == 64:
        with contextlib.suppress(ValueError):
            return bytes.fromhex(text.decode("ascii"))
    if len(raw) == 32:
        return raw
    raise TierError(f"tier_key_file {path}: expected 32 bytes or 64 hex digits")


def keygen(path: Path) -> None:
    path = Path(path)
    if path.exists():
        raise TierError(f"{path} exists; not overwritten")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(os.urandom(32).hex() + "\n")


# -- backends --------------------------------------------------------------------------------
class FsTier:
    """A second filesystem path (a NAS mount, a large slow disk)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.name = "cold"
        self.where = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        try:
            write_bytes_atomic(self._path(key), data)
        except OSError as exc:
            raise TierError(f"tier {self.where}: cannot write {key}: {exc.strerror or exc}") from None

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except OSError as exc:
            raise TierError(f"tier {self.where}: cannot read {key}: {exc.strerror or exc}") from None

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def usage(self) -> tuple[int, int]:
        n = size = 0
        if self.root.is_dir():
            for p in self.root.rglob("*"):
                if p.is_file():
                    n += 1
                    size += p.stat().st_size
        return n, size


class S3Tier:
    """Any S3-compatible object storage (AWS S3, Aliyun OSS, Tencent COS, Huawei OBS, MinIO, Ceph)."""

    def __init__(self, bucket: str, prefix: str, endpoint: str, region: str, access_key: str, secret_key: str) -> None:
        import boto3
        from botocore.config import Config

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.name = "cold"
        self.where = f"s3://{bucket}/{self.prefix}" + (f" at {endpoint}" if endpoint else "")
        self._client = boto3.client(
            "s3",
            endpoint_url=endpoint or None,
            region_name=region,
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            config=Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=60,
                          s3={"addressing_style": "path"}),
        )

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn()
        except ClientError as exc:
            err = exc.response.get("Error", {})
            raise TierError(f"tier {self.where}: {what}: {err.get('Code', '?')}: {err.get('Message', exc)}") from None
        except BotoCoreError as exc:
            raise TierError(f"tier {self.where}: {what}: {exc}") from None

    def put(self, key: str, data: bytes) -> None:
        self._call(f"put {key}", lambda: self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data))

    def get(self, key: str) -> bytes:
        def _get() -> bytes:
            body: bytes = self._client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
            return body

        result: bytes = self._call(f"get {key}", _get)
        return result

    def delete(self, key: str) -> None:
        self._call(f"delete {key}", lambda: self._client.delete_object(Bucket=self.bucket, Key=self._key(key)))

    def usage(self) -> tuple[int, int]:
        def _list() -> tuple[int, int]:
            n = size = 0
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for obj in page.get("Contents", []):
                    n += 1
                    size += int(obj.get("Size", 0))
            return n, size

        result: tuple[int, int] = self._call("list", _list)
        return result


def open_tier(settings: Settings) -> Tier | None:
    url = settings.tier_url.strip()
    if not url:
        return None
    if url.startswith("s3://"):
        bucket, _, prefix = url[5:].partition("/")
        secret = ""
        if settings.tier_secret_key_file is not None:
            try:
                secret = Path(settings.tier_secret_key_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise TierError(f"tier_secret_key_file: {exc.strerror or exc}") from None
        return S3Tier(bucket, prefix, settings.tier_endpoint, settings.tier_region, settings.tier_access_key, secret)
    return FsTier(Path(url.removeprefix("file://")))


# -- moves -----------------------------------------------------------------------------------
STEPS = ("copy", "verify", "record", "delete")


@dataclass
class TierContext:
    tier: Tier
    cipher: Cipher


def context(settings: Settings) -> TierContext | None:
    tier = open_tier(settings)
    return None if tier is None else TierContext(tier, Cipher(load_key(settings)))


def _object_key(rel: str) -> str:
    return rel + ".enc"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _files(doc: Document) -> list[tuple[str, str, str]]:
    return [("original", doc.original, doc.sha256), ("pdf", doc.archive_pdf, doc.archive_sha256)]


def move_to_cold(archive: Archive, ctx: TierContext, doc_id: str, on_step: Callable[[str], None] | None = None,
                 now: str = "") -> Document:
    """Move one document's files to the cold tier (or finish an interrupted move)."""
    step = on_step or (lambda _s: None)
    marker = archive.lifecycle_dir / "moving" / doc_id
    with archive.lock(doc_id):
        doc = archive.load(doc_id)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        if not doc.tier:
            keys: dict[str, str] = {}
            size = 0
            for kind, rel, _sha256 in _files(doc):
                data = archive.read_bytes(rel)  # the plaintext (the archive may be encrypted at rest)
                key = _object_key(rel)
                blob = ctx.cipher.seal(key, data)
                ctx.tier.put(key, blob)
                keys[kind] = key
                size += len(blob)
            step("copy")
            for kind, _rel, sha in _files(doc):
                got = _sha(ctx.cipher.open(keys[kind], ctx.tier.get(keys[kind])))
                if got != sha:
                    raise TierError(f"{doc_id}: the tier's copy of the {kind} has sha256 {got[:12]}…, "
                                    f"not {sha[:12]}…; left hot")
            step("verify")
            doc.tier = {"name": ctx.tier.name, "where": ctx.tier.where, "keys": keys, "encrypted": "AES-256-GCM",
                        "bytes": size, "moved_at": now or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            archive.save(doc)
            step("record")
        for _kind, rel, _sha256 in _files(doc):
            with contextlib.suppress(FileNotFoundError):
                archive.abs(rel).unlink()
        step("delete")
        marker.unlink()
    return doc


def interrupted_moves(archive: Archive) -> list[str]:
    """Documents a crash caught in the middle of a move (their marker is still there)."""
    base = archive.lifecycle_dir / "moving"
    return sorted(p.name for p in base.iterdir() if archive.sidecar_path(p.name).is_file()) if base.is_dir() else []


def hot_leftovers(archive: Archive, doc: Document) -> bool:
    return bool(doc.tier) and any(archive.abs(rel).exists() for _k, rel, _s in _files(doc))


def fetch_bytes(archive: Archive, doc: Document, kind: str, ctx: TierContext | None) -> bytes:
    """The plaintext of the document's ``original`` or ``pdf``, from the hot file, the cache or the tier."""
    return archive.read_bytes(archive.rel(fetch(archive, doc, kind, ctx)))


def fetch(archive: Archive, doc: Document, kind: str, ctx: TierContext | None) -> Path:
    """A path in the archive holding the document's ``original`` or ``pdf``: the hot file, or a checked
    cached copy fetched from the cold tier (written like any archive file: encrypted if the archive is)."""
    rel, sha = {"original": (doc.original, doc.sha256), "pdf": (doc.archive_pdf, doc.archive_sha256)}[kind]
    record_access(archive, doc.id)
    hot = archive.abs(rel)
    if hot.is_file():
        return hot
    if not doc.tier:
        raise TierError(f"{doc.id}: {rel} is missing and the document has no cold copy")
    cached = archive.cache_path(rel)
    cache_rel = archive.rel(cached)
    if cached.is_file():
        try:
            ok = _sha(archive.read_bytes(cache_rel)) == sha
        except Exception:  # damaged or unreadable cache entry: fetch again
            ok = False
        if ok:
            os.utime(cached)
            return cached
        log.warning("cached copy %s is damaged; fetching again", cached)
    if ctx is None:
        raise TierError(f"{doc.id} is in the cold tier {doc.tier.get('where')}, but no tier is configured (tier_url)")
    key = doc.tier["keys"][kind]
    data = ctx.cipher.open(key, ctx.tier.get(key))
    if _sha(data) != sha:
        raise TierError(f"{doc.id}: the cold copy of the {kind} does not match its sha256")
    archive.write_bytes(cache_rel, data)
    return cached


def check_cold(archive: Archive, ctx: TierContext, docs: list[Document], sample: int | None = None,
               seed: int | None = None) -> list[tuple[str, str]]:
    """(doc id, reason) for every cold copy (or a random sample of ``sample`` documents) that is wrong."""
    chosen = docs if sample is None or sample >= len(docs) else random.Random(seed).sample(docs, sample)
    problems: list[tuple[str, str]] = []
    for doc in chosen:
        for kind, _rel, sha in _files(doc):
            key = doc.tier.get("keys", {}).get(kind)
            if not key:
                problems.append((doc.id, f"cold {kind}: no object key in the sidecar"))
                continue
            try:
                got = _sha(ctx.cipher.open(key, ctx.tier.get(key)))
            except TierError as exc:
                problems.append((doc.id, f"cold {kind}: {exc}"))
                continue
            if got != sha:
                problems.append((doc.id, f"cold {kind}: sha256 {got} differs from the sidecar's {sha}"))
    return problems


def prune_cache(archive: Archive, max_age_days: float) -> int:
    base = archive.root / "cache"
    if not base.is_dir():
        return 0
    cutoff = time.time() - max_age_days * 86400
    n = 0
    for p in base.rglob("*"):
        if p.is_file() and p.stat().st_mtime < cutoff:
            with contextlib.suppress(OSError):
                p.unlink()
                n += 1
    return n


def status(archive: Archive, settings: Settings) -> dict[str, Any]:
    """Documents and bytes per tier (counts from the index, bytes from the disk and the tier's listing)."""
    from index.rows import count

    hot_bytes = 0
    for kind in ("originals", "pdf"):
        base = archive.root / kind
        if base.is_dir():
            hot_bytes += sum(p.stat().st_size for p in base.rglob("*") if p.is_file())
    cache_files = cache_bytes = 0
    cache = archive.root / "cache"
    if cache.is_dir():
        for p in cache.rglob("*"):
            if p.is_file():
                cache_files += 1
                cache_bytes += p.stat().st_size
    from whoosh import query as Q

    hot_docs = count(archive, Q.Term("tier", "hot"))
    total = count(archive, Q.Every())
    tier = open_tier(settings)
    objects: int | None = None
    cold_bytes = 0
    if tier is not None:
        objects, cold_bytes = tier.usage()
    return {"hot_documents": hot_docs, "hot_bytes": hot_bytes, "cold_documents": total - hot_docs,
            "cold_bytes": cold_bytes, "cold_objects": objects, "cold_where": tier.where if tier else "",
            "cache_files": cache_files, "cache_bytes": cache_bytes}


def cold_check(settings: Settings, sample: int | None = None) -> Callable[[Archive, list[str]], list[Any]]:
    """A ``woa verify`` check of the cold copies (all, or ``sample`` random documents)."""
    from app.verify import Problem

    def check(archive: Archive, ids: list[str]) -> list[Any]:
        try:
            ctx = context(settings)
        except TierError as exc:
            return [Problem("tier", settings.tier_url or "tier", str(exc))]
        if ctx is None:
            return [Problem("tier", "tier_url", f"{len(ids)} documents are in a cold tier, but none is configured")]
        return [Problem("tier", doc_id, reason) for doc_id, reason in check_cold(archive, ctx, archive.load_many(ids), sample)]

    return check


def record_access(archive: Archive, doc_id: str) -> None:
    """Remember that a document was opened (a marker's mtime; read by ``tier_by = "last_access"``)."""
    marker = archive.lifecycle_dir / "access" / doc_id[:2] / doc_id
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError as exc:  # never fail an open for this
        log.warning("access of %s not recorded: %s", doc_id, exc)


def last_access(archive: Archive, doc_id: str) -> float | None:
    try:
        return (archive.lifecycle_dir / "access" / doc_id[:2] / doc_id).stat().st_mtime
    except FileNotFoundError:
        return None


def open_document_file(archive: Archive, settings: Settings, doc: Document, kind: str) -> BinaryIO:
    """The plaintext of a document's ``original`` or ``pdf`` for reading, hot or fetched from the cold
    tier (and cached). Raises ``FileNotFoundError`` or ``TierError``."""
    rel = doc.original if kind == "original" else doc.archive_pdf
    record_access(archive, doc.id)
    if archive.abs(rel).is_file() or not doc.tier:
        return archive.open_file(rel)
    path = fetch(archive, doc, kind, context(settings))
    return archive.open_file(archive.rel(path))


def read_document_file(archive: Archive, settings: Settings, doc: Document, kind: str) -> bytes:
    with open_document_file(archive, settings, doc, kind) as fh:
        return fh.read()
