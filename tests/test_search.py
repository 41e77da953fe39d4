"""Search over hand-written work orders: Chinese substrings, identifiers, fields, sorting, paging.

The story: car VIN1 (朗逸) carried plate 粤BA88888 in 2022 and 粤BD12345 from 2024; plate
粤BA88888 was then issued to car VIN2 (速腾). One 2024 order of 粤BD12345 has no readable VIN.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import index
from core.archive import Archive
from core.models import Document, FieldValue, OcrLine, PageText

VIN1 = "LSVAB2BM5KN123456"
VIN2 = "LFV2A21K8E4000777"
VIN3 = "LFMAP22C1K0123789"
VIN4 = "LGXCE4CB7N0011223"

D1, D2, D3, D4, D5, D6 = (f"a00000000000000{i}" for i in range(1, 7))
ALL = {D1, D2, D3, D4, D5, D6}


def make_doc(
    doc_id: str,
    lines: list[str],
    fields: dict[str, str | None],
    items: list[dict[str, object]] | None = None,
    dealer: str | None = None,
    needs_review: bool = False,
) -> Document:
    page = PageText(page_no=1, width=2480, height=3508, dpi=300,
                    lines=[OcrLine(text=t, box=(100, 100 + 60 * i, 2000, 150 + 60 * i), conf=0.93)
                           for i, t in enumerate(lines)])
    return Document(
        id=doc_id, source_name=f"{doc_id}.pdf", sha256=doc_id * 4, original=f"originals/{doc_id[:2]}/{doc_id}.pdf",
        archive_pdf=f"pdf/{doc_id[:2]}/{doc_id}.pdf", archive_sha256=doc_id * 4, pages=[page],
        ocr_engine="rapidocr", ocr_version="1.4.4", ingested_at="2025-01-01T00:00:00Z",
        fields={k: FieldValue(value=v, confidence=0.95 if v else 0.0, valid=v is not None) for k, v in fields.items()},
        items=items or [], confidence=0.9, needs_review=needs_review, tags={"dealer": dealer} if dealer else {},
    )


def documents() -> list[Document]:
    d1 = make_doc(D1, [
        "上汽大众广州天河店 售后服务 维修委托书",
        "工单号：RO2024011500012  进厂日期：2024-01-15 09:30  服务顾问：李娜",
        "客户张伟  联系电话：138-0013-8000",
        "车牌号：粤B·D12345  车架号：LSVAB2BM5KN123456  车型：大众朗逸 1.5L  里程：45678",
        "维修项目  数量  金额",
        "更换机油机滤  1  380.00",
        "四轮定位  1  200.00",
        "配件：BOSCH 滤清器 0986AF0051",
        "工时费：300.00  材料费：980.00  合计：¥1,280.00",
    ], {"order_no": "RO2024011500012", "vin": VIN1, "plate": "粤BD12345", "date_in": "2024-01-15",
        "date_out": "2024-01-15", "mileage_km": "45678", "customer_name": "张伟", "phone": "13800138000",
        "model": "大众朗逸 1.5L", "advisor": "李娜", "labor_cost": "300.00", "parts_cost": "980.00",
        "total_cost": "1280.00"},
        items=[{"kind": "labour", "name": "更换机油机滤", "quantity": "1", "amount": "380.00"},
               {"kind": "labour", "name": "四轮定位", "quantity": "1", "amount": "200.00"},
               {"kind": "part", "name": "BOSCH 滤清器", "quantity": "1", "amount": "700.00"}],
        dealer="广州天河店")
    d2 = make_doc(D2, [
        "上汽大众广州天河店 结算单",
        "结算单号：JS2022061000031  接车日期：2022/6/10",
        "客户名称：张伟  车牌号码：粤B A88888",
        "VIN码：LSVAB2BM5KN123456  行驶里程：20100 公里  车型：大众朗逸 1.5L",
        "委托项目：更换空调滤清器  150.00",
        "应收金额：150.00",
    ], {"order_no": "JS2022061000031", "vin": VIN1, "plate": "粤BA88888", "date_in": "2022-06-10",
        "date_out": "2022-06-10", "mileage_km": "20100", "customer_name": "张伟", "model": "大众朗逸 1.5L",
        "labor_cost": "50.00", "parts_cost": "100.00", "total_cost": "150.00"},
        items=[{"kind": "labour", "name": "更换空调滤清器", "quantity": "1", "amount": "150.00"}],
        dealer="广州天河店")
    d3 = make_doc(D3, [
        "一汽大众深圳南山店 派工单",
        "工单号：SZ24060200088  进厂时间：2024年6月2日  接待员：陈静",
        "车主：王芳  手机：139-2233-4455",
        "牌照号：粤B·A88888  底盘号：LFV2A21K8E4000777  车型：一汽大众速腾 1.4T",
        "故障描述：刹车异响",
        "作业项目：更换刹车片（前） 480.00；更换空气滤清器 120.00",
        "合计：680.00",
    ], {"order_no": "SZ24060200088", "vin": VIN2, "plate": "粤BA88888", "date_in": "2024-06-02",
        "date_out": "2024-06-03", "mileage_km": "60210", "customer_name": "王芳", "phone": "13922334455",
        "model": "一汽大众速腾 1.4T", "advisor": "陈静", "labor_cost": "200.00", "parts_cost": "480.00",
        "total_cost": "680.00"},
        items=[{"kind": "labour", "name": "更换刹车片（前）", "quantity": "1", "amount": "480.00"},
               {"kind": "labour", "name": "更换空气滤清器", "quantity": "1", "amount": "120.00"}],
        dealer="深圳南山店")
    d4 = make_doc(D4, [
        "上汽大众广州天河店 维修委托书",
        "工单号：RO2024030500007  进厂日期：2024-03-05",
        "客户：张伟  车牌号：粤B·D12345  车架号：LSV？？？？？？？？？？？？？？",
        "更换雨刮片  160.00",
        "合计：160.00",
    ], {"order_no": "RO2024030500007", "vin": None, "plate": "粤BD12345", "date_in": "2024-03-05",
        "mileage_km": "50210", "customer_name": "张伟", "labor_cost": "60.00", "parts_cost": "100.00",
        "total_cost": "160.00"},
        items=[{"kind": "labour", "name": "更换雨刮片", "quantity": "1", "amount": "160.00"}],
        dealer="广州天河店", needs_review=True)
    d5 = make_doc(D5, [
        "一汽丰田北京朝阳店 维修结算单",
        "单号：BJ20231231005  结算日期：2023.12.31  服务顾问：王磊",
        "客户：刘洋  电话：010-12345678  车牌：京N·F2345",
        "VIN：LFMAP22C1K0123789  车型：丰田卡罗拉 1.2T",
        "更换机滤及空滤；发动机故障诊断",
        "工时费：1000.00 材料费：1500.00 总计：2500.00",
    ], {"order_no": "BJ20231231005", "vin": VIN3, "plate": "京NF2345", "date_in": "2023-12-31",
        "date_out": "2023-12-31", "customer_name": "刘洋", "phone": "01012345678", "model": "丰田卡罗拉 1.2T",
        "advisor": "王磊", "labor_cost": "1000.00", "parts_cost": "1500.00", "total_cost": "2500.00"},
        items=[{"kind": "labour", "name": "更换机滤", "quantity": "1", "amount": "120.00"},
               {"kind": "labour", "name": "更换空气滤清器", "quantity": "1", "amount": "120.00"},
               {"kind": "labour", "name": "发动机故障诊断", "quantity": "1", "amount": "760.00"}],
        dealer="北京朝阳店")
    # The total was misread (O for 0): not indexed as an amount, and the document is marked for review.
    d6 = make_doc(D6, [
        "比亚迪广州天河店 维修委托书",
        "工单号：BYD2024022900003  进厂日期：2024-02-29",
        "车主赵强  车牌号：粤A·D88888  VIN：LGXCE4CB7N0011223  车型：比亚迪汉EV",
        "空调系统清洗  280.00  用油：Castrol EDGE",
        "合计：12O0.00",
    ], {"order_no": "BYD2024022900003", "vin": VIN4, "plate": "粤AD88888", "date_in": "2024-02-29",
        "customer_name": "赵强", "model": "比亚迪汉EV", "parts_cost": "280.00", "total_cost": "12O0.00"},
        items=[{"kind": "labour", "name": "空调系统清洗", "quantity": "1", "amount": "280.00"}],
        dealer="广州天河店")
    return [d1, d2, d3, d4, d5, d6]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    a = Archive(tmp_path_factory.mktemp("search-archive"))
    docs = documents()
    for d in docs:
        a.save(d)
    index.update_index(a, docs)
    return a


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
