"""Review queue and corrections, upload, statistics and the admin pages."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from core.archive import Archive
from tests.helpers import SAMPLES
from tests.web.helpers import PASSWORD, WebArchive

pytestmark = pytest.mark.django_db


def _audit(action: str) -> list[Any]:
    from web.audit.models import AuditEntry

    return list(AuditEntry.objects.filter(action=action).order_by("id"))


# -- review -----------------------------------------------------------------------------------
def test_review_queue_lists_own_stores_documents_oldest_first(client: Client, login: Any, make_user: Any,
                                                              web_archive: WebArchive) -> None:
    login(make_user("clerk", "clerk", ("A",)))
    resp = client.get("/review/")
    assert resp.status_code == 200
    ids = [r["hit"].id for r in resp.context["rows"]]
    expected = {i for i in web_archive.ids("A") if web_archive.archive.load(i).needs_review}
    assert set(ids) == expected
    dates = [r["hit"].fields["date"] or "0000" for r in resp.context["rows"]]  # undated first: their date needs fixing
    assert dates == sorted(dates)


def test_correction_is_recorded_like_the_cli_and_searchable_at_once(client: Client, login: Any, make_user: Any,
                                                                    fresh_archive: WebArchive) -> None:
    login(make_user("clerk", "clerk", ("A",)))
    doc_id = fresh_archive.ids("A")[0]
    before = fresh_archive.archive.load(doc_id)
    old = before.fields["customer_name"].value if "customer_name" in before.fields else None
    page = client.get(f"/review/{doc_id}/")
    assert page.status_code == 200 and 'id="f_customer_name"' in page.content.decode()
    resp = client.post(f"/review/{doc_id}/", {"action": "save", "f_customer_name": "欧阳测试"},
                       headers={"x-requested-with": "fetch"})
    assert resp.status_code == 200, resp.content
    assert resp.json()["fields"]["customer_name"]["value"] == "欧阳测试"
    after = Archive(fresh_archive.root).load(doc_id)
    entry = after.history[-1]
    assert (entry["field"], entry["old"], entry["new"], entry["user"]) == ("customer_name", old, "欧阳测试", "clerk")
    assert after.fields["customer_name"].source == "review"
    for url in (f"/doc/{doc_id}/", f"/review/{doc_id}/"):  # the history table on both pages
        html = client.get(url).content.decode()
        row = html[html.index("审核记录"):]
        assert "<td>clerk</td><td>customer_name</td>" in row and "<td>欧阳测试</td>" in row, url
    hits = client.get("/", {"q": "欧阳测试"}).context["results"].hits
    assert [h.id for h in hits] == [doc_id]
    (a,) = _audit("correction")
    assert a.target == doc_id and a.detail["new"] == "欧阳测试" and a.actor == "clerk"


def test_confirm_all_clears_review_and_moves_on(client: Client, login: Any, make_user: Any,
                                                fresh_archive: WebArchive) -> None:
    login(make_user("clerk", "clerk", ("A",)))
    pending = [i for i in fresh_archive.ids("A") if fresh_archive.archive.load(i).needs_review]
    if not pending:
        pytest.skip("no document of store A needs review in this archive")
    doc = fresh_archive.archive.load(pending[0])
    form = {"action": "confirm"}
    form.update({f"f_{k}": str(v.value) for k, v in doc.fields.items() if v.value is not None})
    resp = client.post(f"/review/{doc.id}/", form)
    assert resp.status_code == 302
    after = Archive(fresh_archive.root).load(doc.id)
    doubtful_before = {k for k, v in doc.fields.items() if v.confidence < 0.8 and v.value is not None}
    assert {e["field"] for e in after.history} == doubtful_before
    assert all(after.fields[k].confidence == 1.0 for k in doubtful_before)
    assert resp["Location"] != f"/review/{doc.id}/"


def test_clerk_cannot_correct_another_stores_document(client: Client, login: Any, make_user: Any,
                                                      fresh_archive: WebArchive) -> None:
    login(make_user("clerk", "clerk", ("A",)))
    other = fresh_archive.ids("B")[0]
    assert client.get(f"/review/{other}/").status_code == 404
    resp = client.post(f"/review/{other}/", {"action": "save", "f_customer_name": "x"})
    assert resp.status_code == 404
    assert not Archive(fresh_archive.root).load(other).history


def test_advisor_has_no_review_queue(client: Client, login: Any, make_user: Any, web_archive: WebArchive) -> None:
    login(make_user("adv", "advisor", ("A",)))
    assert client.get("/review/").status_code == 403
    assert client.get(f"/review/{web_archive.ids('A')[0]}/").status_code == 404


# -- upload -----------------------------------------------------------------------------------
def _sample(suffix: str) -> Path:
    return next(p for p in sorted(SAMPLES.iterdir()) if p.suffix == suffix)


def _upload(client: Client, name: str, data: bytes, store: str = "A") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/upload/file/", {"store": store, "file": SimpleUploadedFile(name, data)},
                       headers={"x-requested-with": "fetch"})


def test_upload_names_cannot_escape_the_inbox(client: Client, login: Any, make_user: Any,
                                              fresh_archive: WebArchive) -> None:
    login(make_user("clerk", "clerk", ("A",)))
    data = _sample(".png").read_bytes()  # archived already: a duplicate, no OCR
    for name in ("../../../escape.png", "..\\..\\escape2.png", "/etc/cron.d/escape3.png", ".hidden.png"):
        resp = _upload(client, name, data)
        assert resp.status_code == 200, resp.content
        j = resp.json()
        assert j["status"] == "duplicate" and "/" not in j["name"] and "\\" not in j["name"]
        assert not j["name"].startswith(".")
    base = fresh_archive.root.parent
    assert not list(base.rglob("escape*.png"))  # nothing written anywhere under the test folder
    inbox = fresh_archive.root / "inbox" / "web" / "A"
    assert not inbox.exists() or not any(inbox.iterdir())  # uploads are removed once archived
    from web.documents.work import safe_name

    assert safe_name("../../x.pdf") == "x.pdf"
    assert safe_name("a/b\\..\\c.tif") == "c.tif"
    assert safe_name("..") == "upload"


def test_upload_refuses_non_scans_oversized_and_other_stores(client: Client, login: Any, make_user: Any,
                                                             fresh_archive: WebArchive, settings: Any) -> None:
    login(make_user("clerk", "clerk", ("A",)))
    resp = _upload(client, "notes.txt", b"hello")
    assert resp.status_code == 415 and "不是扫描件" in resp.json()["reason"]
    resp = _upload(client, "fake.pdf", b"<html>not a pdf</html>")
    assert resp.status_code == 415
    resp = _upload(client, "scan.png", _sample(".png").read_bytes(), store="B")
    assert resp.status_code == 403
    settings.WOA = settings.WOA.model_copy(update={"web_max_upload_bytes": 1000})
    resp = _upload(client, "big.png", _sample(".png").read_bytes())
    assert resp.status_code == 413 and "MB" in resp.json()["reason"]
    assert [e.detail["status"] for e in _audit("upload")] == ["refused"] * 4
    # the form without its script (no JavaScript): a page in Chinese with the reason
    from django.core.files.uploadedfile import SimpleUploadedFile

    resp = client.post("/upload/file/", {"store": "A", "file": SimpleUploadedFile("notes.txt", b"hello")})
    assert resp.status_code == 415 and resp["Content-Type"].startswith("text/html")
    assert "不是扫描件" in resp.content.decode() and "notes.txt" in resp.content.decode()


def test_upload_archives_a_new_scan_into_the_store(client: Client, login: Any, make_user: Any,
                                                   fresh_archive: WebArchive) -> None:
    login(make_user("clerk", "clerk", ("A",)))
    from PIL import Image

    img = Image.open(_sample(".png"))
    buf = io.BytesIO()
    img.save(buf, "PNG", pnginfo=None, compress_level=1)  # same page, other bytes: a new document
    resp = _upload(client, "新扫描.png", buf.getvalue())
    assert resp.status_code == 200, resp.content
    j = resp.json()
    assert j["status"] == "archived" and j["name"] == "新扫描.png"
    doc = Archive(fresh_archive.root).load(j["id"])
    assert doc.store == "A" and doc.source_name == "新扫描.png"
    hits = client.get("/", {"q": f"id:{j['id']}"}).context["results"].hits
    assert [h.id for h in hits] == [j["id"]]
    assert _audit("upload")[-1].target == j["id"]
    page = client.get("/upload/")
    assert page.status_code == 200 and 'id="drop"' in page.content.decode()


# -- statistics -------------------------------------------------------------------------------
def _money(v: Any) -> Decimal | None:
    try:
        return Decimal(str(v).replace(",", "").replace("¥", "").replace("￥", "")) if v not in (None, "") else None
    except InvalidOperation:
        return None


def test_statistics_totals_of_own_stores(client: Client, login: Any, make_user: Any, web_archive: WebArchive) -> None:
    login(make_user("mgr", "manager", ("A",)))
    resp = client.get("/statistics/")
    assert resp.status_code == 200
    d = resp.context["d"]
    docs = [web_archive.archive.load(i) for i in web_archive.ids("A")]
    expected = Decimal(0)
    for doc in docs:
        f = {k: _money(v.value) for k, v in doc.fields.items() if k in ("labor_cost", "parts_cost", "total_cost")}
        total = f.get("total_cost")
        expected += total if total is not None else (f.get("labor_cost") or 0) + (f.get("parts_cost") or 0)
    assert d["orders"] == len(docs)
    assert Decimal(d["total"]) == expected
    assert [s["store"] for s in d["stores"]] == ["A"]
    html = resp.content.decode()
    assert "data-chart" in html and "echarts.min.js" in html
    resp = client.get("/statistics/export.csv")
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert ["store", "A", str(len(docs))] == rows[[r[0] for r in rows].index("store")][:3]
    assert _audit("export")[-1].target == "statistics"
    assert client.get("/statistics/", {"from": "2024-13-01"}).status_code == 400


def test_advisor_sees_no_statistics(client: Client, login: Any, make_user: Any, web_archive: WebArchive) -> None:
    login(make_user("adv", "advisor", ("A",)))
    assert client.get("/statistics/").status_code == 403


# -- admin ------------------------------------------------------------------------------------
def test_admin_creates_users_grants_roles_and_everything_is_audited(client: Client, make_user: Any,
                                                                    web_archive: WebArchive) -> None:
    boss = make_user("boss", superuser=True)
    client.force_login(boss)
    resp = client.post("/admin/users/", {"username": "xiaoli", "password": PASSWORD, "store": "A", "role": "clerk"})
    assert resp.status_code == 302
    from django.contrib.auth import get_user_model

    li = get_user_model().objects.get(username="xiaoli")
    assert li.password.startswith("argon2$")
    assert client.post(f"/admin/users/{li.pk}/", {"action": "grant", "store": "B", "role": "advisor"}).status_code == 302
    assert sorted(li.memberships.values_list("store__code", "role")) == [("A", "clerk"), ("B", "advisor")]
    assert client.post(f"/admin/users/{li.pk}/", {"action": "disable"}).status_code == 302
    assert client.post("/admin/stores/", {"code": "C", "name": "佛山店"}).status_code == 302
    actions = [(e.action, e.target) for e in _audit("user_create") + _audit("role_grant") + _audit("user_disable")
               + _audit("store_create")]
    assert actions == [("user_create", "xiaoli"), ("role_grant", "xiaoli"), ("user_disable", "xiaoli"),
                       ("store_create", "C")]
    # a weak password is refused with the reason
    resp = client.post("/admin/users/", {"username": "weak", "password": "12345678", "store": "A", "role": "clerk"})
    assert resp.status_code == 400 and not get_user_model().objects.filter(username="weak").exists()


def test_store_admin_manages_only_their_store(client: Client, login: Any, make_user: Any,
                                              web_archive: WebArchive) -> None:
    login(make_user("adm", "admin", ("A",)))
    b_only = make_user("bee", "advisor", ("B",))
    resp = client.get("/admin/users/")
    names = [r["user"].username for r in resp.context["rows"]]
    assert "adm" in names and "bee" not in names
    assert client.get(f"/admin/users/{b_only.pk}/").status_code == 404
    assert client.post("/admin/stores/", {"code": "Z", "name": "x"}).status_code == 403
    resp = client.post("/admin/users/", {"username": "n1", "password": PASSWORD, "store": "B", "role": "clerk"})
    assert resp.status_code == 400  # store B is not theirs to give


def test_auditor_reads_the_audit_trail_with_filters(client: Client, login: Any, make_user: Any,
                                                    web_archive: WebArchive) -> None:
    from web import audit

    audit.record("someone", "download", "abcd", {"file": "pdf"}, "10.1.2.3")
    login(make_user("aud", "auditor", ("A",)))
    resp = client.get("/admin/audit/", {"action": "download"})
    assert resp.status_code == 200
    rows = list(resp.context["page"])
    assert [r.actor for r in rows] == ["someone"]
    resp = client.get("/admin/audit/", {"verify": "1"})
    assert resp.context["broken"] == []
    resp = client.get("/admin/audit/", {"format": "jsonl"})
    lines = [json.loads(x) for x in b"".join(resp.streaming_content).decode().splitlines()]
    assert {x["action"] for x in lines} >= {"login", "download"}
    assert client.get("/admin/users/").status_code == 403
