"""Search index over the archive (derived from the sidecars; rebuildable at any time).

Whoosh with Chinese bigram analysis (``index.analysis``), a serialised writer with crash repair
and automatic rebuild (``index.store``), the query syntax (``index.query``, docs/search.md),
search with highlighted snippets, vehicle history and statistics.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.archive import Archive
from core.models import Document
from index import store
from index.history import HistoryEntry, vehicle_history
from index.query import QueryError
from index.search import Hit, SearchResults, search
from index.stats import Stats, stats

__all__ = [
    "Hit",
    "HistoryEntry",
    "QueryError",
    "SearchResults",
    "Stats",
    "indexed_ids",
    "rebuild_index",
    "remove_from_index",
    "search",
    "stats",
    "update_index",
    "vehicle_history",
]


def update_index(archive: Archive, docs: list[Document]) -> None:
    """Add or replace ``docs`` (by id). Safe to call from several processes at once."""
    store.update(archive, docs)


def remove_from_index(archive: Archive, ids: Iterable[str]) -> None:
    store.remove(archive, ids)


def rebuild_index(archive: Archive, procs: int | None = None) -> int:
    """Re-index every sidecar into a fresh index and switch to it atomically; returns the count."""
    return store.rebuild(archive, procs).docs


def indexed_ids(archive: Archive) -> set[str] | None:
    """Ids of every indexed document, or None when the archive has no index yet (for ``woa verify``)."""
    if not (archive.index_dir / store.CURRENT_NAME).is_file():
        return None
    return store.with_searcher(archive, lambda s: {str(f["id"]) for f in s.all_stored_fields()})
