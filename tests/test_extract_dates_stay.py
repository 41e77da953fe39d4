"""Date out before date in: a confusable digit of the one read less surely (issue 12).

Dot-matrix print through a fax turns an 8 into a 5, 3 or 6 (a row of dots lost); the stay of a
car at the dealer is 0 to ``STAY_DAYS`` days, which one digit repaired must make, and only one.
"""

from __future__ import annotations

from datetime import date

import pytest

from core.models import OcrLine, PageText
from core.settings import Settings
from extractors import extract
from extractors.engine import _date_neighbours

TODAY = date(2026, 12, 1)


def dates(din: str, dout: str, conf_in: float = 0.97, conf_out: float = 0.97) -> dict[str, tuple[str | None, float, bool]]:
    lines = [OcrLine("进厂日期", (100, 300, 200, 340), 0.99), OcrLine(din, (230, 300, 420, 340), conf_in),
             OcrLine("出厂日期", (500, 300, 600, 340), 0.99), OcrLine(dout, (630, 300, 820, 340), conf_out)]
    ex = extract([PageText(1, 1654, 2339, 200, lines)], Settings(), today=TODAY)
    return {f: (ex.fields[f].value, ex.fields[f].confidence, ex.fields[f].valid) for f in ("date_in", "date_out")}


@pytest.mark.parametrize(("case", "din", "dout", "conf_in", "conf_out", "want_in", "want_out"), [
    ("an 8 read as 5 in the less sure date", "2021.08.01", "2021.05.01", 0.97, 0.49, "2021-08-01", "2021-08-01"),
    # 2021-08-01 read 2021.08.07: it repaired, or date out's 3 as an 8; date in was read less surely
    ("a 1 read as 7 in date in, the less sure", "2021.08.07", "2021.08.03", 0.45, 0.97, "2021-08-01", "2021-08-03"),
    ("one digit of one date alone makes a stay", "2021.08.17", "2021.08.12", 0.97, 0.97, "2021-08-11", "2021-08-12"),
])
def test_a_date_before_the_other_repaired_by_one_confusable_digit(
        case: str, din: str, dout: str, conf_in: float, conf_out: float, want_in: str, want_out: str) -> None:
    got = dates(din, dout, conf_in, conf_out)
    assert (got["date_in"][0], got["date_out"][0]) == (want_in, want_out), case
    assert min(got["date_in"][1], got["date_out"][1]) < 0.8, case  # a repair is for review


@pytest.mark.parametrize(("case", "din", "dout"), [
    # 2021-08-01 -> 2021-05-01 or 2021-05-01 -> 2021-08-01, both read as surely: no guess
    ("either date could be the misread one", "2021.08.01", "2021.05.01"),
    ("no one digit makes a stay", "2022.11.20", "2021.02.14"),
    ("two days of date in would do (06-20, 06-23, ...)", "2023.06.28", "2023.06.23"),
])
def test_no_repair_without_one_answer(case: str, din: str, dout: str) -> None:
    got = dates(din, dout)
    assert (got["date_in"][0], got["date_out"][0]) == (din.replace(".", "-"), dout.replace(".", "-")), case
    assert not got["date_in"][2] and not got["date_out"][2] and got["date_out"][1] <= 0.5, case


def test_confusable_neighbours_are_real_dates() -> None:
    assert _date_neighbours("2021-05-01") == ["2021-08-01", "2021-06-01", "2021-05-07"]
    assert "2021-02-30" not in _date_neighbours("2021-02-80")
