"""Per-field parsing of a value candidate's text: canonical value, how trustworthy it is, why."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from core.identifiers import CJK_CLASS, CJK_RE
from extractors import dates, mileage, money, phone, plate, vin
from extractors.text import clean, nfkc

MONEY_FIELDS = ("labor_cost", "parts_cost", "total_cost")
# the costs row, in the order every form prints it: labour, parts, other fees, discount, total
COST_ROW = ("labor_cost", "parts_cost", "other_cost", "discount", "total_cost")
UNSURE_OCR = 0.9  # an OCR line confidence under this: the reading may be a misreading


@dataclass(frozen=True)
class Parsed:
    value: str
    confidence: float  # trust in the reading itself (format / check digit), 0..1
    valid: bool
    note: str = ""
    raw: str = ""


def parse_vin(text: str, today: date) -> Parsed | None:
    r = vin.read_vin(text)
    if r is None:
        return None
    note = r.note + (f"; manufacturer {r.manufacturer}" if r.manufacturer else "")
    return Parsed(r.value, r.confidence, r.valid, note.strip("; "))


def parse_plate(text: str, today: date) -> Parsed | None:
    r = plate.read_plate(text)
    return None if r is None else Parsed(r.value, r.confidence, r.valid, r.note or r.kind)


# What OCR does to a dot-matrix date that no printed format has: a colon after it (2021-06-01:,
# the next label's), a comma for the dot (2022,10.05), one separator lost (2022.1005 12:45)
_DATE_TRAILING = re.compile(r"[\s:：;；,，]+$")
_DATE_COMMA = re.compile(r"(?<=\d)\s*[,，]\s*(?=\d)")
_DATE_SEPARATOR_LOST = re.compile(r"(?<!\d)((?:19|20)\d\d)[-/.](0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d)"
                                  r"|(?<!\d)((?:19|20)\d\d)(0[1-9]|1[0-2])[-/.](0[1-9]|[12]\d|3[01])(?!\d)")
# ... its separators read as spaces (2024 04 03), or the year's leading 2 lost at the cell's
# left rule (024/11/5: no year is 0xx; 20xx it must be)
_DATE_SPACED = re.compile(r"^\s*((?:19|20)\d\d)\s+(0?[1-9]|1[0-2])\s+(0?[1-9]|[12]\d|3[01])\s*$")
_YEAR_TWO_LOST = re.compile(r"^\s*(0\d\d)(?=[-/.年]\d)")
_DATE_REPAIRS = ((_DATE_SPACED, r"\1-\2-\3", "spaces for its separators"),
                 (_YEAR_TWO_LOST, r"2\1", "the year's first digit (2) lost"))
# 2019年5月28 for 2019年5月2日: a 年月 date whose two-digit day ends the text, no 日 after it
_DAY_WITHOUT_RI = re.compile(r"年\s*\d{1,2}\s*月\s*\d[0-9]\s*$")
# 2019年1月 6日 for 1月26日: a gap before a one-digit day or month, where a digit printed over a
# cell's rule (or a dot-matrix head's gap) was not read; printers right-align a number, not pad inside a date
_GAP_BEFORE_DIGIT = re.compile(r"[年月]\s+\d(?!\d)")
DATE_REPAIRED_CONFIDENCE = 0.9
DATE_DOUBTED_CONFIDENCE = 0.75
# a dot-matrix slash read as 7 (201977730 for 2019/7/30, 202178/21 for 2021/8/21): a year, then
# digits and slashes that make a date only with 7s as its two separators
_SLASHED_RUN = re.compile(r"(?<![\dA-Za-z])((?:19|20)\d\d)([7/][\d/]{2,5})(?![\d/])")
# ... a digit read as the letter it looks like (2019-0B-13)
_LETTER_IN_DATE = re.compile(r"(?<![\dA-Z])((?:19|20)\d\d)([-/.])([\dOBSIlZ]{1,2})\2([\dOBSIlZ]{1,2})(?![\dA-Za-z])")
_DATE_LETTER_DIGIT = str.maketrans("OBSIlZ", "085112")


def _slashes_as_sevens(text: str, today: date) -> Parsed | None:
    """The one date a run of digits and slashes after a year makes with 7s read for its slashes:
    the first character after the year and one more are the separators, every slash among them."""
    for m in _SLASHED_RUN.finditer(text):
        y, rest = m[1], m[2]
        found = set()
        for j in range(2, len(rest) - 1):
            month, day = rest[1:j], rest[j + 1:]
            if rest[j] not in "7/" or "/" in month + day or not (1 <= len(month) <= 2 and 1 <= len(day) <= 2):
                continue
            if got := dates.find_dates(f"{y}-{month}-{day}", today, day_first=False):
                found.add(got[0][0])
        if len(found) == 1 and "7" in rest:  # (two slashes: a date as printed, no repair)
            d = found.pop()
            return Parsed(d.isoformat(), DATE_DOUBTED_CONFIDENCE, True, f"read {m[0]}: a slash read as 7", m[0])
    return None


def _letter_in_date(text: str, today: date) -> Parsed | None:
    m = _LETTER_IN_DATE.search(text)
    if m is None or (m[3] + m[4]).isdigit():
        return None
    month, day = m[3].translate(_DATE_LETTER_DIGIT), m[4].translate(_DATE_LETTER_DIGIT)
    if got := dates.find_dates(f"{m[1]}-{month}-{day}", today, day_first=False):
        return Parsed(got[0][0].isoformat(), DATE_DOUBTED_CONFIDENCE, True, f"read {m[0]}: a digit read as a letter", m[0])
    return None


def _date_repaired(text: str, today: date) -> Parsed | None:
    """A date only a repair of its punctuation makes one (``_DATE_TRAILING`` and the rest)."""
    plain = _DATE_COMMA.sub(".", _DATE_TRAILING.sub("", text))
    if plain != text and (found := dates.find_dates(plain, today, day_first=False)):
        d, raw = found[0]
        if _DATE_COMMA.search(text) is None:  # only the trailing punctuation: noise
            return Parsed(d.isoformat(), 1.0, True, "", raw)
        return Parsed(d.isoformat(), DATE_REPAIRED_CONFIDENCE, True, f"read {text.strip()}: a comma for the dot", raw)
    m = _DATE_SEPARATOR_LOST.search(plain)
    if m is not None:
        y, mo, dd = (m[1], m[2], m[3]) if m[1] else (m[4], m[5], m[6])
        if found := dates.find_dates(f"{y}-{mo}-{dd}", today, day_first=False):
            return Parsed(found[0][0].isoformat(), DATE_DOUBTED_CONFIDENCE, True,
                          f"read {m[0]}: a separator lost", m[0])
    for pattern, replacement, why in _DATE_REPAIRS:
        fixed = pattern.sub(replacement, plain, count=1)
        if fixed != plain and (found := dates.find_dates(fixed, today, day_first=False)):
            return Parsed(found[0][0].isoformat(), DATE_DOUBTED_CONFIDENCE, True, f"read {text.strip()}: {why}", text.strip())
    return _slashes_as_sevens(plain, today) or _letter_in_date(plain, today)


def parse_date(text: str, today: date) -> Parsed | None:
    found = dates.find_dates(text, today, day_first=False)
    if not found:
        return _date_repaired(text, today)
    d, raw = found[0]
    if dates.glued_time_ambiguous(text):  # where the day ends and the hour starts is a guess
        return Parsed(d.isoformat(), 0.75, True, "date and time run together; the day is a guess", raw)
    if _DAY_WITHOUT_RI.search(text):
        return Parsed(d.isoformat(), DATE_DOUBTED_CONFIDENCE, True,
                      f"read {text.strip()}: no 日 after the day, its last digit may be the 日 misread", raw)
    if _GAP_BEFORE_DIGIT.search(raw):
        return Parsed(d.isoformat(), DATE_DOUBTED_CONFIDENCE, True, f"read {raw}: a gap before a digit, one lost?", raw)
    if ";" in raw:  # 2021;7:18: a separator misread, the digits beside it may be too
        return Parsed(d.isoformat(), DATE_DOUBTED_CONFIDENCE, True, f"read {raw}: a separator misread", raw)
    if re.match(r"[0O]{2}\d\d\D", raw):  # 0010年9月3日: a four-digit year's first digits misread
        return Parsed(d.isoformat(), 0.6, True, f"read {raw}: the year's first digits misread", raw)
    return Parsed(d.isoformat(), 1.0, True, raw=raw)


# dot-matrix amounts: two 1s run together read as an H (1H0.00 for 1110.00, as on plates), and
# a speck between the cents read as a second point (¥2659 . 7.8 for ¥2659.78)
_H_AS_ELEVEN = re.compile(r"(?<=\d)H(?=[\d.,，])")
_SPECK_IN_CENTS = re.compile(r"(?<=\d)\s*\.\s*(\d)\s*\.\s*(\d)(?![\d.])")
# ... a speck after the point read as a middle dot (¥3118.·07), and a 7 without its bar read as a
# slash (RMB 1,/51.85 for 1,751.85; 1873./1元 for 1873.71): no printed amount has either
_SPECK_AFTER_POINT = re.compile(r"(?<=\d)\s*\.\s*[·・•]\s*(?=\d)")
_SLASH_AS_SEVEN = re.compile(r"(?<=\d[.,，])/(?=\d)|(?<=\d)/(?=\d*[.．]\d{2}(?!\d))")  # not 12/05, 2024/3/15
# 1098,34元: a comma before the last two digits, which no thousands group has
_COMMA_FOR_POINT = re.compile(r"(?<=\d)[,，](?=\d{2}(?![\d,，.]))")
# ¥1;110.00: the thousands comma read as a semicolon (else 1.00 is read, the rest dropped)
_SEMICOLON_FOR_COMMA = re.compile(r"(?<=\d)[;；](?=\d{3}(?!\d))")
# RMB 3:030.00: ... or as a colon (else 3.00 is read, with confidence; a colon before two digits
# is the decimal point, money.parse_amount)
_COLON_FOR_COMMA = re.compile(r"(?<=\d)[:：](?=\d{3}(?!\d))")
# ￥1168 00: the point lost to a gap, two digits after it — an amount with no point, comma or
# colon anywhere whose last group is two digits after three or more (spaced print, ¥ 3 3 8 0 0,
# has no three together)
_SPACE_FOR_POINT = re.compile(r"^(?=[^.,:;]*$)(.*?\d{3})\s+(\d{2})(?=\s*元?\s*$)")
MONEY_REPAIRED_CONFIDENCE = 0.6
# a thousands group with two digits more and no point (¥5,78822): the point before the cents lost
_POINT_LOST_AFTER_GROUP = re.compile(r"(?<=[,，]\d{3})(?=\d{2}(?![\d.．]))")
_MONEY_REPAIRS = (
    (_POINT_LOST_AFTER_GROUP, ".", "the point after the thousands group lost"),
    (_H_AS_ELEVEN, "11", "an 11 read as H"),
    (_SPECK_IN_CENTS, r".\1\2", "a speck between the cents read as a point"),
    (_SPECK_AFTER_POINT, ".", "a speck after the point"),
    (_SLASH_AS_SEVEN, "7", "a 7 read as /"),
    (_COMMA_FOR_POINT, ".", "a comma for the point"),
    (_SEMICOLON_FOR_COMMA, ",", "a semicolon for the comma"),
    (_COLON_FOR_COMMA, ",", "a colon for the comma"),
    (_SPACE_FOR_POINT, r"\1.\2", "a gap for the point"),
)


# a whole number glued to Chinese characters that are no currency unit (4科费, 1料费): a label
# whose first characters were misread as digits, not an amount
_NUMBER_INTO_WORD = re.compile(rf"^\s*\d{{1,2}}(?=[{CJK_CLASS}])(?![元圆角分整])")


def parse_money(text: str, today: date) -> Parsed | None:
    read = nfkc(text).upper()
    if _NUMBER_INTO_WORD.match(read):
        return None
    repaired, why = read, []
    for pattern, replacement, what in _MONEY_REPAIRS:
        fixed = pattern.sub(replacement, repaired)
        if fixed != repaired:
            repaired = fixed
            why.append(what)
    if repaired != read:
        a = money.parse_amount(repaired)
        if a is not None:
            return Parsed(money.fmt(a), MONEY_REPAIRED_CONFIDENCE, a >= 0, f"read {text.strip()}: {', '.join(why)}")
    a = money.parse_amount(text)
    if a is None:
        return None
    return Parsed(money.fmt(a), 0.95, a >= 0)


# a mark glued before the number ("$4.759", "(70872KM"): a digit printed over the cell's rule
# and read as a mark — what is left may be the odometer without its first digit
_MARK_BEFORE_NUMBER = re.compile(r"(?:^|\s)[^\w\s:：]+\d")
# ... or a Latin letter glued before it (B8010KM: a 3 read as B), which no odometer prints
_LETTER_BEFORE_NUMBER = re.compile(r"(?:^|[\s:：])[A-Za-z]\d")
MARKED_MILEAGE_CONFIDENCE = 0.6
FEW_KM = 100


# a 5 read as a dollar sign before a mileage ($8.258 for 58,258; no currency is read in km)
_FIVE_AS_DOLLAR = re.compile(r"^\s*\$(?=\d)")


# 166/06 km: a 7 without its bar read as a slash (no odometer reading has one between digits)
_SLASH_IN_NUMBER = re.compile(r"(?<=\d)/(?=\d)")
# 02,096 or 012345: no printed number starts with a 0 before more digits; its first digit (a 1 on
# the cell's rule) was lost
_LEADING_ZERO = re.compile(r"(?<![\d.,，])0\d")


def parse_mileage(text: str, today: date) -> Parsed | None:
    s = nfkc(text)
    if _SLASH_IN_NUMBER.search(s):
        v = mileage.normalize_mileage(_SLASH_IN_NUMBER.sub("7", s))
        if v is not None:
            return Parsed(v, MARKED_MILEAGE_CONFIDENCE, True, f"read {text.strip()}: a 7 read as a slash")
    if (m := _LEADING_ZERO.search(s)) and (v := mileage.normalize_mileage(s)) not in (None, "0") \
            and mileage.normalize_mileage(s[m.start():]) == v:  # the zero-led number is the odometer's
        return Parsed(v, MARKED_MILEAGE_CONFIDENCE, True, f"read {text.strip()}: a number that starts with 0, its first digit lost?")
    if _FIVE_AS_DOLLAR.match(s):
        v = mileage.normalize_mileage(_FIVE_AS_DOLLAR.sub("5", s, count=1))
        if v is not None:
            return Parsed(v, MARKED_MILEAGE_CONFIDENCE, True, f"read {text.strip()}: a 5 read as $")
    v = mileage.normalize_mileage(text)
    if v is None:
        return None
    if mileage.spaced_groups(text):
        return Parsed(v, MARKED_MILEAGE_CONFIDENCE, True, f"read {text.strip()}: digits in groups of three, one number")
    if _MARK_BEFORE_NUMBER.search(nfkc(text).strip()):
        return Parsed(v, MARKED_MILEAGE_CONFIDENCE, True, f"a mark before the number (read {text.strip()}): a digit lost?")
    if _LETTER_BEFORE_NUMBER.search(nfkc(text).strip()):
        return Parsed(v, MARKED_MILEAGE_CONFIDENCE, True,
                      f"a letter before the number (read {text.strip()}): a digit misread?")
    if int(v) < FEW_KM:
        # a car in for service has done more (a new car's pre-delivery check aside): the number's
        # first digits lost on the cell's rule (17 read for 917)
        return Parsed(v, MARKED_MILEAGE_CONFIDENCE, True, f"under {FEW_KM} km: digits lost?")
    return Parsed(v, 0.95, True)


def parse_phone(text: str, today: date) -> Parsed | None:
    r = phone.read_phone(text)
    return None if r is None else Parsed(r.value, r.confidence, r.valid, r.note or r.kind)


_ORDER = re.compile(r"[A-Z0-9][A-Z0-9\-_/]{3,29}")
_RO_WO = re.compile(r"^[RW][0Q]\d{6,}$")  # RO / WO with its O read as 0 or Q (domain.md: O/0, Q/0)


def parse_order_no(text: str, today: date) -> Parsed | None:
    s = nfkc(text).upper().replace(" ", "")
    m = _ORDER.search(s)
    if m is None:
        return None
    v = m.group(0).strip("-_/")
    digits = sum(c.isdigit() for c in v)
    note = ""
    conf = 0.95 if digits >= 4 else 0.6
    if _RO_WO.match(v):  # RO / WO (repair / work order) read with a zero
        v, note, conf = v[0] + "O" + v[2:], f"read {v[:2]} as {v[0]}O", 0.85
    segmented = _segments_repaired(v) if "-" in v else _run_repaired(v)
    if segmented != v:
        v, note, conf = segmented, f"read {v}: letters and digits of its parts told apart", min(conf, 0.7)
    elif re.match(r"[A-Z0-9]-\d", v):  # 5- or S-20220901-9382: a letters prefix (JS-) misread or cut
        note, conf = "one character before the first hyphen: a letters prefix misread?", min(conf, 0.7)
    elif re.match(r"\d{2}-(?:19|20)\d{6}(?:-|$)", v):  # 15-20230205-2651: JS- read as digits
        note, conf = "digits before the date part: a letters prefix misread?", min(conf, 0.7)
    return Parsed(v, conf, digits >= 4, note)


_AS_LETTER = str.maketrans("508", "SOB")  # not 1 or 2: a prefix may hold them (R1-, B2-)
_AS_DIGIT = str.maketrans("SOBIZ", "50812")


# a number of one run (W20230901815, RO2002015720): its letters prefix, then digits; one odd
# character among the digits is a digit misread (W20230901B15, RO20U2015720)
_ONE_RUN = re.compile(r"([A-Z]{1,3})(\d[\dSOBIZU]{6,}\d)")
_RUN_AS_DIGIT = str.maketrans("SOBIZU", "508120")


def _run_repaired(v: str) -> str:
    m = _ONE_RUN.fullmatch(v)
    if m is None or sum(not c.isdigit() for c in m.group(2)) != 1:
        return v
    return m.group(1) + m.group(2).translate(_RUN_AS_DIGIT)


def _segments_repaired(v: str) -> str:
    """A DMS number of parts (JS-20201118-9769): a letters prefix, then parts of digits. OCR reads
    S and 5, O and 0, B and 8 alike (J5-…, …-357B); a part's one odd character is read as its kind,
    for review. Only when the prefix starts with a letter and the parts after it are digits."""
    parts = v.split("-")
    if len(parts) < 2 or not parts[0][:1].isalpha() or len(parts[0]) > 4:
        return v
    tails = parts[1:]
    if not all(len(t) >= 3 and sum(not c.isdigit() for c in t) <= 1 and all(c.isdigit() or c in "SOBIZ" for c in t)
               for t in tails):
        return v
    head = parts[0]
    if sum(c.isdigit() for c in head) == 1 and all(c.isalpha() or c in "508" for c in head):
        head = head.translate(_AS_LETTER)
    return "-".join([head, *(t.translate(_AS_DIGIT) for t in tails)])




def _free_text(text: str, max_len: int) -> str:
    s = clean(text)
    s = re.split(r"\s{2,}", s)[0]
    return s.strip(" :：,，;；.")[:max_len]


# Words a label ends with (维修类型, 结算日期, 车辆型号 ...): a value that reads like one is a label
# the lexicon does not know, found where a value was expected — never a value.
LABEL_TAILS = ("类型", "类别", "日期", "时间", "号码", "编号", "单号", "名称", "姓名", "电话", "手机", "里程", "顾问",
               "型号", "车型", "项目", "费用", "金额", "地址", "颜色", "技师", "班组", "备注", "签字", "签名", "性质",
               "方式", "单位", "等级", "专员", "接待", "接待员", "车牌", "车架号", "代号", "说明", "描述", "合计", "数量")


def looks_like_label(text: str) -> bool:
    s = _free_text(text, 40).rstrip(":：")
    if not s or re.search(r"\d", s):
        return False
    return bool(re.fullmatch(rf"[{CJK_CLASS}()（）/]{{2,8}}", s)) and s.endswith(LABEL_TAILS)


# Common Chinese surnames (one and two characters): a person's name starts with one. A value that
# does not is read with less trust (it goes to review).
_SURNAMES_BY_FREQUENCY = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温"
    "康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成"
    "苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费"
    "卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠"
    "惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国"
    "狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢"
    "嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由")
SURNAMES = set(_SURNAMES_BY_FREQUENCY)
# The hundred commonest (the list is written in about the order of their frequency)
COMMON_SURNAMES = frozenset(_SURNAMES_BY_FREQUENCY[:100])
# Characters common in Chinese given names, written from naming practice (not from any sample
# set): a name's character that is none of them, read beside one of them the recogniser also saw
# (叶玲墩 with 敏 at 0.42, 段晓鹅 with 鹏 at 0.36), was more likely that one.
GIVEN_NAME_CHARACTERS = frozenset(
    "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林阳洋峰晨博文亮成毅锋海鸣振东建国庆春生志永新光德"
    "宏荣胜利金祥福贵泽轩睿哲瑞然翔宸逸航昊皓铭豪涵楠嘉子梓一天思奕若诗雨欣怡佳琪婷静丽敏燕娟霞艳芳娜秀英兰玲"
    "红梅莉萍雪琳慧颖洁倩晶媛璐瑶菲岚薇露虹蓉青云凤珍娇莹悦彤妍馨蕾茜婉婕晴琦琴玉桂芬丹君珊莎卉蕊蓓立江河山松柏"
    "森彬彪震霖雷鸿鹤凡远达正义礼仁智信忠孝安康乐喜舒畅顺和兴盛昌隆发财富宝珠银石钢锐钧锦镇坤乾元朝晖晓星月"
    "阳光亚欢笑美艺静秋冬夏梦琼瑾璇琛瑜璟珂琰瑄莺燕鹃娅婧媚妮娴姗姝婵倩茹荷莲菊芸芝萱蓝紫彩虹霓霏雯霜岩峻崇"
    "嵩巍磊焱炎烨煜熙炜灿耀辰宸晟昕昱晗晋景显智慧聪颖睿哲思想念恩惠慈爱心怡悦愉欣喜庆祥瑞福禄寿康宁泰安定平和"
    "谦逊恒毅坚韧刚勇威武雄豪杰英俊秀伦清源深沛泓淳涵润泽沁洁淑贤良善美德馨兰芳芸菲莉萍蓉蕾薇春夏秋冬"
    "子文学书诗琴画棋墨雅韵音乐舞歌声笛箫鸣凤龙虎豹鹰鹏燕鸥鹭鸿雁翔飞腾跃奔驰骏骁骥"
    "国家民族中华振兴建设卫东红军卫兵革新向前进跃胜利解放援朝抗美"
    "大小长永远久广博宽厚深高明亮丽正直方圆满全")
DOUBLE_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐", "端木")


def has_surname(name: str) -> bool:
    return name[:1] in SURNAMES or name[:2] in DOUBLE_SURNAMES


# Characters no Chinese name has: sentence particles (谭梓了 is 谭梓子 misread)
NOT_IN_NAMES = frozenset("了么吗呢吧啊嘛哦呀的")


def _person_doubt(s: str) -> Parsed | None:
    """Why a person's name as read is doubted (for review), or None: it starts with no surname,
    it is a given name whose surname may be lost at the cell's rule, or it has a character no name has."""
    if any(c in NOT_IN_NAMES for c in s):
        return Parsed(s, 0.6, True, "a character no name has: misread?")
    if not has_surname(s):
        return Parsed(s, 0.6, True, "does not start with a common surname")
    if len(s) == 2 and s[0] in GIVEN_NAME_CHARACTERS and s[0] not in COMMON_SURNAMES:
        # 国乐 of 李国乐: a rare surname that is a given name's character may be the given name
        # with the surname lost at the cell's rule
        return Parsed(s, 0.7, True, "a given name without its surname?")
    return None


# sentence punctuation inside a value: a sentence (客户指述：冷车启动时…, 客户描述 misread), no name
_SENTENCE_MARKS = re.compile(r"(?<=.)[：:，,、；;。！？](?=.)")


def parse_name(text: str, today: date) -> Parsed | None:
    s = _free_text(text, 40)
    if not s or re.fullmatch(r"[\d\s\-+]+", s) or looks_like_label(s) or (_SENTENCE_MARKS.search(s) and CJK_RE.search(s)):
        return None
    ok = bool(CJK_RE.search(s)) or bool(re.search(r"[A-Za-z]{2}", s))
    if re.fullmatch(rf"[{CJK_CLASS}]", s):  # 丁 of 丁秀: the rest of the name lost
        return Parsed(s, 0.6, True, "one character: a name has two or more")
    if re.fullmatch(rf"[{CJK_CLASS}]{{2,3}}", s) and (doubt := _person_doubt(s)) is not None:
        # two or three characters are a person's name (a company's is longer: 物流有限公司)
        return doubt
    return Parsed(s, 0.95 if ok else 0.5, ok)


def parse_person(text: str, today: date) -> Parsed | None:
    s = _free_text(text, 20).split(" ")[0].strip("·.,，。")
    if not s or re.search(r"\d", s) or looks_like_label(s):
        return None
    cjk = bool(re.fullmatch(rf"[{CJK_CLASS}·]{{2,5}}", s))
    ok = cjk or bool(re.fullmatch(r"[A-Za-z .]{2,20}", s))
    if cjk and (doubt := _person_doubt(s)) is not None:
        return doubt
    return Parsed(s, 0.95 if ok else 0.5, ok)


def canonical_model(text: str) -> str:
    """A model name without spaces: OCR cannot see them reliably (迈腾 330TSI reads 迈腾330TSI),
    so, like the plate's dot, they are formatting and not part of the value. A dot belongs only
    inside a number (1.6L); elsewhere it is a speck read as a dot (2.0L.四驱)."""
    s = "".join(text.split())
    s = re.sub(r"(?<=\d\.)[OoD](?=[LT])", "0", s)  # 2.OL: a displacement's 0 read as a letter
    return re.sub(r"(?<!\d)\.|\.(?!\d)", "", s)


# A 0 or 1 right after a letter and not part of a longer number (TURB0, TS1, DM-1) is as likely
# an O or I misread: nothing validates a model name, so such a value goes to review.
_MODEL_CONFUSABLE = re.compile(r"[A-Za-z]-?[01](?!\d)")


# Engine designations printed after a number (330TSI, 40TFSI, 260TURBO, 530Li) with the OCR
# confusions of their letters (T/1/7, S/5, I/1/l/T and the serif I read as 工, O/0): no model
# writes 3801SI, 380TST, 260TURB0 or 530L1, so the reading is the designation, for review.
_DESIGNATIONS = (
    (re.compile(r"(?<=\d{3})[T17I][S5][I1lT|工](?![A-Za-z0-9])"), "TSI"),
    (re.compile(r"(?<=\d{2})[T17I]F[S5][I1l|工](?![A-Za-z0-9])"), "TFSI"),
    (re.compile(r"(?<=\d{3})TURB[O0](?![A-Za-z0-9])"), "TURBO"),
    (re.compile(r"(?<=\d{3})L[1Il|](?![A-Za-z0-9])"), "Li"),  # a long-wheelbase BMW (530Li, 320Li)
    (re.compile(r"(?<=\d{3})Ti(?![A-Za-z0-9])"), "Li"),  # ... its L read as T (530Ti领先型)
    (re.compile(r"^\$(?=\d{2}Li?(?![a-z]))"), "5"),  # ... its 5 read as $ ($30Li)
    # ... its i lost before the trim (530L领先型: a Mercedes' L follows a letter's number, E300L)
    (re.compile(rf"(?<![A-Za-z\d])(\d{{3}})L(?=[{CJK_CLASS}])"), r"\1Li"),
    # BMW's all-wheel drive (X3 xDrive30i) with its x read as v, X, Y or × (sDrive is another),
    # its i lost (xDrve30i), and the X of an X model before it read as K (no K3 has xDrive)
    (re.compile(r"[vVXY×](?=Drive\d{2})"), "x"),
    (re.compile(r"(?<=[xs])Drve(?=\d{2})"), "Drive"),
    (re.compile(r"(?<![A-Za-z])[K×](?=[1-7]xDrive)"), "X"),
    # a long-wheelbase BMW's first digit, a 3, read as B (B25Li: no BMW number starts with a letter)
    (re.compile(r"^B(?=\d{2}Li)"), "3"),
    (re.compile(r"EcoBoos[l1I|](?![a-z])"), "EcoBoost"),  # Ford's engines (蒙迪欧 EcoBoost 245)
    # an electric model's EV after its series name (汉EV, 秦EV) with the E read as I, l or 1
    (re.compile(rf"(?<=[{CJK_CLASS}])[I1l|]V(?=\d|$)"), "EV"),
    # Mercedes-Benz's four-wheel drive (GLC300L 4MATIC) with its M read H or N, its I as 1 or l
    (re.compile(r"4[MHN]AT[I1l|]C(?![A-Za-z])"), "4MATIC"),
    (re.compile(r"(?<![A-Za-z])P[LIl1|][U0][S5](?![a-z])"), "PLUS"),  # 元PIUS, 宋PLU5DM-i, 元PL05
    (re.compile(r"D[NH]-(?=[ip](?![A-Za-z]))"), "DM-"),  # BYD's DM-i / DM-p (秦PLUS DN-i)
    (re.compile(r"(?<=DM-)[I1l|](?![A-Za-z0-9])"), "i"),  # ... DM-I
    # a displacement has one decimal and its unit (2.5L): 2.51豪华版 is 2.5L with its L read as 1
    (re.compile(rf"(?<=\d\.\d)[1l|I](?=[{CJK_CLASS}]|$)"), "L"),
    # the gearbox after the displacement (1.5L CVT, 1.4T DCT) with its last letter lost at the
    # value's end: no model ends in CV or DC
    (re.compile(r"(?<=\d\.\d[LT])CV$"), "CVT"),
    (re.compile(r"(?<=\d\.\d[LT])DC$"), "DCT"),
)
DESIGNATION_CONFIDENCE = 0.6
# a displacement is printed with its unit (1.5L, 2.0T): 宝来1.5, 奇骏2.0四驱 and 飞度1.5CVT have lost a letter
_BARE_DISPLACEMENT = re.compile(rf"\d\.\d(?:$|(?=[{CJK_CLASS}])|(?=(?:CVT|DCT|DSG|AT|MT|AMT)(?![A-Za-z])))")
# a model number is printed with its letters (530Li, 320i, C260L): 530领先型 has lost them
_BARE_DESIGNATION = re.compile(rf"^\d{{3}}[{CJK_CLASS}]")
# no model name ends in a hyphen: 宋PLUSDM- has lost the i of DM-i (printed over the cell's rule)
_CUT_AFTER_HYPHEN = re.compile(r"[-－‐]$")


def cut_at_hyphen(model: str) -> bool:
    """A model reading that ends in a hyphen: its last characters lost."""
    return bool(_CUT_AFTER_HYPHEN.search(model))


# a short word in no case a name is printed in (PLus, PLuS for Plus: a serif l read as L)
_ODD_CASE = re.compile(r"(?<![A-Za-z])[A-Z]{2}[a-z][A-Za-z]{0,2}(?![A-Za-z])")


def _designations(value: str) -> str:
    for pattern, designation in _DESIGNATIONS:
        value = pattern.sub(designation, value)
    return _ODD_CASE.sub(lambda m: m.group(0).capitalize(), value)


def parse_model(text: str, today: date) -> Parsed | None:
    s = _free_text(text, 40)
    if not s or re.fullmatch(r"[\d\s\-.:]+", s) or looks_like_label(s):
        return None
    value = canonical_model(s)
    repaired = _designations(value)
    if repaired != value:
        return Parsed(repaired, DESIGNATION_CONFIDENCE, True, f"read {value}: letters of a designation misread")
    if _MODEL_CONFUSABLE.search(value):
        return Parsed(value, 0.6, False)
    if _BARE_DISPLACEMENT.search(value):
        return Parsed(value, 0.6, True, "a displacement without its L or T: its last letter lost?")
    if _BARE_DESIGNATION.match(value):
        return Parsed(value, 0.6, True, "a number without its letters before the trim: letters lost?")
    if cut_at_hyphen(value):
        return Parsed(value, 0.6, True, "ends in a hyphen: its last characters lost?")
    return Parsed(value, 0.92, True)


PARSERS: dict[str, Callable[[str, date], Parsed | None]] = {
    "order_no": parse_order_no,
    "vin": parse_vin,
    "plate": parse_plate,
    "date_in": parse_date,
    "date_out": parse_date,
    "mileage_km": parse_mileage,
    "customer_name": parse_name,
    "phone": parse_phone,
    "model": parse_model,
    "advisor": parse_person,
    "labor_cost": parse_money,
    "parts_cost": parse_money,
    "other_cost": parse_money,
    "discount": parse_money,
    "total_cost": parse_money,
}
