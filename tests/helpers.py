"""Builders shared by the test modules (so that no test module imports another); fixtures are in conftest.py."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pikepdf
from PIL import Image, ImageDraw, ImageFont

from core.archive import Archive
from core.models import Box, Document, FieldValue, OcrLine, OcrWord, PageText, box_union
from core.scanfiles import SCAN_SUFFIXES
from core.settings import Settings, load_settings
from pipeline.ocr.base import join_words
from pipeline.pdfa import ArchivePage, write_pdfa
from watch_folder.journal import JOURNAL_NAME, Journal, Row

ROOT = Path(__file__).resolve().parents[1]


SAMPLES = ROOT / "samples"


EVAL = Path(os.environ.get("WOA_EVAL_DATA", ROOT.parent / "shared" / "eval-data"))


@dataclass
class Sample:
    path: Path
    truth: dict[str, Any]


def load_samples() -> list[Sample]:
    out = []
    for p in sorted(SAMPLES.iterdir()):
        if p.suffix.lower() in SCAN_SUFFIXES:
            t = p.with_name(p.stem + ".truth.json")
            if t.exists():
                out.append(Sample(p, json.loads(t.read_text(encoding="utf-8"))))
    return out


def run_dir(tmp_path_factory: Any) -> Path:
    """The folder of this test run shared by all its processes: the base temp folder, or under
    pytest-xdist (``make test-fast``) the folder that holds every worker's."""
    base = Path(tmp_path_factory.getbasetemp())
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def make_settings(archive_dir: Path, **kw: Any) -> Settings:
    return load_settings(archive_dir=archive_dir, **kw)


@dataclass
class IngestedArchive:
    archive: Archive
    settings: Settings
    results: dict[str, Any]  # sample file name -> IngestResult
    samples: list[Sample]


def _png(path: Path, size: tuple[int, int] = (400, 300), dpi: tuple[int, int] | None = (200, 200)) -> Path:
    im = Image.new("L", size, 255)
    im.save(path, dpi=dpi) if dpi else im.save(path)
    return path


BAD_CASES = ["empty", "truncated_jpeg", "corrupt_pdf", "password_pdf", "text_named_pdf", "huge_image", "too_many_pages"]


def make_bad(kind: str, d: Path) -> Path:
    if kind == "empty":
        p = d / "empty.pdf"
        p.write_bytes(b"")
    elif kind == "truncated_jpeg":
        src = d / "full.jpg"
        Image.effect_noise((800, 600), 60).convert("RGB").save(src, quality=90)
        p = d / "truncated.jpg"
        p.write_bytes(src.read_bytes()[:8000])
        src.unlink()
    elif kind == "corrupt_pdf":
        p = d / "corrupt.pdf"
        p.write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R\n" + b"\x00garbage" * 500)
    elif kind == "password_pdf":
        pdf = pikepdf.new()
        pdf.add_blank_page()
        p = d / "locked.pdf"
        pdf.save(p, encryption=pikepdf.Encryption(owner="owner", user="secret"))
    elif kind == "text_named_pdf":
        p = d / "notes.pdf"
        p.write_text("this is a text file, not a scan\n")
    elif kind == "huge_image":
        p = d / "huge.png"
        Image.new("1", (30000, 30000), 1).save(p)
    elif kind == "too_many_pages":
        pdf = pikepdf.new()
        for _ in range(300):
            pdf.add_blank_page(page_size=(595, 842))
        p = d / "300pages.pdf"
        pdf.save(p)
    else:
        raise AssertionError(kind)
    return p


EXPECTED_REASON = {
    "empty": "empty file",
    "truncated_jpeg": "truncated",
    "corrupt_pdf": "corrupt PDF",
    "password_pdf": "password-protected",
    "text_named_pdf": "not a PDF",
    "huge_image": "decompression bomb",
    "too_many_pages": "300 pages, over the limit of 100",
}


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


PY = sys.executable


FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def make_scan(path: Path, n: int) -> Path:
    """A small work-order snippet; ``n`` makes its text, and so its SHA-256, unique."""
    font = ImageFont.truetype(FONT, 26)
    img = Image.new("L", (720, 220), 255)
    draw = ImageDraw.Draw(img)
    draw.text((24, 24), f"维修委托书 工单号 WO2024{n:05d}", font=font, fill=0)
    draw.text((24, 84), f"车牌号 粤B{10000 + n} 合计 ¥{100 + n}.00", font=font, fill=0)
    draw.text((24, 144), "结算日期 2024-03-15", font=font, fill=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, dpi=(150, 150))
    return path


def make_scans(folder: Path, count: int, start: int = 0) -> list[Path]:
    return [make_scan(folder / f"box{(start + i) % 3}" / f"scan-{start + i:03d}.png", start + i) for i in range(count)]


def woa(*args: str | os.PathLike[str], timeout: float = 240, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "woa.cli", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=timeout, **kw  # type: ignore[call-overload]
    )


def sidecars(archive: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((archive / "sidecars").glob("*/*.json"))]


def read_summary(report_dir: Path) -> dict[str, str]:
    with open(report_dir / "summary.csv", newline="", encoding="utf-8") as fh:
        return {row["metric"]: row["value"] for row in csv.DictReader(fh)}


def read_documents(report_dir: Path) -> list[dict[str, str]]:
    with open(report_dir / "documents.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


CJK_FONT_SC = 2  # index of "Noto Sans CJK SC" in the collection


DPI = 200


ROWS: list[list[str]] = [
    ["维修委托书"],
    ["工单号:", "WO-2024-0315"],
    ["结", "|算", "|单"],
    ["Oil", "filter", "replaced"],
    ["更换", "VVT", "电磁阀"],
    ["车架号", "LSVAA4182E2123456"],
]


LINE_ONLY = "合计 ¥1,280.00 元"  # a line the OCR gave without words


def render_page(
    mode: str = "L", dpi: int = DPI, rows: list[list[str]] = ROWS
) -> tuple[Image.Image, PageText]:
    """An A4 page with the rows drawn in Noto Sans CJK, and the PageText an OCR would return."""
    w, h = round(8.27 * dpi), round(11.69 * dpi)
    im = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(im)
    font = ImageFont.truetype(CJK_FONT, round(dpi * 0.16), index=CJK_FONT_SC)
    lines = []
    y = round(dpi * 0.8)
    for row in [*rows, [LINE_ONLY]]:
        x = round(dpi * 0.6)
        words = []
        for token in row:
            text = token.lstrip("|")
            if token.startswith("|"):
                x += round(dpi * 0.3)
            draw.text((x, y), text, font=font, fill="black")
            box: Box = tuple(float(v) for v in draw.textbbox((x, y), text, font=font))  # type: ignore[assignment]
            words.append(OcrWord(text, box, 0.99))
            x = round(box[2]) + round(dpi * 0.08)
        text = join_words([wd.text for wd in words])
        line_box = box_union([wd.box for wd in words])
        lines.append(OcrLine(text, line_box, 0.99, [] if text == LINE_ONLY else words))
        y += round(dpi * 0.4)
    # a red stamp, as on real work orders
    draw.ellipse((w - dpi * 2, dpi // 2, w - dpi // 2, dpi * 2), outline=(210, 30, 30), width=dpi // 25)
    image = im.convert("1") if mode == "1" else im.convert(mode)
    return image, PageText(page_no=1, width=w, height=h, dpi=dpi, lines=lines)


def write(path: Path, pages: list[tuple[ArchivePage, PageText]], **kwargs: object) -> Path:
    with path.open("wb") as fh:
        write_pdfa(fh, iter(pages), **kwargs)  # type: ignore[arg-type]
    return path


def pdftotext(path: Path, *args: str) -> str:
    return subprocess.run(
        ["pdftotext", *args, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def text_lines(text: str) -> list[str]:
    return [ln for ln in text.replace("\f", "\n").splitlines() if ln.strip()]


# -- the sample generator ---------------------------------------------------------------------------
def load_generator() -> ModuleType:
    """``samples/generate.py`` as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("woa_samples_generate", SAMPLES / "generate.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


# -- the CLI in process ----------------------------------------------------------------------------
def woa_main(archive: Path, *argv: str, config: Path | None = None) -> int:
    """``woa <argv> --archive <archive> [--config <config>]`` through ``woa.cli.main``, in this process."""
    from woa.cli import main

    extra = ["--config", str(config)] if config else []
    return main([*argv, "--archive", str(archive), *extra])


# -- index archives --------------------------------------------------------------------------------
def save_fast(archive: Archive, docs: list[Document]) -> None:
    """Sidecars in the archive's format, without the fsync of ``Archive.save`` (test set-up speed)."""
    for d in docs:
        p = archive.sidecar_path(d.id)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(d.to_dict(), ensure_ascii=False), encoding="utf-8")


def base_archive(root: Path) -> Archive:
    """An archive of the hand-written ``documents()``, indexed."""
    import index

    a = Archive(root)
    docs = documents()
    save_fast(a, docs)
    index.update_index(a, docs)
    return a


# -- ``woa watch`` as a service --------------------------------------------------------------------
WATCH_STABLE = "0.5"


def watch_env() -> dict[str, str]:
    """The environment of a ``woa`` subprocess: unbuffered, default engine, no user configuration."""
    env = dict(os.environ)
    env.update({"PYTHONUNBUFFERED": "1"})
    env.pop("WOA_OCR_ENGINE", None)
    env.pop("WOA_CONFIG", None)
    return env


class Watcher:
    """``woa watch`` running in the background, its log in a file."""

    def __init__(self, tmp: Path, *extra: str, inbox: Path | None = None, workers: int = 2) -> None:
        self.inbox = inbox or tmp / "inbox"
        self.archive = tmp / "archive"
        self.log_path = tmp / f"watch-{time.monotonic_ns()}.log"
        self.inbox.mkdir(parents=True, exist_ok=True)
        args = [str(self.inbox), "--archive", str(self.archive), "--stable", WATCH_STABLE, "--workers", str(workers),
                *extra]
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()/kill()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "woa.cli", "watch", *args], cwd=ROOT, env=watch_env(), stdout=self._log,
            stderr=self._log,
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_log(self, text: str, timeout: float = 60) -> None:
        wait_for(lambda: text in self.log, timeout, f"{text!r} in the service log", self)

    def stop(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout)
        self._log.close()
        return rc

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._log.close()


def wait_for(cond: Callable[[], bool], timeout: float, what: str, watcher: Watcher | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        if watcher is not None and watcher.proc.poll() is not None:
            raise AssertionError(f"service exited ({watcher.proc.returncode}) waiting for {what}:\n{watcher.log[-3000:]}")
        time.sleep(0.1)
    tail = watcher.log[-3000:] if watcher else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{tail}")


def journal_rows(archive: Path) -> list[Row]:
    path = archive / JOURNAL_NAME
    if not path.exists():
        return []
    with Journal(path, readonly=True) as j:
        return j.rows()


def finished(archive: Path) -> int:
    """How many of the watcher's journal rows are finished (archived or failed)."""
    return sum(r.state in ("done", "failed") for r in journal_rows(archive))
