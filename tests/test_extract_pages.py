"""A value a continuation page repeats (issue 12): the order number in each page's header."""

from __future__ import annotations

from datetime import date

import pytest

from core.models import OcrLine, PageText
from core.settings import Settings
from extractors import extract

TODAY = date(2026, 12, 1)


def doc(first: str, second: str) -> list[PageText]:
    p1 = PageText(1, 1654, 2339, 200, [OcrLine(f"单据编号：{first}", (207, 385, 496, 422), 0.98),
                                       OcrLine("入厂日期：2023-06-16", (546, 383, 811, 422), 0.9)])
    p2 = PageText(2, 1654, 2339, 200, [OcrLine("杭州鑫达大众汽车销售服务有限公司售后服务委托书（续）", (134, 124, 905, 168), 0.83),
                                       OcrLine(f"单据编号： {second}", (1247, 130, 1538, 164), 0.98)])
    return [p1, p2]


@pytest.mark.parametrize(("case", "first", "second", "want"), [
    ("page 2 lost the W", "W20230620892", "20230620892", "W20230620892"),
    ("page 1 lost the letters", "20230620892", "WO20230620892", "WO20230620892"),
    ("the same on both", "W20230620892", "W20230620892", "W20230620892"),
])
def test_an_order_number_cut_on_one_page_is_the_other_page_s(case: str, first: str, second: str, want: str) -> None:
    assert extract(doc(first, second), Settings(), today=TODAY).fields["order_no"].value == want, case


def test_a_leading_1_on_another_page_is_no_evidence() -> None:
    # 120230620892 on page 2: a 1, or the cell's rule read as one; it does not replace page 1's
    f = extract(doc("20230620892", "120230620892"), Settings(), today=TODAY).fields["order_no"]
    assert "first letters lost" not in f.note
