"""``woa export --format jtt1132``: one record per work order with the 13 JT/T 1132 data elements
under their own names, and what is missing listed per record."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from core.archive import Archive
from core.models import Document, FieldValue, OcrLine, PageText

ROOT = Path(__file__).resolve().parents[1]
ELEMENTS = ["企业名称", "车辆识别代号", "车牌号码", "送修日期", "送修里程", "结算日期", "结算清单编号", "故障描述",
            "维修项目", "维修工时", "配件名称", "配件编码", "配件数量"]


def _doc(doc_id: str, fields: dict[str, str], lines: list[str], items: list[dict[str, str]], doc_type: str) -> Document:
    page = PageText(1, 1654, 2339, 200, [OcrLine(t, (100, 100 + 50 * i, 1500, 140 + 50 * i), 0.97) for i, t in enumerate(lines)])
    return Document(doc_id, f"{doc_id}.jpg", doc_id * 4, "", "", "", [page], "rapidocr", "1", "2024-01-01T00:00:00Z",
                    fields={k: FieldValue(v, 0.95, valid=True) for k, v in fields.items()}, items=items, doc_type=doc_type)


def test_export_jtt1132(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a")
    archive.save(_doc("aa00000000000001", {
        "vin": "LSV2451V2HFH7BNJ4", "plate": "粤BD12345", "date_in": "2024-03-15", "mileage_km": "12345",
        "date_out": "2024-03-16", "order_no": "JS-20240315-0001"},
        ["广州骏达大众汽车销售服务有限公司", "机动车维修结算单", "故障描述：刹车时有尖锐异响。"],
        [{"name": "更换前刹车片", "quantity": "1.0", "amount": "300.00"},
         {"name": "前制动摩擦片", "quantity": "1", "amount": "680.00"}], "work_order"))
    archive.save(_doc("bb00000000000002", {"plate": "沪A12345"}, ["结算单"], [], "work_order"))
    archive.save(_doc("cc00000000000003", {}, ["增值税专用发票"], [], "invoice"))
    out = subprocess.run([sys.executable, "-m", "woa.cli", "export", "--format", "jtt1132", "--archive", str(archive.root)],
                         capture_output=True, text=True, cwd=ROOT, check=True,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}).stdout
    recs = {r["id"]: r for r in map(json.loads, out.splitlines())}
    assert set(recs) == {"aa00000000000001", "bb00000000000002"}  # the invoice is no repair record
    full = recs["aa00000000000001"]
    assert [k for k in full if k in ELEMENTS] == ELEMENTS
    assert full["企业名称"] == "广州骏达大众汽车销售服务有限公司"
    assert (full["车辆识别代号"], full["送修日期"], full["送修里程"], full["结算清单编号"]) == (
        "LSV2451V2HFH7BNJ4", "2024-03-15", "12345", "JS-20240315-0001")
    assert full["故障描述"] == "刹车时有尖锐异响"
    assert (full["维修项目"], full["维修工时"]) == (["更换前刹车片"], ["1.0"])
    assert (full["配件名称"], full["配件数量"]) == (["前制动摩擦片"], ["1"])
    assert full["缺失项"] == ["配件编码"]
    sparse = recs["bb00000000000002"]
    assert sparse["车牌号码"] == "沪A12345"
    assert set(sparse["缺失项"]) == set(ELEMENTS) - {"车牌号码"}
