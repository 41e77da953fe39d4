"""Search over hand-written work orders: Chinese substrings, identifiers, fields, sorting, paging.

The story: car VIN1 (朗逸) carried plate 粤BA88888 in 2022 and 粤BD12345 from 2024; plate
粤BA88888 was then issued to car VIN2 (速腾). One 2024 order of 粤BD12345 has no readable VIN.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import index
from core.archive import Archive
from tests.helpers import ALL, D1, D2, D3, D4, D5, D6, VIN1, VIN2, base_archive, documents


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return base_archive(tmp_path_factory.mktemp("search-archive"))


def ids(archive: Archive, query: str, **kw: object) -> set[str]:
    return {h.id for h in index.search(archive, query, limit=50, **kw).hits}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "query, expected",
    [
        # Chinese inside a longer run of characters (the bug of a whole-run tokenizer)
        ("机油", {D1}),
        ("机滤", {D1, D5}),
        ("更换机油机滤", {D1}),
        ("张伟", {D1, D2, D4}),
        ("赵强", {D6}),  # printed as 车主赵强
        ("刹车片", {D3}),
        ("不存在的项目", set()),
        # VIN: whole, last 8, last 6, lower case, field
        (VIN1, {D1, D2}),
        (VIN1.lower(), {D1, D2}),
        (VIN1[-8:], {D1, D2}),
        (VIN1[-6:], {D1, D2}),
        (f"vin:{VIN2[-6:]}", {D3}),
        (f"vin:{VIN2}", {D3}),
        # plate with and without the dot, with and without the province
        ("粤B·D12345", {D1, D4}),
        ("粤BD12345", {D1, D4}),
        ("BD12345", {D1, D4}),
        ("plate:B·D12345", {D1, D4}),
        ("plate:粤BA88888", {D2, D3}),
        ("plate:京N·F2345", {D5}),
        ("粤AD88888", {D6}),
        # other identifiers
        ("order:RO2024011500012", {D1}),
        ("order:ro2024011500012", {D1}),
        ("RO2024011500012", {D1}),
        ("phone:138-0013-8000", {D1}),
        ("phone:4455", {D3}),
        ("2345678", {D5}),  # the last 7 digits of a phone (printed 010-12345678), as free text
        ("5678", set()),  # but not 4: that is more often a year, an amount or a mileage
        ("order:RO2024*", {D1, D4}),
        ("id:a00000000000000", ALL),
        (f"id:{D5}", {D5}),
        # dates: months, days, open ranges
        ("date:2024-01..2024-02", {D1, D6}),
        ("date:2023-12-31..2024-01-15", {D5, D1}),
        ("date:2024-03", {D4}),
        ("date:2024", {D1, D3, D4, D6}),
        ("date:>=2024-03", {D3, D4}),
        ("date:<2023", {D2}),
        ("date:>2023-12", {D1, D3, D4, D6}),
        ("date:<=2023-12-31", {D2, D5}),
        # amounts in yuan (the unreadable 12O0.00 of D6 is not an amount)
        ("total:>1000", {D1, D5}),
        ("total:150..680", {D2, D3, D4}),
        ("total:<200", {D2, D4}),
        ("total:1280", {D1}),
        # text fields
        ("model:朗逸", {D1, D2}),
        ("model:速腾", {D3}),
        ("customer:张伟", {D1, D2, D4}),
        ("advisor:陈静", {D3}),
        ("dealer:广州", {D1, D2, D4, D6}),
        ("dealer:北京朝阳店", {D5}),
        ("needs_review:yes", {D4, D6}),
        ("needs_review:no", {D1, D2, D3, D5}),
        # combinations and exclusion
        ("刹车 date:2024", {D3}),
        ("机滤 -机油", {D5}),
        ("dealer:广州 total:>200", {D1}),
        ("张伟 plate:粤BA88888", {D2}),
        ("更换 空气滤清器", {D3, D5}),
        ('"客户 张伟"', {D1, D2, D4}),  # quoted: one term, all of its parts must occur
        ("ＢＯＳＣＨ", {D1}),  # full-width letters
    ],
)
@pytest.mark.parametrize("bm25f", [False, True], ids=["vectorised", "whoosh-matcher"])
def test_search_finds(archive: Archive, query: str, expected: set[str], bm25f: bool) -> None:
    assert ids(archive, query, bm25f=bm25f) == expected


@pytest.mark.parametrize(
    "query, expected",
    [
        ("B0SCH", {D1}),  # one OCR error, retried fuzzily because nothing matched exactly
        ("Castr0l", {D6}),
        ("castrl~", {D6}),  # explicit fuzzy: one character missing
        ("EDGF~1", {D6}),
    ],
)
@pytest.mark.parametrize("bm25f", [False, True], ids=["vectorised", "whoosh-matcher"])
def test_fuzzy_latin_token(archive: Archive, query: str, expected: set[str], bm25f: bool) -> None:
    res = index.search(archive, query, bm25f=bm25f)
    assert {h.id for h in res.hits} == expected


def test_exact_match_is_not_fuzzy(archive: Archive) -> None:
    res = index.search(archive, "BOSCH")
    assert not res.fuzzy and [h.id for h in res.hits] == [D1]
    # a word two edits away is not found by the automatic retry
    assert index.search(archive, "B0SCX").total == 0


def test_hit_fields_and_snippet(archive: Archive) -> None:
    res = index.search(archive, "机油")
    (hit,) = res.hits
    assert hit.fields["order_no"] == "RO2024011500012"
    assert hit.fields["date"] == "2024-01-15"
    assert hit.fields["total"] == "1280.00" and hit.fields["labor"] == "300.00"
    assert hit.fields["plate"] == "粤BD12345" and hit.fields["vin"] == VIN1
    assert hit.fields["mileage_km"] == 45678
    assert "更换[机油]机滤" in hit.marked("[", "]")
    assert hit.score is not None and hit.score > 0


def test_snippet_marks_plate_as_printed(archive: Archive) -> None:
    res = index.search(archive, "BD12345")
    marked = {h.id: h.marked("[", "]") for h in res.hits}
    assert "[B·D12345]" in marked[D1]


def test_snippet_html_escapes_text(archive: Archive) -> None:
    d = index.search(archive, "机油").to_dict()
    assert "<b>机油</b>" in d["hits"][0]["snippet"]
    assert d["total"] == 1 and d["pages"] == 1


@pytest.mark.parametrize("bm25f", [False, True], ids=["vectorised", "whoosh-matcher"])
def test_sort_by_date_and_paging(archive: Archive, bm25f: bool) -> None:
    everything = index.search(archive, "date:2024", sort="date", limit=10, bm25f=bm25f)
    assert [h.id for h in everything.hits] == [D3, D4, D6, D1]  # newest first
    page2 = index.search(archive, "date:2024", sort="date", limit=3, page=2, bm25f=bm25f)
    assert page2.total == 4 and page2.pages == 2 and [h.id for h in page2.hits] == [D1]
    assert index.search(archive, "date:2024", sort="date", limit=3, page=3, bm25f=bm25f).hits == []
    by_relevance = index.search(archive, "张伟", limit=2, page=2, bm25f=bm25f)
    assert by_relevance.total == 3 and len(by_relevance.hits) == 1


def test_relevance_ranks_more_matching_terms_first(archive: Archive) -> None:
    res = index.search(archive, "更换 空气滤清器 刹车片")
    assert [h.id for h in res.hits] == [D3]
    res = index.search(archive, f"张伟 {VIN1[-6:]}")
    assert {h.id for h in res.hits} == {D1, D2}


def test_bad_queries_are_reported(archive: Archive) -> None:
    for bad in ("date:2024-13", "total:abc", "needs_review:maybe", "vin:12"):
        with pytest.raises(index.QueryError):
            index.search(archive, bad)


def test_update_replaces_and_remove_deletes(tmp_path: Path) -> None:
    a = Archive(tmp_path)
    docs = documents()
    for d in docs:
        a.save(d)
    index.update_index(a, docs)
    assert ids(a, "customer:王芳") == {D3}
    corrected = docs[2]
    corrected.fields["customer_name"].value = "王芳芳"
    corrected.fields["customer_name"].source = "review"
    a.save(corrected)
    index.update_index(a, [corrected])
    assert ids(a, "customer:王芳芳") == {D3}
    assert index.search(a, "").total == len(ALL)  # replaced, not added twice
    index.remove_from_index(a, [D3])
    assert ids(a, "customer:王芳芳") == set()
    assert index.search(a, "").total == len(ALL) - 1
    assert index.indexed_ids(a) == ALL - {D3}
    assert index.rebuild_index(a) == len(ALL)  # the sidecar still exists: reindex brings it back
    assert ids(a, "customer:王芳芳") == {D3}
    assert index.indexed_ids(a) == ALL
    assert index.indexed_ids(Archive(tmp_path / "empty")) is None
