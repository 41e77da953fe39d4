"""Synthetic Chinese after-sales work orders (维修委托书 / 派工单 / 结算单) with ground truth.

Each document is rendered upright with PIL and the installed CJK fonts, then "scanned": seal and
signature ink, carbon-copy fading, uneven illumination, skew, blur, noise, fax binarisation, page
rotation and JPEG artefacts, all chosen from a seeded RNG and recorded in ``NAME.truth.json``.

The page text in the truth file is built from the very text runs that were drawn: runs that share
a row are joined left to right with one space, rows top to bottom with ``\\n``. Seal text and
hand-drawn signatures are graphics and are not part of the page text.

Usage: ``.venv/bin/python samples/generate.py --out DIR --count N --seed S [--pages-mix]
[--formats jpg,png,tif,pdf] [--clean] [--hard] [--summary]``; importable as
``generate(out_dir, count, seed)``. See samples/README.md for the truth format and conventions.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps

log = logging.getLogger("samples.generate")

FORMATS = ("jpg", "png", "tif", "pdf")
LAYOUTS = ("form_colon", "grid_right", "grid_below", "two_column", "dms_print")
# Forms of other dealers and of the national standard (issue 12), made from their description:
# the 机动车维修结算单/委托书 (托修方/承修方, 厂牌车型, VIN in 17 boxes), a pre-printed colour form with
# dot-matrix values out of register, label-above-value boxes, two-column 键：值 slips.
FORM_LAYOUTS = ("national_std", "colour_preprint", "label_above", "kv_slip")
ALL_LAYOUTS = LAYOUTS + FORM_LAYOUTS
A4_MM = (210.0, 297.0)
FIXED_PDF_DATE = time.struct_time((2024, 1, 1, 0, 0, 0, 0, 1, 0))

# --------------------------------------------------------------------------------------------
# VIN (ISO 3779 / GB 16735)

VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
_TRANSLIT = dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ", [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9], strict=True))
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_YEAR_CODES = {2015: "F", 2016: "G", 2017: "H", 2018: "J", 2019: "K", 2020: "L", 2021: "M", 2022: "N", 2023: "P", 2024: "R", 2025: "S"}


def vin_check_digit(vin: str) -> str:
    total = sum((int(c) if c.isdigit() else _TRANSLIT[c]) * w for c, w in zip(vin.upper(), _WEIGHTS, strict=True))
    rem = total % 11
    return "X" if rem == 10 else str(rem)


def vin_is_valid(vin: str) -> bool:
    vin = vin.upper()
    if len(vin) != 17 or any(c not in VIN_CHARS for c in vin):
        return False
    return vin[8] == vin_check_digit(vin)


def make_vin(rng: random.Random, wmi: str, model_year: int) -> str:
    vds = "".join(rng.choice(VIN_CHARS[10:] if i == 0 else VIN_CHARS) for i in range(5))
    plant = rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")
    serial = "".join(rng.choice("0123456789") for _ in range(6))
    body = f"{wmi}{vds}0{_YEAR_CODES[model_year]}{plant}{serial}"
    return body[:8] + vin_check_digit(body) + body[9:]


# --------------------------------------------------------------------------------------------
# Domain vocabulary


@dataclass(frozen=True)
class Brand:
    name: str  # the brand as it appears in dealer names
    maker: str
    wmi: str
    models: tuple[str, ...]
    part_pattern: str  # 9 digit, A letter, X letter or digit
    labour_rate: int  # yuan per hour
    nev: bool = False


BRANDS = (
    Brand("丰田", "一汽丰田", "LFM", ("卡罗拉 1.2T 精英版", "亚洲龙 2.5L 豪华版", "RAV4荣放 2.0L", "皇冠陆放 2.5L"), "99999-XXXX9", 320),
    Brand("大众", "上汽大众", "LSV", ("朗逸 1.5L 舒适版", "帕萨特 330TSI", "途观L 380TSI", "途昂 530 V6"), "99A999999A", 300),
    Brand("一汽-大众", "一汽-大众", "LFV", ("速腾 280TSI", "迈腾 330TSI 豪华型", "宝来 1.5L", "探岳 380TSI"), "99A999999A", 300),
    Brand("宝马", "华晨宝马", "LBV", ("325Li M运动套装", "530Li 领先型", "X3 xDrive30i"), "99999999999", 580),
    Brand("奔驰", "北京奔驰", "LE4", ("C260L", "E300L 豪华型", "GLC300L 4MATIC"), "A9999999999", 620),
    Brand("日产", "东风日产", "LGB", ("轩逸 1.6L XL", "天籁 2.0L", "奇骏 2.0L 四驱"), "99999-XXXXX", 260),
    Brand("本田", "广汽本田", "LHG", ("雅阁 260TURBO", "飞度 1.5L CVT", "缤智 1.5L", "凌派 180TURBO"), "99999-AAA-A99", 280),
    Brand("福特", "长安福特", "LVS", ("福克斯 1.5L", "蒙迪欧 EcoBoost 245", "锐界 2.0T"), "AA9A-9999-AA", 270),
    Brand("别克", "上汽通用", "LSG", ("英朗 1.5L", "君威 552T", "昂科威Plus 28T"), "99999999", 290),
    Brand("比亚迪", "比亚迪", "LGX", ("汉EV 605km", "秦PLUS DM-i", "宋PLUS DM-i", "元PLUS 510km"), "AA-9999999", 240, True),
)


@dataclass(frozen=True)
class City:
    name: str
    district: str
    province: str  # plate province character
    letters: str  # issuing-office letters
    area_code: str


CITIES = (
    City("广州", "天河区", "粤", "AA", "020"),
    City("深圳", "南山区", "粤", "B", "0755"),
    City("佛山", "南海区", "粤", "EX", "0757"),
    City("北京", "朝阳区", "京", "ABCEFGHJKLMNPQ", "010"),
    City("上海", "闵行区", "沪", "ABCDEFGHJKLMN", "021"),
    City("杭州", "西湖区", "浙", "A", "0571"),
    City("南京", "江宁区", "苏", "A", "025"),
    City("成都", "武侯区", "川", "AG", "028"),
    City("武汉", "洪山区", "鄂", "A", "027"),
    City("西安", "雁塔区", "陕", "AU", "029"),
    City("长沙", "岳麓区", "湘", "A", "0731"),
    City("郑州", "金水区", "豫", "A", "0371"),
    City("济南", "历下区", "鲁", "A", "0531"),
    City("重庆", "渝北区", "渝", "ABCD", "023"),
    City("天津", "河西区", "津", "ABCDEFGH", "022"),
    City("昆明", "官渡区", "云", "A", "0871"),
    City("福州", "仓山区", "闽", "A", "0591"),
    City("沈阳", "浑南区", "辽", "A", "024"),
    City("合肥", "蜀山区", "皖", "A", "0551"),
    City("南宁", "青秀区", "桂", "A", "0771"),
)

DEALER_WORDS = ("广物", "骏达", "合众", "恒通", "中升", "永达", "广汇", "运通", "鑫达", "华润", "瑞宝", "星辉", "致远", "东昌", "宏昌")
STREETS = ("黄埔大道西", "科技园南路", "机场路", "五四路", "长江中路", "解放大道", "建设北路", "人民南路", "华夏路", "汽车城大道")
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
DOUBLE_SURNAMES = ("欧阳", "司马", "诸葛", "上官")
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉兰秀文辉斌鹏飞宇浩然俊峰晓红梅琳建国志国海燕丹婷雪佳欣怡子涵梓轩博宇"
    "嘉豪思远家乐立新德福荣庆美玲春生秋云慧敏晨阳"
)
COLOURS = ("白色", "黑色", "珍珠白", "银色", "灰色", "深蓝色", "红色", "香槟金", "星空灰", "极地白")
TITLES = ("维修委托书", "汽车维修委托书", "维修派工单", "维修结算单", "结算单", "售后服务委托书")
SEAL_TEXTS = ("售后服务专用章", "结算专用章", "业务专用章")


@dataclass(frozen=True)
class Job:
    complaint: str
    labour: tuple[tuple[str, float], ...]  # (work item, hours)
    parts: tuple[tuple[str, int, int, int], ...]  # (part name, min price, max price, quantity)


JOBS = (
    Job("车辆到达保养里程，做常规保养", (("更换机油机滤", 0.5), ("全车安全检查", 0.3)),
        (("全合成机油 5W-30 4L", 380, 560, 1), ("机油滤清器", 45, 120, 1), ("放油螺塞垫片", 5, 15, 1))),
    Job("更换空气滤及空调滤", (("更换空气滤清器", 0.2), ("更换空调滤清器", 0.3)),
        (("空气滤清器滤芯", 80, 260, 1), ("空调滤清器滤芯", 90, 280, 1))),
    Job("刹车时有尖锐异响", (("检查制动系统", 0.5), ("更换前刹车片", 1.0)),
        (("前制动摩擦片", 380, 1200, 1), ("刹车片消音膏", 20, 45, 1))),
    Job("方向盘抖动，跑偏", (("四轮定位", 1.0), ("轮胎动平衡", 0.5)), (("平衡块", 3, 8, 6),)),
    Job("冷车启动时发动机抖动，故障灯亮", (("电脑诊断", 0.5), ("更换火花塞", 1.0), ("清洗节气门", 0.8)),
        (("火花塞", 60, 160, 4), ("节气门清洗剂", 35, 70, 1))),
    Job("空调不制冷，出风口有异味", (("空调系统检测", 0.5), ("加注冷媒", 0.8), ("空调管路清洗", 1.0)),
        (("R134a制冷剂", 180, 320, 1), ("空调清洗剂", 60, 120, 1))),
    Job("右前翼子板刮蹭，需钣喷", (("右前翼子板钣金", 3.0), ("右前翼子板喷漆", 4.0)),
        (("面漆", 260, 520, 1), ("清漆", 120, 260, 1), ("原子灰", 40, 80, 1))),
    Job("车辆无法启动，电瓶亏电", (("蓄电池检测", 0.3), ("更换蓄电池", 0.5)), (("蓄电池 12V 60Ah", 650, 1300, 1),)),
    Job("左前门玻璃升降不工作", (("拆装左前门内饰板", 0.8), ("更换左前玻璃升降器", 1.2)),
        (("左前玻璃升降器总成", 420, 980, 1), ("门饰板卡扣", 3, 10, 6))),
    Job("雨刮器刮不干净，有异响", (("更换雨刮片", 0.2),), (("前雨刮片", 80, 260, 2),)),
    Job("左前轮胎鼓包，更换轮胎", (("拆装轮胎", 0.5), ("轮胎动平衡", 0.5)),
        (("轮胎 225/45R17", 650, 1500, 1), ("气门嘴", 10, 30, 1))),
    Job("更换制动液和防冻液", (("更换制动液", 0.8), ("更换冷却液", 1.0)),
        (("制动液 DOT4", 90, 180, 1), ("长效冷却液", 80, 160, 2))),
    Job("底盘异响，过减速带咯噔响", (("底盘检查", 0.5), ("更换前稳定杆连杆", 1.2)),
        (("前稳定杆连杆", 160, 420, 2),)),
    Job("变速箱换挡顿挫", (("变速箱电脑诊断", 0.5), ("更换变速箱油", 1.5)), (("自动变速箱油", 120, 260, 4),)),
)


# --------------------------------------------------------------------------------------------
# Content: what the document says


@dataclass
class PartLine:
    part_no: str
    name: str
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass
class LabourLine:
    name: str
    hours: Decimal
    amount: Decimal


@dataclass
class JobLines:
    """One requested job as billed: the complaint, its work items and its parts."""

    complaint: str
    labour: list[LabourLine]
    parts: list[PartLine]


@dataclass
class Content:
    dealer: str
    dealer_address: str
    dealer_phone: str
    brand: Brand
    title: str
    order_no: str
    date_in: datetime
    date_out: datetime
    advisor: str
    technician: str
    vin: str
    plate: str
    model: str
    mileage: int
    colour: str
    customer: str
    phone: str  # digits only
    jobs: list[JobLines]
    other_label: str
    other: Decimal
    discount_pct: int  # 0 = no percentage discount
    round_down: bool  # discount rounds the bill down to whole ten yuan
    seal_text: str

    @property
    def complaint(self) -> list[str]:
        return [j.complaint for j in self.jobs]

    @property
    def labour(self) -> list[LabourLine]:
        return [x for j in self.jobs for x in j.labour]

    @property
    def parts(self) -> list[PartLine]:
        return [p for j in self.jobs for p in j.parts]

    @property
    def labour_cost(self) -> Decimal:
        return sum((x.amount for x in self.labour), Decimal("0.00"))

    @property
    def parts_cost(self) -> Decimal:
        return sum((p.amount for p in self.parts), Decimal("0.00"))

    @property
    def discount(self) -> Decimal:
        subtotal = self.labour_cost + self.parts_cost + self.other
        if self.discount_pct:
            return (subtotal * self.discount_pct / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if self.round_down:
            return (subtotal - (subtotal // 10) * 10).quantize(Decimal("0.01"))
        return Decimal("0.00")

    @property
    def total(self) -> Decimal:
        return self.labour_cost + self.parts_cost + self.other - self.discount


def bill_job(rng: random.Random, job: Job, brand: Brand) -> JobLines:
    labour = []
    for name, hours in job.labour:
        h = Decimal(str(hours))
        labour.append(LabourLine(name, h, (h * brand.labour_rate).quantize(Decimal("0.01"))))
    parts = []
    for name, lo, hi, qty in job.parts:
        price = Decimal(rng.randint(lo * 100, hi * 100)) / 100
        price = price.quantize(Decimal("1")) if rng.random() < 0.6 else price
        parts.append(PartLine(fill_pattern(rng, brand.part_pattern), name, qty, price.quantize(Decimal("0.01"))))
    return JobLines(job.complaint, labour, parts)


def person_name(rng: random.Random) -> str:
    surname = rng.choice(DOUBLE_SURNAMES) if rng.random() < 0.04 else rng.choice(SURNAMES)
    return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))


def fill_pattern(rng: random.Random, pattern: str) -> str:
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    out = []
    for c in pattern:
        if c == "9":
            out.append(rng.choice("0123456789"))
        elif c == "A":
            out.append(rng.choice(letters))
        elif c == "X":
            out.append(rng.choice(letters + "0123456789"))
        else:
            out.append(c)
    return "".join(out)


def make_plate(rng: random.Random, city: City, nev: bool) -> str:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    head = city.province + rng.choice(city.letters)
    if nev:
        if rng.random() < 0.8:  # small new-energy car: D/F + 5
            return head + rng.choice("DF") + "".join(rng.choice("0123456789") for _ in range(5))
        return head + "".join(rng.choice("0123456789") for _ in range(5)) + rng.choice("DF")
    tail = [rng.choice("0123456789") for _ in range(5)]
    for pos in rng.sample(range(5), rng.choice((0, 1, 1, 2))):
        tail[pos] = rng.choice(letters)
    if rng.random() < 0.03:
        return head + "".join(tail[:4]) + "学"
    return head + "".join(tail)


def make_mobile(rng: random.Random) -> str:
    prefix = rng.choice(("13", "15", "18", "17", "19", "14", "16")) + rng.choice("0123456789")
    return prefix + "".join(rng.choice("0123456789") for _ in range(8))


def make_content(rng: random.Random, profile: DealerProfile | None = None) -> Content:
    """One visit's values; with a dealer ``profile``, the dealer's own brand, shop, order-number
    format and advisors (``profile`` None: everything drawn per document, as before profiles)."""
    if profile is None:
        brand = rng.choice(BRANDS)
        city = rng.choice(CITIES)
        dealer = f"{city.name}{rng.choice(DEALER_WORDS)}{brand.name}汽车销售服务有限公司"
        if brand.name == "一汽-大众":
            dealer = f"{city.name}{rng.choice(DEALER_WORDS)}一汽-大众汽车销售服务有限公司"
        dealer_phone = f"{city.area_code}-{rng.randint(2, 8)}{rng.randint(1000000, 9999999)}"
        address = f"{city.name}市{city.district}{rng.choice(STREETS)}{rng.randint(1, 999)}号"
    else:
        brand, dealer, dealer_phone, address = profile.brand, profile.dealer, profile.dealer_phone, profile.address
        # most cars serviced are local; some come from elsewhere
        city = profile.city if rng.random() < profile.local_share else rng.choice(CITIES)
    day = date(2019, 1, 1) + timedelta(days=rng.randint(0, 6 * 365))
    t_in = datetime(day.year, day.month, day.day, rng.randint(8, 16), rng.choice((0, 5, 10, 15, 20, 30, 40, 45, 50)))
    t_out = t_in + timedelta(days=rng.choice((0, 0, 0, 1, 1, 2, 3, 5)), hours=rng.randint(1, 6), minutes=rng.randint(0, 59))
    if t_out.hour >= 20:
        t_out = t_out.replace(hour=rng.randint(16, 19))
    model_year = max(2015, min(2025, day.year - rng.randint(0, 6)))
    vin = make_vin(rng, brand.wmi, model_year)
    order_no = make_order_no(rng, t_in) if profile is None else make_order_no(rng, t_in, profile.order_style, profile.order_letter)
    phone = make_mobile(rng) if rng.random() < 0.88 else f"{city.area_code}{rng.randint(2, 8)}{rng.randint(1000000, 9999999)}"
    jobs = [bill_job(rng, job, brand) for job in rng.sample(JOBS, rng.choice((1, 2, 2, 3)))]
    other_label = rng.choice(("其他费用", "管理费", "材料管理费", "外加工费"))
    other = Decimal(rng.choice((0, 0, 0, 20, 35, 50, 80))).quantize(Decimal("0.01"))
    roll = rng.random()
    return Content(
        dealer=dealer,
        dealer_address=address,
        dealer_phone=dealer_phone,
        brand=brand,
        title=rng.choice(TITLES),
        order_no=order_no,
        date_in=t_in,
        date_out=t_out,
        advisor=person_name(rng) if profile is None else rng.choice(profile.advisors),
        technician=person_name(rng) if profile is None else rng.choice(profile.technicians),
        vin=vin,
        plate=make_plate(rng, city, brand.nev and rng.random() < 0.9),
        model=rng.choice(brand.models),
        mileage=rng.randint(300, 260000),
        colour=rng.choice(COLOURS),
        customer=person_name(rng),
        phone=phone,
        jobs=jobs,
        other_label=other_label,
        other=other,
        discount_pct=rng.choice((5, 10, 12, 15)) if 0.25 <= roll < 0.45 else 0,
        round_down=roll < 0.25,
        seal_text=rng.choice(SEAL_TEXTS),
    )


ORDER_STYLES = 5  # the order-number formats of the DMSs dealers run (make_order_no)


def make_order_no(rng: random.Random, t: datetime, style: int | None = None, letter: str | None = None) -> str:
    """An order number in one of the DMS formats (``style``: drawn when None; ``letter``: the
    prefix of style 4, drawn when None)."""
    seq = rng.randint(1, 9999)
    if style is None:
        style = rng.randrange(ORDER_STYLES)
    if style == 0:
        return f"WO{t:%Y%m%d}{seq:04d}"
    if style == 1:
        return f"RO{t:%y%m%d}{seq:04d}"
    if style == 2:
        return f"W{t:%Y%m}{rng.randint(1, 99999):05d}"
    if style == 3:
        return f"JS-{t:%Y%m%d}-{seq:04d}"
    return f"{letter or rng.choice('ABCDEFGH')}{t:%y}{rng.randint(1, 999999):06d}"


@dataclass(frozen=True)
class DealerProfile:
    """One dealership as its archive sees it for years: one shop (name, city, brand), one DMS (one
    order-number format), a handful of service advisors and technicians, and one printed form of a
    layout — the same label wordings and print formats on every document (``style``). What
    differs between its documents is the visit (customer, car, dates, jobs) and the scan."""

    key: str
    layout: str
    brand: Brand
    city: City
    dealer: str
    address: str
    dealer_phone: str
    title: str
    order_style: int
    order_letter: str
    advisors: tuple[str, ...]
    technicians: tuple[str, ...]
    local_share: float
    style: Style


def make_profile(key: str, layout: str, heldout: bool = False) -> DealerProfile:
    """The dealer ``key`` (a seed string) running ``layout``: drawn from its own RNG, so the same
    key gives the same dealer in every batch."""
    rng = random.Random(f"dealer-{key}")
    scratch = make_content(rng)  # the shop: name, brand, city, address
    city = next(c for c in CITIES if scratch.dealer.startswith(c.name))
    roster = rng.randint(3, 5)
    names: list[str] = []
    while len(names) < roster:
        n = person_name(rng)
        if n not in names:
            names.append(n)
    techs = tuple(dict.fromkeys(person_name(rng) for _ in range(4)))
    style = make_style(rng)
    if layout in FORM_LAYOUTS:
        style = form_style(style, scratch, layout, heldout, rng)
    return DealerProfile(key, layout, scratch.brand, city, scratch.dealer, scratch.dealer_address, scratch.dealer_phone,
                         scratch.title, rng.randrange(ORDER_STYLES), rng.choice("ABCDEFGH"), tuple(names), techs,
                         round(rng.uniform(0.75, 0.95), 2), style)


def dealer_style(doc_style: Style, profile: DealerProfile) -> Style:
    """The dealer's form and print for one document: all of it the dealer's, but where its values
    land on a pre-printed colour form (the sheet is fed by hand, out of register each time)."""
    if profile.layout == "colour_preprint":
        return replace(profile.style, value_offset=doc_style.value_offset)
    return profile.style


def make_longer(rng: random.Random, content: Content, min_rows: int) -> None:
    """Add jobs until labour + parts rows reach ``min_rows`` (two-page documents)."""
    pool = [j for j in JOBS if j.complaint not in content.complaint]
    rng.shuffle(pool)
    while len(content.labour) + len(content.parts) < min_rows and pool:
        content.jobs.append(bill_job(rng, pool.pop(), content.brand))


# --------------------------------------------------------------------------------------------
# Printed formats of values


@dataclass(frozen=True)
class Style:
    """How one dealer's system prints values and which labels it uses."""

    labels: dict[str, str]
    date_fmt: str
    with_time: bool
    money_fmt: str
    table_money_fmt: str
    mileage_fmt: str
    phone_fmt: str
    plate_dot: bool
    colon: str
    font: str
    upper_total: bool
    next_service: bool
    pad_tables: bool
    terms: int  # how many of the standard terms are printed at the foot (0 = none)
    barcode: bool
    value_offset: tuple[float, float]  # mm; DMS values printed onto a pre-printed grid form, misaligned
    dot_matrix: bool  # printed on a worn-ribbon dot-matrix printer (dms_print layout)
    handwritten: tuple[str, ...]  # info fields the clerk filled in by hand
    variant: str = ""  # FORM_LAYOUTS: "dev" or "heldout" (layout variants only the held-out set uses)
    ink: tuple[int, int, int] = (0, 0, 0)  # colour_preprint: colour of the pre-printed labels and rules
    paper: tuple[int, int, int] = (255, 255, 255)  # colour_preprint: tinted paper


LABEL_CHOICES: dict[str, tuple[str, ...]] = {
    "order_no": ("工单号", "委托书号", "维修单号", "结算单号"),
    "date_in": ("进厂日期", "接车日期", "入厂时间"),
    "date_out": ("出厂日期", "结算日期", "交车日期"),
    "vin": ("车架号", "VIN", "VIN码", "底盘号", "车辆识别代号"),
    "plate": ("车牌号", "车牌号码", "牌照号"),
    "model": ("车型", "品牌车型"),
    "mileage": ("行驶里程", "进厂里程", "公里数"),
    "customer": ("客户", "车主", "送修人", "客户名称"),
    "phone": ("联系电话", "手机", "电话"),
    "advisor": ("服务顾问", "接待员"),
    "colour": ("颜色", "车身颜色"),
    "complaint": ("客户描述", "故障描述", "委托项目"),
    "labour": ("工时费", "人工费"),
    "parts": ("材料费", "配件费", "零件费"),
    "discount": ("优惠", "折扣", "优惠金额"),
    "total": ("合计", "总计", "应收金额", "结算金额", "实收金额"),
    "items": ("维修项目", "作业项目"),
    "part_name": ("配件名称", "零件名称", "材料名称"),
    "part_no": ("零件号", "配件编号", "零件编号"),
}

MONEY_FMTS = ("yen_comma", "yen_comma", "fw_yen", "fw_yen", "yuan", "yuan", "rmb", "plain_comma", "fullwidth")
_FULLWIDTH = str.maketrans("0123456789.,", "０１２３４５６７８９．，")
FONTS = ("sans", "serif", "wqy")


def make_style(rng: random.Random) -> Style:
    return Style(
        labels={k: rng.choice(v) for k, v in LABEL_CHOICES.items()},
        date_fmt=rng.choice(("iso", "slash", "dot", "cn")),
        with_time=rng.random() < 0.4,
        money_fmt=rng.choice(MONEY_FMTS),
        table_money_fmt=rng.choice(("plain", "plain", "plain_comma", "yen_comma")),
        mileage_fmt=rng.choice(("plain", "comma", "km", "gongli", "KM")),
        phone_fmt=rng.choice(("plain", "plain", "dash", "space")),
        plate_dot=rng.random() < 0.35,
        colon=rng.choice(("：", "：", ":")),
        font=rng.choice(FONTS),
        upper_total=rng.random() < 0.4,
        next_service=rng.random() < 0.4,
        pad_tables=rng.random() < 0.6,
        terms=rng.choice((0, 2, 3, 4, 5)),
        barcode=rng.random() < 0.4,
        value_offset=(round(rng.uniform(-2.5, 3), 2), round(rng.uniform(-1.2, 1.5), 2)) if rng.random() < 0.35 else (0.0, 0.0),
        dot_matrix=rng.random() < 0.6,
        handwritten=tuple(rng.sample(("customer", "phone", "mileage", "plate"), rng.randint(1, 3))) if rng.random() < 0.3 else (),
    )


def fmt_date(d: datetime, style: str, with_time: bool) -> str:
    if style == "iso":
        s = f"{d:%Y-%m-%d}"
    elif style == "slash":
        s = f"{d.year}/{d.month}/{d.day}"
    elif style == "dot":
        s = f"{d:%Y.%m.%d}"
    else:
        s = f"{d.year}年{d.month}月{d.day}日"
    return f"{s} {d:%H:%M}" if with_time else s


def fmt_money(v: Decimal, style: str) -> str:
    plain = f"{v:.2f}"
    comma = f"{v:,.2f}"
    return {
        "yen_comma": f"¥{comma}",
        "fw_yen": f"￥{plain}",
        "yuan": f"{plain}元",
        "rmb": f"RMB {comma}",
        "plain_comma": comma,
        "plain": plain,
        "fullwidth": "￥" + plain.translate(_FULLWIDTH),
    }[style]


def fmt_mileage(km: int, style: str) -> str:
    return {"plain": str(km), "comma": f"{km:,}", "km": f"{km} km", "gongli": f"{km}公里", "KM": f"{km}KM"}[style]


def fmt_phone(digits: str, style: str) -> str:
    if not digits.startswith("1"):  # landline: area code of 3 or 4 digits, 8-digit number
        return f"{digits[:-8]}-{digits[-8:]}"
    if style == "dash":
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if style == "space":
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    return digits


def fmt_plate(plate: str, dot: bool) -> str:
    return plate[:2] + "·" + plate[2:] if dot else plate


_CN_DIGITS = "零壹贰叁肆伍陆柒捌玖"


def rmb_upper(v: Decimal) -> str:
    """Amount in Chinese capital numerals as printed on invoices (大写), e.g. 贰万零壹拾元伍角."""
    fen_total = int((v * 100).quantize(Decimal("1")))
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    digits = str(yuan)
    out = ""
    zero = False
    for i, ch in enumerate(digits):
        pos = len(digits) - 1 - i
        if ch == "0":
            zero = True
        else:
            out += ("零" if zero else "") + _CN_DIGITS[int(ch)] + ("", "拾", "佰", "仟")[pos % 4]
            zero = False
        if pos % 4 == 0 and pos > 0 and int(digits[max(0, i - 3):i + 1]):
            out += ("", "万", "亿")[pos // 4]
    out = (out or "零") + "元" if yuan or not (jiao or fen) else ""
    if not jiao and not fen:
        return out + "整"
    if jiao:
        out += _CN_DIGITS[jiao] + "角"
    elif yuan:
        out += "零"
    if fen:
        out += _CN_DIGITS[fen] + "分"
    return out


# --------------------------------------------------------------------------------------------
# Canvas: draws text and records what was drawn


FONT_FILES = {
    "sans": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    "sans_bold": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    "serif": ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    "serif_bold": ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc", 2),
    "wqy": ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    "wqy_bold": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),  # WQY Micro Hei has no bold
    "mono": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 7),
    "mono_bold": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 7),
}


@dataclass
class Run:
    row: float  # rows are keyed by their top edge in mm
    x: float
    text: str
    glue: bool = False  # continues the run before it on the row without a space
    top: float = 0.0  # mm, where the glyphs start (may differ from ``row`` in table cells)
    pt: float = 0.0  # font size actually used
    bold: bool = False
    width: float = 0.0  # mm


class Canvas:
    """One upright A4 page in greyscale; remembers every text run for the ground truth."""

    def __init__(self, dpi: int, font: str, vector_text: bool = False) -> None:
        self.dpi = dpi
        self.font = font
        self.vector_text = vector_text  # born-digital page: text goes to the PDF, not the image
        self.size = (round(A4_MM[0] / 25.4 * dpi), round(A4_MM[1] / 25.4 * dpi))
        self.img = Image.new("L", self.size, 255)
        self.draw = ImageDraw.Draw(self.img)
        self.runs: list[Run] = []
        self.hand: Image.Image | None = None  # mask of handwritten ink, if any
        self.pen: tuple[int, int, int] | None = None  # while set, draw pre-printed colour ink (into ``colour``)
        self.colour: dict[tuple[int, int, int], Image.Image] = {}  # masks of pre-printed colour ink
        self._fonts: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}

    def px(self, mm: float) -> int:
        return round(mm / 25.4 * self.dpi)

    def _target(self) -> tuple[ImageDraw.ImageDraw, int]:
        """Where a stroke goes: the black page, or the mask of the current pre-printed colour."""
        if self.pen is None:
            return self.draw, 20
        if self.pen not in self.colour:
            self.colour[self.pen] = Image.new("L", self.size, 0)
        return ImageDraw.Draw(self.colour[self.pen]), 235

    def mm(self, px: float) -> float:
        return px * 25.4 / self.dpi

    def get_font(self, pt: float, bold: bool = False) -> ImageFont.FreeTypeFont:
        key = self.font + ("_bold" if bold else "")
        size = max(6, round(pt / 72 * self.dpi))
        if (key, size) not in self._fonts:
            path, index = FONT_FILES[key]
            self._fonts[(key, size)] = ImageFont.truetype(path, size, index=index)
        return self._fonts[(key, size)]

    def width(self, text: str, pt: float, bold: bool = False) -> float:
        return self.mm(self.get_font(pt, bold).getlength(text))

    def text(self, x: float, y: float, text: str, pt: float = 10, *, bold: bool = False, align: str = "left",
             max_w: float | None = None, row: float | None = None) -> float:
        """Draw ``text`` with its top at ``y`` mm; shrink it to fit ``max_w``. Returns its width in mm."""
        if not text:
            return 0.0
        while max_w is not None and pt > 6 and self.width(text, pt, bold) > max_w:
            pt -= 0.5
        w = self.width(text, pt, bold)
        x0 = x - w if align == "right" else x - w / 2 if align == "center" else x
        if not self.vector_text:
            dr, ink = self._target()
            dr.text((self.px(x0), self.px(y)), text, font=self.get_font(pt, bold), fill=ink, anchor="lt")
        self.runs.append(Run(round(y if row is None else row, 2), x0, text, top=y, pt=pt, bold=bold, width=w))
        return w

    def hline(self, x0: float, x1: float, y: float, width: float = 0.25, dash: bool = False) -> None:
        lw = max(1, self.px(width))
        if self.pen is not None:
            dr, ink = self._target()
            dr.line([(self.px(x0), self.px(y)), (self.px(x1), self.px(y))], fill=ink, width=lw)
            return
        if not dash:
            self.draw.line([(self.px(x0), self.px(y)), (self.px(x1), self.px(y))], fill=30, width=lw)
            return
        x = x0
        while x < x1:
            self.draw.line([(self.px(x), self.px(y)), (self.px(min(x + 1.5, x1)), self.px(y))], fill=30, width=lw)
            x += 2.5

    def vline(self, x: float, y0: float, y1: float, width: float = 0.25) -> None:
        if self.pen is not None:
            dr, ink = self._target()
            dr.line([(self.px(x), self.px(y0)), (self.px(x), self.px(y1))], fill=ink, width=max(1, self.px(width)))
            return
        self.draw.line([(self.px(x), self.px(y0)), (self.px(x), self.px(y1))], fill=30, width=max(1, self.px(width)))

    def rect(self, x0: float, y0: float, x1: float, y1: float, width: float = 0.3, fill: int | None = None) -> None:
        if self.pen is not None:
            dr, ink = self._target()
            dr.rectangle([self.px(x0), self.px(y0), self.px(x1), self.px(y1)], outline=ink, width=max(1, self.px(width)))
            return
        self.draw.rectangle([self.px(x0), self.px(y0), self.px(x1), self.px(y1)], outline=30, width=max(1, self.px(width)), fill=fill)

    def hand_text(self, x: float, y: float, text: str, pt: float, rng: random.Random, *, row: float,
                  glue: bool = False, max_w: float | None = None) -> float:
        """Handwritten-looking text: glyph by glyph, each tilted, scaled and shifted a little, drawn
        into the ``hand`` mask that the ink stage colours blue-black. Returns the width in mm."""
        if self.hand is None:
            self.hand = Image.new("L", self.size, 0)
        size = max(6, round(pt / 72 * self.dpi))
        path, index = FONT_FILES[rng.choice(("serif", "wqy", "sans"))]
        slant = rng.uniform(-4, 4)
        scale = 1.0
        if max_w is not None:
            natural = sum(ImageFont.truetype(path, size, index=index).getlength(ch) for ch in text) * 1.05
            scale = min(1.0, self.px(max_w) / max(1.0, natural))
        cx = float(self.px(x))
        for ch in text:
            gsize = max(6, round(size * scale * rng.uniform(0.9, 1.12)))
            font = ImageFont.truetype(path, gsize, index=index)
            adv = font.getlength(ch)
            glyph = Image.new("L", (gsize * 2, gsize * 2), 0)
            ImageDraw.Draw(glyph).text((gsize // 2, gsize // 2), ch, font=font, fill=255, anchor="lt")
            glyph = glyph.rotate(slant + rng.uniform(-6, 6), resample=Image.Resampling.BICUBIC)
            dy = rng.uniform(-0.05, 0.05) * size
            self.hand.paste(255, (round(cx - gsize // 2), round(self.px(y) + dy - gsize // 2)), glyph)
            cx += adv * rng.uniform(0.98, 1.1)
        width = self.mm(cx) - x
        self.runs.append(Run(round(row, 2), x, text, glue, top=y, pt=pt, width=width))
        return width

    def page_text(self) -> str:
        rows: dict[float, list[Run]] = {}
        for r in self.runs:
            rows.setdefault(r.row, []).append(r)
        lines = []
        for k in sorted(rows):
            line = ""
            for r in sorted(rows[k], key=lambda r: r.x):
                line = line + r.text if (r.glue or not line) else f"{line} {r.text}"
            lines.append(line)
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Layout helpers shared by all layouts

LEFT, RIGHT = 16.0, 194.0
ROW = 6.6  # mm per table row at 10 pt
PAGE_BOTTOM = 281.0  # mm; the footer sits below


class PageOverflow(ValueError):
    """The content does not fit on the page; the caller drops a job and tries again."""


@dataclass
class Doc:
    """The values as printed for one document plus the labels, ready for layout."""

    content: Content
    style: Style
    rng: random.Random = field(default_factory=lambda: random.Random(0))  # handwriting jitter
    split_labour: bool = False  # two-page document whose labour table, not parts table, runs over

    def label(self, key: str) -> str:
        return self.style.labels[key]

    def money(self, v: Decimal) -> str:
        return fmt_money(v, self.style.money_fmt)

    def table_money(self, v: Decimal) -> str:
        return fmt_money(v, self.style.table_money_fmt)

    def hand(self, key: str) -> bool:
        return key in self.style.handwritten

    def info_pairs(self) -> list[tuple[str, str]]:
        c, s = self.content, self.style
        return [
            (self.label("order_no"), c.order_no),
            (self.label("date_in"), fmt_date(c.date_in, s.date_fmt, s.with_time)),
            (self.label("date_out"), fmt_date(c.date_out, s.date_fmt, s.with_time)),
            (self.label("advisor"), c.advisor),
            (self.label("customer"), c.customer),
            (self.label("phone"), fmt_phone(c.phone, s.phone_fmt)),
            (self.label("plate"), fmt_plate(c.plate, s.plate_dot)),
            (self.label("vin"), c.vin),
            (self.label("model"), c.model),
            (self.label("mileage"), fmt_mileage(c.mileage, s.mileage_fmt)),
            (self.label("colour"), c.colour),
            ("维修技师", c.technician),
        ]

    def cost_pairs(self) -> list[tuple[str, str]]:
        c = self.content
        pairs = [(self.label("labour"), self.money(c.labour_cost)), (self.label("parts"), self.money(c.parts_cost))]
        pairs.append((c.other_label, self.money(c.other)))
        pairs.append((self.label("discount"), self.money(c.discount)))
        pairs.append((self.label("total"), self.money(c.total)))
        return pairs


INFO_KEYS = ("order_no", "date_in", "date_out", "advisor", "customer", "phone", "plate", "vin", "model", "mileage",
             "colour", "technician")


def draw_value(cv: Canvas, doc: Doc, key: str, x: float, y: float, val: str, pt: float, *, row: float,
               max_w: float | None = None, glue: bool = False) -> float:
    """A filled-in value: printed, or handwritten when the dealer's clerk fills that field by hand."""
    if doc.hand(key):
        return cv.hand_text(x, y - 0.6, val, pt + 1.5, doc.rng, row=row, glue=glue, max_w=max_w)
    return cv.text(x, y, val, pt, max_w=max_w, row=row)


def labour_rows(doc: Doc) -> list[list[str]]:
    return [[str(i), x.name, f"{x.hours:.1f}", doc.table_money(x.amount)] for i, x in enumerate(doc.content.labour, 1)]


def parts_rows(doc: Doc) -> list[list[str]]:
    return [
        [str(i), p.part_no, p.name, str(p.quantity), doc.table_money(p.unit_price), doc.table_money(p.amount)]
        for i, p in enumerate(doc.content.parts, 1)
    ]


LABOUR_COLS = (0.07, 0.55, 0.14, 0.24)
PARTS_COLS = (0.07, 0.22, 0.33, 0.09, 0.14, 0.15)


def draw_header(cv: Canvas, doc: Doc, y: float, centred: bool = True) -> float:
    c = doc.content
    x = (LEFT + RIGHT) / 2 if centred else LEFT
    align = "center" if centred else "left"
    cv.text(x, y, c.dealer, 15, bold=True, align=align)
    y += 8.5
    addr, hotline = f"地址：{c.dealer_address}", f"服务热线：{c.dealer_phone}"
    gap = 5.0
    total_w = cv.width(addr, 8.5) + gap + cv.width(hotline, 8.5)
    x0 = x - total_w / 2 if centred else x
    cv.text(x0, y, addr, 8.5)
    cv.text(x0 + total_w - cv.width(hotline, 8.5), y, hotline, 8.5, row=y)
    y += 6.5
    cv.text((LEFT + RIGHT) / 2, y, c.title, 18, bold=True, align="center")
    return y + 11


def draw_table(cv: Canvas, y: float, headers: Sequence[str], rows: Sequence[Sequence[str]], cols: Sequence[float],
               grid: bool, title: str | None = None, pt: float = 9.5, blank_rows: int = 0) -> float:
    """A table with a header row; ``grid`` draws every cell border, otherwise only rules.

    ``blank_rows`` empty rows follow the filled ones, as on pre-printed forms.
    """
    widths = [f * (RIGHT - LEFT) for f in cols]
    xs = [LEFT + sum(widths[:i]) for i in range(len(widths) + 1)]
    if title:
        cv.text(LEFT, y, title, 10.5, bold=True)
        y += 6.5
    top = y
    all_rows = [list(headers), *[list(r) for r in rows], *[[""] * len(headers) for _ in range(blank_rows)]]
    for ri, row in enumerate(all_rows):
        for ci, cell in enumerate(row):
            numeric = ri > 0 and ci >= len(row) - 3 and ci > 1
            pad = 1.5
            if numeric:
                cv.text(xs[ci + 1] - pad, y + 1.4, cell, pt, align="right", max_w=widths[ci] - 2 * pad, row=y)
            else:
                cv.text(xs[ci] + pad, y + 1.4, cell, pt, bold=ri == 0, max_w=widths[ci] - 2 * pad, row=y)
        y += ROW
        if grid or ri == 0:
            cv.hline(LEFT, RIGHT, y)
    if grid:
        cv.hline(LEFT, RIGHT, top)
        for x in xs:
            cv.vline(x, top, y)
    else:
        cv.hline(LEFT, RIGHT, top, width=0.4)
        cv.hline(LEFT, RIGHT, y, width=0.4)
    return y + 3


def draw_paragraph(cv: Canvas, x: float, y: float, label: str, text: str, max_w: float, pt: float = 10) -> float:
    """Label then text, wrapped onto as many rows as needed."""
    first = True
    remaining = text
    while remaining:
        prefix = label if first else ""
        avail = max_w - cv.width(label, pt) - 2
        n = len(remaining)
        while n > 1 and cv.width(remaining[:n], pt) > avail:
            n -= 1
        if prefix:
            cv.text(x, y, prefix + remaining[:n], pt)
        else:
            cv.text(x + cv.width(label, pt) + 2, y, remaining[:n], pt)
        remaining = remaining[n:]
        y += 5.8
        first = False
    return y


def draw_seal(rng: random.Random, dpi: int, dealer: str, bottom: str) -> Image.Image:
    """A round red company seal (RGBA): dealer name on an arc, a star, the seal's purpose."""
    d = round(42 / 25.4 * dpi)
    scale = 2
    size = d * scale
    img = Image.new("L", (size, size), 0)
    dr = ImageDraw.Draw(img)
    ring = max(2, round(size * 0.035))
    dr.ellipse([ring // 2, ring // 2, size - ring // 2 - 1, size - ring // 2 - 1], outline=255, width=ring)
    cx = cy = size / 2
    r_star, r_in = size * 0.13, size * 0.05
    pts = []
    for k in range(10):
        ang = -math.pi / 2 + k * math.pi / 5
        rad = r_star if k % 2 == 0 else r_in
        pts.append((cx + rad * math.cos(ang), cy + rad * math.sin(ang)))
    dr.polygon(pts, fill=255)
    font_path, idx = FONT_FILES["sans_bold"]
    ch_size = round(size * 0.095)
    font = ImageFont.truetype(font_path, ch_size, index=idx)
    n = len(dealer)
    span = min(260.0, 14.5 * n)
    r_text = size / 2 - ring - ch_size * 0.75
    for i, ch in enumerate(dealer):
        ang = -90 - span / 2 + span * (i + 0.5) / n
        glyph = Image.new("L", (ch_size * 2, ch_size * 2), 0)
        ImageDraw.Draw(glyph).text((ch_size, ch_size), ch, font=font, fill=255, anchor="mm")
        glyph = glyph.rotate(-(ang + 90), resample=Image.Resampling.BICUBIC)
        gx = cx + r_text * math.cos(math.radians(ang)) - ch_size
        gy = cy + r_text * math.sin(math.radians(ang)) - ch_size
        img.paste(255, (round(gx), round(gy)), glyph)
    bfont = ImageFont.truetype(font_path, round(size * 0.08), index=idx)
    dr.text((cx, cy + size * 0.26), bottom, font=bfont, fill=255, anchor="mm")
    img = img.rotate(rng.uniform(-25, 25), resample=Image.Resampling.BICUBIC)
    img = img.resize((d, d), Image.Resampling.LANCZOS)
    # uneven ink: some areas pressed harder than others
    nrng = np.random.default_rng(rng.randrange(2**32))
    field_ = nrng.uniform(0.55, 1.0, (6, 6)).astype(np.float32)
    ink = np.asarray(Image.fromarray((field_ * 255).astype(np.uint8)).resize((d, d), Image.Resampling.BICUBIC), dtype=np.float32) / 255
    alpha = (np.asarray(img, dtype=np.float32) * ink * rng.uniform(0.7, 0.9)).clip(0, 255).astype(np.uint8)
    return Image.fromarray(alpha, "L")


def signature_strokes(rng: random.Random, x: float, y: float, w: float, h: float) -> list[list[tuple[float, float]]]:
    """A scribbled hand signature as polylines in mm."""
    strokes = []
    cx = x
    for _ in range(rng.randint(2, 4)):
        pts = []
        seg_w = w / 3 * rng.uniform(0.6, 1.1)
        phase = rng.uniform(0, math.pi)
        freq = rng.uniform(2, 4)
        for k in range(40):
            t = k / 39
            pts.append((cx + t * seg_w, y + h / 2 + math.sin(phase + t * freq * math.pi) * h * 0.4 * (1 - 0.5 * t)))
        strokes.append(pts)
        cx += seg_w * rng.uniform(0.8, 1.0)
    return strokes


@dataclass
class Marks:
    """Ink added after printing: the seal position and signatures (mm, on the upright page)."""

    seal_at: tuple[float, float] | None = None  # centre of the seal
    signatures: list[tuple[float, float, float, float]] = field(default_factory=list)


def draw_signatures(cv: Canvas, doc: Doc, y: float, marks: Marks) -> float:
    col = (RIGHT - LEFT) / 2
    labels = (f"{doc.label('advisor')}签字", "客户签字")
    for i, lab in enumerate(labels):
        x = LEFT + i * col
        w = cv.text(x, y, lab + doc.style.colon, 10, row=y)
        cv.hline(x + w + 1, x + col - 8, y + 5.2)
        marks.signatures.append((x + w + 4, y - 2.5, 28, 8))
    y += 8
    cv.text(LEFT, y, "本人已确认以上维修项目及费用，车辆已完好接收。", 8.5)
    return y + 7


def draw_footer(cv: Canvas, page_no: int, pages: int) -> None:
    cv.text((LEFT + RIGHT) / 2, 285, f"第{page_no}页 共{pages}页", 8.5, align="center")


def split_rows(doc: Doc, two_page: bool) -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    """Labour rows, parts rows for page 1, parts rows continued on page 2."""
    prow = parts_rows(doc)
    if not two_page:
        return labour_rows(doc), prow, []
    cut = max(1, len(prow) // 2)
    return labour_rows(doc), prow[:cut], prow[cut:]


def part_headers(doc: Doc) -> list[str]:
    return ["序号", doc.label("part_no"), doc.label("part_name"), "数量", "单价", "金额"]


def labour_headers(doc: Doc) -> list[str]:
    return ["序号", doc.label("items"), "工时", doc.label("labour")]


def draw_next_service(cv: Canvas, doc: Doc, y: float) -> float:
    if not doc.style.next_service:
        return y
    c = doc.content
    nxt = c.mileage + (5000 if c.mileage % 2 else 10000)
    due = c.date_out + timedelta(days=180)
    cv.text(LEFT, y, f"温馨提示：建议下次保养里程 {nxt}公里 或 {fmt_date(due, doc.style.date_fmt, False)}，以先到者为准。", 8.5)
    return y + 6


def draw_upper_total(cv: Canvas, doc: Doc, y: float) -> float:
    if not doc.style.upper_total:
        return y
    cv.text(LEFT, y, f"金额大写{doc.style.colon}{rmb_upper(doc.content.total)}", 10)
    return y + 7


TERMS = (
    "本委托书经客户签字确认后生效，维修项目如需增加，本公司将事先征得客户同意。",
    "请客户在交车时当面检查车辆及维修项目，车辆离厂后本公司对外观问题恕不负责。",
    "更换的旧件如客户未要求带走，由本公司按环保规定统一处理。",
    "车内贵重物品请客户自行保管，如有遗失本公司不承担责任。",
    "本公司所更换的原厂配件享受原厂质量担保，维修工时质保期为3个月或5000公里。",
    "车辆维修完毕通知客户后3日内未提车的，本公司将按规定收取停车费。",
)


def terms_height(doc: Doc) -> float:
    return 5.5 + 4.6 * doc.style.terms if doc.style.terms else 0.0


def draw_terms(cv: Canvas, doc: Doc, y: float) -> float:
    """Small-print terms at the foot, only as many as fit above the footer."""
    if not doc.style.terms or y + terms_height(doc) > PAGE_BOTTOM:
        return y
    cv.text(LEFT, y, "服务条款：", 8, bold=True)
    y += 5.5
    for i, term in enumerate(TERMS[:doc.style.terms], 1):
        cv.text(LEFT + 2, y, f"{i}. {term}", 7.5, max_w=RIGHT - LEFT - 2)
        y += 4.6
    return y


def draw_barcode(cv: Canvas, x1: float, y: float, code: str, h: float = 9.0) -> None:
    """A Code-128-looking bar pattern for ``code`` (graphic only, not part of the page text)."""
    rng = random.Random(code)
    widths = [rng.choice((0.25, 0.25, 0.5, 0.75)) for _ in range(11 * len(code) + 24)]
    total = sum(widths)
    x = x1 - total
    for i, w in enumerate(widths):
        if i % 2 == 0:
            x0 = cv.px(x)
            cv.draw.rectangle([x0, cv.px(y), max(x0, cv.px(x + w) - 1), cv.px(y + h)], fill=15)
        x += w


# --------------------------------------------------------------------------------------------
# The layouts


def info_form_colon(cv: Canvas, doc: Doc, y: float) -> float:
    """Label：value pairs, three per row, values underlined."""
    pairs = doc.info_pairs()
    col = (RIGHT - LEFT) / 3
    for i in range(0, len(pairs), 3):
        for j, (lab, val) in enumerate(pairs[i:i + 3]):
            x = LEFT + j * col
            key = INFO_KEYS[i + j]
            if doc.hand(key):
                lw = cv.text(x, y, lab + doc.style.colon, 10, row=y)
                w = lw + draw_value(cv, doc, key, x + lw + 1, y, val, 10, row=y, max_w=col - lw - 4, glue=True)
            else:
                w = cv.text(x, y, f"{lab}{doc.style.colon}{val}", 10, max_w=col - 3, row=y)
            cv.hline(x + cv.width(lab + doc.style.colon, 10), x + max(w, col - 4), y + 5.6, width=0.15)
        y += 8
    return y + 2


def info_grid_right(cv: Canvas, doc: Doc, y: float) -> float:
    """Bordered grid: label cell | value cell | label cell | value cell."""
    pairs = doc.info_pairs()
    widths = (0.15, 0.35, 0.15, 0.35)
    xs = [LEFT + sum(widths[:i]) * (RIGHT - LEFT) for i in range(5)]
    top = y
    for i in range(0, len(pairs), 2):
        for j, (lab, val) in enumerate(pairs[i:i + 2]):
            cv.rect(xs[2 * j], y, xs[2 * j + 1], y + ROW + 1, width=0.25, fill=235)
            cv.text(xs[2 * j] + 1.5, y + 1.8, lab, 9.5, max_w=xs[2 * j + 1] - xs[2 * j] - 3, row=y)
            dx, dy = doc.style.value_offset
            draw_value(cv, doc, INFO_KEYS[i + j], xs[2 * j + 1] + 1.5 + dx, y + 1.8 + dy, val, 10,
                       max_w=xs[2 * j + 2] - xs[2 * j + 1] - 3, row=y)
        y += ROW + 1
        cv.hline(LEFT, RIGHT, y)
    cv.rect(LEFT, top, RIGHT, y, width=0.4)
    for x in xs[1:-1]:
        cv.vline(x, top, y)
    return y + 4


def info_grid_below(cv: Canvas, doc: Doc, y: float) -> float:
    """Bordered grid: a row of label cells, the values in the cells below."""
    pairs = doc.info_pairs()
    ncol = 4
    w = (RIGHT - LEFT) / ncol
    top = y
    for i in range(0, len(pairs), ncol):
        chunk = pairs[i:i + ncol]
        cv.draw.rectangle([cv.px(LEFT), cv.px(y), cv.px(RIGHT), cv.px(y + 6)], fill=230)
        for j, (lab, _) in enumerate(chunk):
            cv.text(LEFT + j * w + 1.5, y + 1.0, lab, 8.5, max_w=w - 3, row=y)
        cv.hline(LEFT, RIGHT, y + 6)
        dx, dy = doc.style.value_offset
        for j, (_, val) in enumerate(chunk):
            draw_value(cv, doc, INFO_KEYS[i + j], LEFT + j * w + 1.5 + dx, y + 7.5 + dy, val, 10.5, max_w=w - 3, row=y + 6)
        y += 14
        cv.hline(LEFT, RIGHT, y)
    cv.rect(LEFT, top, RIGHT, y, width=0.4)
    for j in range(1, ncol):
        cv.vline(LEFT + j * w, top, y)
    return y + 4


def info_two_column(cv: Canvas, doc: Doc, y: float) -> float:
    """Two boxed blocks side by side: customer and vehicle left, order right."""
    p = {INFO_KEYS[i]: pair for i, pair in enumerate(doc.info_pairs())}
    left = [(k, *p[k]) for k in ("customer", "phone", "plate", "vin", "model", "mileage", "colour")]
    right = [(k, *p[k]) for k in ("order_no", "date_in", "date_out", "advisor", "technician")]
    mid = LEFT + (RIGHT - LEFT) * 0.56
    top = y
    cv.text(LEFT + 2, y + 1.5, "客户及车辆信息", 10.5, bold=True, row=y)
    cv.text(mid + 4, y + 1.5, "工单信息", 10.5, bold=True, row=y)
    y += 8
    cv.hline(LEFT, RIGHT, y)
    y += 2
    label_w = 24
    for i in range(max(len(left), len(right))):
        for x0, x1, block in ((LEFT + 2, mid - 2, left), (mid + 4, RIGHT - 2, right)):
            if i < len(block):
                key, lab, val = block[i]
                cv.text(x0, y, lab + doc.style.colon, 10, max_w=label_w, row=y)
                draw_value(cv, doc, key, x0 + label_w + 1, y, val, 10, max_w=x1 - x0 - label_w - 1, row=y)
        y += 6.8
    cv.rect(LEFT, top, RIGHT, y + 1, width=0.4)
    cv.vline(mid, top, y + 1)
    return y + 5


def info_dms_print(cv: Canvas, doc: Doc, y: float) -> float:
    """Dot-matrix style DMS print: monospace, label:value in two columns, dashed rules."""
    pairs = doc.info_pairs()
    cv.hline(LEFT, RIGHT, y, dash=True)
    y += 2.5
    half = (RIGHT - LEFT) / 2
    for i in range(0, len(pairs), 2):
        for j, (lab, val) in enumerate(pairs[i:i + 2]):
            cv.text(LEFT + j * half, y, f"{lab}:{val}", 10, max_w=half - 3, row=y)
        y += 6.2
    cv.hline(LEFT, RIGHT, y, dash=True)
    return y + 3


INFO_BLOCKS = {
    "form_colon": info_form_colon,
    "grid_right": info_grid_right,
    "grid_below": info_grid_below,
    "two_column": info_two_column,
    "dms_print": info_dms_print,
}


# --------------------------------------------------------------------------------------------
# Other dealers' forms and the national standard form (FORM_LAYOUTS)
#
# Label wordings per form, drawn per document. The held-out pools add wordings and layout
# variants the development pools never use: a benchmark tuned on "dev" documents is measured on
# "heldout" ones (other seeds, other wordings, other variants).

FORM_LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "national_std": {
        "customer": ("托修方",), "model": ("厂牌车型",), "vin": ("车辆识别代号",), "plate": ("车牌号码", "车牌号"),
        "date_in": ("进厂日期", "送修日期"), "date_out": ("出厂日期", "结算日期"), "mileage": ("送修里程", "行驶里程"),
        "order_no": ("结算单号", "委托书号"), "advisor": ("服务顾问", "接待员"), "phone": ("联系电话", "电话"),
    },
    "colour_preprint": {
        "customer": ("客户", "车主", "客户名称"), "model": ("车型", "品牌车型"), "vin": ("车架号", "VIN"),
        "plate": ("车牌号", "车牌号码"), "date_in": ("进厂日期", "接车日期"), "date_out": ("出厂日期", "交车日期"),
        "mileage": ("行驶里程", "进厂里程"), "order_no": ("工单号", "委托书号"), "advisor": ("服务顾问", "服务专员"),
        "phone": ("联系电话", "手机"),
    },
    "label_above": {
        "customer": ("客户", "客户名称", "车主"), "model": ("车型", "品牌车型"), "vin": ("VIN", "车架号", "车辆识别代号"),
        "plate": ("车牌号",), "date_in": ("进厂日期", "接车日期"), "date_out": ("出厂日期", "结算日期"),
        "mileage": ("行驶里程", "公里数"), "order_no": ("工单号", "维修单号"),
        "advisor": ("服务顾问", "接待员", "服务专员", "SA"), "phone": ("联系电话", "手机"),
    },
    "kv_slip": {
        "customer": ("客户", "送修人"), "model": ("车型",), "vin": ("VIN", "车架号"), "plate": ("车牌号", "车牌"),
        "date_in": ("进厂日期", "接车日期", "送修日期"), "date_out": ("出厂日期", "结算日期"),
        "mileage": ("行驶里程", "里程"), "order_no": ("工单号", "结算单号"), "advisor": ("服务顾问", "接待员", "SA"),
        "phone": ("电话", "手机"),
    },
}
# wordings only the held-out documents use (from domain.md's lists and JT/T 1132's data elements)
HELDOUT_LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "national_std": {"order_no": ("结算清单编号",), "model": ("厂牌型号",), "mileage": ("送修里程",),
                     "date_in": ("送修日期",), "date_out": ("结算日期",), "advisor": ("服务专员",)},
    "colour_preprint": {"vin": ("VIN码", "底盘号"), "advisor": ("接待员", "SA"), "customer": ("送修人",),
                        "order_no": ("维修单号",), "date_in": ("入厂时间",)},
    "label_above": {"advisor": ("服务接待", "接车员"), "vin": ("VIN码",), "model": ("车辆型号",), "plate": ("牌照号",),
                    "mileage": ("进厂里程",), "order_no": ("委托书号",)},
    "kv_slip": {"customer": ("车主", "客户名称"), "advisor": ("服务专员", "服务接待"), "order_no": ("单据编号",),
                "date_in": ("入厂日期",), "mileage": ("公里数",), "plate": ("车牌号码",)},
}
NATIONAL_TITLES = ("机动车维修结算单", "机动车维修委托书")
INKS = {"red": (200, 40, 45), "blue": (35, 70, 170), "green": (30, 130, 70)}
PAPERS = {"yellow": (250, 238, 190), "pink": (250, 222, 226), "blue": (215, 232, 250), "green": (220, 242, 215)}
COMPANY_TAILS = ("物流有限公司", "商贸有限公司", "科技有限公司", "汽车租赁有限公司")


def form_style(style: Style, content: Content, layout: str, heldout: bool, rng: random.Random) -> Style:
    """The labels and print of one of FORM_LAYOUTS for one document (its own RNG: other streams stay)."""
    labels = dict(style.labels)
    pools = FORM_LABELS[layout]
    extra = HELDOUT_LABELS[layout] if heldout else {}
    for key, words in pools.items():
        choices = words + extra.get(key, ()) * 2 if heldout else words  # held-out: mostly unseen wordings
        labels[key] = rng.choice(choices)
    ink, paper = (0, 0, 0), (255, 255, 255)
    if layout == "colour_preprint":
        inks = ("red", "blue", "green") if heldout else ("red", "blue")
        papers = ("pink", "green", "yellow") if heldout else ("yellow", "blue")
        ink, paper = INKS[rng.choice(inks)], PAPERS[rng.choice(papers)]
    offset = style.value_offset
    if layout == "colour_preprint":  # dot-matrix values printed onto the form, out of register
        offset = (round(rng.uniform(-2.5, 3.5), 2), round(rng.uniform(-1.6, 1.6), 2))
    elif layout != "national_std":
        offset = (0.0, 0.0)
    if layout == "national_std":
        content.title = rng.choice(NATIONAL_TITLES)
        if rng.random() < 0.2:  # the 托修方 is often a company
            content.customer = f"{content.dealer[:2]}{rng.choice(DEALER_WORDS)}{rng.choice(COMPANY_TAILS)}"
    hand = style.handwritten if layout in ("national_std", "label_above") else ()
    return replace(style, labels=labels, variant="heldout" if heldout else "dev", ink=ink, paper=paper,
                   value_offset=offset, handwritten=hand,
                   dot_matrix=layout in ("colour_preprint", "kv_slip") and (layout == "colour_preprint" or rng.random() < 0.5))


def info_national(cv: Canvas, doc: Doc, y: float) -> float:
    """The national standard form: 托修方 | 承修方, 厂牌车型, the VIN in 17 boxes, dates, mileage."""
    c, s = doc.content, doc.style
    heldout = s.variant == "heldout"
    p = {INFO_KEYS[i]: pair for i, pair in enumerate(doc.info_pairs())}
    rows: list[list[tuple[str, str, str | None]]] = [
        [(*p["customer"], "customer"), ("承修方", c.dealer, None)],
        [(*p["phone"], "phone"), (*p["order_no"], "order_no")],
        [(*p["model"], "model"), (*p["plate"], "plate")],
        [],  # the VIN boxes
        [(*p["date_in"], "date_in"), (*p["date_out"], "date_out")],
        [(*p["mileage"], "mileage"), (*p["advisor"], "advisor")],
    ]
    widths = (0.16, 0.34, 0.16, 0.34)
    xs = [LEFT + sum(widths[:i]) * (RIGHT - LEFT) for i in range(5)]
    top = y
    h = ROW + 1.6
    dx, dy = s.value_offset
    for row in rows:
        if not row:
            lab = doc.label("vin")
            cv.rect(xs[0], y, xs[1], y + h, width=0.25, fill=238)
            cv.text(xs[0] + 1.5, y + 2.2, lab, 9.5, max_w=xs[1] - xs[0] - 3, row=y)
            if heldout:  # boxes in groups (WMI | VDS | VIS), narrower, with gaps
                bw, gaps = 6.2, {3: 2.5, 9: 2.5}
            else:
                bw, gaps = (RIGHT - xs[1] - 4) / 17, {}
            x = xs[1] + 2
            for i, ch in enumerate(c.vin):
                x += gaps.get(i, 0.0)
                cv.rect(x, y + 1.0, x + bw, y + h - 1.0, width=0.2)
                cv.text(x + bw / 2 + dx * 0.3, y + 2.0 + dy * 0.3, ch, 10.5, align="center", row=y)
                x += bw
            y += h
            cv.hline(LEFT, RIGHT, y)
            continue
        for j, (lab, val, key) in enumerate(row):
            cv.rect(xs[2 * j], y, xs[2 * j + 1], y + h, width=0.25, fill=238)
            cv.text(xs[2 * j] + 1.5, y + 2.2, lab, 9.5, max_w=xs[2 * j + 1] - xs[2 * j] - 3, row=y)
            vx, vy = xs[2 * j + 1] + 1.5 + dx, y + 2.2 + dy
            if key is None:
                cv.text(vx, vy, val, 9, max_w=xs[2 * j + 2] - xs[2 * j + 1] - 3, row=y)
            else:
                draw_value(cv, doc, key, vx, vy, val, 10, max_w=xs[2 * j + 2] - xs[2 * j + 1] - 3, row=y)
        y += h
        cv.hline(LEFT, RIGHT, y)
    cv.rect(LEFT, top, RIGHT, y, width=0.4)
    for x in (xs[1], xs[3]):
        cv.vline(x, top, y)
    cv.vline(xs[2], top, top + 3 * h)
    cv.vline(xs[2], top + 4 * h, y)
    return y + 4


def info_colour(cv: Canvas, doc: Doc, y: float) -> float:
    """Pre-printed colour form: labels and rules in colour; values printed over it out of register."""
    pairs = doc.info_pairs()
    heldout = doc.style.variant == "heldout"
    ncol = 3 if heldout else 2
    widths = (0.12, 0.213) * 3 if ncol == 3 else (0.15, 0.35) * 2
    xs = [LEFT + sum(widths[:i]) * (RIGHT - LEFT) for i in range(2 * ncol + 1)]
    top = y
    dx, dy = doc.style.value_offset
    for i in range(0, len(pairs), ncol):
        cv.pen = doc.style.ink
        for j, (lab, _) in enumerate(pairs[i:i + ncol]):
            cv.text(xs[2 * j] + 1.5, y + 1.8, lab, 9.5, max_w=xs[2 * j + 1] - xs[2 * j] - 3, row=y)
        cv.hline(LEFT, RIGHT, y + ROW + 1)
        cv.pen = None
        for j, (_, val) in enumerate(pairs[i:i + ncol]):
            cv.text(xs[2 * j + 1] + 1.5 + dx, y + 1.8 + dy, val, 10, max_w=xs[2 * j + 2] - xs[2 * j + 1] - 2, row=y)
        y += ROW + 1
    cv.pen = doc.style.ink
    cv.rect(LEFT, top, RIGHT, y, width=0.4)
    for x in xs[1:-1]:
        cv.vline(x, top, y)
    cv.pen = None
    return y + 4


def info_label_above(cv: Canvas, doc: Doc, y: float) -> float:
    """One box per field, the label small at the top of the box and the value under it."""
    pairs = doc.info_pairs()
    heldout = doc.style.variant == "heldout"
    ncol = 3 if heldout else 4
    w = (RIGHT - LEFT) / ncol
    bh = 12.5
    for i in range(0, len(pairs), ncol):
        for j, (lab, val) in enumerate(pairs[i:i + ncol]):
            x = LEFT + j * w
            cv.rect(x, y, x + w, y + bh, width=0.3)
            if heldout:  # label centred, value right-aligned
                cv.text(x + w / 2, y + 1.0, lab, 7.5, align="center", row=y)
                draw_value(cv, doc, INFO_KEYS[i + j], x + w - 1.5 - min(w - 4, cv.width(val, 10.5)), y + 6.0, val, 10.5,
                           max_w=w - 3, row=y + 5)
            else:
                cv.text(x + 1.2, y + 1.0, lab, 7.5, row=y)
                draw_value(cv, doc, INFO_KEYS[i + j], x + 2.0, y + 5.8, val, 10.5, max_w=w - 3.5, row=y + 5)
        y += bh
    return y + 4


def info_kv_slip(cv: Canvas, doc: Doc, y: float) -> float:
    """Two-column 键：值 slip; the dates share their line with another key."""
    c, s = doc.content, doc.style
    heldout = s.variant == "heldout"
    p = {INFO_KEYS[i]: pair for i, pair in enumerate(doc.info_pairs())}
    colon = ":" if heldout else "："
    rows = [("order_no", "date_in"), ("customer", "date_out"), ("phone", "advisor"), ("plate", "model"),
            ("vin", "mileage")]
    half = (RIGHT - LEFT) / 2
    cv.hline(LEFT, RIGHT, y, dash=True)
    y += 2.5
    for a, b in rows:
        left = f"{p[a][0]}{colon}{p[a][1]}"
        w = cv.text(LEFT, y, left, 10, max_w=half - 3, row=y)
        # held-out: the second key follows the first value closely, as a narrow slip prints it
        x2 = LEFT + w + 6 if heldout else LEFT + half
        cv.text(x2, y, f"{p[b][0]}{colon}{p[b][1]}", 10, max_w=RIGHT - x2, row=y)
        y += 6.2
    del c
    cv.hline(LEFT, RIGHT, y, dash=True)
    return y + 3


def costs_colour(cv: Canvas, doc: Doc, y: float) -> float:
    """Costs on the colour form: coloured label cells, values printed over them out of register."""
    pairs = doc.cost_pairs()
    n = len(pairs)
    w = (RIGHT - LEFT) / n
    dx, dy = doc.style.value_offset
    cv.pen = doc.style.ink
    for j, (lab, _) in enumerate(pairs):
        cv.text(LEFT + j * w + 1.5, y + 1.2, lab, 9, max_w=w - 3, row=y)
    cv.hline(LEFT, RIGHT, y + 7)
    cv.rect(LEFT, y, RIGHT, y + 15, width=0.4)
    for j in range(1, n):
        cv.vline(LEFT + j * w, y, y + 15)
    cv.pen = None
    for j, (_, val) in enumerate(pairs):
        cv.text(LEFT + j * w + 1.5 + dx, y + 8.0 + dy, val, 10.5, max_w=w - 3, row=y + 7)
    return y + 19


INFO_BLOCKS.update({
    "national_std": info_national,
    "colour_preprint": info_colour,
    "label_above": info_label_above,
    "kv_slip": info_kv_slip,
})
# the costs block each form prints like
COSTS_LIKE = {"national_std": "grid_right", "label_above": "grid_below", "kv_slip": "dms_print"}


def costs_block(cv: Canvas, doc: Doc, layout: str, y: float) -> float:
    if layout == "colour_preprint":
        return costs_colour(cv, doc, y)
    layout = COSTS_LIKE.get(layout, layout)
    pairs = doc.cost_pairs()
    if layout in ("grid_right", "grid_below"):
        n = len(pairs)
        w = (RIGHT - LEFT) / n
        top = y
        if layout == "grid_below":
            for j, (lab, val) in enumerate(pairs):
                cv.text(LEFT + j * w + 1.5, y + 1.2, lab, 9, max_w=w - 3, row=y)
                cv.text(LEFT + j * w + 1.5, y + 8.0, val, 10.5, bold=j == n - 1, max_w=w - 3, row=y + 7)
            y += 15
            cv.hline(LEFT, RIGHT, top + 7)
        else:
            for i in range(0, n, 3):
                for j, (lab, val) in enumerate(pairs[i:i + 3]):
                    cw = (RIGHT - LEFT) / 3
                    cv.text(LEFT + j * cw + 1.5, y + 1.8, lab, 9.5, max_w=cw * 0.4, row=y)
                    cv.text(LEFT + j * cw + cw * 0.42, y + 1.8, val, 10, max_w=cw * 0.56, row=y)
                    cv.vline(LEFT + j * cw + cw * 0.4, y, y + ROW + 1)
                y += ROW + 1
                cv.hline(LEFT, RIGHT, y)
            w = (RIGHT - LEFT) / 3
        cv.rect(LEFT, top, RIGHT, y, width=0.4)
        for j in range(1, 3 if layout == "grid_right" else n):
            cv.vline(LEFT + j * w, top, y)
        return y + 4
    if layout == "two_column":
        x_lab, x_val = RIGHT - 78, RIGHT - 2
        for i, (lab, val) in enumerate(pairs):
            if i == len(pairs) - 1:
                cv.hline(x_lab, RIGHT, y - 1)
            cv.text(x_lab, y, lab, 10.5, bold=i == len(pairs) - 1, row=y)
            cv.text(x_val, y, val, 10.5, bold=i == len(pairs) - 1, align="right", row=y)
            y += 6.5
        return y + 3
    if layout == "dms_print":
        half = (RIGHT - LEFT) / 2
        for i in range(0, len(pairs) - 1, 2):
            for j, (lab, val) in enumerate(pairs[i:i + 2]):
                cv.text(LEFT + j * half, y, f"{lab}:{val}", 10, row=y)
            y += 6.2
        lab, val = pairs[-1]
        cv.text(LEFT, y, f"{lab}:{val}", 11.5, bold=True)
        y += 7
        cv.hline(LEFT, RIGHT, y, dash=True)
        return y + 3
    # form_colon: one line of parts, the total on its own line
    col = (RIGHT - LEFT) / 4
    for j, (lab, val) in enumerate(pairs[:4]):
        cv.text(LEFT + j * col, y, f"{lab}{doc.style.colon}{val}", 10, max_w=col - 2, row=y)
    y += 7.5
    lab, val = pairs[4]
    cv.text(LEFT, y, f"{lab}{doc.style.colon}{val}", 12, bold=True)
    return y + 8


@dataclass
class Rendered:
    canvases: list[Canvas]
    marks: list[Marks]
    end_y: float  # mm, bottom of the content on the last page


def render_document(doc: Doc, layout: str, dpi: int, two_page: bool, blank_rows: int = 0,
                    vector_text: bool = False) -> Rendered:
    """Draw the upright pages of one document; ``blank_rows`` pads the last page's tables."""
    grid = layout in ("grid_right", "grid_below", "two_column", "national_std", "colour_preprint", "label_above")
    font = "mono" if layout in ("dms_print", "kv_slip") else doc.style.font
    pages = 2 if two_page else 1
    canvases = [Canvas(dpi, font, vector_text) for _ in range(pages)]
    marks = [Marks() for _ in range(pages)]
    cv = canvases[0]
    if doc.style.barcode:
        draw_barcode(cv, RIGHT, 4.5, doc.content.order_no, h=7.5)
    if layout == "colour_preprint":  # the dealer's name and the title are pre-printed too
        cv.pen = doc.style.ink
    y = draw_header(cv, doc, 14, centred=layout not in ("dms_print", "kv_slip"))
    cv.pen = None
    y = INFO_BLOCKS[layout](cv, doc, y)
    y = draw_paragraph(cv, LEFT, y, doc.label("complaint") + doc.style.colon, "；".join(doc.content.complaint) + "。", RIGHT - LEFT)
    y += 3
    lrows, prows1, prows2 = split_rows(doc, two_page)
    lrows2: list[list[str]] = []
    if two_page and doc.split_labour:
        cut = max(1, len(lrows) // 2)
        lrows, lrows2, prows1, prows2 = lrows[:cut], lrows[cut:], [], prows1 + prows2
    pad_labour = 0 if two_page else blank_rows // 2
    pad_parts = 0 if two_page else blank_rows - pad_labour
    y = draw_table(cv, y, labour_headers(doc), lrows, LABOUR_COLS, grid, title="维修项目明细", blank_rows=pad_labour)
    if prows1:
        y = draw_table(cv, y, part_headers(doc), prows1, PARTS_COLS, grid, title="配件明细", blank_rows=pad_parts)
    if two_page:
        if y > PAGE_BOTTOM:
            raise PageOverflow(f"layout {layout}: page 1 overflows ({y:.0f} mm)")
        draw_footer(cv, 1, 2)
        cv = canvases[1]
        y = 16
        w = cv.text(LEFT, y, doc.content.dealer, 10.5, bold=True)
        cv.text(LEFT + w + 4, y, f"{doc.content.title}（续）", 10.5, bold=True)
        cv.text(RIGHT, y, f"{doc.label('order_no')}{doc.style.colon}{doc.content.order_no}", 10, align="right", row=y)
        y += 10
        if lrows2:
            y = draw_table(cv, y, labour_headers(doc), lrows2, LABOUR_COLS, grid, title="维修项目明细（续）")
        parts_title = "配件明细（续）" if not doc.split_labour else "配件明细"
        y = draw_table(cv, y, part_headers(doc), prows2, PARTS_COLS, grid, title=parts_title, blank_rows=blank_rows)
    y += 2
    y = costs_block(cv, doc, layout, y)
    y = draw_upper_total(cv, doc, y)
    y = draw_next_service(cv, doc, y)
    y += 4
    sig_y = y
    y = draw_signatures(cv, doc, y, marks[-1])
    marks[-1].seal_at = (RIGHT - 38, sig_y - 6)
    if two_page:
        draw_footer(cv, 2, 2)
    if y > PAGE_BOTTOM:
        raise PageOverflow(f"layout {layout} overflows the page ({y:.0f} mm)")
    return Rendered(canvases, marks, y)


def render_fitted(doc: Doc, layout: str, dpi: int, two_page: bool, vector_text: bool = False) -> Rendered:
    """Render, dropping jobs until the content fits; pad tables and add terms in the space left."""
    while True:
        try:
            first = render_document(doc, layout, dpi, two_page, vector_text=vector_text)
            break
        except PageOverflow:
            if len(doc.content.jobs) == 1:
                raise
            doc.content.jobs.pop()
    slack = PAGE_BOTTOM - first.end_y - terms_height(doc)
    pad = min(8, int(slack // ROW)) if doc.style.pad_tables and slack > 0 else 0
    done = render_document(doc, layout, dpi, two_page, blank_rows=pad, vector_text=vector_text) if pad else first
    draw_terms(done.canvases[-1], doc, done.end_y)
    return done


# --------------------------------------------------------------------------------------------
# Scanning: ink, paper and scanner defects


@dataclass
class ScanParams:
    """How one page was scanned; serialised into the truth file."""

    rotation_cw: int = 0
    skew_ccw: float = 0.0
    mode: str = "grey"  # colour | grey | bilevel
    noise_sigma: float = 0.0
    blur_radius: float = 0.0
    illumination: float = 0.0  # darkest corner is this much darker
    jpeg_artifacts: int = 0  # quality of an intermediate JPEG round trip, 0 = none
    carbon: bool = False
    fax: bool = False
    seal: bool = True
    signature: bool = True
    punch_holes: bool = False  # two filing holes in the left margin
    fold: bool = False  # a crease across the page where it was folded
    dark_bed: bool = False  # black scanner backing: dark corners around a skewed page
    show_through: float = 0.0  # darkness of the mirrored print on the back of thin paper
    aged: bool = False  # yellowed, lower-contrast paper from years in a cabinet

    def degradations(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if self.seal:
            out.append({"kind": "seal"})
        if self.carbon:
            out.append({"kind": "carbon_copy"})
        if self.aged:
            out.append({"kind": "aged_paper"})
        if self.show_through:
            out.append({"kind": "show_through", "strength": round(self.show_through, 3)})
        if self.punch_holes:
            out.append({"kind": "punch_holes"})
        if self.fold:
            out.append({"kind": "fold"})
        if self.illumination:
            out.append({"kind": "uneven_illumination", "strength": round(self.illumination, 3)})
        if self.skew_ccw:
            out.append({"kind": "skew", "degrees_ccw": self.skew_ccw})
        if self.dark_bed:
            out.append({"kind": "dark_scanner_bed"})
        if self.blur_radius:
            out.append({"kind": "blur", "radius_px": round(self.blur_radius, 2)})
        if self.noise_sigma:
            out.append({"kind": "gaussian_noise", "sigma": round(self.noise_sigma, 2)})
        if self.fax:
            out.append({"kind": "fax_binarisation"})
        if self.rotation_cw:
            out.append({"kind": "rotation", "degrees_cw": self.rotation_cw})
        if self.jpeg_artifacts:
            out.append({"kind": "jpeg_artifacts", "quality": self.jpeg_artifacts})
        out.append({"kind": "mode", "value": self.mode})
        return out


def apply_ink(page: Image.Image, marks: Marks, params: ScanParams, rng: random.Random, dpi: int, content: Content,
              hand: Image.Image | None = None, colour: dict[tuple[int, int, int], Image.Image] | None = None,
              paper: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """Handwriting, red seal and blue signatures, multiplied so the black print stays visible under them."""
    out = page.convert("RGB")
    if colour:
        for rgb, mask in colour.items():
            tint = Image.new("RGB", page.size, (255, 255, 255))
            tint.paste(rgb, mask=mask)
            out = ImageChops.multiply(out, tint)
    if paper != (255, 255, 255):
        out = ImageChops.multiply(out, Image.new("RGB", page.size, paper))
    if hand is not None:
        tint = Image.new("RGB", page.size, (255, 255, 255))
        tint.paste((25, 35, 110), mask=hand)
        out = ImageChops.multiply(out, tint)
    if params.signature and marks.signatures:
        mask = Image.new("L", page.size, 0)
        dr = ImageDraw.Draw(mask)
        for x, y, w, h in marks.signatures:
            for stroke in signature_strokes(rng, x, y, w, h):
                dr.line([(x_ / 25.4 * dpi, y_ / 25.4 * dpi) for x_, y_ in stroke], fill=230, width=max(2, round(dpi / 100)), joint="curve")
        tint = Image.new("RGB", page.size, (255, 255, 255))
        tint.paste((38, 51, 140), mask=mask)
        out = ImageChops.multiply(out, tint)
    if params.seal and marks.seal_at:
        seal = draw_seal(rng, dpi, content.dealer, content.seal_text)
        sx = round((marks.seal_at[0] + rng.uniform(-8, 8)) / 25.4 * dpi - seal.width / 2)
        sy = round((marks.seal_at[1] + rng.uniform(-6, 6)) / 25.4 * dpi - seal.height / 2)
        tint = Image.new("RGB", page.size, (255, 255, 255))
        tint.paste((219, 31, 31), (sx, sy), mask=seal)
        out = ImageChops.multiply(out, tint)
    return out


def dot_matrix(img: Image.Image, dpi: int, nrng: np.random.Generator) -> Image.Image:
    """Re-print the page as a dot-matrix printer with a worn ribbon would: strokes made of dots,
    darkness fading in bands down the page."""
    grey = np.asarray(img, dtype=np.float32)
    h, w = grey.shape
    pitch = max(3, round(dpi / 60))  # about 0.4 mm between dot centres
    dot = pitch - 1
    ys = (np.arange(h) % pitch) < dot
    xs = (np.arange(w) % pitch) < dot
    dots = (ys[:, None] & xs[None, :]).astype(np.float32)
    bands = np.interp(np.arange(h), np.linspace(0, h, 14), nrng.uniform(0.55, 1.0, 14)).astype(np.float32)
    darkness = np.minimum(255, (255 - grey) * 1.6) * dots * bands[:, None]
    out = Image.fromarray((255 - darkness).clip(0, 255).astype(np.uint8), "L")
    return out.filter(ImageFilter.GaussianBlur(0.3 * dpi / 200))


def draw_fold(img: Image.Image, nrng: np.random.Generator) -> Image.Image:
    """A crease across the page (folded in half or in three): a thin shadow with a light edge."""
    w, h = img.size
    y = int(h * (0.5 if nrng.random() < 0.5 else 1 / 3) + nrng.integers(-h // 60, h // 60))
    band = max(2, h // 600)
    profile = np.ones(h, dtype=np.float32)
    profile[y - band:y] = 0.86
    profile[y:y + band] = 1.0
    profile[y + band:y + 3 * band] = 0.95
    mask = Image.fromarray((np.repeat(profile[:, None], w, axis=1) * 255).astype(np.uint8), "L")
    return ImageChops.multiply(img, mask.convert(img.mode))


def draw_punch_holes(img: Image.Image, dark: bool) -> Image.Image:
    """Two filing holes 80 mm apart in the left margin (ISO 838), seen against the scanner lid."""
    w, h = img.size
    mm = w / 210
    out = img.copy()
    dr = ImageDraw.Draw(out)
    fill = 40 if dark else 238
    rim = 120 if dark else 200
    for cy in (h / 2 - 40 * mm, h / 2 + 40 * mm):
        box = [8 * mm - 3 * mm, cy - 3 * mm, 8 * mm + 3 * mm, cy + 3 * mm]
        dr.ellipse(box, fill=(fill,) * 3 if img.mode == "RGB" else fill, outline=(rim,) * 3 if img.mode == "RGB" else rim,
                   width=max(1, round(0.3 * mm)))
    return out


def scan_page(img: Image.Image, params: ScanParams, nrng: np.random.Generator) -> Image.Image:
    """Turn a clean RGB page into what the scanner stored."""
    colour = params.mode == "colour"
    out = img if colour else img.convert("L")
    w, h = out.size
    if params.carbon:  # faint carbon copy, purple-blue in colour scans
        grey = np.asarray(img.convert("L"), dtype=np.float32)
        darkness = (255 - grey)[..., None] * 0.6
        ink = np.array([0.75, 0.7, 0.35] if colour else [0.6], dtype=np.float32) / 0.75
        arr = (255 - darkness * ink).clip(0, 255).astype(np.uint8)
        out = Image.fromarray(arr if colour else arr[..., 0], "RGB" if colour else "L")
        out = out.filter(ImageFilter.GaussianBlur(0.6 * w / 1654))
    if params.aged:  # faded print on yellowed paper
        out = Image.blend(out, Image.new(out.mode, out.size, (255,) * len(out.getbands())), 0.25)
    if params.show_through:  # the back side's print, mirrored, seen through the sheet
        back = ImageOps.mirror(img.convert("L")).filter(ImageFilter.GaussianBlur(1.5 * w / 1654))
        faint = back.point(lambda v: 255 - round((255 - v) * params.show_through))
        out = ImageChops.multiply(out, faint.convert(out.mode))
    paper = ((240, 228, 196) if params.aged else (250, 248, 241)) if colour else (232 if params.aged else 247)
    shade = Image.new(out.mode, out.size, paper)
    if params.illumination:
        gy, gx = np.mgrid[0:h:32, 0:w:32].astype(np.float32)
        cx, cy = nrng.uniform(0, w), nrng.uniform(0, h)
        dist = np.sqrt(((gx - cx) / w) ** 2 + ((gy - cy) / h) ** 2) / math.sqrt(2)
        small = Image.fromarray(((1 - params.illumination * dist) * 255).astype(np.uint8)).resize((w, h), Image.Resampling.BILINEAR)
        shade = ImageChops.multiply(shade, small.convert(out.mode))
    out = ImageChops.multiply(out, shade)
    if params.fold:
        out = draw_fold(out, nrng)
    if params.punch_holes:
        out = draw_punch_holes(out, params.dark_bed)
    bed = 35 if params.dark_bed else 252
    if params.skew_ccw:
        out = out.rotate(params.skew_ccw, resample=Image.Resampling.BICUBIC, fillcolor=(bed,) * 3 if colour else bed)
    if params.blur_radius:
        out = out.filter(ImageFilter.GaussianBlur(params.blur_radius))
    if params.noise_sigma:
        a = np.asarray(out, dtype=np.float32)
        a = a + nrng.normal(0, params.noise_sigma, a.shape).astype(np.float32)
        out = Image.fromarray(a.clip(0, 255).astype(np.uint8), out.mode)
    if params.fax:
        g = np.asarray(out.convert("L"), dtype=np.int16)
        thr = 150 + nrng.integers(-15, 15)
        bw = g > thr
        specks = nrng.random(bw.shape) < 0.0008
        bw = np.where(specks, ~bw, bw)
        out = Image.fromarray((bw * 255).astype(np.uint8), "L").convert("1", dither=Image.Dither.NONE)
    if params.rotation_cw:
        out = out.transpose({90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}[params.rotation_cw])
    if params.jpeg_artifacts and out.mode != "1":
        buf = io.BytesIO()
        out.save(buf, "JPEG", quality=params.jpeg_artifacts)
        out = Image.open(io.BytesIO(buf.getvalue()))
        out.load()
    return out


# --------------------------------------------------------------------------------------------
# Planning a batch


@dataclass
class DocPlan:
    name: str
    layout: str
    fmt: str
    dpi: int
    pages: int
    record_dpi: bool
    page_params: list[ScanParams]
    content_seed: str
    born_digital: bool = False  # a PDF printed from the DMS: real text, no scan
    heldout: bool = False  # FORM_LAYOUTS: held-out wordings and layout variants
    dealer: str = ""  # the dealer profile's key (make_profile); "" = everything drawn per document


def random_skew(rng: random.Random) -> float:
    """Most pages are fed almost straight; a few are badly skewed (up to 6 degrees)."""
    roll = rng.random()
    if roll < 0.25:
        return 0.0
    if roll < 0.85:
        return round(rng.uniform(-3, 3), 2)
    return round(rng.choice((-1, 1)) * rng.uniform(3, 6), 2)


def page_params(rng: random.Random, fmt: str, mode: str, carbon: bool, rotation: int, hard: bool = False) -> ScanParams:
    fax = mode == "bilevel"
    return ScanParams(
        rotation_cw=rotation,
        skew_ccw=random_skew(rng),
        mode=mode,
        # gaussian noise makes lossless greyscale files huge, so PNG pages get none
        noise_sigma=round(rng.uniform(8, 20), 2) if fax else round(rng.uniform(1, 4.5), 2) if fmt != "png" else 0.0,
        blur_radius=round(rng.choice((0, 0, 0.5, 0.8, 1.2)), 2),
        illumination=round(rng.uniform(0.05, 0.3), 3) if rng.random() < 0.6 else 0.0,
        jpeg_artifacts=rng.choice((0, 0, 40, 55)) if fmt == "png" and not fax else 0,
        carbon=carbon,
        fax=fax,
        seal=rng.random() < 0.85,
        signature=rng.random() < 0.8,
        punch_holes=rng.random() < 0.15,
        fold=rng.random() < 0.15,
        dark_bed=rng.random() < 0.25 and hard and fmt in ("jpg", "pdf"),
        # drawn only for --hard, so that the committed set's random stream stays as it is
        show_through=round(rng.uniform(0.08, 0.18), 3) if hard and rng.random() < 0.3 else 0.0,
        aged=hard and rng.random() < 0.3,
    )


def plan_batch(count: int, seed: int, formats: Sequence[str] = FORMATS, pages_mix: bool = False,
               clean: bool = False, hard: bool = False, born_digital: bool = False,
               layouts: Sequence[str] = LAYOUTS, heldout: bool = False, dealers: int = 0) -> list[DocPlan]:
    """Choose layout, format, dpi and scan conditions for each document.

    ``dealers`` > 0: each layout is printed by that many dealerships (``DealerProfile``), its
    documents dealt to them in turn (document j of a layout to dealer j mod ``dealers``); 0: every
    document its own dealer, wording and value formats (the default, and every set made before).

    Coverage is forced rather than left to chance: layouts and formats cycle; the first rotated
    documents get 90, 180 and 270 degrees; there is a document without dpi per JPEG/PNG, a fax
    and a carbon copy, a 150 and a 300 dpi scan, colour scans among JPEG/PDF, and a page skewed
    by 4.5-6 degrees.
    """
    rng = random.Random(f"plan-{seed}")
    fmts = list(formats)
    unknown = set(layouts) - set(ALL_LAYOUTS)
    if unknown or not layouts:
        raise ValueError(f"layouts must be a non-empty subset of {ALL_LAYOUTS}, got {list(layouts)}")

    def fmt_of(i: int) -> str:
        return fmts[i % len(fmts)]

    multi_ok = [i for i in range(count) if fmt_of(i) in ("tif", "pdf")]
    if pages_mix:
        two_page = {i for i in multi_ok if rng.random() < 0.75}
    else:
        two_page = {i for k, i in enumerate(multi_ok) if k % 4 in (0, 3)}
    order = list(range(count))
    rng.shuffle(order)
    rotations = dict(zip(order[:3], (90, 180, 270), strict=False))
    for i in order[3:]:
        if rng.random() < 0.1:
            rotations[i] = rng.choice((90, 180, 270))
    no_dpi = set()
    for f in ("jpg", "png"):
        cands = [i for i in order if fmt_of(i) == f and i not in rotations]
        if cands:
            no_dpi.add(cands[0])
    fax_cands = [i for i in order if fmt_of(i) in ("tif", "png") and i not in no_dpi]
    fax = set(fax_cands[:max(1, count // 8)])
    carbon_cands = [i for i in order if i not in fax]
    carbon = set(carbon_cands[-max(1, count // 10):])
    colour_cands = [i for i in order if fmt_of(i) in ("jpg", "pdf") and i not in carbon]
    colour = set(colour_cands[0::3])
    dpis = {i: 200 for i in range(count)}
    for i in order:
        roll = rng.random()
        dpis[i] = 150 if roll < 0.15 else 300 if roll > 0.9 and (i in fax or fmt_of(i) == "jpg") else 200
    firsts = [[i for i in order if i in fax], [i for i in order if fmt_of(i) == "pdf"], [i for i in order if fmt_of(i) == "jpg"]]
    for group, dpi in zip(firsts, (300, 300, 150), strict=True):
        if group:
            dpis[group[0]] = dpi
    plans = []
    for i in range(count):
        fmt = fmt_of(i)
        pages = 2 if i in two_page else 1
        mode = "bilevel" if i in fax and not clean else "colour" if i in colour else "grey"
        if layouts[i % len(layouts)] == "colour_preprint" and mode != "bilevel" and not clean:
            # a colour form is mostly scanned in colour (its own RNG: the other layouts' plans stay)
            mode = "colour" if random.Random(f"form-{seed}-{i}").random() < 0.75 else "grey"
        params = []
        for p in range(pages):
            rot = rotations.get(i, 0) if p == 0 or not pages_mix else rng.choice((0, 0, 180, rotations.get(i, 0)))
            page_mode = mode if p == 0 or not pages_mix or mode == "bilevel" else rng.choice(("grey", mode))
            pp = page_params(rng, fmt, page_mode, i in carbon, rot, hard)
            if born_digital and fmt == "pdf":  # electronic seal, not signed yet, never scanned
                pp = ScanParams(mode="colour", seal=pp.seal, signature=False)
            params.append(ScanParams(seal=pp.seal, signature=pp.signature) if clean else pp)
        plans.append(DocPlan(
            name=f"wo{seed:02d}_{i + 1:03d}",
            layout=layouts[i % len(layouts)],
            fmt=fmt,
            dpi=dpis[i],
            pages=pages,
            record_dpi=i not in no_dpi,
            page_params=params,
            content_seed=f"content-{seed}-{i}",
            born_digital=born_digital and fmt == "pdf",
            heldout=heldout,
            dealer=f"{seed}-{layouts[i % len(layouts)]}-{(i // len(layouts)) % dealers + 1}" if dealers > 0 else "",
        ))
    # at least one badly skewed page (4.5-6 degrees) on an ordinary laser-printed scan
    steep = [i for i in order if i not in fax and i not in carbon and layouts[i % len(layouts)] != "dms_print"
             and not plans[i].born_digital]
    if steep and not clean:
        first = plans[steep[0]].page_params[0]
        first.skew_ccw = round(rng.choice((-1, 1)) * rng.uniform(4.5, 6), 2)
    return plans


# --------------------------------------------------------------------------------------------
# Writing files


def save_pages(images: list[Image.Image], path: Path, fmt: str, dpi: int, record_dpi: bool) -> None:
    dpi_kw: dict[str, Any] = {"dpi": (dpi, dpi)} if record_dpi else {}
    if fmt == "jpg":
        im = images[0].convert("L") if images[0].mode == "1" else images[0]
        im.save(path, "JPEG", quality=85, optimize=True, **dpi_kw)
    elif fmt == "png":
        images[0].save(path, "PNG", **dpi_kw)
    elif fmt == "tif":
        if all(im.mode == "1" for im in images):
            compression = "group4"
            ims = images
        else:
            ims = [im.convert("L") if im.mode == "1" else im for im in images]
            compression = "jpeg"  # scanners store grey and colour TIFF pages as JPEG-in-TIFF
        if compression == "jpeg":
            dpi_kw["quality"] = 80
        ims[0].save(path, "TIFF", save_all=True, append_images=ims[1:], compression=compression, **dpi_kw)
    elif fmt == "pdf":
        images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=float(dpi), quality=75,
                       creationDate=FIXED_PDF_DATE, modDate=FIXED_PDF_DATE, title="scan", producer="scanner")
    else:
        raise ValueError(f"unknown format {fmt}")


TEXT_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"  # TrueType outlines: embeddable as CIDFontType2


def subset_font(chars: set[str]) -> tuple[bytes, dict[str, int], dict[int, int]]:
    """WQY Micro Hei cut down to ``chars``: font bytes, char -> glyph id, glyph id -> width (1/1000 em)."""
    from fontTools import subset
    from fontTools.ttLib import TTCollection

    font = TTCollection(TEXT_FONT).fonts[0]
    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.drop_tables += ["FFTM"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in chars])
    subsetter.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    cmap = font.getBestCmap()
    upem = font["head"].unitsPerEm
    gids = {c: font.getGlyphID(cmap[ord(c)]) for c in chars if ord(c) in cmap}
    widths = {gid: round(font["hmtx"][font.getGlyphName(gid)][0] * 1000 / upem) for gid in gids.values()}
    return buf.getvalue(), gids, widths


def born_digital_pdf(pages: list[tuple[Image.Image, list[Run]]], dpi: int) -> bytes:
    """A PDF as a dealer system prints it: the form graphics and seal as an image, the text as real
    text in an embedded subset font (Identity-H, ToUnicode), each run stretched to its drawn width."""
    import pikepdf
    from pikepdf import Array, Dictionary, Name

    chars = {ch for _, runs in pages for r in runs for ch in r.text}
    font_bytes, gids, widths = subset_font(chars)
    pdf = pikepdf.new()
    font_file = pdf.make_stream(font_bytes)
    font_file["/Length1"] = len(font_bytes)
    to_unicode = ["/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
                  "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
                  "/CMapName /Adobe-Identity-UCS def", "/CMapType 2 def",
                  "1 begincodespacerange", "<0000> <FFFF>", "endcodespacerange"]
    pairs = sorted((gid, ch) for ch, gid in gids.items())
    for i in range(0, len(pairs), 100):
        chunk = pairs[i:i + 100]
        to_unicode.append(f"{len(chunk)} beginbfchar")
        to_unicode += [f"<{gid:04X}> <{ch.encode('utf-16-be').hex().upper()}>" for gid, ch in chunk]
        to_unicode.append("endbfchar")
    to_unicode += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    descriptor = Dictionary(Type=Name.FontDescriptor, FontName=Name("/WOAAAA+WQYMicroHei"), Flags=4,
                            FontBBox=Array([-100, -250, 1100, 950]), ItalicAngle=0, Ascent=880, Descent=-120,
                            CapHeight=700, StemV=80, FontFile2=font_file)
    w_list: list[Any] = []
    for gid in sorted(widths):
        w_list += [gid, [widths[gid]]]
    w_array = Array(w_list)
    cid_font = Dictionary(Type=Name.Font, Subtype=Name.CIDFontType2, BaseFont=Name("/WOAAAA+WQYMicroHei"),
                          CIDSystemInfo=Dictionary(Registry="Adobe", Ordering="Identity", Supplement=0),
                          FontDescriptor=pdf.make_indirect(descriptor), W=w_array, CIDToGIDMap=Name.Identity)
    font = pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type0, BaseFont=Name("/WOAAAA+WQYMicroHei"),
                                        Encoding=Name("/Identity-H"), DescendantFonts=Array([pdf.make_indirect(cid_font)]),
                                        ToUnicode=pdf.make_stream("\n".join(to_unicode).encode())))
    w_pt, h_pt = A4_MM[0] / 25.4 * 72, A4_MM[1] / 25.4 * 72
    for graphics, runs in pages:
        buf = io.BytesIO()
        graphics.convert("RGB").save(buf, "JPEG", quality=85)
        image = pdf.make_stream(buf.getvalue(), Type=Name.XObject, Subtype=Name.Image, Width=graphics.width,
                                Height=graphics.height, ColorSpace=Name.DeviceRGB, BitsPerComponent=8,
                                Filter=Name.DCTDecode)
        ops = [f"q {w_pt:.2f} 0 0 {h_pt:.2f} 0 0 cm /Im0 Do Q", "BT 0 g"]
        for r in runs:
            codes = "".join(f"{gids.get(ch, 0):04X}" for ch in r.text)
            natural = sum(widths.get(gids.get(ch, 0), 1000) for ch in r.text) / 1000 * r.pt
            target = r.width / 25.4 * 72
            scale = 100 * target / natural if natural else 100
            x = r.x / 25.4 * 72
            y = h_pt - (r.top / 25.4 * 72 + 0.88 * r.pt)
            mode = f"2 Tr {0.03 * r.pt:.2f} w" if r.bold else "0 Tr"
            ops.append(f"/F1 {r.pt:.2f} Tf {scale:.2f} Tz {mode} 1 0 0 1 {x:.2f} {y:.2f} Tm <{codes}> Tj")
        ops.append("ET")
        page = pdf.add_blank_page(page_size=(w_pt, h_pt))
        page.Resources = Dictionary(XObject=Dictionary(Im0=image), Font=Dictionary(F1=font))
        page.Contents = pdf.make_stream("\n".join(ops).encode())
    pdf.docinfo["/Producer"] = "DMS report writer (synthetic)"
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


def truth_fields(c: Content) -> dict[str, str]:
    return {
        "order_no": c.order_no,
        "vin": c.vin,
        "plate": c.plate,
        "date_in": c.date_in.date().isoformat(),
        "date_out": c.date_out.date().isoformat(),
        "mileage_km": str(c.mileage),
        "customer_name": c.customer,
        "phone": c.phone,
        "model": c.model,
        "advisor": c.advisor,
        "labor_cost": f"{c.labour_cost:.2f}",
        "parts_cost": f"{c.parts_cost:.2f}",
        "total_cost": f"{c.total:.2f}",
        "other_cost": f"{c.other:.2f}",
        "discount": f"{c.discount:.2f}",
    }


def truth_items(c: Content) -> list[dict[str, str]]:
    items = [{"kind": "labour", "name": x.name, "quantity": f"{x.hours:.1f}", "amount": f"{x.amount:.2f}"} for x in c.labour]
    items += [
        {"kind": "part", "name": p.name, "part_no": p.part_no, "quantity": str(p.quantity),
         "unit_price": f"{p.unit_price:.2f}", "amount": f"{p.amount:.2f}"}
        for p in c.parts
    ]
    return items


@dataclass
class Composed:
    doc: Doc
    rendered: Rendered
    rng: random.Random  # continues into the ink (seal placement, signatures)


def compose(plan: DocPlan, dpi: int | None = None) -> Composed:
    """Content and the clean upright pages of one planned document (at ``dpi`` or the plan's)."""
    rng = random.Random(plan.content_seed)
    profile = make_profile(plan.dealer, plan.layout, plan.heldout) if plan.dealer else None
    content = make_content(rng, profile)
    if plan.pages == 2:
        make_longer(rng, content, min_rows=14)
    style = make_style(rng)
    if plan.layout in FORM_LAYOUTS:
        style = form_style(style, content, plan.layout, plan.heldout, random.Random(plan.content_seed + "-form"))
    if profile is not None:
        style = dealer_style(style, profile)
        content.title = profile.title
    if plan.born_digital:  # nothing filled in by hand, no dot-matrix printer
        style = replace(style, handwritten=(), dot_matrix=False)
    split = plan.pages == 2 and random.Random(plan.content_seed + "-split").random() < 0.5
    doc = Doc(content, style, random.Random(plan.content_seed + "-hand"), split_labour=split)
    return Composed(doc, render_fitted(doc, plan.layout, dpi or plan.dpi, plan.pages == 2, plan.born_digital), rng)


def build_document(plan: DocPlan, seed: int) -> tuple[list[Image.Image], dict[str, Any]]:
    """Compose, ink and scan one document; return its page images and ground truth."""
    composed = compose(plan)
    content, style, rng = composed.doc.content, composed.doc.style, composed.rng
    canvases, marks = composed.rendered.canvases, composed.rendered.marks
    nrng = np.random.default_rng([seed, int.from_bytes(plan.content_seed.encode()[-8:], "big")])
    images: list[Image.Image] = []
    pages: list[dict[str, Any]] = []
    for cv, mk, planned in zip(canvases, marks, plan.page_params, strict=True):
        params = replace(planned, seal=planned.seal and mk.seal_at is not None, signature=planned.signature and bool(mk.signatures))
        dm = style.dot_matrix and plan.layout in ("dms_print", "colour_preprint", "kv_slip")
        printed = dot_matrix(cv.img, plan.dpi, nrng) if dm else cv.img
        inked = apply_ink(printed, mk, params, rng, plan.dpi, content, cv.hand, cv.colour, style.paper)
        images.append(inked if plan.born_digital else scan_page(inked, params, nrng))
        pages.append({
            "text": cv.page_text(),
            "rotation_cw": params.rotation_cw,
            "skew_ccw": params.skew_ccw,
            "dpi": plan.dpi,
            "degradations": ([d for d in params.degradations() if d["kind"] == "seal"] + [{"kind": "born_digital"}]
                             if plan.born_digital else params.degradations()),
            "size_px": list(images[-1].size),
        })
        if plan.born_digital:
            pages[-1]["source"] = "pdf-text"
            pages[-1]["runs"] = [asdict(r) for r in cv.runs]
    truth = {
        "name": plan.name,
        "fields": truth_fields(content),
        "items": truth_items(content),
        "pages": pages,
        "layout": plan.layout,
        "format": plan.fmt,
        "dpi_in_file": plan.record_dpi,
        "dealer": content.dealer,
        "maker": content.brand.maker,
        "title": content.title,
        "labels": style.labels,
        "handwritten": sorted(style.handwritten) if plan.layout != "dms_print" else [],
        "print": "dot_matrix" if plan.layout in ("dms_print", "colour_preprint", "kv_slip") and style.dot_matrix else "laser",
        "seal_text": content.seal_text if any(d["kind"] == "seal" for p in pages for d in p["degradations"]) else None,
        "born_digital": plan.born_digital,
    }
    if plan.dealer:
        truth["dealer_profile"] = plan.dealer
    if plan.layout in FORM_LAYOUTS:
        truth["variant"] = style.variant
        if plan.layout == "colour_preprint":
            truth["ink"], truth["paper"] = list(style.ink), list(style.paper)
    return images, truth


def generate(out_dir: str | Path, count: int, seed: int, *, formats: Sequence[str] = FORMATS,
             pages_mix: bool = False, clean: bool = False, hard: bool = False, born_digital: bool = False,
             layouts: Sequence[str] = LAYOUTS, heldout: bool = False, dealers: int = 0) -> list[Path]:
    """Write ``count`` documents and their ``.truth.json`` files; return the document paths.

    ``clean`` keeps seal and signatures but skips every scanner defect (upright, no skew, grey);
    ``hard`` adds defects beyond the committed set's (black ADF backing around skewed pages,
    show-through of the back side, aged yellowed paper);
    ``born_digital`` makes the PDF documents DMS print-outs with real text instead of scans.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    unknown = set(formats) - set(FORMATS)
    if unknown or not formats:
        raise ValueError(f"formats must be a non-empty subset of {FORMATS}, got {list(formats)}")
    paths = []
    for plan in plan_batch(count, seed, formats, pages_mix, clean, hard, born_digital, layouts, heldout, dealers):
        images, truth = build_document(plan, seed)
        path = out / f"{plan.name}.{plan.fmt}"
        if plan.born_digital:
            runs = [[Run(**r) for r in page.pop("runs")] for page in truth["pages"]]
            path.write_bytes(born_digital_pdf(list(zip(images, runs, strict=True)), plan.dpi))
        else:
            save_pages(images, path, plan.fmt, plan.dpi, plan.record_dpi)
        (out / f"{plan.name}.truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        log.info("wrote %s (%s, %d page(s), %d dpi)", path, plan.layout, plan.pages, plan.dpi)
        paths.append(path)
    return paths


def summary_table(out_dir: str | Path) -> str:
    """Markdown rows describing the documents in ``out_dir`` (for samples/README.md)."""
    rows = []
    for t_path in sorted(Path(out_dir).glob("*.truth.json")):
        t = json.loads(t_path.read_text(encoding="utf-8"))
        notes = []
        kinds = {d["kind"]: d for p in t["pages"] for d in p["degradations"]}
        modes = sorted({d["value"] for p in t["pages"] for d in p["degradations"] if d["kind"] == "mode"})
        notes.append("/".join(modes) if modes else "born-digital (text in the PDF)")
        if not t["dpi_in_file"]:
            notes.append("**no dpi in file**")
        for k, label in (("fax_binarisation", "fax"), ("carbon_copy", "carbon copy"), ("uneven_illumination", "shading"),
                         ("jpeg_artifacts", "JPEG artefacts"), ("punch_holes", "punch holes"), ("fold", "fold"),
                         ("dark_scanner_bed", "dark scanner bed"), ("show_through", "show-through"),
                         ("aged_paper", "aged paper"), ("seal", "seal")):
            if k in kinds:
                notes.append(label)
        if t.get("print") == "dot_matrix":
            notes.append("dot-matrix print")
        if t.get("handwritten"):
            notes.append("handwritten " + "/".join(t["handwritten"]))
        skews = ", ".join(f"{p['skew_ccw']:+.2f}°" for p in t["pages"])
        rots = ", ".join(str(p["rotation_cw"]) for p in t["pages"])
        name = f"{t['name']}.{t['format']}"
        rows.append(f"| {name} | {t['layout']} | {len(t['pages'])} | {t['pages'][0]['dpi']} | {rots} | skew {skews}; {', '.join(notes)} |")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--pages-mix", action="store_true",
                    help="more two-page documents, each sheet scanned with its own rotation and mode")
    ap.add_argument("--formats", default=",".join(FORMATS), help="comma-separated subset of jpg,png,tif,pdf")
    ap.add_argument("--clean", action="store_true", help="no scanner defects: upright, unskewed, grey pages")
    ap.add_argument("--hard", action="store_true",
                    help="also black scanner backing, show-through of the back side, aged paper")
    ap.add_argument("--born-digital", action="store_true", help="PDF documents carry real text (DMS print-outs), not scans")
    ap.add_argument("--layouts", default=",".join(LAYOUTS),
                    help=f"comma-separated subset of {','.join(ALL_LAYOUTS)} (or 'forms' for the four other forms)")
    ap.add_argument("--heldout", action="store_true",
                    help="the other forms with the held-out label wordings and layout variants (measure only)")
    ap.add_argument("--dealers", type=int, default=0, metavar="N",
                    help="each layout printed by N dealerships, each with its own order-number format, advisors, "
                         "wording and print formats (0: all drawn per document)")
    ap.add_argument("--summary", action="store_true", help="print a markdown table of the documents written")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    formats = [f.strip().lower().replace("tiff", "tif").replace("jpeg", "jpg") for f in args.formats.split(",") if f.strip()]
    t0 = time.perf_counter()
    if not formats or set(formats) - set(FORMATS):
        ap.error(f"--formats must be a non-empty subset of {','.join(FORMATS)}")
    layouts = list(FORM_LAYOUTS) if args.layouts == "forms" else [x.strip() for x in args.layouts.split(",") if x.strip()]
    if not layouts or set(layouts) - set(ALL_LAYOUTS):
        ap.error(f"--layouts must be a non-empty subset of {','.join(ALL_LAYOUTS)}")
    paths = generate(args.out, args.count, args.seed, formats=formats, pages_mix=args.pages_mix,
                     clean=args.clean, hard=args.hard, born_digital=args.born_digital, layouts=layouts,
                     heldout=args.heldout, dealers=args.dealers)
    print(f"wrote {len(paths)} documents to {args.out} in {time.perf_counter() - t0:.1f} s")
    if args.summary:
        print(summary_table(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
