"""Builders and constants shared by the web test modules and their fixtures (tests/web/conftest.py)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from core.archive import Archive
from core.settings import Settings
from index import rebuild_index
from tests.helpers import make_settings

PASSWORD = "Gz-archive-2024!"
STORES = {"A": "广州天河店", "B": "深圳南山店"}


@dataclass
class WebArchive:
    root: Path
    archive: Archive
    settings: Settings
    store_of: dict[str, str]  # document id -> store code

    def ids(self, store: str) -> list[str]:
        return sorted(i for i, s in self.store_of.items() if s == store)


def two_store_copy(src: Path, dest: Path, store_of: dict[str, str] | None = None) -> WebArchive:
    """A copy of the archive at ``src`` whose documents belong to stores A and B (alternately, or as
    ``store_of`` says), sidecars rewritten and the index rebuilt — what ``woa ingest --store`` does."""
    shutil.copytree(src, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("index", "locks", "cache", "db"))
    ar = Archive(dest)
    assigned: dict[str, str] = {}
    for n, doc_id in enumerate(sorted(ar.ids())):
        doc = ar.load(doc_id)
        doc.store = store_of[doc_id] if store_of else ("A" if n % 2 == 0 else "B")
        ar.save(doc)
        assigned[doc_id] = doc.store
    rebuild_index(ar, procs=1)
    return WebArchive(dest, ar, make_settings(dest, web_secure_cookies=True), assigned)


# WOA_TEST_DB=postgresql runs the web tests on a real PostgreSQL server
TEST_DB = os.environ.get("WOA_TEST_DB", "sqlite")
