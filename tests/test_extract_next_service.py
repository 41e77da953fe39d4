"""The mileage against the service reminder's next reading (温馨提示：建议下次保养里程 … 公里)."""

from __future__ import annotations

from datetime import date

import pytest

from core.models import OcrLine, PageText
from core.settings import Settings
from extractors import extract
from extractors.mileage import next_service_km, this_visit_km

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(("text", "want"), [
    ("温馨提示：建议下次保养里程149685公里或2021/5/21，以先到者为准。", 149685),
    ("温馨提示：建议下次保养里程 138472公里 或 2021/8/8", 138472),
    ("下次保养：25000km", 25000),
    ("行驶里程 144685", None),  # this visit's reading, no reminder
    ("温馨提示：请妥善保管贵重物品", None),
])
def test_the_reminders_next_reading(text: str, want: int | None) -> None:
    assert next_service_km(text) == want


def test_this_visits_reading_is_the_next_less_a_usual_interval() -> None:
    assert this_visit_km(149685) == [144685, 142185, 139685]
    assert this_visit_km(6000) == [1000]


def page(mileage: str, reminder: str | None, conf: float = 1.0) -> list[PageText]:
    lines = [OcrLine("行驶里程", (143, 508, 250, 548), 1.0), OcrLine(mileage, (308, 499, 389, 545), conf)]
    if reminder:
        lines.append(OcrLine(reminder, (136, 1798, 902, 1836), 0.64))
    return [PageText(1, 1654, 2339, 200, lines)]


REMINDER = "温馨提示：建议下次保养里程149685公里或2021/5/21，以先到者为准。"


@pytest.mark.parametrize(("case", "read", "reminder", "want", "confident", "note"), [
    ("the 1 lost on the cell's rule (wo11015_034): the reminder's 5,000 km before it", "44685", REMINDER,
     "144685", False, "leading digits lost"),
    ("read as printed: a usual interval confirms it", "144685", REMINDER, "144685", True, "usual interval"),
    ("read unsure, confirmed", "139685", REMINDER, "139685", True, "usual interval"),
    ("a digit misread: no round interval between them", "144665", REMINDER, "144665", False, "no round interval"),
    ("another round interval (a dealer's 6,000 km): no doubt", "143685", REMINDER, "143685", True, ""),
    ("no reminder: as read", "44685", None, "44685", True, ""),
])
def test_the_mileage_against_the_next_service(case: str, read: str, reminder: str | None, want: str,
                                              confident: bool, note: str) -> None:
    conf = 0.85 if case.startswith("read unsure") else 1.0
    m = extract(page(read, reminder, conf), Settings(), today=TODAY).fields["mileage_km"]
    assert m.value == want, case
    assert (m.confidence >= Settings().review_threshold) == confident, (case, m.confidence, m.note)
    assert note in m.note, case
