"""The label lexicon (domain.md's wordings and more) and finding labels in OCR lines.

Matching is exact on the cleaned text (full-width folded, spaces between Chinese characters
removed), longest wording first; at the start of a segment a wording of three or more characters
also matches with one character missing, extra or wrong (OCR noise). ``IGNORE`` wordings claim
text that contains a label without being one (客户描述 is not 客户).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.identifiers import is_cjk
from extractors.text import COLONS, clean

IGNORE = "_ignore"

DEFAULT_LABELS: dict[str, tuple[str, ...]] = {
    "order_no": ("工单号", "委托书号", "维修单号", "结算单号", "工单编号", "委托书编号", "维修单编号", "结算单编号",
                 "派工单号", "结算清单编号", "单据编号", "单号", "NO.", "NO:"),
    "vin": ("车辆识别代号", "车辆识别号", "车架号码", "车架号", "VIN码", "VIN号", "VIN", "底盘号", "车辆识别码"),
    "plate": ("车牌号码", "车牌号", "牌照号码", "牌照号", "车牌", "号牌号码"),
    "date_in": ("进厂日期", "接车日期", "入厂时间", "进厂时间", "入厂日期", "接车时间", "送修日期", "送修时间",
                "报修日期", "开单日期", "委托日期"),
    "date_out": ("出厂日期", "结算日期", "交车日期", "出厂时间", "结算时间", "交车时间", "完工日期"),
    "mileage_km": ("行驶里程", "进厂里程", "送修里程", "公里数", "里程数", "表显里程", "里程"),
    "customer_name": ("客户名称", "客户姓名", "车主姓名", "车主名称", "托修方", "托修单位", "送修人", "车主", "客户", "顾客"),
    "phone": ("联系电话", "手机号码", "客户电话", "车主电话", "手机号", "联系方式", "手机", "电话"),
    "model": ("厂牌车型", "厂牌型号", "品牌车型", "车辆型号", "车型名称", "车型", "品牌型号"),
    "advisor": ("服务顾问", "接待员", "服务专员", "接车员", "服务接待", "接待人", "SA"),
    "labor_cost": ("工时费合计", "工时费", "人工费", "维修工时费"),
    "parts_cost": ("材料费合计", "配件费合计", "材料费", "配件费", "零件费", "备件费"),
    "other_cost": ("其他费用", "材料管理费", "管理费", "其它费用", "外加工费", "外修费"),
    "discount": ("优惠金额", "折扣金额", "优惠", "折扣"),
    "total_cost": ("应收金额", "结算金额", "实收金额", "费用总计", "费用合计", "合计金额", "总金额", "总计", "合计"),
    IGNORE: ("客户描述", "客户签字", "客户签名", "客户意见", "客户确认", "客户须知", "车主签字", "服务热线",
             "救援电话", "服务电话", "预计交车", "预计完工", "打印日期", "打印时间", "服务顾问签字",
             "维修项目", "作业项目", "配件名称", "零件名称", "材料名称", "数量", "单价", "维修技师", "车身颜色",
             "颜色", "故障描述", "委托项目", "地址", "金额大写", "温馨提示", "保养里程", "下次保养", "接待员签字",
             # the repair shop on the national standard form, and what is not the customer's
             "承修方", "承修单位", "承修人", "维修企业名称", "维修企业", "企业名称", "托修方签字", "承修方签字",
             "送修人签字", "维修类型", "维修类别", "维修性质", "服务热线电话", "救援热线"),
}
# a document's title is no label with a character lost (维修委托书 is 维修委托书号 without its 号);
# a label that starts with one (维修结算单号) is matched as a label all the same
TITLES = frozenset({"维修委托书", "汽车维修委托书", "机动车维修委托书", "维修结算单", "汽车维修结算单", "机动车维修结算单"})


# Labels by meaning: a field's wordings are also composed from what the label says happened
# (进厂, 送修, 结算 ...) and what it names (日期, 里程, 单号 ...), as dealers and the national
# standard forms (JT/T 1132: 送修日期, 送修里程, 结算日期, 结算清单编号, 车辆识别代号) word them.
# The explicit wordings above come first (they rank as more specific); composed ones follow.
_COMPOSED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "date_in": (("进厂", "入厂", "接车", "送修", "报修", "开单", "委托", "进站", "入站", "到店", "进店", "托修", "送车"),
                ("日期", "时间", "日期时间")),
    "date_out": (("出厂", "结算", "交车", "竣工", "完工", "出站", "离厂", "提车", "结账", "修竣"), ("日期", "时间", "日期时间")),
    "mileage_km": (("行驶", "进厂", "送修", "表显", "入厂", "进站", "当前", "入站", "托修", "车辆"), ("里程", "里程数", "公里数")),
    "order_no": (("工单", "委托书", "维修单", "结算单", "派工单", "结算清单", "托修单", "委托单", "维修委托书", "单据",
                  "业务单", "维修工单", "修理单", "结算"), ("号", "编号", "号码", "单号")),
    "customer_name": (("托修", "送修", "客户", "车主", "用户", "顾客"), ("方", "单位", "人", "名称", "姓名", "单位名称")),
    "model": (("厂牌", "品牌", "车辆", "车型", "车系"), ("车型", "型号", "名称")),
    "vin": (("车辆识别", "车架", "底盘", "VIN"), ("代号", "代码", "号", "码", "号码", "编号")),
    # a signature box is no value of the person who signs it (服务专员签字: the advisor's name is
    # elsewhere, and the text below it is the customer's confirmation)
    IGNORE: (("服务顾问", "接待员", "服务专员", "接车员", "服务接待", "接待人", "SA", "客户", "车主", "托修方", "承修方",
              "送修人", "经办人", "维修技师", "质检员", "结算员"), ("签字", "签名", "签章", "签收", "签认")),
    "plate": (("车牌", "号牌", "牌照", "车辆号牌"), ("号", "号码", "")),
    "advisor": (("服务", "接待", "接车", "业务", "维修", "前台", "售后"), ("顾问", "接待", "专员", "接待员", "顾问(SA)")),
    "phone": (("联系", "客户", "车主", "托修方", "送修人", "手机"), ("电话", "手机", "号码", "方式")),
}
# composed wordings that mean something else
_NOT_COMPOSED = {"客户方", "车主方", "用户方", "顾客方", "结算号", "车辆名称", "车型名称号", "车辆号牌号", "维修专员",
                 "接车接待", "接待接待", "服务服务", "客户单位名称", "手机手机", "手机电话", "联系号码"}


def composed_labels() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for fld, (heads, tails) in _COMPOSED.items():
        words = [h + t for h in heads for t in tails if h + t not in _NOT_COMPOSED and len(h + t) >= 2]
        out[fld] = tuple(dict.fromkeys(words))
    return out


def default_labels() -> dict[str, tuple[str, ...]]:
    """The explicit wordings, then the composed ones (by meaning), per field."""
    merged = dict(DEFAULT_LABELS)
    for fld, words in composed_labels().items():
        have = set(merged.get(fld, ()))
        claimed = {w for f, ws in DEFAULT_LABELS.items() if f != fld for w in ws}
        merged[fld] = merged.get(fld, ()) + tuple(w for w in words if w not in have and w not in claimed)
    return merged


def _is_ascii(s: str) -> bool:
    return all(ord(c) < 128 for c in s)


@dataclass(frozen=True)
class Entry:
    wording: str  # cleaned, upper-case
    field: str
    rank: int
    ascii: bool


@dataclass
class Lexicon:
    """Wordings per field, in order of preference (earlier = more specific)."""

    wordings: dict[str, tuple[str, ...]] = field(default_factory=default_labels)

    def __post_init__(self) -> None:
        entries = [Entry(clean(w).upper(), fld, rank, _is_ascii(w))
                   for fld, ws in self.wordings.items() for rank, w in enumerate(ws) if clean(w)]
        self.entries: list[Entry] = sorted(entries, key=lambda e: -len(e.wording))
        # fuzzy candidates by their first and second character (one of them survives one edit)
        self.fuzzy: dict[str, list[Entry]] = {}
        for e in self.entries:
            if len(e.wording) >= 3 and not e.ascii:
                for ch in {e.wording[0], e.wording[1]}:
                    self.fuzzy.setdefault(ch, []).append(e)

    def extended(self, extra: dict[str, list[str]]) -> Lexicon:
        merged = dict(self.wordings)
        for fld, words in extra.items():
            merged[fld] = tuple(words) + tuple(w for w in merged.get(fld, ()) if w not in words)
        return Lexicon(merged)


@dataclass(frozen=True)
class LabelHit:
    field: str
    wording: str
    rank: int  # position of the wording in the field's list
    start: int  # character span in the cleaned line text
    end: int
    exact: bool


def levenshtein_le1(a: str, b: str) -> bool:
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


_SEGMENT_BREAK = set(" \t|｜/;；,，、()（）[]【】") | set(COLONS)


def _boundary_ok(s: str, start: int, end: int, wording: str, fld: str) -> bool:
    if not _is_ascii(wording):
        # inside running Chinese text (请客户在交车时...) a wording is a word, not a label,
        # unless a colon follows it
        inside = start > 0 and is_cjk(s[start - 1])
        return fld == IGNORE or not inside or (end < len(s) and s[end] in COLONS)
    before = s[start - 1] if start > 0 else " "
    after = s[end] if end < len(s) else " "
    return not before.isalnum() and not (after.isalpha() and wording[-1].isalpha())


_DIGIT_AS_LETTER = {"1": "L", "0": "O", "5": "S"}


def _letters_view(up: str) -> str:
    """Digits inside a Latin word read as the letters OCR took them for (``TOTA1`` → ``TOTAL``).

    Same length as the input, so spans stay valid; only used to find labels.
    """
    chars = list(up)
    for i, c in enumerate(chars):
        if c in _DIGIT_AS_LETTER and i > 0 and chars[i - 1].isalpha() and chars[i - 1].isascii():
            chars[i] = _DIGIT_AS_LETTER[c]
    return "".join(chars)


def find_labels(text: str, lexicon: Lexicon) -> tuple[str, list[LabelHit]]:
    """The cleaned line text and the label hits in it (non-overlapping, in order)."""
    s = clean(text)
    up = _letters_view(s.upper())
    taken = [False] * len(s)
    hits: list[LabelHit] = []
    # a wording right after another label is a label too: a row of labels read as one line
    # ("工单号进厂日期出厂日期" once the spaces between Chinese characters are gone)
    changed = True
    while changed:
        changed = False
        ends = {h.end for h in hits}
        for e in lexicon.entries:
            start = up.find(e.wording)
            while start >= 0:
                end = start + len(e.wording)
                if not any(taken[start:end]) and (_boundary_ok(up, start, end, e.wording, e.field)
                                                  or (start in ends and not e.ascii)):
                    for i in range(start, end):
                        taken[i] = True
                    hits.append(LabelHit(e.field, e.wording, e.rank, start, end, True))
                    changed = True
                start = up.find(e.wording, start + 1)
    # fuzzy matches of longer Chinese wordings at segment starts, followed by a colon, space or end;
    # glued to the text before only when four characters or more and a colon follows (a two-column
    # slip's 客户：陆强浩出广日期：2024/7/5, the next key run in with one character misread)
    for i in range(len(up)):
        glued = i > 0 and up[i - 1] not in _SEGMENT_BREAK
        if taken[i]:
            continue
        seen: set[Entry] = set()
        for e in lexicon.fuzzy.get(up[i], []) + (lexicon.fuzzy.get(up[i + 1], []) if i + 1 < len(up) else []):
            if e in seen:
                continue
            seen.add(e)
            # never shorter than three: "工时" is a word of its own, not "工时费" with a character lost
            for n in (max(3, len(e.wording) - 1), len(e.wording), len(e.wording) + 1, len(e.wording) + 2):
                end = i + n
                window = up[i:end]
                if len(window) != n or window[0] == " " or any(taken[i:end]):
                    continue
                if end < len(up) and up[end] not in COLONS and up[end] not in " .,":
                    continue
                if glued and (n < 4 or end >= len(up) or up[end] not in COLONS):
                    continue
                # "入F 时间": a misread character and a stray space; "入/广日期": a stroke read as a mark
                compact = _STRAY.sub("", window)
                if compact in TITLES:
                    continue
                # ... or its first character read as a letter or digit, the rest exact (1料费 of
                # 材料费, T时费 of 工时费: a stroke of it lost in faint print)
                latin_first = len(e.wording) >= 3 and compact[:1].isascii() and compact[:1].isalnum() \
                    and compact[1:] == e.wording[1:]
                if latin_first or (compact[0] in (e.wording[0], e.wording[1]) and levenshtein_le1(compact, e.wording)):
                    for j in range(i, end):
                        taken[j] = True
                    hits.append(LabelHit(e.field, e.wording, e.rank, i, end, False))
                    break
            if taken[i]:
                break
    hits.sort(key=lambda h: h.start)
    return s, hits


_STRAY = re.compile(r"[ /|｜丨]")
_VALUE_STRIP = re.compile(rf"^[\s{COLONS}:|｜_\-—=>》】\]）)]+|[\s|｜_]+$")


def strip_value(s: str) -> str:
    return _VALUE_STRIP.sub("", s)
