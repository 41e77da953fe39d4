"""Search: run a parsed query on the live index, page the hits and cut highlighted snippets."""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from whoosh import query as Q

from core.archive import Archive
from index import store
from index.analysis import fen_to_yuan, fold_width, norm_plate, terms_with_spans
from index.engine import Evaluator, Unsupported
from index.query import ParsedQuery, parse_query, store_filter

log = logging.getLogger(__name__)

Sort = Literal["relevance", "date", "oldest"]  # date: newest first; oldest: oldest first (review queue)
SNIPPET_LINES = 2
SNIPPET_LINE_CHARS = 80
_SEP = r"[\s·•・.\-]?"


@dataclass
class Hit:
    id: str
    score: float | None  # None when sorted by date
    fields: dict[str, Any]
    snippet: str  # plain text
    highlights: list[tuple[int, int]] = field(default_factory=list)  # spans of ``snippet`` to mark

    def marked(self, start: str = "<b>", end: str = "</b>", escape: bool = True) -> str:
        """The snippet with its highlights wrapped in ``start``/``end`` (HTML-escaped by default)."""
        esc = html.escape if escape else (lambda s: s)
        out, pos = [], 0
        for a, b in self.highlights:
            out += [esc(self.snippet[pos:a]), start, esc(self.snippet[a:b]), end]
            pos = b
        out.append(esc(self.snippet[pos:]))
        return "".join(out)


@dataclass
class SearchResults:
    query: str
    total: int
    page: int
    limit: int
    sort: str
    hits: list[Hit]
    seconds: float
    fuzzy: bool = False  # no exact hit: Latin words were matched with one error allowed

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["pages"] = self.pages
        for h, hd in zip(self.hits, d["hits"], strict=True):
            hd["snippet"] = h.marked()
            del hd["highlights"]
        return d


def hit_fields(stored: dict[str, Any]) -> dict[str, Any]:
    """Stored index fields → what a caller shows: printed values, money in yuan strings."""
    meta = stored.get("meta") or {}
    return {
        "order_no": meta.get("order_no"),
        "date": meta.get("date"),
        "date_in": meta.get("date_in"),
        "date_out": meta.get("date_out"),
        "vin": stored.get("vin"),
        "plate": stored.get("plate"),
        "model": stored.get("model"),
        "make": stored.get("make"),
        "customer": stored.get("customer"),
        "phone": stored.get("phone"),
        "advisor": stored.get("advisor"),
        "dealer": stored.get("dealer"),
        "mileage_km": stored.get("mileage"),
        "labor": fen_to_yuan(stored.get("labor")),
        "parts": fen_to_yuan(stored.get("parts")),
        "total": fen_to_yuan(stored.get("total")),
        "needs_review": bool(stored.get("needs_review")),
        "source_name": meta.get("source_name"),
        "store": stored.get("store"),
        "retain_until": meta.get("retain_until"),
        "hold": bool(stored.get("hold")),
        "tier": stored.get("tier"),
    }


# -- snippets ---------------------------------------------------------------------------------
def _within_one(a: str, b: str) -> bool:
    """Edit distance ≤ 1 (what a fuzzy ``~`` query matched)."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _line_spans(
    line: str, wanted: set[str], fuzzy: list[str], needles: list[re.Pattern[str]]
) -> tuple[set[str], list[tuple[int, int]]]:
    found: set[str] = set()
    spans: list[tuple[int, int]] = []
    # Every term is a literal substring of the (width-folded, lower-cased) line it occurs in: a cheap
    # test before tokenising.
    folded = fold_width(line).lower()
    tokens = terms_with_spans(line) if fuzzy or any(t in folded for t in wanted) else iter(())
    for term, a, b in tokens:
        if term in wanted or (fuzzy and term.isascii() and any(_within_one(term, f) for f in fuzzy)):
            found.add(term)
            spans.append((a, b))
    for needle in needles:
        for m in needle.finditer(line):
            found.add(needle.pattern)
            spans.append(m.span())
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return found, merged


def _needles(query: str) -> list[re.Pattern[str]]:
    """Identifiers in the query (plates, VIN tails) as patterns that allow a printed separator."""
    idents = {norm_plate(c.split(":", 1)[-1]) for c in query.split()}
    idents = {i for i in idents if 5 <= len(i) <= 17 and any(ch.isdigit() for ch in i) and i.isalnum()}
    return [re.compile(_SEP.join(re.escape(ch) for ch in i), re.I) for i in sorted(idents, key=len, reverse=True)]


def make_snippet(text: str, pq: ParsedQuery, query: str) -> tuple[str, list[tuple[int, int]]]:
    """The (up to two) lines matching most query terms, trimmed around the first match."""
    wanted = set(pq.text_terms)
    fuzzy_words = pq.fuzzy_terms
    needles = _needles(query)
    scored = []
    lines = [ln for ln in text.splitlines() if ln.strip()]
    for no, line in enumerate(lines):
        found, spans = _line_spans(line, wanted, fuzzy_words, needles)
        if spans:
            scored.append((len(found), -no, line, spans))
    if not scored:
        return " ".join(lines[:SNIPPET_LINES])[: SNIPPET_LINE_CHARS * SNIPPET_LINES], []
    best = sorted(sorted(scored, reverse=True)[:SNIPPET_LINES], key=lambda s: -s[1])
    parts: list[str] = []
    highlights: list[tuple[int, int]] = []
    offset = 0
    for _, _, line, spans in best:
        start = 0
        if len(line) > SNIPPET_LINE_CHARS:
            start = max(0, min(spans[0][0] - SNIPPET_LINE_CHARS // 4, len(line) - SNIPPET_LINE_CHARS))
        piece = line[start : start + SNIPPET_LINE_CHARS].strip()
        lead = len(line[start:]) - len(line[start:].lstrip())
        if parts:
            parts.append(" … ")
            offset += 3
        for a, b in spans:
            a2, b2 = a - start - lead, b - start - lead
            if a2 >= 0 and b2 <= len(piece):
                highlights.append((offset + a2, offset + b2))
        parts.append(piece)
        offset += len(piece)
    return "".join(parts), highlights


# -- search -----------------------------------------------------------------------------------
def _hit(stored: dict[str, Any], score: float | None, pq: ParsedQuery, query: str) -> Hit:
    snippet, spans = make_snippet(stored.get("text") or "", pq, query)
    return Hit(id=stored["id"], score=None if score is None else round(score, 4), fields=hit_fields(stored),
               snippet=snippet, highlights=spans)


def _run(searcher: Any, pq: ParsedQuery, query: str, limit: int, page: int, sort: Sort, fuzzy: bool,
         bm25f: bool) -> SearchResults:
    started = time.perf_counter()
    oldest = sort == "oldest"
    by_date = oldest or sort == "date" or pq.filters_only
    matches = None
    if not bm25f:
        ev = Evaluator(searcher)
        try:
            matches = ev.eval(pq.query)
        except Unsupported as exc:
            log.debug("query node %s: using Whoosh's matcher", exc)
    if matches is not None:
        total = len(matches.ids)
        top = ev.top(matches, (page - 1) * limit, limit, by_date, oldest=oldest)
        hits = [_hit(searcher.stored_fields(n), None if by_date else s, pq, query) for n, s in top]
    else:
        kwargs: dict[str, Any] = {"sortedby": "date", "reverse": not oldest} if by_date else {}
        res = searcher.search_page(pq.query, page, pagelen=limit, **kwargs)
        total = res.total
        hits = [_hit(h.fields(), None if by_date else float(h.score or 0.0), pq, query)
                for h in (res if res.pagenum == page else [])]  # Whoosh would repeat the last page
    return SearchResults(query=query, total=total, page=page, limit=limit, sort="oldest" if oldest else "date" if by_date else "relevance",
                         hits=hits, seconds=time.perf_counter() - started, fuzzy=fuzzy)


def _restrict(pq: ParsedQuery, stores: Iterable[str] | None) -> ParsedQuery:
    if stores is not None:
        pq.query = Q.And([pq.query, store_filter(stores)])
    return pq


def search(archive: Archive, query: str, limit: int = 20, page: int = 1, sort: Sort = "relevance",
           bm25f: bool = False, stores: Iterable[str] | None = None) -> SearchResults:
    """Search the archive's index. With no exact hit, Latin words are retried allowing one error.

    Ranking is BM25 without length normalisation on vectorised postings (fast on large result
    sets); ``bm25f=True`` uses Whoosh's own BM25F matcher instead (same hits, slower).
    ``stores``: only documents of these store index terms (None: every document).
    """
    if limit < 1 or page < 1:
        raise ValueError("limit and page start at 1")
    stores = None if stores is None else list(stores)
    pq = _restrict(parse_query(query), stores)

    def action(searcher: Any) -> SearchResults:
        res = _run(searcher, pq, query, limit, page, sort, False, bm25f)
        if res.total == 0 and pq.fuzzy_words:
            return _run(searcher, _restrict(parse_query(query, fuzzy_all=True), stores), query, limit, page, sort,
                        True, bm25f)
        return res

    return store.with_searcher(archive, action)
