"""The repair-items table: a header row (项目名称 / 数量 / 金额 ...) and the rows under it.

Columns are the spans between header cells: numbers are right-aligned under left-aligned titles,
so a value belongs to the column whose span holds its centre, not to the nearest title.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from extractors.labels import IGNORE
from extractors.layout import Line, PageIndex, same_row
from extractors.money import fmt, parse_amount
from extractors.text import nfkc

NAME_HEADERS = ("维修项目", "作业项目", "项目名称", "配件名称", "零件名称", "材料名称", "维修内容", "项目", "名称")
QTY_HEADERS = ("数量", "工时")
AMOUNT_HEADERS = ("金额", "小计", "工时费", "人工费", "费用")
# what a table lists, told by its name column's title (or an amount column titled as labour):
# the work items' amounts add up to the labour cost, the parts lines' to the parts cost
LABOUR_TITLES = ("维修项目", "作业项目", "项目名称", "维修内容", "项目")
PARTS_TITLES = ("配件名称", "零件名称", "材料名称")
LABOUR_AMOUNT_TITLES = ("工时费", "人工费")


@dataclass
class ItemTable:
    """One table of repair items: ``kind`` "labour", "parts" or "" (told by nothing), and whether
    every row under its header was read as an item up to the next header, labelled line or the
    page's end (``complete``: a row whose amount was not read ends it short)."""
    kind: str
    items: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = True
    page: int = 1
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # its header row's

    def total(self) -> Decimal:
        return sum((Decimal(i["amount"]) for i in self.items), Decimal(0))


def _rows(lines: list[Line]) -> list[list[Line]]:
    rows: list[list[Line]] = []
    for ln in sorted(lines, key=lambda o: (o.box[1], o.box[0])):
        if rows and same_row(rows[-1][0].box, ln.box):
            rows[-1].append(ln)
        else:
            rows.append([ln])
    return [sorted(r, key=lambda o: o.box[0]) for r in rows]


def _header_cells(row: list[Line]) -> list[tuple[float, str]]:
    """(left edge, title) of every header cell, also when OCR merged cells into one line."""
    cells = []
    for ln in row:
        pos = 0
        for word in ln.text.split():
            i = ln.text.find(word, pos)
            pos = i + len(word)
            cells.append((ln.span_box(i, pos)[0], word.strip(" :：")))
    return sorted(cells)


def _find(cells: list[tuple[float, str]], titles: tuple[str, ...]) -> int | None:
    """The first cell that is one of ``titles`` (in their order); else one that is a title of four
    characters or more with one of them misread (作业项日, 哪件名称): the header row is known to be
    one already, and its garbled cell is nothing else."""
    for t in titles:
        for i, (_, c) in enumerate(cells):
            if c == t:
                return i
    for t in titles:
        for i, (_, c) in enumerate(cells):
            if len(t) >= 4 and _one_misread(c, t):
                return i
    return None


def _one_misread(cell: str, title: str) -> bool:
    return len(cell) == len(title) and sum(a != b for a, b in zip(cell, title, strict=True)) == 1


def _canonical(title: str, titles: tuple[str, ...]) -> str:
    """``title`` as the one of ``titles`` it is, a character misread allowed (作业项日: 作业项目)."""
    return next((t for t in titles if t == title), None) or next(
        (t for t in titles if len(t) >= 4 and _one_misread(title, t)), title)


def item_tables(index: PageIndex) -> list[ItemTable]:
    """Every item table on the pages, in reading order: a header row (``Line.table_header``) with a
    name and an amount column, and the rows under it that are items."""
    tables: list[ItemTable] = []
    for lines in index.pages:
        rows = _rows(lines)
        for r, row in enumerate(rows):
            if not any(ln.table_header for ln in row):
                continue
            cells = _header_cells(row)
            cols = (_find(cells, NAME_HEADERS), _find(cells, QTY_HEADERS), _find(cells, AMOUNT_HEADERS))
            if cols[0] is None or cols[2] is None:
                continue
            name_title, amount_title = _canonical(cells[cols[0]][1], NAME_HEADERS), cells[cols[2]][1]
            kind = "labour" if name_title in LABOUR_TITLES or amount_title in LABOUR_AMOUNT_TITLES \
                else "parts" if name_title in PARTS_TITLES else ""
            table = ItemTable(kind, page=row[0].page, box=(min(ln.box[0] for ln in row), min(ln.box[1] for ln in row),
                                                           max(ln.box[2] for ln in row), max(ln.box[3] for ln in row)))
            edges = [x for x, _ in cells]
            for body in rows[r + 1:]:
                if any(ln.table_header for ln in body) or any(h.field != IGNORE for ln in body for h in ln.hits):
                    break
                item = _item(body, edges, cols)
                if item is None:
                    # a row with something in the amount column that is no item's: an amount misread
                    # (the table's sum is short); a row with nothing there (a heading) ends it whole
                    table.complete = not _cell_text(body, edges, cols[2])
                    break
                table.items.append(item)
            tables.append(table)
    return tables


def _cell_text(row: list[Line], edges: list[float], col: int) -> str:
    tol = 0.5 * (row[0].box[3] - row[0].box[1])
    parts = [ln.text for ln in row if bisect_right(edges, (ln.box[0] + ln.box[2]) / 2 + tol) - 1 == col]
    return " ".join(parts).strip()


def _item(row: list[Line], edges: list[float], cols: tuple[int | None, int | None, int | None]) -> dict[str, Any] | None:
    name_col, qty_col, amount_col = cols
    assert name_col is not None and amount_col is not None
    name = _cell_text(row, edges, name_col)
    amount_text = _cell_text(row, edges, amount_col)
    amount = parse_amount(amount_text.split()[-1]) if amount_text.split() else None
    if not name or amount is None or re.fullmatch(r"[\d.\s,¥]+", nfkc(name)):
        return None
    qty: str | None = None
    if qty_col is not None:
        q = re.search(r"\d+(?:\.\d+)?", nfkc(_cell_text(row, edges, qty_col)))
        qty = q.group(0) if q else None
    return {"name": name, "quantity": qty, "amount": fmt(amount)}
