"""Car series sold in China, by their Chinese names, to repair a model name OCR misread.

A work order's model is the series name and a trim (探岳 380TSI, 凌派 180TURBO, 宋PLUS DM-i).
Dot-matrix print over a coloured rule loses strokes, and OCR reads 凌派 as 减派 or 探岳 as 操岳:
a name no car has, one character from one that every dealer of that make sells. The list holds
the better-known series on the Chinese market by make, written from the makers' line-ups, not
from any sample set's models, and is not complete; a name read that is a listed series, or one
character from none or from two of them, is left as read. One-character series (秦, 汉, 宋, 唐,
元) are the target of a repair only where the recogniser's own second choice is one
(``from_alternatives``): any character is one edit from them. A model that starts with one
character that is no series has lost the first of two (度 of 飞度): repaired when one series ends
with it, else for review.
"""

from __future__ import annotations

import re

from core.identifiers import CJK_CLASS
from core.models import OcrLine

# make -> (how a page names it: the dealer's name, a 4S shop's carries its make; no word another
# make's name holds, as 大众 is in 一汽-大众 and 上汽大众), its series
MAKES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "一汽丰田": (("一汽丰田",), ("卡罗拉", "亚洲龙", "皇冠", "皇冠陆放", "荣放", "威驰", "花冠", "锐志", "普拉多",
                                      "兰德酷路泽", "奕泽", "凌放", "格瑞维亚", "卡罗拉锐放", "致享", "丰田")),
    "广汽丰田": (("广汽丰田",), ("凯美瑞", "雷凌", "汉兰达", "威兰达", "锋兰达", "赛那", "致炫", "逸致", "凌尚",
                                      "丰田")),
    "上汽大众": (("上汽大众",), ("朗逸", "帕萨特", "途观", "途昂", "途岳", "途铠", "凌渡", "桑塔纳", "波罗",
                                      "途安", "辉昂", "威然", "朗行", "朗境", "大众")),
    "一汽-大众": (("一汽-大众", "一汽大众"), ("速腾", "迈腾", "宝来", "探岳", "探歌", "探影", "高尔夫", "捷达",
                                                   "揽境", "揽巡", "蔚领", "嘉旅", "大众")),
    "本田": (("本田",), ("雅阁", "飞度", "缤智", "凌派", "冠道", "奥德赛", "皓影", "型格", "锋范", "思域", "思铂睿",
                         "歌诗图", "艾力绅", "享域", "杰德", "哥瑞", "竞瑞", "本田")),
    "别克": (("别克", "上汽通用"), ("英朗", "君威", "君越", "昂科威", "昂科拉", "昂科旗", "威朗", "阅朗", "微蓝", "凯越",
                                   "林荫大道", "别克")),
    "雪佛兰": (("雪佛兰",), ("科鲁兹", "科沃兹", "迈锐宝", "创酷", "探界者", "开拓者", "沃兰多", "畅巡", "赛欧",
                             "雪佛兰")),
    "福特": (("福特",), ("福克斯", "蒙迪欧", "锐界", "锐际", "探险者", "翼虎", "翼搏", "福睿斯", "嘉年华", "金牛座",
                         "领界", "领裕", "领睿", "撼路者", "福特")),
    "日产": (("日产",), ("轩逸", "天籁", "奇骏", "逍客", "楼兰", "骐达", "蓝鸟", "劲客", "途达", "纳瓦拉", "阳光",
                         "颐达", "日产")),
    "比亚迪": (("比亚迪",), ("秦", "汉", "宋", "唐", "元", "海豚", "海豹", "海鸥", "驱逐舰", "护卫舰", "腾势", "仰望", "比亚迪")),
    "现代": (("现代",), ("途胜", "伊兰特", "索纳塔", "名图", "领动", "菲斯塔", "悦动", "胜达", "库斯途", "瑞纳", "朗动",
                         "现代")),
    "起亚": (("起亚",), ("智跑", "狮跑", "嘉华", "凯酷", "奕跑", "傲跑", "福瑞迪", "赛拉图", "焕驰", "起亚")),
    "马自达": (("马自达",), ("昂克赛拉", "阿特兹", "睿翼", "马自达")),
    "三菱": (("三菱",), ("劲炫", "欧蓝德", "奕歌", "帕杰罗", "翼神", "三菱")),
    "斯巴鲁": (("斯巴鲁",), ("森林人", "傲虎", "力狮", "斯巴鲁")),
    "Jeep": (("Jeep", "吉普"), ("指南者", "自由光", "自由侠", "牧马人", "大切诺基", "吉普")),
    "路虎": (("路虎",), ("发现", "揽胜", "极光", "神行者", "路虎")),
    "斯柯达": (("斯柯达",), ("明锐", "速派", "柯迪亚克", "柯米克", "柯珞克", "昕锐", "晶锐", "斯柯达")),
    "雪铁龙": (("雪铁龙", "东风雪铁龙"), ("天逸", "凡尔赛", "世嘉", "爱丽舍", "雪铁龙")),
    "标致": (("标致",), ("标致",)),
    "吉利": (("吉利",), ("帝豪", "博越", "星越", "星瑞", "缤越", "缤瑞", "嘉际", "豪越", "远景", "博瑞", "领克", "极氪",
                         "几何", "吉利")),
    "长城": (("长城", "哈弗", "魏牌", "坦克", "欧拉"), ("哈弗", "大狗", "赤兔", "神兽", "初恋", "坦克", "魏牌", "摩卡",
                                                   "玛奇朵", "拿铁", "蓝山", "欧拉", "好猫", "芭蕾猫", "闪电猫", "长城")),
    "长安": (("长安",), ("逸动", "悦翔", "睿骋", "锐程", "欧尚", "深蓝", "阿维塔", "启源", "长安")),
    "奇瑞": (("奇瑞",), ("瑞虎", "艾瑞泽", "星途", "揽月", "瑶光", "追风", "凌云", "捷途", "旅行者", "大圣", "奇瑞")),
    "广汽传祺": (("传祺",), ("传祺", "影豹", "影酷", "影速", "埃安", "昊铂")),
    "上汽": (("荣威", "名爵"), ("名爵", "荣威", "锐腾", "科莱威")),
    "五菱": (("五菱", "宝骏", "上汽通用五菱"), ("五菱", "宏光", "宝骏", "缤果", "星辰", "星光")),
    "一汽": (("红旗", "奔腾"), ("红旗", "奔腾")),
    "新势力": ((), ("理想", "蔚来", "小鹏", "问界", "零跑", "哪吒", "岚图", "智己", "小米", "特斯拉")),
    "豪华": (("奔驰", "宝马", "奥迪", "沃尔沃", "凯迪拉克", "雷克萨斯", "保时捷", "林肯", "英菲尼迪", "讴歌"),
           ("奔驰", "宝马", "奥迪", "沃尔沃", "凯迪拉克", "雷克萨斯", "保时捷", "林肯", "英菲尼迪", "讴歌")),
}
SERIES: frozenset[str] = frozenset(s for _, series in MAKES.values() for s in series)

_SERIES_HEAD = re.compile(rf"^[{CJK_CLASS}]{{1,5}}")
_LATIN_FOR_FIRST = re.compile(rf"^[A-Za-z0-9]([{CJK_CLASS}]{{1,4}})")


def _listed_prefix(head: str) -> bool:
    """The series may be the head's start (卡罗拉 of 卡罗拉精英版): a listed prefix is no misreading."""
    return head in SERIES or any(head[:n] in SERIES for n in range(2, len(head) + 1))


def _one_apart(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def _of_named_make(near: list[str], page_text: str) -> list[str]:
    """Of the series, those of a make ``page_text`` names (a 4S shop's name carries its make: a
    Chevrolet 赛欧 is no repair on a Ford dealer's form); all of them when it names none."""
    named = {s for marks, series in MAKES.values() if any(k in page_text for k in marks) for s in series}
    return [s for s in near if s in named] if named else near


def lone_character(model: str) -> bool:
    """The model starts with one Chinese character that is no series (度1.5LCVT): the first of
    two was lost."""
    m = _SERIES_HEAD.match(model)
    return m is not None and len(m.group(0)) == 1 and m.group(0) not in SERIES


def series_repair(model: str, page_text: str = "") -> str | None:
    """``model`` with its series name repaired when OCR misread one of its characters: the
    leading Chinese characters are no listed series, and changing one of them makes exactly one
    (减派180TURBO -> 凌派180TURBO), or one of a make ``page_text`` names (the dealer's name:
    操岳 is one from 一汽-大众's 探岳 and 上汽大众's 途岳); or one character that is no series
    ends exactly one of two characters (度1.5LCVT -> 飞度1.5LCVT: the first lost). None when
    there is nothing to repair or no one repair."""
    m = _SERIES_HEAD.match(model)
    if m is None:
        lat = _LATIN_FOR_FIRST.match(model)  # B科威Plus28T, K度1.5L: the series' first character read as a letter
        if lat is None:
            return None
        head = lat.group(1)
        if _listed_prefix(head):
            return None
        near = _of_named_make(sorted(s for s in SERIES if len(s) == len(head) + 1 and s.endswith(head)), page_text)
        return near[0] + model[lat.end(1):] if len(near) == 1 else None
    head = m.group(0)
    if _listed_prefix(head):
        return None
    if len(head) == 1:
        near = _of_named_make(sorted(s for s in SERIES if len(s) == 2 and s.endswith(head)), page_text)
        return near[0] + model[1:] if len(near) == 1 else None
    for n in range(len(head), 1, -1):
        # one character misread, or the first lost (迪欧 of 蒙迪欧, on the cell's rule)
        near = _of_named_make(sorted(s for s in SERIES if _one_apart(s, head[:n])
                                     or (len(s) == n + 1 and s.endswith(head[:n]))), page_text)
        if len(near) == 1:
            return near[0] + model[n:]
        if near:
            return None
    return None


def listed_series(model: str) -> str | None:
    """The listed series ``model`` starts with (the longest), if any: 宋 of 宋PLUSDM-i."""
    m = _SERIES_HEAD.match(model)
    if m is None:
        return None
    head = m.group(0)
    return next((head[:n] for n in range(len(head), 0, -1) if head[:n] in SERIES), None)


# The trims dealers' systems print after a series and its engine (卡罗拉 1.2T 精英版), written
# from the makers' line-ups; not complete. A word one character from one of them is repaired
# only from the recogniser's own second choice for that character (``from_alternatives``).
TRIMS: frozenset[str] = frozenset(
    f"{w}{kind}" for w in ("精英", "豪华", "舒适", "领先", "尊贵", "旗舰", "运动", "时尚", "风尚", "进取", "标准",
                          "至尊", "智享", "尊享", "畅享", "悦享", "卓越", "先锋", "荣耀", "智联", "劲享", "智尊",
                          "经典", "新锐", "超越", "优雅", "典雅", "睿智", "科技", "梦想", "探索", "豪华运动")
    for kind in ("版", "型")) | frozenset(("四驱", "两驱", "前驱", "自动挡", "手动挡", "混动", "插混", "长续航"))

# Latin words of the engines and drives makers print in a model (蒙迪欧 EcoBoost 245, X3 xDrive30i),
# from the makers' line-ups; not complete. A word of five letters or more no listed word is, one
# letter from exactly one of them, is that word misread (FcoBoost: the E's bottom bar lost).
ENGINE_WORDS: tuple[str, ...] = ("EcoBoost", "TURBO", "xDrive", "sDrive", "Hybrid", "e-POWER", "Quattro", "BlueMotion",
                                 "SKYACTIV", "VTEC", "EcoTec", "TwinPower", "Ingenium")
_ENGINE_WORDS_UPPER = {w.upper(): w for w in ENGINE_WORDS}
_LATIN_WORD = re.compile(r"[A-Za-z]{5,}")


def engine_word_repair(model: str) -> str | None:
    """``model`` with a Latin word of five letters or more that is no engine or drive word
    (``ENGINE_WORDS``) replaced by the one such word a letter from it, case aside; None when
    there is no such word, or none or two fit."""
    known = _ENGINE_WORDS_UPPER
    out = model
    for m in _LATIN_WORD.finditer(model):
        word = m.group(0)
        if word.upper() in known:
            continue
        fits = [w for k, w in known.items() if len(k) == len(word)
                and sum(a != b for a, b in zip(k, word.upper(), strict=True)) == 1]
        if len(fits) == 1:
            out = out[:m.start()] + fits[0] + out[m.end():]
    return out if out != model else None


# a second choice the recogniser gave a character at least this much is evidence enough to take it
# when it alone makes a series or trim of an unknown word (探品 with 岳 at 0.23: 探岳; 耦英版 with
# 精 at 0.20: 精英版)
MODEL_ALTERNATIVE = 0.05
_CJK_RUN = re.compile(rf"[{CJK_CLASS}]+")


def _known(word: str, head: bool) -> bool:
    if head:
        return word in SERIES or any(word[:n] in SERIES for n in range(2, len(word) + 1))
    return word in TRIMS


def from_alternatives(model: str, line: OcrLine) -> str | None:
    """``model`` with a word that is no listed series (its head) or trim (after it) repaired from
    the recogniser's second choices in ``line``, the reading it came from: the one character
    whose second choice (``MODEL_ALTERNATIVE``) makes the word a known one. None when ``line``
    is not that reading with its choices, or no word, or more than one repair, fits.

    A one-character head no series is (泰PLUS DM-i) takes a second choice that is a one-character
    series (秦 at 0.24 beside 泰 at 0.25): any character is one from 秦, 汉, 宋, 唐 and 元, so
    only the recogniser's own choice makes one. The head is compared with the reading's alone
    (the designation after it may have been repaired: 泰PIUS DM-i read, 泰PLUSDM-i the model)."""
    kept = [j for j, c in enumerate(line.text) if not c.isspace()]
    if len(line.alternatives) != len(line.text):
        return None
    read = "".join(line.text[j] for j in kept)
    whole = read == model
    out = model
    for m in _CJK_RUN.finditer(model):
        word, head = m.group(0), m.start() == 0
        if _known(word, head) or not (whole or (head and read.startswith(word))):
            continue
        one = head and len(word) == 1
        fits = {word[:i] + ch + word[i + 1:]
                for i in range(len(word))
                for ch, p in line.alternatives[kept[m.start() + i]][1:]
                if p >= MODEL_ALTERNATIVE and (ch in SERIES if one else _known(word[:i] + ch + word[i + 1:], head))}
        if len(fits) != 1:
            continue
        out = out[:m.start()] + fits.pop() + out[m.end():]
    return out if out != model else None
