"""The audit trail: append-only rows, each holding the hash of the one before (a hash chain)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import models


class AppendOnly(Exception):
    """Audit rows are never changed or deleted through the application."""


GENESIS = "0" * 64


class AuditEntry(models.Model):
    at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=150, db_index=True)  # user name, or "-" / "cli:NAME"
    action = models.CharField(max_length=64, db_index=True)  # login, login_failed, view, download, ...
    target = models.CharField(max_length=255, blank=True, default="", db_index=True)
    detail = models.JSONField(default=dict, blank=True)
    address = models.CharField(max_length=64, null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]

    def payload(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "at": self.at.isoformat(timespec="microseconds"),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "detail": self.detail,
            "address": self.address,
        }

    def compute_hash(self) -> str:
        """SHA-256 over the previous row's hash and this row's canonical JSON (id included, so a
        row cannot be deleted and its content re-inserted elsewhere unnoticed)."""
        body = json.dumps(self.payload(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256((self.prev_hash + "\n" + body).encode("utf-8")).hexdigest()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("audit rows cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit rows cannot be deleted")

    def to_dict(self) -> dict[str, Any]:
        return {**self.payload(), "prev_hash": self.prev_hash, "hash": self.hash}
