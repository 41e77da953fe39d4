"""One archived order as a JT/T 1132 record (汽车维修电子健康档案 upload), with what is missing.

JT/T 1132 names 13 data elements of a repair record (docs: /work/shared/docs/domain.md):
企业名称, 车辆识别代号 (VIN), 车牌号码, 送修日期, 送修里程, 结算日期, 结算清单编号, 故障描述,
维修项目, 维修工时, 配件名称, 配件编码, 配件数量. Each record carries them under those names; an
element the archive does not have (not read, or read but doubtful) is listed in ``缺失项``, so
digitised paper becomes uploadable data once a clerk has filled the gaps.
"""

from __future__ import annotations

import re
from typing import Any

from core.models import Document

ELEMENTS = ("企业名称", "车辆识别代号", "车牌号码", "送修日期", "送修里程", "结算日期", "结算清单编号", "故障描述",
            "维修项目", "维修工时", "配件名称", "配件编码", "配件数量")
_FIELD_OF = {"车辆识别代号": "vin", "车牌号码": "plate", "送修日期": "date_in", "送修里程": "mileage_km",
             "结算日期": "date_out", "结算清单编号": "order_no"}
_COMPANY = re.compile(r"[\u3400-\u9fff()（）\-]{4,}(?:有限公司|有限责任公司|维修厂|修理厂|服务站|4S店)")
_COMPLAINT = re.compile(r"(?:客户描述|故障描述|委托项目|故障现象|送修原因)\s*[:：]?\s*(.+)")


def _dealer(doc: Document) -> str | None:
    if doc.tags.get("dealer"):
        return doc.tags["dealer"]
    for p in doc.pages[:1]:
        for ln in p.lines[:8]:  # the header
            m = _COMPANY.search(ln.text.replace(" ", ""))
            if m:
                return m.group(0)
    return None


def _complaint(doc: Document) -> str | None:
    for p in doc.pages:
        for ln in p.lines:
            m = _COMPLAINT.search(ln.text)
            if m and m.group(1).strip(" 。;；"):
                return m.group(1).strip(" 。")
    return None


def record(doc: Document, threshold: float) -> dict[str, Any]:
    """The JT/T 1132 record of ``doc``; ``缺失项`` lists the elements missing or below ``threshold``."""
    out: dict[str, Any] = {"id": doc.id, "source_name": doc.source_name}
    missing: list[str] = []
    doubtful: list[str] = []
    for el, fld in _FIELD_OF.items():
        fv = doc.fields.get(fld)
        out[el] = fv.value if fv is not None and fv.value is not None else None
        if out[el] is None:
            missing.append(el)
        elif fv is not None and fv.confidence < threshold:
            doubtful.append(el)
    out["企业名称"] = _dealer(doc)
    out["故障描述"] = _complaint(doc)
    # the items: labour rows give hours (0.5, 1.0), part rows whole quantities
    labour = [i for i in doc.items if "." in str(i.get("quantity", ""))]
    parts = [i for i in doc.items if i not in labour]
    out["维修项目"] = [i.get("name") for i in labour] or None
    out["维修工时"] = [i.get("quantity") for i in labour] or None
    out["配件名称"] = [i.get("name") for i in parts] or None
    out["配件编码"] = [i["part_no"] for i in parts if i.get("part_no")] or None
    out["配件数量"] = [i.get("quantity") for i in parts] or None
    for el in ("企业名称", "故障描述", "维修项目", "维修工时", "配件名称", "配件编码", "配件数量"):
        if out[el] is None:
            missing.append(el)
    out["缺失项"] = [el for el in ELEMENTS if el in missing]
    out["待核对项"] = doubtful  # read, but below the review threshold
    return {k: out[k] for k in ("id", "source_name", *ELEMENTS, "缺失项", "待核对项")}
