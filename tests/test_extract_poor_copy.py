"""A poor copy's values all go to review (``extractors.engine._poor_copy``, issue 12).

A fax of a dot-matrix form is read at a low confidence throughout, and some of its values are
wrong in ways no check sees (a phone's 4 read as 1, the recogniser sure of the 1).
"""

from __future__ import annotations

from datetime import date

import pytest

from core.models import OcrLine, PageText
from core.settings import Settings
from extractors import extract
from extractors.engine import POOR_COPY_MEDIAN

TODAY = date(2026, 12, 1)

FORM = [  # label, value
    ("工单号", "W20231086370"), ("进厂日期", "2023-10-12"), ("出厂日期", "2023-10-12"),
    ("客户", "罗荣福"), ("手机", "18538961613"), ("车牌号", "苏A99F0E"), ("行驶里程", "60877"),
    ("服务顾问", "肖宇梓"), ("车型", "325Li"),
]


def page(conf: float, source: str = "ocr") -> list[PageText]:
    lines = []
    for i, (label, value) in enumerate(FORM):
        y = 300 + 60 * i
        lines += [OcrLine(label, (100, y, 220, y + 40), 0.99), OcrLine(value, (260, y, 560, y + 40), conf)]
    # the rest of the page (terms, headings) read as poorly as the values
    lines += [OcrLine(f"第{i}条 服务条款", (100, 1200 + 50 * i, 900, 1240 + 50 * i), conf) for i in range(12)]
    return [PageText(1, 1654, 2339, 200, lines, source=source)]


@pytest.mark.parametrize(("case", "conf", "source", "poor"), [
    ("a clean scan", 0.97, "ocr", False),
    ("a fax read at 0.85 throughout", 0.85, "ocr", True),
    ("just under the line", POOR_COPY_MEDIAN - 0.01, "ocr", True),
    ("a born-digital page is no copy", 0.85, "pdf-text", False),
])
def test_a_poor_copy_sends_every_value_to_review(case: str, conf: float, source: str, poor: bool) -> None:
    ex = extract(page(conf, source), Settings(), today=TODAY)
    phone = ex.fields["phone"]
    assert phone.value == "18538961613", case
    if poor:
        assert all(fv.confidence < 0.8 for fv in ex.fields.values()), case
        assert "poor copy" in phone.note and ex.needs_review, case
    else:
        assert phone.confidence >= 0.8 and "poor copy" not in phone.note, case


def test_a_few_lines_are_no_copy_to_judge() -> None:
    # a scrap with a label and a value: no median of a page to speak of
    lines = [OcrLine("手机", (100, 300, 220, 340), 0.6), OcrLine("18538961613", (260, 300, 560, 340), 0.9)]
    ex = extract([PageText(1, 1654, 2339, 200, lines)], Settings(), today=TODAY)
    assert "poor copy" not in ex.fields["phone"].note
