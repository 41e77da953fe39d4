"""Vectorised evaluation of a Whoosh query: posting blocks decoded into numpy arrays.

Whoosh walks posting lists one document at a time in Python, so a query whose terms occur in
tens of thousands of documents (any common Chinese bigram: 更换, 机油…) costs hundreds of
milliseconds at 100,000 orders. Here each term's postings are read block by block into arrays,
AND/OR/NOT become array intersections/unions, and ranking is BM25 without length normalisation
(``b = 0``: work orders are of similar length) computed on the arrays; the exact hit count comes
for free. Query nodes this module does not know raise ``Unsupported`` and the caller falls back
to Whoosh's own matcher. Relies on Whoosh-Reloaded 2.7's posting-block reader (``W3LeafMatcher``);
other matchers are read through the public matcher API.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from whoosh import query as Q
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound

log = logging.getLogger(__name__)

K1 = 1.2
# Check a few candidates against a sub-query by skipping its matcher to each (Whoosh's skip_to walks
# a block in Python, so this only pays off for a handful of candidates against long posting lists).
VERIFY_MAX = 64
VERIFY_RATIO = 50
MAX_ESTIMATE_TERMS = 2000


class Unsupported(Exception):
    """A query node the vectorised evaluator does not handle."""


@dataclass
class Matches:
    ids: np.ndarray  # sorted, unique global document numbers (int64)
    scores: np.ndarray  # float64, aligned with ids

    @staticmethod
    def empty() -> Matches:
        return Matches(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))


def _and(a: Matches, b: Matches) -> Matches:
    ids, ia, ib = np.intersect1d(a.ids, b.ids, assume_unique=True, return_indices=True)
    return Matches(ids, a.scores[ia] + b.scores[ib])


def _or(parts: list[Matches]) -> Matches:
    parts = [p for p in parts if len(p.ids)]
    if not parts:
        return Matches.empty()
    if len(parts) == 1:
        return parts[0]
    ids, inverse = np.unique(np.concatenate([p.ids for p in parts]), return_inverse=True)
    scores = np.bincount(inverse, weights=np.concatenate([p.scores for p in parts]), minlength=len(ids))
    return Matches(ids, scores)


_BLOCK_API = ("_read_data", "_byteids", "_next_block", "_lastblock", "_blocklength")


def _block_arrays(matcher: Any) -> tuple[np.ndarray, np.ndarray]:
    """The current block's ids and weights, decoded with numpy (Whoosh decodes in Python)."""
    matcher._read_data()
    raw_ids, raw_weights = matcher._data[0], matcher._data[1]
    ids = np.asarray(raw_ids, dtype=np.int64)
    if not matcher._byteids:
        ids = np.cumsum(ids)  # delta-encoded
    n = matcher._blocklength
    if raw_weights is None:
        weights = np.ones(n)
    elif isinstance(raw_weights, float):
        weights = np.full(n, raw_weights)
    else:
        weights = np.asarray(raw_weights, dtype=np.float64)
    return ids, weights


def _leaf_postings(matcher: Any) -> tuple[np.ndarray, np.ndarray]:
    """All (docnum, weight) of one segment's posting list."""
    if all(hasattr(matcher, a) for a in _BLOCK_API):
        ids_parts, w_parts = [], []
        while matcher._blocklength:
            ids, weights = _block_arrays(matcher)
            ids_parts.append(ids)
            w_parts.append(weights)
            if matcher._lastblock:
                break
            matcher._next_block()
        if ids_parts:
            return np.concatenate(ids_parts), np.concatenate(w_parts)
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    ids_list, ws_list = [], []
    while matcher.is_active():
        ids_list.append(matcher.id())
        ws_list.append(matcher.weight())
        matcher.next()
    return np.asarray(ids_list, dtype=np.int64), np.asarray(ws_list, dtype=np.float64)


def _lazy(q: Q.Query) -> bool:
    """Whoosh's matcher for ``q`` reads postings on demand (ranges and prefixes read them all)."""
    if isinstance(q, Q.Term):
        return True
    if isinstance(q, (Q.And, Q.Or)):
        return all(_lazy(s) for s in q.subqueries)
    return False


class Evaluator:
    """Evaluates queries against one open searcher."""

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.schema = searcher.schema
        self.leaves = [(ls.reader(), offset) for ls, offset in searcher.leaf_searchers()]

    # -- terms ------------------------------------------------------------------------------
    def term(self, fieldname: str, text: Any, boost: float = 1.0) -> Matches:
        if fieldname not in self.schema:
            return Matches.empty()
        btext = text if isinstance(text, bytes) else self.schema[fieldname].to_bytes(text)
        ids_parts, w_parts = [], []
        for leaf, offset in self.leaves:
            try:
                m = leaf.postings(fieldname, btext)
            except TermNotFound:
                continue
            deleted = None
            if isinstance(m, FilterMatcher):
                deleted = leaf.deleted_docs_set
                m = m.child
            ids, ws = _leaf_postings(m)
            if deleted:
                keep = ~np.isin(ids, np.fromiter(deleted, dtype=np.int64))
                ids, ws = ids[keep], ws[keep]
            ids_parts.append(ids + offset)
            w_parts.append(ws)
        if not ids_parts:
            return Matches.empty()
        ids = np.concatenate(ids_parts)
        ws = np.concatenate(w_parts)
        idf = self.searcher.idf(fieldname, btext) if len(ids) else 0.0
        return Matches(ids, boost * idf * ws * (K1 + 1) / (ws + K1))

    def every(self) -> Matches:
        parts = []
        for leaf, offset in self.leaves:
            ids = np.arange(leaf.doc_count_all(), dtype=np.int64)
            if leaf.has_deletions():
                ids = ids[~np.isin(ids, np.fromiter(leaf.deleted_docs_set, dtype=np.int64))]
            parts.append(ids + offset)
        ids = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
        return Matches(ids, np.zeros(len(ids)))

    # -- query tree -------------------------------------------------------------------------
    def eval(self, q: Q.Query) -> Matches:
        if isinstance(q, Q.Term):
            return self.term(q.fieldname, q.text, q.boost)
        if isinstance(q, Q.And):
            subs = sorted(q.subqueries, key=self.estimate)  # the most selective first
            if not subs:
                return self.every()
            result = self.eval(subs[0])
            for sub in subs[1:]:
                if not len(result.ids):
                    break
                if _lazy(sub) and len(result.ids) <= VERIFY_MAX and len(result.ids) * VERIFY_RATIO < self.estimate(sub):
                    result = self.verify(result, sub)
                else:
                    result = _and(result, self.eval(sub))
            return result
        if isinstance(q, Q.Or):
            return _or([self.eval(s) for s in q.subqueries])
        if isinstance(q, Q.AndNot):
            pos, neg = self.eval(q.a), self.eval(q.b)
            keep = ~np.isin(pos.ids, neg.ids, assume_unique=True)
            return Matches(pos.ids[keep], pos.scores[keep])
        if isinstance(q, Q.Every):
            return self.every()
        if isinstance(q, type(Q.NullQuery)):
            return Matches.empty()
        if isinstance(q, Q.ConstantScoreQuery):
            inner = self.eval(q.child)
            return Matches(inner.ids, np.zeros(len(inner.ids)))
        if isinstance(q, Q.NumericRange):
            inner = self.eval(q._compile_query(self.reader))
            return Matches(inner.ids, np.zeros(len(inner.ids)))
        if isinstance(q, Q.MultiTerm):  # Prefix, FuzzyTerm, TermRange, Wildcard …
            return _or([self.term(q.fieldname, bt, q.boost) for bt in q._btexts(self.reader)])
        raise Unsupported(type(q).__name__)

    def estimate(self, q: Q.Query) -> int:
        """About how many postings evaluating ``q`` reads (an upper bound of its matches)."""
        if isinstance(q, Q.Term):
            if q.fieldname not in self.schema:
                return 0
            text = q.text if isinstance(q.text, bytes) else self.schema[q.fieldname].to_bytes(q.text)
            return int(self.searcher.doc_frequency(q.fieldname, text))
        if isinstance(q, Q.And):
            return min((self.estimate(s) for s in q.subqueries), default=0)
        if isinstance(q, Q.Or):
            return sum(self.estimate(s) for s in q.subqueries)
        if isinstance(q, Q.AndNot):
            return self.estimate(q.a)
        if isinstance(q, Q.ConstantScoreQuery):
            return self.estimate(q.child)
        if isinstance(q, Q.NumericRange):
            return self.estimate(q._compile_query(self.reader))
        if isinstance(q, Q.MultiTerm):
            total = 0
            for n, bt in enumerate(q._btexts(self.reader)):
                if n >= MAX_ESTIMATE_TERMS:
                    return max(total, self.searcher.doc_count_all())
                total += int(self.searcher.doc_frequency(q.fieldname, bt))
            return total
        return int(self.searcher.doc_count_all())

    def verify(self, candidates: Matches, q: Q.Query) -> Matches:
        """``candidates`` that also match ``q``, checked by skipping Whoosh's matcher to each one.

        Cheaper than reading all of ``q``'s postings when the candidates are few. ``q`` adds no
        score here (it only filters).
        """
        m = q.matcher(self.searcher)
        keep = np.zeros(len(candidates.ids), dtype=bool)
        for i, docnum in enumerate(candidates.ids.tolist()):
            if not m.is_active():
                break
            if m.id() < docnum:
                m.skip_to(docnum)
                if not m.is_active():
                    break
            keep[i] = m.id() == docnum
        return Matches(candidates.ids[keep], candidates.scores[keep])

    # -- ordering ---------------------------------------------------------------------------
    def column(self, fieldname: str) -> np.ndarray:
        """A numeric sortable column for every document, as order-preserving keys (0 where absent)."""
        parts = []
        for leaf, _offset in self.leaves:
            n = leaf.doc_count_all()
            values = np.zeros(n, dtype=np.int64)
            if leaf.has_column(fieldname):
                cr = leaf.column_reader(fieldname)
                # A numeric column is stored in an order-preserving ("sortable") encoding behind a
                # translating reader; the raw values order documents the same way.
                cr = getattr(cr, "_reader", cr)
                try:
                    raw = cr._dbfile.get(cr._basepos, cr._count * cr._fixedlen)
                    arr = np.frombuffer(raw, dtype=np.dtype(">" + cr._typecode)).astype(np.int64)
                except AttributeError:
                    arr = np.asarray(list(cr), dtype=np.int64)
                values[: min(n, len(arr))] = arr[:n]
            parts.append(values)
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def top(self, m: Matches, start: int, count: int, by_date: bool, oldest: bool = False) -> list[tuple[int, float]]:
        """``count`` (docnum, score) from position ``start`` of the ordered matches (by date: newest
        first, or with ``oldest`` oldest first)."""
        if start >= len(m.ids):
            return []
        if by_date:
            dates = self.column("date")[m.ids]
            order = np.lexsort((m.ids, dates)) if oldest else np.lexsort((-m.ids, -dates))  # newest first
        else:
            order = np.lexsort((m.ids, -m.scores))
        chosen = order[start : start + count]
        return [(int(m.ids[i]), float(m.scores[i])) for i in chosen]
