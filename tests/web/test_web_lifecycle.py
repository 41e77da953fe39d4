"""The lifecycle pages (即将到期, disposal approval, holds, inventory, tiers) and cold documents in
the web app, on a small archive of born-digital orders in stores A and B."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from app.ingest import ingest_file
from app.lifecycle.tier import context, move_to_cold
from app.verify import verify_archive
from core.archive import Archive
from core.settings import Settings, load_settings
from tests.lifecycle_servers import born_digital_scans

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return born_digital_scans(tmp_path_factory)


@dataclass
class Lc:
    archive: Archive
    settings: Settings
    ids: dict[str, list[str]]  # store -> ids


@pytest.fixture
def lc(tmp_path: Path, scans: list[Path], settings: Any) -> Lc:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "tier.key").write_text("33" * 32)
    woa = load_settings(archive_dir=tmp_path / "archive", tier_url=str(tmp_path / "cold"),
                        tier_key_file=tmp_path / "keys" / "tier.key")
    ids: dict[str, list[str]] = {"A": [], "B": []}
    for n, p in enumerate(scans):
        res = ingest_file(p, woa, store="A" if n % 2 == 0 else "B")
        assert res.status == "archived", res.error
        ids["A" if n % 2 == 0 else "B"].append(res.archived_id)
    from app.documents import correct_field

    ar = Archive(woa.archive_dir)
    for store in ids:
        correct_field(ar, ids[store][0], "date_out", "2019-06-30", woa)  # expired since 2025-06-30
        correct_field(ar, ids[store][1], "date_out", "2020-01-10", woa)  # expires 2026-01-10
    settings.WOA = woa
    return Lc(ar, woa, ids)


def test_expiring_page_scoped_and_approval(client: Client, login: Any, make_user: Any, lc: Lc) -> None:
    login(make_user("mgr", "manager", ("A",)))
    html = client.get("/lifecycle/").content.decode()
    due_a, due_b = lc.ids["A"][0], lc.ids["B"][0]
    assert due_a in html and due_b not in html  # only the manager's stores
    assert client.post(f"/lifecycle/doc/{due_b}/approve/").status_code == 404  # another store's: not found
    assert lc.archive.sidecar_path(due_b).is_file()
    resp = client.post(f"/lifecycle/doc/{due_a}/approve/")
    assert resp.status_code == 302
    assert not lc.archive.sidecar_path(due_a).exists() and lc.archive.tombstone_path(due_a).is_file()
    from web.audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="dispose.approve", target=due_a, actor="mgr").count() == 1
    assert verify_archive(lc.archive.root).ok


def test_hold_release_and_roles(client: Client, login: Any, make_user: Any, lc: Lc) -> None:
    adv = make_user("adv", "advisor", ("A",))
    login(adv)
    assert client.get("/lifecycle/").status_code == 403
    assert client.post(f"/lifecycle/doc/{lc.ids['A'][0]}/hold/", {"reason": "x"}).status_code in (403, 404)
    client.logout()
    login(make_user("mgr", "manager", ("A",)))
    doc_id = lc.ids["A"][0]
    assert client.post(f"/lifecycle/doc/{doc_id}/hold/", {"reason": "court case 88"}).status_code == 302
    assert lc.archive.load(doc_id).hold["reason"] == "court case 88"
    due_section = client.get("/lifecycle/").content.decode().split('id="due"')[1].split('id="soon"')[0]
    assert doc_id not in due_section and lc.ids["A"][1] in due_section  # held: no longer due
    holds = client.get("/lifecycle/holds/").content.decode()
    assert doc_id in holds and "court case 88" in holds
    client.post(f"/lifecycle/doc/{doc_id}/approve/")
    assert lc.archive.sidecar_path(doc_id).is_file()  # a held document is never disposed of
    assert "legal hold" in client.get(f"/doc/{doc_id}/").content.decode()
    assert client.post(f"/lifecycle/doc/{doc_id}/release/", {"next": "/lifecycle/holds/"}).status_code == 302
    assert lc.archive.load(doc_id).hold is None
    assert client.post(f"/lifecycle/doc/{doc_id}/extend/", {"years": "3", "reason": "warranty"}).status_code == 302
    assert lc.archive.load(doc_id).retain_until == "2028-06-30"


def test_cold_document_opens_in_the_web_app(client: Client, login: Any, make_user: Any, lc: Lc) -> None:
    doc_id = lc.ids["B"][1]
    before = lc.archive.load(doc_id)
    ctx = context(lc.settings)
    assert ctx is not None
    move_to_cold(lc.archive, ctx, doc_id)
    assert not lc.archive.abs(before.archive_pdf).exists()
    login(make_user("adv", "advisor", ("B",)))
    page = client.get(f"/doc/{doc_id}/").content.decode()
    assert "cold storage" in page and "Keep until" in page and "2026-01-10" in page
    pdf = b"".join(client.get(f"/doc/{doc_id}/download/pdf/").streaming_content)  # type: ignore[attr-defined]
    assert hashlib.sha256(pdf).hexdigest() == before.archive_sha256
    assert client.get(f"/doc/{doc_id}/page/1/1000.jpg").status_code == 200
    client.logout()
    login(make_user("boss", "manager", ("B",)))
    tiers = client.get("/lifecycle/tier/").content.decode()
    assert str(lc.settings.tier_url) in tiers
    inv = client.get("/lifecycle/inventory/").content.decode()
    assert 'data-store="B"' in inv and 'data-store="A"' not in inv
