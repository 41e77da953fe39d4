"""The run report of a batch: ``documents.csv`` (one row per scan), ``summary.csv`` and ``report.html``.

Rows are appended to the CSV as outcomes arrive and only aggregates are kept in memory, so a
run over hundreds of thousands of scans writes its report without holding them all.
"""

from __future__ import annotations

import csv
import html
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from app.ingest import STATUSES, IngestResult
from core.models import CANONICAL_FIELDS

CSV_COLUMNS = (
    "path",
    "status",
    "doc_id",
    "pages",
    "seconds",
    "error",
    "needs_review",
    "doubtful_fields",
    "fields_present",
    "worker",
    "sha256",
)
HTML_ROW_LIMIT = 2000  # per table; the CSV has every row


def default_report_dir(archive_dir: Path, now: datetime | None = None) -> Path:
    now = now or datetime.now()
    return archive_dir / "reports" / f"batch-{now:%Y%m%d-%H%M%S}"


@dataclass
class RunSummary:
    mode: str
    workers: int
    sources: list[str]
    started: float = field(default_factory=time.time)
    finished: float = 0.0
    interrupted: bool = False
    counts: Counter[str] = field(default_factory=Counter)
    pages: int = 0  # pages of documents archived in this run
    ocr_seconds: float = 0.0  # worker time spent on archived documents
    field_counts: Counter[str] = field(default_factory=Counter)
    needs_review: int = 0
    max_rss_kb: int = 0
    per_worker: Counter[str] = field(default_factory=Counter)

    def add(self, o: IngestResult) -> None:
        self.counts[o.status] += 1
        if o.worker:
            self.per_worker[o.worker] += 1
        self.max_rss_kb = max(self.max_rss_kb, o.max_rss_kb)
        if o.status == "archived":
            self.pages += o.pages
            self.ocr_seconds += o.seconds
            self.field_counts.update(o.present)
            self.needs_review += int(o.needs_review)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def wall_seconds(self) -> float:
        return max((self.finished or time.time()) - self.started, 1e-9)

    @property
    def pages_per_minute(self) -> float:
        return 60.0 * self.pages / self.wall_seconds

    def coverage(self) -> list[tuple[str, int, float]]:
        n = self.counts["archived"]
        return [(f, self.field_counts[f], (self.field_counts[f] / n if n else 0.0)) for f in CANONICAL_FIELDS]

    def rows(self) -> list[tuple[str, str]]:
        def ts(t: float) -> str:
            return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds") if t else ""

        out = [
            ("mode", self.mode),
            ("workers", str(self.workers)),
            ("sources", " ".join(self.sources)),
            ("started", ts(self.started)),
            ("finished", ts(self.finished)),
            ("interrupted", "yes" if self.interrupted else "no"),
            ("files", str(self.total)),
        ]
        out += [(s, str(self.counts[s])) for s in STATUSES]
        out += [
            ("needs_review", str(self.needs_review)),
            ("pages", str(self.pages)),
            ("wall_seconds", f"{self.wall_seconds:.1f}"),
            ("pages_per_minute", f"{self.pages_per_minute:.1f}"),
            ("max_worker_rss_mb", f"{self.max_rss_kb / 1024:.0f}"),
        ]
        out += [(f"workers.{w}", str(n)) for w, n in sorted(self.per_worker.items())]
        out += [(f"coverage.{f}", f"{share:.3f}") for f, _, share in self.coverage()]
        return out


def _csv_row(o: IngestResult) -> list[str]:
    return [
        str(o.path),
        o.status,
        o.doc_id or "",
        str(o.pages),
        f"{o.seconds:.2f}",
        o.error or "",
        "yes" if o.needs_review else "",
        " ".join(o.doubtful),
        " ".join(o.present),
        o.worker,
        o.sha256,
    ]


class ReportWriter:
    """Collects outcomes into ``documents.csv`` as they come; ``close()`` writes summary and HTML."""

    def __init__(self, out_dir: Path, summary: RunSummary) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.summary = summary
        self._fh: TextIO | None = open(self.documents_csv, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._csv = csv.writer(self._fh)
        self._csv.writerow(CSV_COLUMNS)

    @property
    def documents_csv(self) -> Path:
        return self.out_dir / "documents.csv"

    @property
    def summary_csv(self) -> Path:
        return self.out_dir / "summary.csv"

    @property
    def html_path(self) -> Path:
        return self.out_dir / "report.html"

    def add(self, outcome: IngestResult) -> None:
        self.summary.add(outcome)
        assert self._fh is not None
        self._csv.writerow(_csv_row(outcome))
        self._fh.flush()

    def close(self, *, interrupted: bool = False) -> Path:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self.summary.finished = self.summary.finished or time.time()
        self.summary.interrupted = interrupted
        with open(self.summary_csv, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(("metric", "value"))
            w.writerows(self.summary.rows())
        with open(self.html_path, "w", encoding="utf-8") as fh:
            fh.write(render_html(self.summary, _read_rows(self.documents_csv)))
        return self.html_path


def _read_rows(path: Path) -> Iterator[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


def _table(headers: tuple[str, ...], rows: Sequence[Sequence[str]], more: int = 0) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "\n".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    note = f'<p class="note">… and {more} more: see documents.csv</p>' if more else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>{note}"


_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f0f0f0}.num{text-align:right}.note{color:#666}.bad{color:#b00}
"""


def render_html(summary: RunSummary, rows: Iterator[dict[str, str]]) -> str:
    failures: list[tuple[str, ...]] = []
    review: list[tuple[str, ...]] = []
    n_fail = n_review = 0
    for r in rows:
        if r["status"] == "failed":
            n_fail += 1
            if len(failures) < HTML_ROW_LIMIT:
                failures.append((r["path"], r["error"]))
        elif r["status"] == "archived" and (r["needs_review"] or r["doubtful_fields"]):
            n_review += 1
            if len(review) < HTML_ROW_LIMIT:
                review.append((r["doc_id"], r["path"], r["doubtful_fields"] or "—"))
    s = summary
    counts: list[tuple[str, str]] = [(st, str(s.counts[st])) for st in STATUSES]
    counts.append(("total", str(s.total)))
    facts = [(k, v) for k, v in s.rows() if not k.startswith(("coverage.", *STATUSES))]
    cov = [(f, str(n), f"{share:.0%}") for f, n, share in s.coverage()]
    title = "woa batch report" + (" (interrupted)" if s.interrupted else "")
    parts = [
        f"<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{title}</title>",
        f"<style>{_CSS}</style></head><body><h1>{title}</h1>",
        f"<p><b>{s.pages_per_minute:.1f}</b> pages per minute; {s.pages} pages archived in "
        f"{s.wall_seconds / 60:.1f} minutes by {s.workers} worker(s).</p>",
        "<h2>Counts</h2>",
        _table(("status", "files"), counts),
        "<h2>Run</h2>",
        _table(("item", "value"), facts),
        "<h2>Field coverage</h2><p>Share of the documents archived in this run with a value for each field.</p>",
        _table(("field", "documents", "share"), cov),
        f'<h2 class="{"bad" if n_fail else ""}">Failures ({n_fail})</h2>',
        _table(("file", "reason"), failures, n_fail - len(failures)) if n_fail else "<p>None.</p>",
        f"<h2>Documents needing review ({n_review})</h2>",
        _table(("document", "file", "doubtful fields"), review, n_review - len(review)) if n_review else "<p>None.</p>",
        "</body></html>\n",
    ]
    return "\n".join(parts)
