"""One committed sample through the real pipeline (RapidOCR): the sidecar carries the right fields."""

from __future__ import annotations

import json
from pathlib import Path

from app.ingest import ingest_file
from core.archive import Archive
from core.settings import Settings

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "wo07_018.png"  # grid_below layout, values under labels


def test_ingested_sample_has_validated_fields_with_evidence(tmp_path: Path) -> None:
    truth = json.loads(SAMPLE.with_name("wo07_018.truth.json").read_text(encoding="utf-8"))["fields"]
    settings = Settings(archive_dir=tmp_path / "arc", ocr_threads=1)
    res = ingest_file(SAMPLE, settings, update_index=False)
    assert res.status == "archived", res.error
    raw = Archive(settings.archive_dir).load_raw(res.doc_id or "")
    fields = raw["fields"]
    for name in ("vin", "plate", "date_in", "date_out", "phone", "mileage_km", "total_cost", "labor_cost", "parts_cost"):
        assert fields[name]["value"] == truth[name], name
        assert fields[name]["page"] == 1 and len(fields[name]["box"]) == 4
        assert 0.0 <= fields[name]["confidence"] <= 1.0
    assert fields["vin"]["valid"] and fields["vin"]["confidence"] >= settings.review_threshold
    assert fields["total_cost"]["confidence"] >= settings.review_threshold  # labour + parts (+ other - discount) = total
