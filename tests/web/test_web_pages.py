"""The pages over the archive, and store scoping: a user sees only the documents of their stores."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client

from core.models import Document
from tests.web.helpers import WebArchive

pytestmark = pytest.mark.django_db


def _doc(wa: WebArchive, store: str, need_vin: bool = True) -> Document:
    for doc_id in wa.ids(store):
        doc = wa.archive.load(doc_id)
        vin = doc.fields.get("vin")
        if not need_vin or (vin and vin.valid and doc.fields.get("plate") and doc.fields["plate"].value):
            return doc
    raise AssertionError(f"no document with a valid VIN and a plate in store {store}")


def _audit(action: str) -> list[Any]:
    from web.audit.models import AuditEntry

    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def test_search_by_vin_tail_and_plate_with_dot(client: Client, login: Any, make_user: Any,
                                                web_archive: WebArchive) -> None:
    login(make_user("adv", "advisor", ("A",)))
    doc = _doc(web_archive, "A")
    vin = str(doc.fields["vin"].value)
    resp = client.get("/", {"q": vin[-8:]})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert f"/doc/{doc.id}/" in html
    assert vin in html
    assert "<mark>" in html  # the matched text is highlighted
    plate = str(doc.fields["plate"].value)
    dotted = plate[:2] + "·" + plate[2:]
    resp = client.get("/", {"q": dotted})
    assert f"/doc/{doc.id}/" in resp.content.decode()


def test_search_never_shows_another_stores_documents(client: Client, login: Any, make_user: Any,
                                                     web_archive: WebArchive) -> None:
    login(make_user("adv", "advisor", ("A",)))
    other = _doc(web_archive, "B")
    vin = str(other.fields["vin"].value)
    for q in (vin, vin[-8:], f"vin:{vin[-6:]}", f"id:{other.id[:6]}", str(other.fields["order_no"].value)):
        html = client.get("/", {"q": q}).content.decode()
        assert other.id not in html, q
    # an empty-ish query listing everything shows exactly store A's documents
    resp = client.get("/", {"q": "date:2000..2100", "per_page": 100})
    assert resp.context["results"].total == sum(
        1 for i in web_archive.ids("A") if web_archive.archive.load(i).fields.get("date_in"))
    assert all(row["store"] == "A" for row in resp.context["rows"])
    # asking for store B explicitly gives nothing
    assert client.get("/", {"q": vin, "store": "B"}).context["results"].total == 0


def test_document_of_another_store_is_not_found(client: Client, login: Any, make_user: Any,
                                                web_archive: WebArchive) -> None:
    login(make_user("adv", "advisor", ("A",)))
    other = _doc(web_archive, "B", need_vin=False)
    for url in (f"/doc/{other.id}/", f"/doc/{other.id[:6]}/", f"/doc/{other.id}/download/original/",
                f"/doc/{other.id}/download/pdf/", f"/doc/{other.id}/page/1/1000.jpg"):
        resp = client.get(url)
        assert resp.status_code == 404, url
        assert "找不到" in resp.content.decode() or url.endswith(".jpg")
    # the same answer as for a document that does not exist
    assert client.get("/doc/ffffffffffffffff/").status_code == 404
    assert not _audit("view") and not _audit("download")


def test_document_page_shows_fields_boxes_and_downloads(client: Client, login: Any, make_user: Any,
                                                       web_archive: WebArchive) -> None:
    login(make_user("adv", "advisor", ("A",)))
    doc = _doc(web_archive, "A")
    resp = client.get(f"/doc/{doc.id[:8]}/")
    assert resp.status_code == 200
    html = resp.content.decode()
    vin = doc.fields["vin"]
    page = doc.pages[(vin.page or 1) - 1]
    assert vin.box is not None
    left = round(100 * vin.box[0] / page.width, 3)
    assert 'data-field="vin"' in html and f"left:{left}%" in html
    assert "下载原件" in html and "下载 PDF/A" in html
    img = client.get(f"/doc/{doc.id}/page/1/1000.jpg")
    assert img.status_code == 200 and img["Content-Type"] == "image/jpeg" and img.content[:2] == b"\xff\xd8"
    from PIL import Image

    assert Image.open(io.BytesIO(img.content)).width == 1000
    orig = client.get(f"/doc/{doc.id}/download/original/")
    assert orig.status_code == 200
    assert b"".join(orig.streaming_content) == web_archive.archive.abs(doc.original).read_bytes()
    pdf = client.get(f"/doc/{doc.id}/download/pdf/")
    assert b"".join(pdf.streaming_content)[:5] == b"%PDF-"
    assert [e.target for e in _audit("view")] == [doc.id]
    assert [e.detail["file"] for e in _audit("download")] == ["original", "pdf"]


def test_vehicle_page_lists_the_vins_orders_of_own_stores(client: Client, login: Any, make_user: Any,
                                                          web_archive: WebArchive) -> None:
    login(make_user("adv", "advisor", ("A",)))
    doc = _doc(web_archive, "A")
    vin = str(doc.fields["vin"].value)
    resp = client.get(f"/vehicle/{vin}/")
    assert resp.status_code == 200
    ids = [row["e"].id for row in resp.context["entries"]]
    assert doc.id in ids
    assert all(web_archive.store_of[i] == "A" for i in ids)
    html = resp.content.decode()
    assert "车辆档案" in html and 'id="mileage"' in html
    # the whole VIN's history across stores is only shown to someone with both stores
    both = make_user("mgr", "manager", ("A", "B"))
    c2 = Client()
    c2.force_login(both)
    all_ids = [row["e"].id for row in c2.get(f"/vehicle/{vin}/").context["entries"]]
    assert set(ids) <= set(all_ids)


def test_search_export_csv_and_xlsx_are_scoped_and_audited(client: Client, login: Any, make_user: Any,
                                                          web_archive: WebArchive) -> None:
    login(make_user("mgr", "manager", ("A",)))
    resp = client.get("/export/csv/", {"q": "date:2000..2100"})
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert rows[0][0] == "日期"
    ids = {r[-1] for r in rows[1:]}
    assert ids and ids <= set(web_archive.ids("A"))
    resp = client.get("/export/xlsx/", {"q": "date:2000..2100"})
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(resp.content)).active
    assert {r[-1] for r in ws.iter_rows(min_row=2, values_only=True)} == ids
    assert [e.detail["format"] for e in _audit("export")] == ["csv", "xlsx"]


def test_advisor_may_not_export(client: Client, login: Any, make_user: Any, web_archive: WebArchive) -> None:
    login(make_user("adv", "advisor", ("A",)))
    resp = client.get("/export/csv/", {"q": "date:2000..2100"})
    assert resp.status_code == 403
    assert "无权" in resp.content.decode()


def test_money_and_dates_are_formatted() -> None:
    from web.templatetags.woa import format_yuan, isodate

    assert format_yuan("1236.5") == "¥1,236.50"
    assert format_yuan("1236.50") == "¥1,236.50"
    assert format_yuan(None) == ""
    assert isodate("2024-03-15T08:00:00") == "2024-03-15"


def test_exported_text_cannot_become_a_formula() -> None:
    from web.documents.views import cell

    assert cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert cell("+86 138") == "'+86 138" and cell("@x") == "'@x" and cell("-1") == "'-1"
    assert cell("张伟") == "张伟" and cell(1236.5) == 1236.5
