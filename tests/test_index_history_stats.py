"""Vehicle history (plates linked through the VIN) and statistics, on the hand-written orders."""

from __future__ import annotations

from datetime import date

import pytest

import index
from core.archive import Archive
from tests.helpers import D1, D2, D3, D4, D5, D6, VIN1, VIN2, base_archive


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return base_archive(tmp_path_factory.mktemp("history-archive"))


def history_ids(archive: Archive, key: str) -> list[str]:
    return [e.id for e in index.vehicle_history(archive, key)]


@pytest.mark.parametrize(
    "key, expected",
    [
        # the VIN: both of its plates, plus the order that only has the current plate
        (VIN1, [D2, D1, D4]),
        (VIN1[-8:], [D2, D1, D4]),
        (VIN1[-6:].lower(), [D2, D1, D4]),
        # the current plate, in every spelling: its VIN's whole life including the old plate
        ("粤B·D12345", [D2, D1, D4]),
        ("粤BD12345", [D2, D1, D4]),
        ("BD12345", [D2, D1, D4]),
        # a plate that changed hands: both cars that carried it, each with its whole history
        ("粤BA88888", [D2, D1, D4, D3]),
        (VIN2, [D3]),
        ("京N·F2345", [D5]),
        ("粤AD88888", [D6]),
        ("粤Z99999", []),
    ],
)
def test_vehicle_history(archive: Archive, key: str, expected: list[str]) -> None:
    assert history_ids(archive, key) == expected


def test_history_entry_content(archive: Archive) -> None:
    entries = index.vehicle_history(archive, VIN1)
    first, second, third = entries
    assert (first.date, first.plate, first.mileage_km, first.total) == ("2022-06-10", "粤BA88888", 20100, "150.00")
    assert (second.date, second.plate, second.mileage_km) == ("2024-01-15", "粤BD12345", 45678)
    assert (second.labor, second.parts, second.total) == ("300.00", "980.00", "1280.00")
    assert [i["name"] for i in second.items] == ["更换机油机滤", "四轮定位", "BOSCH 滤清器"]
    assert second.items[0]["amount"] == "380.00"
    assert third.vin is None and third.linked_by == "plate" and third.needs_review
    assert first.linked_by == "vin"


def test_history_rejects_short_keys(archive: Archive) -> None:
    with pytest.raises(ValueError):
        index.vehicle_history(archive, "123")
    with pytest.raises(ValueError):
        index.vehicle_history(archive, "  ")


def test_stats_by_month(archive: Archive) -> None:
    s = index.stats(archive, date(2024, 1, 1), date(2024, 12, 31)).to_dict()
    assert s["orders"] == 4
    assert s["months"] == [
        {"month": "2024-01", "orders": 1, "labor": "300.00", "parts": "980.00", "total": "1280.00"},
        # D6: total unreadable, so labour + parts stands in for it
        {"month": "2024-02", "orders": 1, "labor": "0.00", "parts": "280.00", "total": "280.00"},
        {"month": "2024-03", "orders": 1, "labor": "60.00", "parts": "100.00", "total": "160.00"},
        {"month": "2024-06", "orders": 1, "labor": "200.00", "parts": "480.00", "total": "680.00"},
    ]
    assert (s["labor"], s["parts"], s["total"]) == ("560.00", "1840.00", "2400.00")


def test_stats_top_items_and_models(archive: Archive) -> None:
    s = index.stats(archive).to_dict()
    assert s["orders"] == 6
    assert [m["month"] for m in s["months"]] == ["2022-06", "2023-12", "2024-01", "2024-02", "2024-03", "2024-06"]
    assert s["top_items"][0] == {"name": "更换空气滤清器", "count": 2, "amount": "240.00"}
    assert "BOSCH 滤清器" not in {i["name"] for i in s["top_items"]}  # a part, not repair work
    assert s["top_models"][0] == {"model": "大众朗逸 1.5L", "count": 2}
    assert sum(m["count"] for m in s["top_models"]) == 5  # D4 has no model


def test_stats_range_bounds_inclusive(archive: Archive) -> None:
    assert index.stats(archive, date(2023, 12, 31), date(2024, 1, 15)).orders == 2
    assert index.stats(archive, date(2025, 1, 1), None).orders == 0
    assert index.stats(archive, None, date(2022, 6, 10)).orders == 1
    assert index.stats(archive, "2023-12-31", "2024-01-15").orders == 2  # ISO strings too
    with pytest.raises(ValueError):
        index.stats(archive, "last year")
