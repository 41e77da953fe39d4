"""Learning a layout from corrections (issue 12): fingerprints, learned templates, the archive
files, ``woa templates``, and ``woa reprocess`` applying what was learned."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from datetime import date
from pathlib import Path

from app.documents import correct_field, reprocess
from app.templates import learned_templates
from core.archive import Archive
from core.models import Document, OcrLine, PageText
from core.settings import Settings, load_settings
from extractors import extract
from extractors.labels import Lexicon
from extractors.layout import PageIndex
from extractors.learn import dumps, fingerprint, learn, loads, new_template, similarity

TODAY = date(2026, 11, 27)
ROOT = Path(__file__).resolve().parents[1]


def L(text: str, x0: float, y0: float, x1: float, y1: float) -> OcrLine:
    return OcrLine(text, (x0, y0, x1, y1), 0.97)


def form(user: str, order: str, plate: str, shift: float = 0.0) -> list[PageText]:
    """A dealer's form whose customer box is labelled 使用者 — a wording no lexicon has."""
    return [PageText(1, 1654, 2339, 200, [
        L("工单号", 100, 300 + shift, 240, 336 + shift), L(order, 300, 300 + shift, 700, 336 + shift),
        L("车牌号", 850, 300 + shift, 990, 336 + shift), L(plate, 1050, 300 + shift, 1300, 336 + shift),
        L("使用者", 100, 360 + shift, 240, 396 + shift), L(user, 300, 360 + shift, 460, 396 + shift),
        L("联系电话", 850, 360 + shift, 1010, 396 + shift), L("13800138000", 1050, 360 + shift, 1350, 396 + shift),
        L("进厂日期", 100, 420 + shift, 260, 456 + shift), L("2024-03-15", 300, 420 + shift, 520, 456 + shift),
    ])]


def other_form() -> list[PageText]:
    return [PageText(1, 1654, 2339, 200, [
        L("服务顾问", 100, 500, 260, 536), L("李四", 300, 500, 400, 536),
        L("VIN", 850, 500, 920, 536), L("LSV2451V2HFH7BNJ4", 1000, 500, 1400, 536),
        L("使用者", 100, 900, 240, 936), L("赵六", 300, 900, 460, 936),
    ])]


def taught(*docs: tuple[list[PageText], dict[str, str]]):  # type: ignore[no-untyped-def]
    first = docs[0][0]
    t = new_template(fingerprint(PageIndex.build(first, Lexicon()), first))
    for i, (pages, truth) in enumerate(docs):
        learn(t, pages, truth, f"doc{i}", today=TODAY)
    return t


def test_unknown_label_learned_from_one_correction() -> None:
    assert "customer_name" not in extract(form("王五", "WO1001", "粤A12345"), Settings(), today=TODAY).fields
    t = taught((form("张三", "WO1000", "粤A11111"), {"customer_name": "张三"}))
    ex = extract(form("王五", "WO1001", "粤A12345", shift=8), Settings(), today=TODAY, learned=[t])
    assert ex.fields["customer_name"].value == "王五"
    assert ex.template == t.name
    assert "learned template" in ex.fields["customer_name"].note


def test_confidence_grows_with_documents_the_rule_was_right_on() -> None:
    one = taught((form("张三", "WO1000", "粤A11111"), {"customer_name": "张三"}))
    five = taught(*[(form(n, f"WO10{i}0", "粤A11111"), {"customer_name": n})
                    for i, n in enumerate(("张三", "李四", "王五", "赵六", "钱七"))])
    assert five.fields["customer_name"].right == 5 and five.fields["customer_name"].wrong == 0
    c1 = extract(form("孙八", "WO2000", "粤A1", 4), Settings(), today=TODAY, learned=[one]).fields["customer_name"]
    c5 = extract(form("孙八", "WO2000", "粤A1", 4), Settings(), today=TODAY, learned=[five]).fields["customer_name"]
    assert c1.value == c5.value == "孙八"
    assert c5.confidence > c1.confidence
    assert c5.confidence >= Settings().review_threshold


def test_another_layout_is_not_touched() -> None:
    t = taught((form("张三", "WO1000", "粤A11111"), {"customer_name": "张三"}))
    other = other_form()
    assert similarity(t.fingerprint, fingerprint(PageIndex.build(other, Lexicon()), other)) < 0.7
    without = extract(other, Settings(), today=TODAY)
    with_t = extract(other, Settings(), today=TODAY, learned=[t])
    assert {k: v.value for k, v in with_t.fields.items()} == {k: v.value for k, v in without.fields.items()}
    assert with_t.template is None


def test_template_file_is_readable_toml_and_round_trips() -> None:
    t = taught((form("张三", "WO1000", "粤A11111"), {"customer_name": "张三"}))
    text = dumps(t)
    data = tomllib.loads(text)
    assert data["kind"] == "learned" and data["learned"]["customer_name"]["anchor"] == "使用者"
    back = loads(data)
    assert back.fields == t.fields and back.fingerprint == t.fingerprint and back.documents == ["doc0"]


def _archive_doc(archive: Archive, doc_id: str, pages: list[PageText]) -> None:
    doc = Document(doc_id, f"{doc_id}.jpg", doc_id * 4, "", "", "", pages, "rapidocr", "1", "2024-01-01T00:00:00Z")
    archive.save(doc)


def test_correction_teaches_the_archive_and_reprocess_applies_it(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "arch")
    settings = load_settings(archive_dir=archive.root)
    _archive_doc(archive, "aa00000000000001", form("张三", "WO1000", "粤A11111"))
    _archive_doc(archive, "bb00000000000002", form("王五", "WO1001", "粤A12345", shift=6))
    reprocess(archive, [], settings)
    assert "customer_name" not in archive.load("bb00000000000002").fields
    correct_field(archive, "aa00", "customer_name", "张三", settings, user="clerk")
    [t] = learned_templates(archive)
    assert t.documents == ["aa00000000000001"] and t.fields["customer_name"].anchor == "使用者"
    reprocess(archive, [], settings)
    assert archive.load("bb00000000000002").fields["customer_name"].value == "王五"
    # the CLI lists and shows it
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "woa.cli", "templates", "list", "--archive", str(archive.root)],
                         capture_output=True, text=True, cwd=ROOT, env=env, check=True).stdout
    assert t.name in out and "customer_name 1/0" in out
    shown = subprocess.run([sys.executable, "-m", "woa.cli", "templates", "show", t.name[:10], "--archive",
                            str(archive.root)], capture_output=True, text=True, cwd=ROOT, env=env, check=True).stdout
    assert 'anchor = "使用者"' in shown
