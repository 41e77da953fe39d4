"""The synthetic samples: determinism, valid ground truth, files as declared, conventions as documented."""

from __future__ import annotations

import json
import math
import re
import subprocess
import unicodedata
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import cv2
import numpy as np
import pikepdf
import pytest
from PIL import Image, ImageFilter

from tests.helpers import load_generator

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
A4_PT = (595.28, 841.89)

# WMI of each brand as it appears in the dealer's name (domain.md)
BRAND_WMI = {"丰田": "LFM", "一汽-大众": "LFV", "大众": "LSV", "宝马": "LBV", "奔驰": "LE4", "日产": "LGB",
             "本田": "LHG", "福特": "LVS", "别克": "LSG", "比亚迪": "LGX"}
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_RE = re.compile(
    rf"^[{PROVINCES}][A-HJ-NP-Z](?:[A-HJ-NP-Z0-9]{{5}}|[DF]\d{{5}}|\d{{5}}[DF]|[A-HJ-NP-Z0-9]{{4}}[挂学警领港澳试超])$"
)


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return load_generator()


def committed() -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for t in sorted(SAMPLES.glob("*.truth.json")):
        truth = json.loads(t.read_text(encoding="utf-8"))
        out.append((SAMPLES / f"{truth['name']}.{truth['format']}", truth))
    return out


COMMITTED = committed()
IDS = [p.name for p, _ in COMMITTED]


def vin_ok(vin: str) -> bool:
    """ISO 3779 check digit, written independently of the generator."""
    values = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
              **dict(zip("JKLMN", range(1, 6), strict=True)), "P": 7, "R": 9,
              **dict(zip("STUVWXYZ", range(2, 10), strict=True))}
    weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
    if len(vin) != 17 or any(c not in values for c in vin):
        return False
    rem = sum(values[c] * w for c, w in zip(vin, weights, strict=True)) % 11
    return vin[8] == ("X" if rem == 10 else str(rem))


def test_vin_checker_itself() -> None:
    assert vin_ok("1M8GDM9AXKP042788")  # the textbook example, check digit X
    assert not vin_ok("1M8GDM9A1KP042788")
    assert not vin_ok("1M8GDM9AXKP04278O")  # letter O is not allowed


@pytest.mark.parametrize(("amount", "printed"), [
    ("1234.50", "壹仟贰佰叁拾肆元伍角"),
    ("1005.07", "壹仟零伍元零柒分"),
    ("100000.00", "壹拾万元整"),
    ("20010.00", "贰万零壹拾元整"),
    ("1000001.01", "壹佰万零壹元零壹分"),
    ("60000.05", "陆万元零伍分"),
    ("736.79", "柒佰叁拾陆元柒角玖分"),
    ("100010000.00", "壹亿零壹万元整"),
])
def test_total_in_chinese_capitals(gen: ModuleType, amount: str, printed: str) -> None:
    assert gen.rmb_upper(Decimal(amount)) == printed


# --------------------------------------------------------------------------------------------
# Generation


def test_many_generated_contents_are_valid(gen: ModuleType) -> None:
    """500 documents' content (no rendering): VIN, WMI, plate, phone, dates and arithmetic."""
    import random

    for k in range(500):
        c = gen.make_content(random.Random(f"bulk-{k}"))
        f = gen.truth_fields(c)
        assert vin_ok(f["vin"]) and f["vin"].startswith(c.brand.wmi), f["vin"]
        assert PLATE_RE.match(f["plate"]), f["plate"]
        assert re.fullmatch(r"1[3-9]\d{9}|0\d{2,3}[2-8]\d{7}", f["phone"]), f["phone"]
        assert f["date_in"] <= f["date_out"]
        m = {key: Decimal(f[key]) for key in ("labor_cost", "parts_cost", "other_cost", "discount", "total_cost")}
        assert m["labor_cost"] + m["parts_cost"] + m["other_cost"] - m["discount"] == m["total_cost"] > 0
        assert m["discount"] < m["labor_cost"] + m["parts_cost"] + m["other_cost"]


def test_generation_is_deterministic_and_seeded(gen: ModuleType, tmp_path: Path) -> None:
    a = gen.generate(tmp_path / "a", 1, 123)
    b = gen.generate(tmp_path / "b", 1, 123)
    c = gen.generate(tmp_path / "c", 1, 124)
    assert [p.name for p in a] == [p.name for p in b]
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes()
        ta = pa.with_name(pa.stem + ".truth.json").read_text(encoding="utf-8")
        assert ta == pb.with_name(pb.stem + ".truth.json").read_text(encoding="utf-8")
    fields_a = [json.loads(p.with_name(p.stem + ".truth.json").read_text(encoding="utf-8"))["fields"] for p in a]
    fields_c = [json.loads(p.with_name(p.stem + ".truth.json").read_text(encoding="utf-8"))["fields"] for p in c]
    assert fields_a != fields_c


def test_formats_option_restricts_output(gen: ModuleType, tmp_path: Path) -> None:
    assert {plan.fmt for plan in gen.plan_batch(8, 5, formats=["pdf", "tif"])} == {"pdf", "tif"}
    paths = gen.generate(tmp_path, 1, 5, formats=["png"])
    assert [p.suffix for p in paths] == [".png"]
    with pytest.raises(ValueError):
        gen.generate(tmp_path, 1, 5, formats=["bmp"])


def test_plan_options_clean_hard_and_pages_mix(gen: ModuleType) -> None:
    clean = [pp for plan in gen.plan_batch(40, 9, clean=True) for pp in plan.page_params]
    assert all(pp.rotation_cw == 0 and pp.skew_ccw == 0 and pp.mode == "grey" and not pp.noise_sigma for pp in clean)
    normal = [pp for plan in gen.plan_batch(40, 9) for pp in plan.page_params]
    hard = [pp for plan in gen.plan_batch(40, 9, hard=True) for pp in plan.page_params]
    assert not any(pp.dark_bed for pp in normal) and any(pp.dark_bed for pp in hard)
    assert max(abs(pp.skew_ccw) for pp in normal) <= 6
    mixed = gen.plan_batch(40, 9, pages_mix=True)
    two = [plan for plan in mixed if plan.pages == 2]
    assert len(two) > len([plan for plan in gen.plan_batch(40, 9) if plan.pages == 2])
    assert any(len({(pp.rotation_cw, pp.mode) for pp in plan.page_params}) == 2 for plan in two)


def test_born_digital_pdf_carries_the_truth_text(gen: ModuleType, tmp_path: Path) -> None:
    """--born-digital PDFs: embedded font, upright A4 pages, pdftotext gives back the drawn text."""
    (path,) = gen.generate(tmp_path, 1, 5, formats=["pdf"], born_digital=True)
    truth = json.loads(path.with_name(path.stem + ".truth.json").read_text(encoding="utf-8"))
    assert truth["born_digital"] and all(p["source"] == "pdf-text" and "runs" not in p for p in truth["pages"])
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "Identity-H" in fonts and " yes yes yes " in fonts
    with pikepdf.open(path) as pdf:
        assert len(pdf.pages) == len(truth["pages"])
        for page in pdf.pages:
            box = [float(v) for v in page.mediabox]
            assert [box[2] - box[0], box[3] - box[1]] == pytest.approx(list(A4_PT), abs=1.5)
    for no, page in enumerate(truth["pages"], 1):
        text = subprocess.run(["pdftotext", "-f", str(no), "-l", str(no), "-enc", "UTF-8", str(path), "-"],
                              capture_output=True, text=True, check=True).stdout
        got = Counter(re.sub(r"\s", "", text))
        want = Counter(re.sub(r"\s", "", page["text"]))
        assert got == want


@pytest.mark.slow  # a fresh RapidOCR on a rendered page; the fast loop checks the truth text on born-digital PDFs
def test_page_text_is_what_was_drawn(gen: ModuleType) -> None:
    """OCR a clean rendering (no seal, no defects): its characters match the truth's page text."""
    from rapidocr_onnxruntime import RapidOCR

    plan = gen.plan_batch(2, 31)[1]
    plan.pages, plan.dpi = 1, 150
    plan.page_params = [gen.ScanParams(seal=False, signature=False)]
    images, truth = gen.build_document(plan, 31)
    result, _ = RapidOCR()(np.asarray(images[0].convert("RGB")))
    read = Counter("".join(r[1] for r in result).replace(" ", ""))
    want = Counter(truth["pages"][0]["text"].replace(" ", "").replace("\n", ""))
    common = sum((read & want).values())
    assert common / sum(want.values()) > 0.97, "drawn text missing from the truth or vice versa"
    assert common / sum(read.values()) > 0.97


# --------------------------------------------------------------------------------------------
# The committed set


def test_committed_set_covers_the_brief() -> None:
    assert 15 <= len(COMMITTED) <= 30
    truths = [t for _, t in COMMITTED]
    assert {t["format"] for t in truths} == {"jpg", "png", "tif", "pdf"}
    assert len({t["layout"] for t in truths}) >= 4
    rotations = {p["rotation_cw"] for t in truths for p in t["pages"]}
    assert {90, 180, 270} <= rotations
    assert any(len(t["pages"]) == 2 for t in truths) and any(len(t["pages"]) == 1 for t in truths)
    assert any(not t["dpi_in_file"] for t in truths)
    assert any(abs(p["skew_ccw"]) >= 2 for t in truths for p in t["pages"])
    kinds = {d["kind"] for t in truths for p in t["pages"] for d in p["degradations"]}
    assert {"fax_binarisation", "carbon_copy", "gaussian_noise", "uneven_illumination", "blur", "seal"} <= kinds
    total = sum(p.stat().st_size for p in SAMPLES.iterdir() if p.is_file())
    assert total < 12 * 1024 * 1024


@pytest.mark.parametrize(("path", "truth"), COMMITTED, ids=IDS)
def test_truth_fields_are_valid(path: Path, truth: dict[str, Any]) -> None:
    f = truth["fields"]
    assert vin_ok(f["vin"]), f["vin"]
    brand = next(b for b in sorted(BRAND_WMI, key=len, reverse=True) if b in truth["dealer"])
    assert f["vin"].startswith(BRAND_WMI[brand])
    assert PLATE_RE.match(f["plate"]), f["plate"]
    assert date.fromisoformat(f["date_out"]) >= date.fromisoformat(f["date_in"])
    assert re.fullmatch(r"1[3-9]\d{9}|0\d{2,3}[2-8]\d{7}", f["phone"]), f["phone"]
    assert re.fullmatch(r"[1-9]\d*", f["mileage_km"])
    for key in ("order_no", "customer_name", "model", "advisor"):
        assert f[key]


@pytest.mark.parametrize(("path", "truth"), COMMITTED, ids=IDS)
def test_truth_arithmetic_holds(path: Path, truth: dict[str, Any]) -> None:
    f = truth["fields"]
    money = {k: Decimal(f[k]) for k in ("labor_cost", "parts_cost", "other_cost", "discount", "total_cost")}
    for k in money:
        assert re.fullmatch(r"\d+\.\d\d", f[k]), (k, f[k])
    assert money["labor_cost"] + money["parts_cost"] + money["other_cost"] - money["discount"] == money["total_cost"]
    labour = [i for i in truth["items"] if i["kind"] == "labour"]
    parts = [i for i in truth["items"] if i["kind"] == "part"]
    assert labour and parts
    assert sum(Decimal(i["amount"]) for i in labour) == money["labor_cost"]
    assert sum(Decimal(i["amount"]) for i in parts) == money["parts_cost"]
    for p in parts:
        assert Decimal(p["unit_price"]) * int(p["quantity"]) == Decimal(p["amount"])


@pytest.mark.parametrize(("path", "truth"), COMMITTED, ids=IDS)
def test_page_text_holds_the_printed_values(path: Path, truth: dict[str, Any]) -> None:
    f = truth["fields"]
    first, last = truth["pages"][0]["text"], unicodedata.normalize("NFKC", truth["pages"][-1]["text"])
    for key in ("order_no", "vin", "customer_name", "model", "advisor"):
        assert f[key] in first, key
    assert f["plate"] in first.replace("·", "")
    assert f["phone"] in re.sub(r"(?<=\d)[- ](?=\d)", "", first)
    total = Decimal(f["total_cost"])
    assert f"{total:.2f}" in last or f"{total:,.2f}" in last
    for item in truth["items"]:
        assert item["name"] in "\n".join(p["text"] for p in truth["pages"])
    if len(truth["pages"]) == 2:
        assert "第2页 共2页" in last and f["order_no"] in last


def open_pages(path: Path) -> list[tuple[Image.Image, float | None]]:
    """(image, dpi recorded in the file or None) per page; for PDFs the dpi implied by the page size."""
    if path.suffix == ".pdf":
        out: list[tuple[Image.Image, float | None]] = []
        with pikepdf.open(path) as pdf:
            for page in pdf.pages:
                box = [float(v) for v in page.mediabox]
                w_pt, h_pt = box[2] - box[0], box[3] - box[1]
                assert sorted((w_pt, h_pt)) == pytest.approx(sorted(A4_PT), abs=1.5)
                (_, raw), = page.get_images().items()
                assert isinstance(raw, pikepdf.Stream)
                img = pikepdf.PdfImage(raw).as_pil_image()
                out.append((img, img.width / (w_pt / 72)))
        return out
    im = Image.open(path)
    pages: list[tuple[Image.Image, float | None]] = []
    for k in range(getattr(im, "n_frames", 1)):
        im.seek(k)
        dpi = im.info.get("dpi")
        pages.append((im.copy(), float(dpi[0]) if dpi else None))
    return pages


@pytest.mark.parametrize(("path", "truth"), COMMITTED, ids=IDS)
def test_sample_file_matches_declared_pages_and_dpi(path: Path, truth: dict[str, Any]) -> None:
    pages = open_pages(path)
    assert len(pages) == len(truth["pages"])
    for (img, dpi), tp in zip(pages, truth["pages"], strict=True):
        if truth["dpi_in_file"]:
            assert dpi == pytest.approx(tp["dpi"], abs=0.5)
        else:
            assert dpi is None
        assert list(img.size) == tp["size_px"]
        # the page is A4 at the declared dpi, turned by the declared rotation
        w_mm, h_mm = (img.width / tp["dpi"] * 25.4, img.height / tp["dpi"] * 25.4)
        expect = (297, 210) if tp["rotation_cw"] in (90, 270) else (210, 297)
        assert (w_mm, h_mm) == pytest.approx(expect, abs=1.0)
        if "fax_binarisation" in {d["kind"] for d in tp["degradations"]}:
            assert img.mode == "1"


UNDO_CW = {0: None, 90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}


def upright(img: Image.Image, rotation_cw: int) -> np.ndarray:
    """Undo the recorded rotation (turn counter-clockwise by rotation_cw); return the ink mask (Otsu)."""
    g = img.convert("L")
    t = UNDO_CW[rotation_cw]
    if t is not None:
        g = g.transpose(t)  # PIL's ROTATE_90 turns counter-clockwise
    grey = np.asarray(g)
    thr, _ = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return grey <= thr


@pytest.fixture(scope="module")
def committed_plans(gen: ModuleType) -> dict[str, Any]:
    """The plans the committed set was made from (seed 7, 20 documents, as in samples/README.md)."""
    return {plan.name: plan for plan in gen.plan_batch(20, 7)}


@pytest.fixture(scope="module")
def composed_at_50dpi(gen: ModuleType, committed_plans: dict[str, Any]) -> dict[str, Any]:
    """Clean upright renders of the committed documents (text and layout do not depend on dpi)."""
    return {name: gen.compose(plan, dpi=50) for name, plan in committed_plans.items()}


def test_committed_samples_are_up_to_date_with_the_generator(gen: ModuleType, composed_at_50dpi: dict[str, Any]) -> None:
    assert sorted(composed_at_50dpi) == sorted(t["name"] for _, t in COMMITTED)
    for _, truth in COMMITTED:
        composed = composed_at_50dpi[truth["name"]]
        assert [cv.page_text() for cv in composed.rendered.canvases] == [p["text"] for p in truth["pages"]]
        assert gen.truth_fields(composed.doc.content) == truth["fields"]
        assert gen.truth_items(composed.doc.content) == truth["items"]


def ink_correlation(clean: Image.Image, scan: Image.Image) -> float:
    """Correlation of the two pages' ink at the clean page's size, shading removed from the scan."""
    a = 255 - np.asarray(clean.convert("L"), dtype=np.float32)
    small = scan.convert("L").resize(clean.size, Image.Resampling.BOX)
    background = np.asarray(small.filter(ImageFilter.GaussianBlur(6)), dtype=np.float32)
    b = background - np.asarray(small, dtype=np.float32)
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / math.sqrt(float((a * a).sum() * (b * b).sum())))


@pytest.mark.parametrize(("path", "truth"), COMMITTED, ids=IDS)
def test_rotation_and_skew_conventions_match_the_image(composed_at_50dpi: dict[str, Any], path: Path,
                                                       truth: dict[str, Any]) -> None:
    """Undoing the recorded rotation (counter-clockwise) and skew (clockwise) gives back the clean
    page: it matches the clean render far better than any other rotation does."""
    clean = composed_at_50dpi[truth["name"]].rendered.canvases[0].img
    scan, _ = open_pages(path)[0]
    page = truth["pages"][0]
    scores = {}
    for rot, undo in UNDO_CW.items():
        g = scan.convert("L")
        g = g.transpose(undo) if undo is not None else g
        scores[rot] = ink_correlation(clean, g.rotate(-page["skew_ccw"], resample=Image.Resampling.BILINEAR, fillcolor=255))
    best = max(scores, key=lambda r: scores[r])
    assert best == page["rotation_cw"], scores
    assert scores[best] > 0.2 and scores[best] - max(v for r, v in scores.items() if r != best) > 0.15, scores
    # the opposite tilt must fit worse
    undo_recorded = UNDO_CW[page["rotation_cw"]]
    g = scan.convert("L")
    g = g.transpose(undo_recorded) if undo_recorded is not None else g
    if abs(page["skew_ccw"]) >= 1:
        assert ink_correlation(clean, g.rotate(page["skew_ccw"], fillcolor=255)) < scores[best] - 0.05


def measured_skew_ccw(ink: np.ndarray) -> float:
    """Tilt of the strongest near-horizontal lines (rules, text rows), counter-clockwise positive."""
    small = cv2.resize(ink.astype(np.uint8) * 255, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    small = ((small > 60) * 255).astype(np.uint8)
    lines = cv2.HoughLines(small, 1, np.pi / 3600, threshold=small.shape[1] // 4,
                           min_theta=math.radians(80), max_theta=math.radians(100))
    assert lines is not None
    theta = lines.reshape(-1, 2)[:10, 1]  # strongest first
    return float(90 - np.median(np.degrees(theta)))


@pytest.mark.parametrize(("path", "truth"), COMMITTED, ids=IDS)
def test_skew_convention_is_counter_clockwise(path: Path, truth: dict[str, Any]) -> None:
    img, _ = open_pages(path)[0]
    page = truth["pages"][0]
    assert measured_skew_ccw(upright(img, page["rotation_cw"])) == pytest.approx(page["skew_ccw"], abs=0.3)
