"""The batch run report: counts, failures with reasons, documents needing review, field coverage."""

from __future__ import annotations

import csv
from pathlib import Path

from app.ingest import IngestResult
from batch.report import ReportWriter, RunSummary, default_report_dir


def _outcomes() -> list[IngestResult]:
    return [
        IngestResult(Path("/in/a.pdf"), "archived", sha256="a" * 64, doc_id="aaaa", pages=1, seconds=2.0, needs_review=True,
                    doubtful=["vin"], present=["order_no", "vin", "plate"], worker="w1", max_rss_kb=400_000),
        IngestResult(Path("/in/b.pdf"), "archived", sha256="b" * 64, doc_id="bbbb", pages=2, seconds=3.0,
                    present=["order_no", "total_cost"], worker="w2", max_rss_kb=600_000),
        IngestResult(Path("/in/c.pdf"), "failed", sha256="c" * 64, error="encrypted PDF <script>x</script>", worker="w2"),
        IngestResult(Path("/in/old.pdf"), "skipped", sha256="d" * 64, doc_id="dddd"),
        IngestResult(Path("/in/copy-of-b.pdf"), "duplicate", sha256="b" * 64, doc_id="bbbb", pages=2, worker="w1"),
    ]  # fmt: skip


def test_report_counts_coverage_failures_and_review(tmp_path: Path) -> None:
    summary = RunSummary(mode="local", workers=2, sources=["/in"], started=1000.0)
    writer = ReportWriter(tmp_path / "r", summary)
    for o in _outcomes():
        writer.add(o)
    summary.finished = 1060.0  # one minute
    html_path = writer.close()

    with open(tmp_path / "r" / "summary.csv", newline="", encoding="utf-8") as fh:
        metrics = {row["metric"]: row["value"] for row in csv.DictReader(fh)}
    assert (metrics["archived"], metrics["duplicate"], metrics["failed"], metrics["skipped"]) == ("2", "1", "1", "1")
    assert metrics["files"] == "5"
    assert metrics["pages"] == "3"  # pages of archived documents only
    assert metrics["pages_per_minute"] == "3.0"
    assert metrics["needs_review"] == "1"
    assert metrics["max_worker_rss_mb"] == "586"
    assert metrics["coverage.order_no"] == "1.000"
    assert metrics["coverage.vin"] == "0.500"
    assert metrics["coverage.total_cost"] == "0.500"
    assert metrics["coverage.phone"] == "0.000"
    assert metrics["workers.w1"] == "2" and metrics["workers.w2"] == "2"

    with open(tmp_path / "r" / "documents.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["status"] for r in rows] == ["archived", "archived", "failed", "skipped", "duplicate"]
    assert rows[2]["error"] == "encrypted PDF <script>x</script>"
    assert rows[0]["doubtful_fields"] == "vin" and rows[0]["needs_review"] == "yes"

    page = html_path.read_text(encoding="utf-8")
    assert "Failures (1)" in page
    assert "encrypted PDF &lt;script&gt;x&lt;/script&gt;" in page and "<script>" not in page
    assert "Documents needing review (1)" in page
    assert "<td>aaaa</td><td>/in/a.pdf</td><td>vin</td>" in page
    assert "<td>vin</td><td>1</td><td>50%</td>" in page
    assert "3.0</b> pages per minute" in page


def test_interrupted_run_is_marked_and_default_dir_is_under_reports(tmp_path: Path) -> None:
    d = default_report_dir(tmp_path)
    assert d.parent == tmp_path / "reports" and d.name.startswith("batch-")
    writer = ReportWriter(d, RunSummary(mode="local", workers=1, sources=[]))
    html_path = writer.close(interrupted=True)
    assert "woa batch report (interrupted)" in html_path.read_text(encoding="utf-8")
    assert "interrupted,yes" in (d / "summary.csv").read_text(encoding="utf-8")


def test_review_facts_match_review_threshold_and_counts_values() -> None:
    from core.models import Document, FieldValue

    doc = Document(
        id="x", source_name="x.pdf", sha256="0" * 64, original="", archive_pdf="", archive_sha256="",
        pages=[], ocr_engine="rapidocr", ocr_version="", ingested_at="",
        fields={
            "vin": FieldValue("LSVAU2180N2183294", 0.95, valid=True),
            "plate": FieldValue("粤B12345", 0.6, valid=True),  # read, but not sure enough
            "phone": FieldValue(None, 0.0),  # not found
            "total_cost": FieldValue("1280.00", 0.8, valid=True),  # exactly at the threshold: fine
        },
    )  # fmt: skip
    res = IngestResult(Path("x.pdf"), "archived", doc_id="x")
    res.add_review_facts(doc, 0.8)
    assert res.doubtful == ["plate", "phone"]
    assert res.present == ["vin", "plate", "total_cost"]
