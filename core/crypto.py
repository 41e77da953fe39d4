"""Encryption at rest: AES-256-GCM files, one random data key per file, wrapped by a master key.

A stored file is either plain (exactly the bytes the archive always held) or encrypted, recognised
by its first 8 bytes (``MAGIC``). An encrypted file is::

    MAGIC                8 bytes  b"WOAENC01"
    key id               8 bytes  which master key wrapped the data key (``key_id``)
    wrap nonce          12 bytes
    wrapped data key    48 bytes  AES-256-GCM(master key, wrap nonce, data key, aad=MAGIC+key id)
    nonce prefix         7 bytes  random, per file
    chunks                        AES-256-GCM(data key, nonce, chunk, aad=MAGIC+nonce prefix)

Each chunk holds ``CHUNK`` plaintext bytes (the last one fewer, possibly none) plus a 16-byte tag;
its nonce is the prefix, a 4-byte counter and a 1-byte "last chunk" flag (the STREAM
construction), so a reordered, dropped, truncated or altered chunk fails authentication and no
unauthenticated byte is ever returned. The data key's wrapping is outside the chunks' associated
data: rotating the master key rewrites the 83-byte header only (``rewrap``), never the chunks.

Master keys are 32 random bytes written as 64 hex digits, one per line (the first is current,
later ones are older keys still accepted for reading); ``#`` starts a comment.
"""

from __future__ import annotations

import hashlib
import io
import os
import shlex
import stat
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import TransientError

MAGIC = b"WOAENC01"
KID_LEN = 8
WRAP_NONCE_LEN = 12
WRAPPED_LEN = 32 + 16
PREFIX_LEN = 7
HEADER_LEN = len(MAGIC) + KID_LEN + WRAP_NONCE_LEN + WRAPPED_LEN + PREFIX_LEN  # 83
CHUNK = 1024 * 1024
TAG = 16
MASTER_KEY_ENV = "WOA_MASTER_KEY"


class KeyUnavailable(TransientError):
    """No master key, or not the one that wrapped this file (retryable: nothing is lost)."""


class TamperedFile(ValueError):
    """An encrypted file fails authentication: altered, truncated or corrupt."""


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"woa-master-key-id\0" + key).digest()[:KID_LEN]


def new_master_key() -> bytes:
    return os.urandom(32)


def format_keys(keys: Iterable[bytes]) -> str:
    return "".join(k.hex() + "\n" for k in keys)


def parse_keys(text: str, origin: str) -> list[bytes]:
    keys: list[bytes] = []
    for raw in text.replace(",", "\n").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            key = bytes.fromhex(line)
        except ValueError:
            raise KeyUnavailable(f"{origin}: not a master key (64 hex digits per line expected)") from None
        if len(key) != 32:
            raise KeyUnavailable(f"{origin}: a master key is 64 hex digits (32 bytes), got {len(key)} bytes")
        keys.append(key)
    if not keys:
        raise KeyUnavailable(f"{origin}: holds no master key")
    return keys


@dataclass
class KeySource:
    """Where the master keys come from: ``$WOA_MASTER_KEY``, else a command, else a key file.

    Loaded on first use and kept for the life of the object (one Archive).
    """

    key_file: Path | None = None
    key_command: str = ""
    archive_root: Path | None = None
    env: bool = True
    _keys: list[bytes] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, keys: list[bytes]) -> KeySource:
        return cls(env=False, _keys=list(keys))

    def describe(self) -> str:
        if self.env and os.environ.get(MASTER_KEY_ENV):
            return f"${MASTER_KEY_ENV}"
        if self.key_command:
            return f"key command {self.key_command!r}"
        if self.key_file:
            return f"key file {self.key_file}"
        return "no master key configured"

    def master_keys(self) -> list[bytes]:
        if self._keys is None:
            self._keys = self._load()
        return self._keys

    def _load(self) -> list[bytes]:
        env = os.environ.get(MASTER_KEY_ENV) if self.env else None
        if env:
            return parse_keys(env, f"${MASTER_KEY_ENV}")
        if self.key_command:
            try:
                out = subprocess.run(shlex.split(self.key_command), capture_output=True, text=True, timeout=60, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise KeyUnavailable(f"master key command {self.key_command!r} failed: {exc}") from None
            if out.returncode != 0:
                err = (out.stderr.strip().splitlines() or [""])[-1]
                raise KeyUnavailable(f"master key command {self.key_command!r} exited {out.returncode}: {err}")
            return parse_keys(out.stdout, f"master key command {self.key_command!r}")
        if self.key_file is None:
            raise KeyUnavailable(
                f"the archive is encrypted but no master key is configured (set master_key_file or ${MASTER_KEY_ENV})"
            )
        return parse_keys(read_key_file(self.key_file, self.archive_root), f"key file {self.key_file}")

    def current(self) -> bytes:
        return self.master_keys()[0]

    def by_id(self, kid: bytes) -> bytes:
        for key in self.master_keys():
            if key_id(key) == kid:
                return key
        raise KeyUnavailable(f"{self.describe()} does not hold the master key {kid.hex()} this file was encrypted with")


def read_key_file(path: Path, archive_root: Path | None = None) -> str:
    path = Path(path).expanduser()
    if archive_root is not None:
        with_root = Path(os.path.abspath(archive_root))
        if Path(os.path.abspath(path)).is_relative_to(with_root):
            raise KeyUnavailable(f"key file {path}: must live outside the archive it protects")
    try:
        st = path.stat()
    except FileNotFoundError:
        raise KeyUnavailable(f"key file {path}: not found (woa keys init creates one)") from None
    except OSError as exc:
        raise KeyUnavailable(f"key file {path}: {exc.strerror}") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyUnavailable(f"key file {path}: readable by others (mode {stat.S_IMODE(st.st_mode):o}); chmod 600 it")
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyUnavailable(f"key file {path}: cannot read it: {exc}") from None


def write_key_file(path: Path, keys: list[bytes]) -> None:
    """Write the key file 0600 atomically (the directory is created 0700 if missing)."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write("# woa master keys: the first is current; keep a copy apart from the archive and its backups\n")
            fh.write(format_keys(keys))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# -- the file format ------------------------------------------------------------------------------
def is_encrypted_header(head: bytes) -> bool:
    return head[: len(MAGIC)] == MAGIC


def is_encrypted(path: Path) -> bool:
    with open(path, "rb") as fh:
        return is_encrypted_header(fh.read(len(MAGIC)))


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


@dataclass(frozen=True)
class Header:
    kid: bytes
    wrap_nonce: bytes
    wrapped: bytes
    prefix: bytes

    def to_bytes(self) -> bytes:
        return MAGIC + self.kid + self.wrap_nonce + self.wrapped + self.prefix

    @classmethod
    def parse(cls, raw: bytes, origin: str) -> Header:
        if len(raw) < HEADER_LEN or not is_encrypted_header(raw):
            raise TamperedFile(f"{origin}: encrypted file header is damaged")
        i = len(MAGIC)
        kid, i = raw[i : i + KID_LEN], i + KID_LEN
        wn, i = raw[i : i + WRAP_NONCE_LEN], i + WRAP_NONCE_LEN
        wrapped, i = raw[i : i + WRAPPED_LEN], i + WRAPPED_LEN
        return cls(kid, wn, wrapped, raw[i : i + PREFIX_LEN])

    def data_key(self, keys: KeySource, origin: str) -> bytes:
        master = keys.by_id(self.kid)
        try:
            return AESGCM(master).decrypt(self.wrap_nonce, self.wrapped, MAGIC + self.kid)
        except InvalidTag:
            raise TamperedFile(f"{origin}: the wrapped data key fails authentication (tampered header)") from None


def wrap(master: bytes, data_key: bytes, prefix: bytes) -> Header:
    kid = key_id(master)
    wn = os.urandom(WRAP_NONCE_LEN)
    return Header(kid, wn, AESGCM(master).encrypt(wn, data_key, MAGIC + kid), prefix)


class EncryptingWriter(io.RawIOBase):
    """Writes the encrypted form of everything written to it into ``out``; ``finish()`` ends it."""

    def __init__(self, out: BinaryIO, master: bytes) -> None:
        super().__init__()
        self._out = out
        self._key = os.urandom(32)
        prefix = os.urandom(PREFIX_LEN)
        header = wrap(master, self._key, prefix)
        self._aead = AESGCM(self._key)
        self._aad = MAGIC + prefix
        self._prefix = prefix
        self._buf = bytearray()
        self._counter = 0
        self._done = False
        self.plain_sha256 = hashlib.sha256()
        self.plain_size = 0
        out.write(header.to_bytes())

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        if self._done:
            raise ValueError("write after finish")
        mv = memoryview(data).cast("B")
        self.plain_sha256.update(mv)
        self.plain_size += len(mv)
        self._buf += mv
        while len(self._buf) > CHUNK:  # keep at least one byte back: the last chunk is flagged
            self._emit(bytes(self._buf[:CHUNK]), last=False)
            del self._buf[:CHUNK]
        return len(mv)

    def _emit(self, chunk: bytes, last: bool) -> None:
        if self._counter >= 2**32 - 1:
            raise ValueError("file too large to encrypt (4 PiB)")
        self._out.write(self._aead.encrypt(_nonce(self._prefix, self._counter, last), chunk, self._aad))
        self._counter += 1

    def finish(self) -> None:
        if not self._done:
            self._emit(bytes(self._buf), last=True)
            self._buf.clear()
            self._done = True


class DecryptingReader(io.RawIOBase):
    """Reads the plaintext of an encrypted stream; every chunk is authenticated before it is returned."""

    def __init__(self, src: BinaryIO, keys: KeySource, origin: str, *, close_source: bool = True) -> None:
        super().__init__()
        self._src = src
        self._close_source = close_source
        self._origin = origin
        header = Header.parse(src.read(HEADER_LEN), origin)
        self._aead = AESGCM(header.data_key(keys, origin))
        self._aad = MAGIC + header.prefix
        self._prefix = header.prefix
        self._counter = 0
        self._pending = b""
        self._eof = False
        self._next = src.read(CHUNK + TAG)

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        cur = self._next
        self._next = self._src.read(CHUNK + TAG)
        last = not self._next
        try:
            self._pending = self._aead.decrypt(_nonce(self._prefix, self._counter, last), cur, self._aad)
        except InvalidTag:
            raise TamperedFile(f"{self._origin}: encrypted content fails authentication (tampered or truncated)") from None
        self._counter += 1
        self._eof = last

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending and not self._eof:
            self._fill()
        n = min(len(b), len(self._pending))
        b[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        try:
            if self._close_source:
                self._src.close()
        finally:
            super().close()


def encrypt_stream(src: BinaryIO, out: BinaryIO, master: bytes) -> tuple[str, int]:
    """Encrypt all of ``src`` into ``out``; returns the plaintext's SHA-256 and size."""
    enc = EncryptingWriter(out, master)
    for chunk in iter(lambda: src.read(CHUNK), b""):
        enc.write(chunk)
    enc.finish()
    return enc.plain_sha256.hexdigest(), enc.plain_size


def rewrap_header(raw: bytes, keys: KeySource, new_master: bytes, origin: str) -> bytes:
    """The header re-wrapped under ``new_master`` (the data key and every chunk unchanged)."""
    header = Header.parse(raw, origin)
    data_key = header.data_key(keys, origin)
    return wrap(new_master, data_key, header.prefix).to_bytes()


def header_key_id(path: Path) -> bytes | None:
    """The key id of an encrypted file's wrapping master key, None for a plain file."""
    with open(path, "rb") as fh:
        raw = fh.read(HEADER_LEN)
    if not is_encrypted_header(raw):
        return None
    return Header.parse(raw, str(path)).kid

