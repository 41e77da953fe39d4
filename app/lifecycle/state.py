"""The lifecycle state file ``ARCHIVE/lifecycle/state.json`` and the event log ``events.jsonl``.

State: ``rules`` (fingerprint of the retention rules last applied), ``reminders`` (doc id ->
``{"until": date, "sent": [lead days...]}``), ``due`` (doc id -> ``{"since", "until", "store",
"order_no"}``: expired, not held, waiting for a manager). Written atomically under a lock, so two
passes never interleave.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.archive import Archive
from core.atomic import write_json_atomic
from core.locks import file_lock

STATE_NAME = "state.json"
EVENTS_NAME = "events.jsonl"
LOCK_NAME = "lifecycle.lock"


@dataclass
class LifecycleState:
    rules: str = ""
    reminders: dict[str, dict[str, Any]] = field(default_factory=dict)
    due: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_run: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"rules": self.rules, "last_run": self.last_run, "reminders": self.reminders, "due": self.due}


def load_state(archive: Archive) -> LifecycleState:
    path = archive.lifecycle_dir / STATE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return LifecycleState()
    return LifecycleState(rules=data.get("rules", ""), reminders=dict(data.get("reminders", {})),
                          due=dict(data.get("due", {})), last_run=data.get("last_run", ""))


def save_state(archive: Archive, state: LifecycleState) -> None:
    write_json_atomic(archive.lifecycle_dir / STATE_NAME, state.to_dict())


@contextlib.contextmanager
def state_lock(archive: Archive) -> Iterator[None]:
    """One lifecycle writer at a time (a pass, a disposal, a hold), across processes."""
    with file_lock(archive.lifecycle_dir / LOCK_NAME):
        yield


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def log_event(archive: Archive, action: str, target: str, actor: str, detail: dict[str, Any] | None = None) -> None:
    """Append one line to ``events.jsonl`` (fsynced): the lifecycle's own record, beside the web audit."""
    archive.lifecycle_dir.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"at": now_iso(), "actor": actor, "action": action, "target": target,
                       "detail": detail or {}}, ensure_ascii=False) + "\n"
    fd = os.open(archive.lifecycle_dir / EVENTS_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_events(archive: Archive) -> list[dict[str, Any]]:
    path = archive.lifecycle_dir / EVENTS_NAME
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
