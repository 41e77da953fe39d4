"""Chinese bigram analysis and the identifier/value normalisation shared by indexing and queries."""

from __future__ import annotations

from datetime import date

import pytest

from core.identifiers import parse_day
from index.analysis import (
    CjkBigramTokenizer,
    fen_to_yuan,
    money_to_fen,
    norm_phone,
    norm_plate,
    norm_vin,
    parse_int,
    terms,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("更换机油机滤", ["更换", "换机", "机油", "油机", "机滤"]),
        ("客户张伟", ["客户", "户张", "张伟"]),
        ("油", ["油"]),  # a lone character stays a unigram
        ("车型：大众 朗逸1.5L", ["车型", "大众", "朗逸", "1", "5l"]),
        ("BOSCH 0986AF0051", ["bosch", "0986af0051"]),
        ("ＢＯＳＣＨ１２３", ["bosch123"]),  # full-width folded to ASCII
        ("粤B·D12345", ["粤", "b", "d12345"]),
        ("合计：¥1,280.00", ["合计", "1", "280", "00"]),
        ("", []),
    ],
)
def test_terms(text: str, expected: list[str]) -> None:
    assert terms(text) == expected


def test_tokenizer_positions_and_offsets_match_the_text() -> None:
    text = "更换ＡＢ机油 x"
    toks = [(t.text, t.pos, t.startchar, t.endchar)
            for t in CjkBigramTokenizer()(text, positions=True, chars=True)]
    assert toks == [("更换", 0, 0, 2), ("ab", 1, 2, 4), ("机油", 2, 4, 6), ("x", 3, 7, 8)]
    for term, _, a, b in toks:
        assert text[a:b].lower().replace("ａ", "a").replace("ｂ", "b") == term


@pytest.mark.parametrize(
    "raw, vin",
    [
        ("LSVAB2BM5KN123456", "LSVAB2BM5KN123456"),
        ("lsvab2bm5kn123456", "LSVAB2BM5KN123456"),
        ("LSVAB2BM5KNl23456", "LSVAB2BM5KNL23456"),  # l stays L: only I/O/Q are never in a VIN
        ("LSVAB2BM5KO123456", "LSVAB2BM5K0123456"),  # O read for 0
        ("LSV AB2BM5-KN123456", "LSVAB2BM5KN123456"),
    ],
)
def test_norm_vin(raw: str, vin: str) -> None:
    assert norm_vin(raw) == vin


@pytest.mark.parametrize(
    "raw, plate",
    [("粤B·D12345", "粤BD12345"), ("粤b d12345", "粤BD12345"), ("京N.F2345", "京NF2345"), ("粤BD12345", "粤BD12345")],
)
def test_norm_plate(raw: str, plate: str) -> None:
    assert norm_plate(raw) == plate


@pytest.mark.parametrize(
    "raw, fen",
    [
        ("1280.00", 128000),
        ("1,280.5", 128050),
        ("¥88", 8800),
        ("￥ 1 280.00", 128000),
        ("RMB 99.99", 9999),
        ("３００.００", 30000),
        ("0.005", 0),  # half-even
        ("-20.00", -2000),
        ("12O0.00", None),
        ("", None),
        (None, None),
    ],
)
def test_money_to_fen(raw: str | None, fen: int | None) -> None:
    assert money_to_fen(raw) == fen


@pytest.mark.parametrize("fen, yuan", [(128000, "1280.00"), (5, "0.05"), (-2000, "-20.00"), (None, None)])
def test_fen_to_yuan(fen: int | None, yuan: str | None) -> None:
    assert fen_to_yuan(fen) == yuan


@pytest.mark.parametrize(
    "raw, d",
    [
        ("2024-03-15", date(2024, 3, 15)),
        ("2024-03-15T10:30:00", date(2024, 3, 15)),
        ("2024/3/5", date(2024, 3, 5)),
        ("2024年3月15日", date(2024, 3, 15)),
        ("2024-02-30", None),
        ("15/03/2024", None),
        (None, None),
    ],
)
def test_parse_day(raw: str | None, d: date | None) -> None:
    assert parse_day(raw) == d


@pytest.mark.parametrize("raw, n", [("45678", 45678), ("45,678 km", 45678), ("45678.0", 45678), ("abc", None)])
def test_parse_int(raw: str, n: int | None) -> None:
    assert parse_int(raw) == n


def test_norm_phone() -> None:
    assert norm_phone("138-0013-8000") == "13800138000"
    assert norm_phone("(020) 1234 5678") == "02012345678"
