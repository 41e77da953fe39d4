"""End-to-end tests in a real browser: Debian's chromium, headless, driven by Playwright, against
``woa serve`` (gunicorn) started by the test on a real archive — the committed samples, ingested
by the session fixture and split over two stores (tests/web/conftest.py).

Expected values come from the samples' ground truth (``samples/*.truth.json``), never from the
archive under test: the VIN and plate a clerk would type, the order numbers of a vehicle, the
totals of the statistics. The highlighted VIN box is checked by reading the page image under it
with Tesseract: the box is right when the VIN can be read there.

Screenshots of the main pages (Chinese interface) are written to ``WOA_SCREENSHOTS`` when that is
set (``make screenshots`` writes docs/screenshots/).
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import SAMPLES
from tests.services import WoaServer, postgres_server, run_woa, woa_serve
from tests.web.helpers import PASSWORD, STORES, TEST_DB, WebArchive, two_store_copy

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--lang=zh-CN"]
USERS = {"clerk-a": ("A", "clerk"), "advisor-a": ("A", "advisor"), "manager-a": ("A", "manager"),
         "advisor-b": ("B", "advisor")}
SHOTS = Path(os.environ["WOA_SCREENSHOTS"]) if os.environ.get("WOA_SCREENSHOTS") else None


def truth_of(source_name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / f"{Path(source_name).stem}.truth.json").read_text(encoding="utf-8"))
    return data


@dataclass
class Site:
    server: WoaServer
    wa: WebArchive
    truth: dict[str, dict[str, Any]]  # document id -> ground truth of its sample
    vehicle_ids: list[str]  # two store-A documents of one vehicle (see the fixture)

    @property
    def url(self) -> str:
        return self.server.url

    def ids(self, store: str) -> list[str]:
        return self.wa.ids(store)

    def read_right(self, store: str) -> list[str]:
        """Documents of ``store`` (not the vehicle pair) whose VIN and plate OCR read as printed: the
        search tests type the printed values, and a misread plate is not the web app's business."""
        out = []
        for i in self.ids(store):
            f, t = self.wa.archive.load(i).fields, self.truth[i]["fields"]
            if i not in self.vehicle_ids and all(f.get(k) and f[k].value == t[k] for k in ("vin", "plate")):
                out.append(i)
        return out


def _woa(args: list[str], archive: Path, env: dict[str, str], stdin: str | None = None) -> str:
    out = run_woa(args, archive, env=env, input=stdin)
    assert out.returncode == 0, f"woa {' '.join(args)}: {out.stderr[-2000:]}"
    return out.stdout


@pytest.fixture(scope="module")
def site(web_archive_session: WebArchive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """``woa serve`` on a copy of the two-store archive, its users made with ``woa users``; with
    ``WOA_TEST_DB=postgresql`` its database is a PostgreSQL server started for the module."""
    with ExitStack() as stack:
        env: dict[str, str] = {}
        if TEST_DB == "postgresql":
            env["WOA_DATABASE_URL"] = stack.enter_context(postgres_server()).url
        yield stack.enter_context(_site(web_archive_session, tmp_path_factory, env))


@contextmanager
def _site(web_archive_session: WebArchive, tmp_path_factory: pytest.TempPathFactory,
          env: dict[str, str]) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("served") / "archive"
    wa = two_store_copy(web_archive_session.root, root, web_archive_session.store_of)
    truth = {i: truth_of(wa.archive.load(i).source_name) for i in wa.store_of}
    # Two orders of one car in store A: the second one's VIN is corrected (woa review set, as a
    # clerk does for a misread VIN) to the first one's — now the car has a history of two orders.
    first, second = [i for i in wa.ids("A") if truth[i]["fields"]["vin"]][:2]
    _woa(["review", "set", second, "vin", truth[first]["fields"]["vin"]], root, env)
    for code, name in STORES.items():
        _woa(["stores", "add", code, name], root, env)
    for name, (code, role) in USERS.items():
        _woa(["users", "create", name, "--store", code, "--role", role], root, env, stdin=PASSWORD + "\n")
    _woa(["users", "create", "admin", "--admin"], root, env, stdin=PASSWORD + "\n")
    with woa_serve(root, env=env) as server:
        yield Site(server, wa, truth, [first, second])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # launch() gives the browser a fresh temporary profile (user-data dir) of its own
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    ctx.close()


def log_in(page: Any, site: Site, user: str) -> None:
    page.goto(site.url + "/")
    assert "/login/" in page.url  # not logged in: sent to the log-in page
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r"/(\?.*)?$"))


def shot(page: Any, name: str) -> None:
    """A screenshot of the viewport for docs/screenshots (only when WOA_SCREENSHOTS is set), once
    every image has loaded and the charts have finished their animation."""
    if SHOTS is None:
        return
    page.wait_for_function("() => Array.from(document.images).filter(i => i.getBoundingClientRect().top < innerHeight)"
                           ".every(i => i.complete && i.naturalWidth > 0)", timeout=60_000)
    time.sleep(1.5)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def search(page: Any, site: Site, text: str) -> Any:
    page.goto(site.url + "/")
    page.fill("input[name=q]", text)
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("table.results, p.empty")
    return page


def result_ids(page: Any) -> list[str]:
    hrefs = page.eval_on_selector_all("table.results a[href*='/doc/']", "els => els.map(e => e.getAttribute('href'))")
    return [h.rstrip("/").split("/")[-1] for h in hrefs]


# -- the tests ----------------------------------------------------------------------------------
def test_log_in_shows_the_chinese_interface(page: Any, site: Site) -> None:
    page.goto(site.url + "/")
    assert "/login/" in page.url
    assert page.get_attribute("html", "lang") == "zh-hans"
    assert "登录" in page.inner_text("body")
    shot(page, "login")
    page.fill("input[name=username]", "advisor-a")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit].primary")
    assert "/login/" in page.url and page.locator("[role=alert]").count() == 1
    log_in(page, site, "advisor-a")
    nav = page.inner_text("header nav")
    assert "搜索" in nav
    assert "统计" not in nav  # an advisor has no statistics
    cookie = next(c for c in page.context.cookies() if c["name"] == "woa_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"


def test_search_by_vin_tail_and_by_plate_with_the_dot(page: Any, site: Site) -> None:
    log_in(page, site, "advisor-a")
    for doc_id in site.read_right("A")[:2]:
        f = site.truth[doc_id]["fields"]
        search(page, site, f["vin"][-8:])
        assert result_ids(page) == [doc_id], f"VIN tail {f['vin'][-8:]}"
        assert f["vin"] in page.inner_text("table.results")
        assert page.locator("table.results mark").count() >= 1  # the matched text is highlighted
        dotted = f["plate"][:2] + "·" + f["plate"][2:]
        search(page, site, dotted)
        assert doc_id in result_ids(page), f"plate {dotted}"
    shot(page, "search")
    # a document of the other store is not found by an advisor of store A
    b_doc = site.ids("B")[0]
    search(page, site, site.truth[b_doc]["fields"]["vin"][-8:])
    assert result_ids(page) == []
    assert page.locator("p.empty").count() == 1


def _ocr(png: bytes) -> str:
    import pytesseract
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("L")
    img = img.resize((img.width * 2, img.height * 2))
    return re.sub(r"[^0-9A-Z]", "", pytesseract.image_to_string(img, lang="eng", config="--psm 7").upper())


def test_document_highlights_the_vin_where_the_vin_is(page: Any, site: Site) -> None:
    log_in(page, site, "advisor-a")
    doc_id = site.read_right("A")[0]
    vin = site.truth[doc_id]["fields"]["vin"]
    page.goto(f"{site.url}/doc/{doc_id}/")
    img = page.locator(".page img").first
    img.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    page.hover("#fields tr[data-field=vin]")
    box = page.locator(".page .box.on[data-field=vin]")
    assert box.count() == 1
    box.scroll_into_view_if_needed()
    time.sleep(0.5)  # smooth scrolling
    shot(page, "document")
    bb = box.bounding_box()
    ib = img.bounding_box()
    assert bb and ib and bb["width"] > 20 and bb["height"] > 5
    # the box lies on the page image ...
    assert ib["x"] <= bb["x"] and bb["x"] + bb["width"] <= ib["x"] + ib["width"] + 1
    assert ib["y"] <= bb["y"] and bb["y"] + bb["height"] <= ib["y"] + ib["height"] + 1
    # ... and the VIN can be read under it (the box overlay hidden, a margin of a few pixels)
    page.add_style_tag(content=".page .box { visibility: hidden !important; }")
    pad = 4
    png = page.screenshot(clip={"x": bb["x"] - pad, "y": bb["y"] - pad, "width": bb["width"] + 2 * pad,
                                "height": bb["height"] + 2 * pad})
    read = _ocr(png)
    ratio = difflib.SequenceMatcher(None, read, vin).ratio()
    assert vin[-6:] in read or ratio >= 0.8, f"under the VIN box Tesseract reads {read!r}, not {vin!r}"


def test_vehicle_page_lists_every_order_of_the_vin(page: Any, site: Site) -> None:
    log_in(page, site, "advisor-a")
    first, second = site.vehicle_ids
    vin = site.truth[first]["fields"]["vin"]
    page.goto(f"{site.url}/doc/{first}/")
    page.click("#fields tr[data-field=vin] a")  # the VIN on the document links to the vehicle
    page.wait_for_url(re.compile(r"/vehicle/"))
    rows = page.locator("table.results tbody tr")
    assert rows.count() == 2
    text = page.inner_text("table.results")
    for doc_id in (first, second):
        assert site.truth[doc_id]["fields"]["order_no"] in text
    assert vin in page.inner_text("p.meta")
    shot(page, "vehicle")
    # dates in order, oldest first
    dates = sorted(site.truth[i]["fields"]["date_in"] for i in (first, second))
    assert text.index(dates[0]) < text.index(dates[1])


def test_review_correction_is_found_by_search(page: Any, site: Site) -> None:
    log_in(page, site, "clerk-a")
    page.goto(site.url + "/review/")
    queue = [h.rstrip("/").split("/")[-1] for h in
             page.eval_on_selector_all("table.results a[href*='/review/']",
                                       "els => els.map(e => e.getAttribute('href'))")]
    assert queue, "nothing to review in store A"
    assert set(queue) <= set(site.ids("A"))  # the queue holds the clerk's store only
    shot(page, "review_queue")
    doc_id = queue[0]
    page.click(f"table.results a[href$='/review/{doc_id}/']")
    page.wait_for_selector("#review-form")
    new = "司马光明"
    field = page.locator("#f_customer_name")
    field.click()
    field.fill(new)
    with page.expect_response(lambda r: r.request.method == "POST" and f"/review/{doc_id}/" in r.url) as resp:
        field.press("Enter")  # keyboard first: Enter saves the field
    assert resp.value.ok
    page.wait_for_function("v => document.querySelector('#f_customer_name').dataset.original === v", arg=new)
    shot(page, "review")
    # recorded as `woa review set` records it ...
    history = site.wa.archive.load(doc_id).history
    assert history[-1]["field"] == "customer_name" and history[-1]["new"] == new
    assert history[-1]["user"] == "clerk-a"
    # ... and found by search at once
    search(page, site, new)
    assert result_ids(page) == [doc_id]


def test_statistics_show_the_right_totals(page: Any, site: Site) -> None:
    # (runs before the upload test below, which adds an order to store A)
    log_in(page, site, "manager-a")
    page.goto(site.url + "/statistics/")
    page.wait_for_selector("#grand-total")
    shot(page, "statistics")
    a_ids = site.ids("A")
    want = sum(Decimal(site.truth[i]["fields"]["total_cost"]) for i in a_ids)
    shown = page.inner_text("#grand-total")
    assert shown.startswith("¥") and Decimal(shown[1:].replace(",", "")) == want, (shown, want)
    assert f"{len(a_ids)} " in page.inner_text("p.meta")
    # per store: only store A, with the same total
    stores = page.inner_text("#stores tbody")
    assert "A" in stores and "B" not in stores
    # a date range: only the orders of 2023 (by the printed order date)
    page.goto(site.url + "/statistics/?from=2023-01-01&to=2023-12-31")
    in_2023 = [i for i in a_ids if (site.truth[i]["fields"].get("date_in") or "").startswith("2023")]
    want_2023 = sum(Decimal(site.truth[i]["fields"]["total_cost"]) for i in in_2023)
    assert Decimal(page.inner_text("#grand-total")[1:].replace(",", "")) == want_2023


def _new_scan(tmp: Path) -> tuple[Path, dict[str, Any]]:
    """A work order no archive has seen: the samples generator with a seed of its own."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("woa_samples_generate", SAMPLES / "generate.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = gen  # its dataclasses look their module up
    spec.loader.exec_module(gen)
    paths = gen.generate(tmp, 1, 4242, formats=("png",))
    scan = next(p for p in paths if p.suffix == ".png")
    return scan, json.loads(scan.with_name(scan.stem + ".truth.json").read_text(encoding="utf-8"))


def test_upload_a_scan_and_see_it_appear(page: Any, site: Site, tmp_path: Path) -> None:
    scan, truth = _new_scan(tmp_path)
    log_in(page, site, "clerk-a")
    page.goto(site.url + "/upload/")
    page.set_input_files("#files", str(scan))
    ok = page.locator("#list li .ok a")
    ok.wait_for(timeout=150_000)  # the upload is read (OCR) and archived before the answer
    shot(page, "upload")
    assert ok.inner_text() == page.get_attribute("#list", "data-archived")  # archived, not "already archived"
    ok.click()
    page.wait_for_url(re.compile(r"/doc/[0-9a-f]{16}/$"))
    doc_id = page.url.rstrip("/").split("/")[-1]
    assert doc_id == hashlib.sha256(scan.read_bytes()).hexdigest()[:16]  # the archive's id of these bytes
    meta = page.inner_text("p.meta")
    assert scan.name in meta and "A" in meta  # its file name, the clerk's store
    search(page, site, truth["fields"]["order_no"])  # found by the order number printed on it
    assert doc_id in result_ids(page)


def test_admin_sees_users_and_the_audit_trail(page: Any, site: Site) -> None:
    log_in(page, site, "admin")
    page.goto(site.url + "/admin/users/")
    users = page.inner_text("main")
    for name in USERS:
        assert name in users
    shot(page, "admin_users")
    page.goto(site.url + "/admin/audit/")
    trail = page.inner_text("main")
    assert "advisor-a" in trail and "clerk-a" in trail  # the log-ins and views of the tests before
    shot(page, "audit")
