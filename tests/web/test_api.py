"""The REST API (web/api): token authentication, the same store scoping as the pages, pagination,
corrections through the CLI's code path, statistics, the OpenAPI schema. Real requests through
Django's full stack; expected values from the samples' ground truth."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tests.helpers import SAMPLES
from tests.web.helpers import PASSWORD, WebArchive


def truth(wa: WebArchive, doc_id: str) -> dict[str, Any]:
    name = wa.archive.load(doc_id).source_name.rsplit(".", 1)[0]
    data: dict[str, Any] = json.loads((SAMPLES / f"{name}.truth.json").read_text(encoding="utf-8"))["fields"]
    return data


@pytest.fixture
def api(client: Any) -> Any:
    """``api(user)`` -> a client that sends the user's token (obtained through POST /api/token/)."""

    def make(user: Any) -> Any:
        r = client.post("/api/token/", {"username": user.username, "password": PASSWORD},
                        content_type="application/json")
        assert r.status_code == 200, r.content
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {r.json()['token']}"
        return client

    return make


def _audit_actions() -> list[tuple[str, str, str]]:
    from web.audit.models import AuditEntry

    return list(AuditEntry.objects.order_by("id").values_list("actor", "action", "target"))


def test_token_wrong_password_audited_and_throttled(client: Any, make_user: Any, web_archive: WebArchive) -> None:
    make_user("alice", "advisor")
    r = client.post("/api/token/", {"username": "alice", "password": "wrong"}, content_type="application/json")
    assert r.status_code == 400 and "token" not in r.json()
    assert ("alice", "login_failed", "api") in _audit_actions()
    for _ in range(10):
        r = client.post("/api/token/", {"username": "alice", "password": "wrong"}, content_type="application/json")
    assert r.status_code == 429
    # even the right password is refused while throttled
    r = client.post("/api/token/", {"username": "alice", "password": PASSWORD}, content_type="application/json")
    assert r.status_code == 429


def test_no_token_is_401_and_a_bad_token_too(client: Any, web_archive: WebArchive, db: Any) -> None:
    assert client.get("/api/search/?q=LSV").status_code == 401
    r = client.get("/api/search/?q=LSV", HTTP_AUTHORIZATION="Token 0123456789abcdef")
    assert r.status_code == 401
    assert "Traceback" not in r.content.decode()


def test_search_is_scoped_and_paged(api: Any, make_user: Any, web_archive: WebArchive) -> None:
    c = api(make_user("adv", "advisor"))
    a_ids, b_ids = web_archive.ids("A"), web_archive.ids("B")
    doc = a_ids[0]
    vin = truth(web_archive, doc)["vin"]
    r = c.get(f"/api/search/?q={vin[-8:]}")
    assert r.status_code == 200
    body = r.json()
    assert [h["id"] for h in body["results"]] == [doc]
    assert body["results"][0]["vin"] == vin and body["results"][0]["store"] == "A"
    # every document of the user's store, one per page; none of store B
    seen: list[str] = []
    url: str | None = "/api/search/?sort=date&page_size=3"
    while url:
        page = c.get(url).json()
        seen += [h["id"] for h in page["results"]]
        url = page["next"]
        assert page["count"] == len(a_ids)
    assert sorted(seen) == a_ids and not set(seen) & set(b_ids)
    # a VIN of store B is not found
    other_vin = truth(web_archive, b_ids[0])["vin"]
    assert c.get(f"/api/search/?q={other_vin}").json()["count"] == 0
    assert c.get("/api/search/?q=date:2024-13").status_code == 400


def test_document_by_id_and_prefix_never_across_stores(api: Any, make_user: Any, web_archive: WebArchive) -> None:
    c = api(make_user("adv", "advisor"))
    a, b = web_archive.ids("A")[0], web_archive.ids("B")[0]
    r = c.get(f"/api/documents/{a[:6]}/")
    assert r.status_code == 200
    d = r.json()
    assert d["id"] == a and d["store"] == "A"
    vin = d["fields"]["vin"]
    assert vin["value"] == truth(web_archive, a)["vin"] and vin["page"] >= 1 and len(vin["box"]) == 4
    page = d["pages"][vin["page"] - 1]
    x0, y0, x1, y1 = vin["box"]
    assert 0 <= x0 < x1 <= page["width"] and 0 <= y0 < y1 <= page["height"]
    unknown = c.get("/api/documents/ffffffffffffffff/").json()
    for url in (f"/api/documents/{b}/", f"/api/documents/{b[:6]}/", f"/api/documents/{b}/fields/",
                f"/api/documents/{b}/corrections/", f"/api/documents/{b}/files/original/"):
        r = c.get(url)
        assert r.status_code == 404, url
        assert r.json() == unknown  # the same answer as for an id that does not exist
    r = c.get(f"/api/documents/{a}/files/original/")
    assert r.status_code == 200
    src = SAMPLES / web_archive.archive.load(a).source_name
    original = src.read_bytes()  # the scanner's file, byte for byte
    assert b"".join(r.streaming_content) == original
    actions = _audit_actions()
    assert ("adv", "view", a) in actions and ("adv", "download", a) in actions


def test_correction_goes_through_the_review_path_and_is_found(api: Any, make_user: Any,
                                                              fresh_archive: WebArchive) -> None:
    c = api(make_user("clerk", "clerk"))
    doc = fresh_archive.ids("A")[0]
    old = fresh_archive.archive.load(doc).fields["customer_name"].value
    r = c.post(f"/api/documents/{doc}/corrections/", {"field": "customer_name", "value": "欧阳修远"},
               content_type="application/json")
    assert r.status_code == 201, r.content
    assert r.json()["old"] == old and r.json()["new"] == "欧阳修远" and r.json()["user"] == "clerk"
    saved = fresh_archive.archive.load(doc)
    assert saved.fields["customer_name"].value == "欧阳修远"
    assert saved.history[-1]["field"] == "customer_name" and saved.history[-1]["user"] == "clerk"
    hits = c.get("/api/search/?q=customer:欧阳修远").json()["results"]
    assert [h["id"] for h in hits] == [doc]
    assert ("clerk", "correct", doc) in _audit_actions()
    assert c.post(f"/api/documents/{doc}/corrections/", {"field": "vin", "value": ""},
                  content_type="application/json").status_code == 400


def test_advisor_cannot_correct(api: Any, make_user: Any, web_archive: WebArchive) -> None:
    c = api(make_user("adv", "advisor"))
    doc = web_archive.ids("A")[0]
    r = c.post(f"/api/documents/{doc}/corrections/", {"field": "customer_name", "value": "x"},
               content_type="application/json")
    assert r.status_code == 404  # get_document(…, "review"): not a document this user may review
    assert web_archive.archive.load(doc).history == []


def test_session_post_without_csrf_token_is_refused(client: Any, make_user: Any, fresh_archive: WebArchive) -> None:
    from django.test import Client

    user = make_user("clerk", "clerk")
    c = Client(enforce_csrf_checks=True)
    c.force_login(user)
    doc = fresh_archive.ids("A")[0]
    r = c.post(f"/api/documents/{doc}/corrections/", {"field": "customer_name", "value": "x"},
               content_type="application/json")
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    assert fresh_archive.archive.load(doc).history == []


def test_vehicle_history(api: Any, make_user: Any, web_archive: WebArchive) -> None:
    c = api(make_user("adv", "advisor"))
    a, b = web_archive.ids("A")[0], web_archive.ids("B")[0]
    t = truth(web_archive, a)
    r = c.get(f"/api/vehicles/{t['vin']}/history/").json()
    assert [e["id"] for e in r["results"]] == [a]
    assert r["results"][0]["order_no"] == t["order_no"] and r["results"][0]["total"] == t["total_cost"]
    assert c.get(f"/api/vehicles/{truth(web_archive, b)['vin']}/history/").json()["count"] == 0


def test_statistics_totals_of_the_users_stores(api: Any, make_user: Any, web_archive: WebArchive) -> None:
    c = api(make_user("boss", "manager"))
    r = c.get("/api/statistics/")
    assert r.status_code == 200
    st = r.json()
    a_ids = web_archive.ids("A")
    assert st["orders"] == len(a_ids)
    want = sum(Decimal(truth(web_archive, i)["total_cost"]) for i in a_ids)
    assert Decimal(st["total"]) == want
    assert [s["store"] for s in st["stores"]] == ["A"]
    assert c.get("/api/statistics/?from=2024-99").status_code == 400
    adv = api(make_user("adv", "advisor"))
    assert adv.get("/api/statistics/").status_code == 403


def test_openapi_schema(client: Any, db: Any) -> None:
    r = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    schema = json.loads(r.content)
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    for p in ("/api/search/", "/api/documents/{doc_id}/", "/api/documents/{doc_id}/fields/",
              "/api/documents/{doc_id}/corrections/", "/api/upload/", "/api/vehicles/{key}/history/",
              "/api/statistics/", "/api/token/"):
        assert p in paths, p
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_upload_through_the_upload_path(api: Any, make_user: Any, fresh_archive: WebArchive) -> None:
    c = api(make_user("clerk", "clerk"))
    scan = next(p for p in sorted(SAMPLES.glob("*.png")))
    # a scan already archived: recorded as a duplicate (no second copy), under a name that tried
    # to climb out of the inbox
    with open(scan, "rb") as fh:
        r = c.post("/api/upload/", {"file": fh, "store": "A"}, format="multipart")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "duplicate" and r.json()["id"] in fresh_archive.ids("A")
    import io

    evil = io.BytesIO(scan.read_bytes())
    evil.name = "../../../etc/passwd.png"
    r = c.post("/api/upload/", {"file": evil, "store": "A"})
    assert r.status_code == 200 and r.json()["name"] == "passwd.png"
    assert not (fresh_archive.root.parent / "etc").exists()
    text = io.BytesIO(b"just some text, not a scan")
    text.name = "notes.pdf"
    r = c.post("/api/upload/", {"file": text, "store": "A"})
    assert r.status_code == 415 and r.json()["status"] == "refused" and r.json()["reason"]
    r = c.post("/api/upload/", {"file": io.BytesIO(scan.read_bytes()), "store": "B"})
    assert r.status_code == 403  # not a store of this clerk
    adv = api(make_user("adv", "advisor"))
    assert adv.post("/api/upload/", {}).status_code == 403
