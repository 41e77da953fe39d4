"""The mileage against the vehicle's other orders in the archive: an odometer does not run backwards."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.evidence import mileages_for_vehicle
from core.archive import Archive
from core.models import Document, FieldValue, OcrLine, PageText
from core.settings import Settings
from extractors import extract
from index import update_index

TODAY = date(2026, 12, 1)
VIN = "LSVNV2189E2100002"  # check digit 9 (extractors.vin.check_digit)


def _page(mileage: str, day: str, vin: str = VIN) -> list[PageText]:
    lines = [OcrLine("车架号：" + vin, (100, 300, 900, 340), 0.99), OcrLine("车牌号码：沪A12345", (100, 360, 600, 400), 0.99),
             OcrLine("进厂日期：" + day, (100, 420, 600, 460), 0.99), OcrLine("行驶里程：" + mileage, (100, 480, 600, 520), 0.99)]
    return [PageText(1, 1654, 2339, 200, lines)]


def _archived(root: Path, orders: list[tuple[str, str, str]]) -> Archive:
    """An archive with the index of ``orders``: (id, date_in, mileage) of the vehicle VIN."""
    archive = Archive(root)
    docs = []
    for doc_id, day, km in orders:
        doc = Document(doc_id, "old.jpg", doc_id * 4, "", "", "", [], "rapidocr", "1", "2024-01-01T00:00:00Z",
                       fields={"vin": FieldValue(VIN, 1.0, valid=True), "plate": FieldValue("沪A12345", 1.0, valid=True),
                               "date_in": FieldValue(day, 1.0, valid=True), "mileage_km": FieldValue(km, 1.0, valid=True)})
        archive.save(doc)
        docs.append(doc)
    update_index(archive, docs)
    return archive


def test_the_archive_gives_the_vehicles_other_mileages(tmp_path: Path) -> None:
    archive = _archived(tmp_path / "a", [("0123456789abcdef", "2024-03-02", "170012"), ("fedcba9876543210", "2025-01-10", "185000")])
    got = sorted(mileages_for_vehicle(archive)(VIN))
    assert got == [("2024-03-02", 170012), ("2025-01-10", 185000)]
    assert mileages_for_vehicle(archive, exclude_id="0123456789abcdef")(VIN) == [("2025-01-10", 185000)]
    assert mileages_for_vehicle(Archive(tmp_path / "empty"))(VIN) == []


@pytest.mark.parametrize(("read", "day", "confident", "note"), [
    # 177821 read without its 1 (wo11011_006's kind), after 170012 km on an earlier visit
    ("77821", "2024-06-20", False, "earlier order of this vehicle (2024-03-02) read 170012 km"),
    ("177821", "2024-06-20", True, ""),  # between the two visits' readings: as read
    ("190000", "2024-06-20", False, "later order of this vehicle (2025-01-10) read 185000 km"),
    ("77821", "2023-06-20", True, ""),  # before both visits: fewer km is as it should be
])
def test_a_mileage_the_vehicles_other_orders_deny_is_for_review(tmp_path: Path, read: str, day: str,
                                                                confident: bool, note: str) -> None:
    archive = _archived(tmp_path / "a", [("0123456789abcdef", "2024-03-02", "170012"), ("fedcba9876543210", "2025-01-10", "185000")])
    alone = extract(_page(read, day), Settings(), today=TODAY).fields["mileage_km"]
    m = extract(_page(read, day), Settings(), today=TODAY, mileages_for=mileages_for_vehicle(archive)).fields["mileage_km"]
    assert m.value == read == alone.value
    assert alone.confidence >= Settings().review_threshold
    assert (m.confidence >= Settings().review_threshold) is confident, m
    assert note in m.note
