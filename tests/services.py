"""Real servers for the web tests and the web benchmark, each on 127.0.0.1 on a free port chosen at
run time, in a temporary directory, stopped (and its files removed) afterwards.

- ``postgres_server()``: Debian's PostgreSQL (``initdb`` + ``postgres`` from
  ``/usr/lib/postgresql/<version>/bin``), password authentication, fsync off (test data only).
  As root the cluster is owned by, and the server runs as, the ``postgres`` system user
  (PostgreSQL refuses to run as root).
- ``woa_serve()``: ``woa serve`` (the production WSGI server) on an archive, as users run it.
- ``free_port()`` is shared with ``tests/redis_server.py``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.redis_server import free_port

ROOT = Path(__file__).resolve().parents[1]
WOA = str(ROOT / ".venv" / "bin" / "woa") if (ROOT / ".venv" / "bin" / "woa").exists() else "woa"

__all__ = ["PostgresServer", "WoaServer", "free_port", "pg_bin_dir", "postgres_server", "woa_serve"]


# -- PostgreSQL -----------------------------------------------------------------------------------
def pg_bin_dir() -> Path | None:
    """The newest installed PostgreSQL server's bin directory (Debian layout), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


@dataclass
class PostgresServer:
    port: int
    user: str
    password: str
    database: str
    directory: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    def create_database(self, name: str) -> str:
        """A further empty database on the same server; returns its URL."""
        import psycopg

        admin = f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{name}"


def _as_owner() -> dict[str, object]:
    """Popen keyword arguments that run a PostgreSQL binary as a non-root user when we are root."""
    if os.geteuid() != 0:
        return {}
    import pwd

    pw = pwd.getpwnam("postgres")
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def _wait_pg(server: PostgresServer, timeout: float) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            log = (server.directory / "postgres.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"postgres exited with {server.process.returncode}: {log}")
        try:
            with psycopg.connect(server.url, connect_timeout=2) as con:
                con.execute("SELECT 1")
            return
        except psycopg.OperationalError as exc:
            last = exc
            time.sleep(0.1)
    raise RuntimeError(f"postgres not ready on port {server.port} after {timeout} s: {last}")


@contextmanager
def postgres_server(timeout: float = 30.0) -> Iterator[PostgresServer]:
    """A fresh PostgreSQL cluster with one database ``woa`` owned by user ``woa`` (password auth)."""
    bindir = pg_bin_dir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (Debian package 'postgresql'; make setup installs it)")
    directory = Path(tempfile.mkdtemp(prefix="woa-pg-"))
    owner = _as_owner()
    if owner:
        os.chown(directory, int(owner["user"]), int(owner["group"]))  # type: ignore[call-overload]
    directory.chmod(0o700)
    password = secrets.token_hex(12)
    pwfile = directory / "pwfile"
    pwfile.write_text(password + "\n")
    if owner:
        os.chown(pwfile, int(owner["user"]), int(owner["group"]))  # type: ignore[call-overload]
    data = directory / "data"
    proc: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", "woa", f"--pwfile={pwfile}",
             "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            check=True, capture_output=True, **owner,  # type: ignore[call-overload]
        )  # fmt: skip
        pwfile.unlink()
        port = free_port()
        log = open(directory / "postgres.log", "wb")  # noqa: SIM115 - lives as long as the server
        proc = subprocess.Popen(
            [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(directory),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "max_connections=200", "-c", "shared_buffers=128MB"],
            stdout=log, stderr=subprocess.STDOUT, **owner,  # type: ignore[call-overload]
        )  # fmt: skip
        log.close()
        server = PostgresServer(port, "woa", password, "postgres", directory, proc)
        _wait_pg(server, timeout)
        server.create_database("woa")
        server.database = "woa"
        yield server
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(directory, ignore_errors=True)


# -- woa serve ------------------------------------------------------------------------------------
@dataclass
class WoaServer:
    port: int
    archive: Path
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def woa_env(archive: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a ``woa`` subprocess on ``archive`` (settings through ``WOA_*``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WOA_")}
    env.update({"WOA_ARCHIVE_DIR": str(archive), "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)})
    env.update(extra or {})
    return env


def run_woa(args: list[str], archive: Path, *, env: Mapping[str, str] | None = None, input: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run one ``woa`` command on ``archive``; the caller checks the return code."""
    return subprocess.run([WOA, *args, "--archive", str(archive)], env=woa_env(archive, env), input=input,
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def _wait_http(server: WoaServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"woa serve exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url + "/accounts/login/", timeout=2) as r:
                if r.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"woa serve not answering on {server.url} after {timeout} s:\n{server.log_tail()}")


@contextmanager
def woa_serve(archive: Path, *, env: Mapping[str, str] | None = None, extra_args: list[str] | None = None,
              timeout: float = 60.0, log_path: Path | None = None) -> Iterator[WoaServer]:
    """``woa serve --host 127.0.0.1 --port <free>`` on ``archive``; stopped (SIGTERM) afterwards.
    Its output goes to ``log_path`` (kept) or to a temporary file (removed)."""
    port = free_port()
    log = log_path or Path(tempfile.mkstemp(prefix="woa-serve-", suffix=".log")[1])
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [WOA, "serve", "--host", "127.0.0.1", "--port", str(port), "--archive", str(archive),
             *(extra_args or [])],
            env=woa_env(archive, env), stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
        )  # fmt: skip
    server = WoaServer(port, archive, proc, log)
    try:
        _wait_http(server, timeout)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if log_path is None:
            log.unlink(missing_ok=True)
