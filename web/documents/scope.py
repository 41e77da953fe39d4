"""THE one place that enforces "a user sees only the documents of their stores".

Every view and the API get documents, search results, vehicle histories, statistics, review
queues and files through these functions, never from ``index``/``core.archive`` directly. A
user's permissions are per store (``web.accounts.roles``); a superuser is admin of every store.
A document of a store the user may not see is "not found" (``Http404``): its existence is never
revealed, whether asked by id, id prefix, search, history, export or API.

Documents archived without a store (``Document.store == ""``) belong to ``default_store``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, BinaryIO

from django.http import Http404

import index
from app.documents import Correction, correct_field
from core.archive import Archive, UnknownDocument
from core.models import Document
from core.settings import Settings
from index.schema import UNASSIGNED_STORE
from index.search import Sort
from web.accounts.roles import permissions_of
from web.bootstrap import current_settings


@dataclass(frozen=True)
class Access:
    """What one user may do, per store code. ``everything``: a superuser (every store, every action)."""

    by_store: dict[str, frozenset[str]]
    everything: bool = False

    def stores(self, perm: str) -> frozenset[str] | None:
        """Store codes where ``perm`` is allowed; None = every store (superuser)."""
        if self.everything:
            return None
        return frozenset(code for code, perms in self.by_store.items() if perm in perms)

    def can(self, perm: str, store: str | None = None) -> bool:
        """``perm`` in ``store`` (a code), or in at least one store when ``store`` is None."""
        if self.everything:
            return True
        if store is None:
            return any(perm in perms for perms in self.by_store.values())
        return perm in self.by_store.get(store, frozenset())


def access(user: Any) -> Access:
    """The user's ``Access`` (computed once per request object)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Access({})
    cached = getattr(user, "_woa_access", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        acc = Access({}, everything=True)
    else:
        roles: dict[str, set[str]] = {}
        for code, role in user.memberships.values_list("store__code", "role"):
            roles.setdefault(code, set()).add(role)
        acc = Access({code: permissions_of(r) for code, r in roles.items()})
    user._woa_access = acc
    return acc


def archive() -> Archive:
    return Archive.from_settings(settings())


def settings() -> Settings:
    return current_settings()


def store_of(doc: Document) -> str:
    return doc.store or settings().default_store


def index_terms(stores: frozenset[str] | None) -> list[str] | None:
    """Store codes → the index's store terms (None stays None: no restriction)."""
    if stores is None:
        return None
    terms = set(stores)
    default = settings().default_store
    if default and default in stores:
        terms.add(UNASSIGNED_STORE)
    return sorted(terms)


def hit_store(stored_store: str | None) -> str:
    """The store code of an index hit's ``store`` field."""
    if not stored_store or stored_store == UNASSIGNED_STORE:
        return settings().default_store
    return stored_store


def is_admin(user: Any) -> bool:
    return access(user).can("admin")


def require(user: Any, perm: str) -> Access:
    """The user's access, if ``perm`` is allowed in at least one store; else PermissionDenied."""
    from django.core.exceptions import PermissionDenied

    acc = access(user)
    if not acc.can(perm):
        raise PermissionDenied(perm)
    return acc


# -- documents --------------------------------------------------------------------------------
def get_document(user: Any, doc_id: str, perm: str = "view") -> Document:
    """The document ``doc_id`` (or a unique prefix of ≥ 4 characters) if the user may ``perm`` it;
    Http404 otherwise — for a document of another store exactly as for one that does not exist."""
    ar = archive()
    try:
        full = ar.resolve(doc_id)
        doc = ar.load(full)
    except (UnknownDocument, OSError, ValueError) as exc:
        raise Http404("no such document") from exc
    if not access(user).can(perm, store_of(doc)):
        raise Http404("no such document")
    return doc


def document_file(user: Any, doc_id: str, kind: str) -> tuple[Document, BinaryIO]:
    """The original (``kind="original"``) or the PDF/A copy (``"pdf"``) of a document the user may
    download, open for reading (decrypted when the archive is encrypted at rest)."""
    from app.lifecycle.tier import TierError, open_document_file

    doc = get_document(user, doc_id, "download")
    ar = archive()
    try:  # a document in the cold tier is fetched, decrypted, checked and cached
        fh = open_document_file(ar, settings(), doc, "original" if kind == "original" else "pdf")
    except (FileNotFoundError, TierError) as exc:
        raise Http404("file missing") from exc
    return doc, fh


def search(user: Any, query: str, *, limit: int = 20, page: int = 1, sort: Sort = "relevance",
           stores: Iterable[str] | None = None, perm: str = "view") -> index.SearchResults:
    """``index.search`` limited to the stores where the user may ``perm`` (and, if given, to ``stores``)."""
    allowed = access(user).stores(perm)
    wanted = allowed if stores is None else (frozenset(stores) if allowed is None else allowed & frozenset(stores))
    return index.search(archive(), query, limit=limit, page=page, sort=sort, stores=index_terms(wanted))


def vehicle_history(user: Any, key: str) -> list[index.HistoryEntry]:
    return index.vehicle_history(archive(), key, stores=index_terms(access(user).stores("view")))


def stats(user: Any, date_from: date | None, date_to: date | None, top: int = 10,
          stores: Iterable[str] | None = None) -> index.Stats:
    allowed = access(user).stores("stats")
    wanted = allowed if stores is None else (frozenset(stores) if allowed is None else allowed & frozenset(stores))
    return index.stats(archive(), date_from, date_to, top, stores=index_terms(wanted))


def review_queue(user: Any, limit: int = 100, page: int = 1) -> tuple[list[index.Hit], int]:
    """Index hits of the documents that need review in the user's review stores, oldest order
    first (undated ones, whose date is what needs fixing, before them), and how many there are."""
    res = search(user, "needs_review:yes", limit=limit, page=page, sort="oldest", perm="review")
    return res.hits, res.total


def correct(user: Any, doc_id: str, fld: str, value: str) -> Correction:
    """A correction by ``user`` of one field of a document they may review: recorded exactly as
    ``woa review set`` records it (sidecar history: old value, new value, user, time; then the
    index, so search finds the new value at once). Http404 for a document they may not review;
    ``ReviewError`` for an unknown field or an empty value."""
    doc = get_document(user, doc_id, "review")
    return correct_field(archive(), doc.id, fld, value, settings(), user=user.get_username())


def next_for_review(user: Any, after: str | None = None) -> str | None:
    """The id of the oldest document in the user's review queue other than ``after``."""
    hits, _ = review_queue(user, limit=2)
    for h in hits:
        if h.id != after:
            return h.id
    return None


def upload_stores(user: Any) -> list[str] | None:
    """Store codes the user may upload into (None: any)."""
    s = access(user).stores("upload")
    return None if s is None else sorted(s)

