"""``woa review list|set`` and ``woa reprocess`` on a real archive directory (sidecars on disk)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.archive import Archive
from core.models import Document, OcrLine, PageText
from core.settings import Settings
from extractors import apply_corrections, extract
from woa.cli import main

BAD_VIN = "LGXF8PX40XGECXXS9"  # check digit wrong (the car's VIN is LGXF8PX45XGECXXS9)
GOOD_VIN = "LGXF8PX45XGECXXS9"


def L(text: str, x0: float, y0: float, x1: float, y1: float) -> OcrLine:
    return OcrLine(text, (x0, y0, x1, y1), 0.97)


def make_doc(doc_id: str, vin: str, settings: Settings) -> Document:
    page = PageText(1, 1654, 2339, 200, [
        L("工单号：WO202403150012", 100, 300, 600, 340),
        L("车架号：" + vin, 100, 360, 700, 400),
        L("车牌号：粤B12345", 100, 420, 600, 460),
        L("进厂日期：2024-03-15", 100, 480, 600, 520),
    ])
    doc = Document(id=doc_id, source_name=f"{doc_id}.jpg", sha256=doc_id * 4, original=f"originals/{doc_id[:2]}/{doc_id}.jpg",
                   archive_pdf=f"pdf/{doc_id[:2]}/{doc_id}.pdf", archive_sha256="", pages=[page], ocr_engine="rapidocr",
                   ocr_version="1.4.4", ingested_at="2026-11-27T09:00:00Z")
    # what ingest does: extract, then re-apply corrections
    result = extract(doc.pages, settings)
    doc.fields, doc.items, doc.confidence, doc.needs_review = result.fields, result.items, result.confidence, result.needs_review
    apply_corrections(doc)
    return doc


@pytest.fixture()
def archive(tmp_path: Path) -> Archive:
    arc = Archive(tmp_path / "arc")
    settings = Settings(archive_dir=arc.root)
    arc.save(make_doc("aaaa000000000001", BAD_VIN, settings))
    arc.save(make_doc("bbbb000000000002", GOOD_VIN, settings))
    return arc


def woa(arc: Archive, *argv: str) -> int:
    return main([*argv, "--archive", str(arc.root)])


def test_review_list_shows_only_doubtful_documents(archive: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    assert woa(archive, "review", "list", "--json") == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["aaaa000000000001"]
    assert list(rows[0]["doubtful"]) == ["vin"]
    assert rows[0]["doubtful"]["vin"]["value"] == BAD_VIN and rows[0]["doubtful"]["vin"]["confidence"] < 0.8


def test_review_set_corrects_keeps_history_and_survives_reprocess(archive: Archive, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WOA_REVIEWER", "clerk-wang")
    assert woa(archive, "review", "set", "aaaa", "vin", GOOD_VIN.lower()) == 0
    raw = archive.load_raw("aaaa000000000001")
    vin = raw["fields"]["vin"]
    assert (vin["value"], vin["source"], vin["confidence"], vin["valid"]) == (GOOD_VIN, "review", 1.0, True)
    assert raw["needs_review"] is False
    (entry,) = raw["history"]
    assert (entry["field"], entry["old"], entry["new"], entry["user"]) == ("vin", BAD_VIN, GOOD_VIN, "clerk-wang")
    assert entry["at"].endswith("Z") and entry["at"][:4] >= "2026"

    assert woa(archive, "reprocess") == 0
    again = archive.load("aaaa000000000001")
    assert again.fields["vin"].value == GOOD_VIN and again.fields["vin"].source == "review"
    assert again.fields["plate"].value == "粤B12345" and again.fields["plate"].source == "extracted"
    assert not again.needs_review and len(again.history) == 1
    assert "reprocessed 2 documents; 0 need review" in capsys.readouterr().out

    assert woa(archive, "review", "list", "--json") == 0
    assert capsys.readouterr().out == ""


def test_review_set_normalises_and_second_correction_wins(archive: Archive) -> None:
    assert woa(archive, "review", "set", "bbbb", "plate", "粤B·D12345") == 0
    assert woa(archive, "review", "set", "bbbb", "date_out", "2024年3月16日") == 0
    assert woa(archive, "review", "set", "bbbb", "plate", "粤B 54321") == 0
    doc = archive.load("bbbb000000000002")
    assert doc.fields["plate"].value == "粤B54321" and doc.fields["date_out"].value == "2024-03-16"
    assert [h["new"] for h in doc.history] == ["粤BD12345", "2024-03-16", "粤B54321"]
    assert doc.history[2]["old"] == "粤BD12345"
    assert woa(archive, "reprocess", "bbbb") == 0
    assert archive.load("bbbb000000000002").fields["plate"].value == "粤B54321"


def test_review_set_rejects_unknown_field_and_document(archive: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        woa(archive, "review", "set", "aaaa", "colour", "red")
    assert woa(archive, "review", "set", "ffff", "vin", GOOD_VIN) == 1
    assert "no document" in capsys.readouterr().err
    assert archive.load("aaaa000000000001").history == []


def test_review_set_keeps_a_value_that_fails_validation_but_warns(archive: Archive,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert woa(archive, "review", "set", "aaaa", "vin", "WDB1234567890123") == 0
    assert "warning" in capsys.readouterr().err
    fv = archive.load("aaaa000000000001").fields["vin"]
    assert fv.value == "WDB1234567890123" and not fv.valid and fv.source == "review"
