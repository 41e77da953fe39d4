"""The repair-items table: a header row (项目名称 / 数量 / 金额 ...) and the rows under it."""

from __future__ import annotations

import re
from typing import Any

from extractors.layout import Line, PageIndex, same_row
from extractors.money import fmt, parse_amount
from extractors.text import nfkc

NAME_HEADERS = ("维修项目", "作业项目", "项目名称", "配件名称", "零件名称", "材料名称", "维修内容", "项目", "名称")
QTY_HEADERS = ("数量", "工时")
AMOUNT_HEADERS = ("金额", "小计", "工时费", "人工费", "费用")
STOP_WORDS = ("合计", "总计", "工时费", "材料费", "应收", "结算金额", "优惠", "备注", "签字", "签名")


def _column(row: list[Line], words: tuple[str, ...]) -> float | None:
    for w in words:
        for ln in row:
            if w in ln.text:
                i = ln.text.find(w)
                b = ln.span_box(i, i + len(w))
                return (b[0] + b[2]) / 2
    return None


def _rows(lines: list[Line]) -> list[list[Line]]:
    rows: list[list[Line]] = []
    for ln in sorted(lines, key=lambda o: (o.box[1], o.box[0])):
        if rows and same_row(rows[-1][0].box, ln.box):
            rows[-1].append(ln)
        else:
            rows.append([ln])
    return [sorted(r, key=lambda o: o.box[0]) for r in rows]


def _nearest(row: list[Line], x: float) -> Line:
    return min(row, key=lambda o: abs((o.box[0] + o.box[2]) / 2 - x))


def extract_items(index: PageIndex) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for lines in index.pages:
        rows = _rows(lines)
        for r, row in enumerate(rows):
            if not any(ln.table_header for ln in row):
                continue
            xs = (_column(row, NAME_HEADERS), _column(row, QTY_HEADERS), _column(row, AMOUNT_HEADERS))
            if xs[0] is None or xs[2] is None:
                continue
            for body in rows[r + 1:]:
                if any(ln.table_header for ln in body) or any(w in ln.text for ln in body for w in STOP_WORDS):
                    break
                item = _item(body, xs)
                if item is None:
                    break
                items.append(item)
    return items


def _item(row: list[Line], xs: tuple[float | None, float | None, float | None]) -> dict[str, Any] | None:
    name_x, qty_x, amount_x = xs
    assert name_x is not None and amount_x is not None
    name = _nearest(row, name_x).text.strip()
    amount_line = _nearest(row, amount_x)
    amount = parse_amount(amount_line.text.split()[-1]) if amount_line.text.split() else None
    if not name or amount is None or re.fullmatch(r"[\d.\s,¥]+", nfkc(name)):
        return None
    qty: str | None = None
    if qty_x is not None:
        q = re.search(r"\d+(?:\.\d+)?", nfkc(_nearest(row, qty_x).text))
        qty = q.group(0) if q else None
    return {"name": name, "quantity": qty, "amount": fmt(amount)}
