"""Search index benchmark: build rate, size and query latency on synthetic work orders.

Generates N orders directly as ``Document`` records (fields, repair items and realistic Chinese
text; no OCR), indexes them with the production code path (``index.store.build_generation``),
then times 20 typical queries (VIN tail, plate, Chinese phrase, date range with text, amount
range, vehicle history) with p50/p95 over several rounds. The same data and queries run against
SQLite FTS5 (trigram tokenizer) as a baseline.

    .venv/bin/python benchmarks/bench_index.py --docs 100000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.models import Document, FieldValue, OcrLine, PageText  # noqa: E402

_VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
_VIN_VALUES = {**{str(i): i for i in range(10)}, **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
               **dict(zip("JKLMN", range(1, 6), strict=True)), "P": 7, "R": 9,
               **dict(zip("STUVWXYZ", range(2, 10), strict=True))}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)

MODELS = [
    ("LSV", "上汽大众", ["朗逸 1.5L", "帕萨特 330TSI", "途观L 380TSI", "凌渡 280TSI"]),
    ("LFV", "一汽大众", ["速腾 1.4T", "迈腾 330TSI", "宝来 1.5L", "探岳 380TSI"]),
    ("LBV", "华晨宝马", ["3系 325Li", "5系 530Li", "X3 xDrive28i"]),
    ("LE4", "北京奔驰", ["C260L", "E300L", "GLC260L"]),
    ("LGB", "东风日产", ["轩逸 1.6L", "天籁 2.0L", "奇骏 2.5L"]),
    ("LHG", "广汽本田", ["雅阁 1.5T", "缤智 1.5L", "冠道 240TURBO"]),
    ("LFM", "一汽丰田", ["卡罗拉 1.2T", "RAV4 2.0L", "亚洲龙 2.5L"]),
    ("LVS", "长安福特", ["福克斯 1.5L", "蒙迪欧 2.0T", "锐界 2.0T"]),
    ("LSG", "上汽通用", ["英朗 1.5L", "君威 20T", "昂科威 28T"]),
    ("LGX", "比亚迪", ["汉 EV", "秦PLUS DM-i", "宋PLUS DM-i", "唐 DM-i"]),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力波宁鑫斌浩凯晨宇欣怡佳琪子轩梓涵俊峰海燕雪梅志国"
ADVISORS = ["李娜", "王磊", "陈静", "赵强", "刘洋", "孙丽", "周杰", "吴敏"]
DEALERS = ["广州天河店", "深圳南山店", "北京朝阳店", "上海浦东店", "成都武侯店", "杭州西湖店"]
PROVINCE_CITY = [("粤", "ABCDE"), ("京", "ABCEFGHJKLMNPQ"), ("沪", "ABCDE"), ("川", "ABCDEF"), ("浙", "ABCDEF")]
ITEMS = [
    ("更换机油机滤", 380, "保养"), ("更换空气滤清器", 120, "保养"), ("更换空调滤清器", 150, "保养"),
    ("更换火花塞", 460, "保养"), ("更换刹车片（前）", 680, "制动"), ("更换刹车片（后）", 560, "制动"),
    ("更换刹车油", 260, "制动"), ("四轮定位", 200, "底盘"), ("轮胎动平衡", 120, "底盘"),
    ("更换前减震器", 1580, "底盘"), ("更换蓄电池", 780, "电气"), ("空调系统清洗", 280, "空调"),
    ("添加空调冷媒", 220, "空调"), ("更换变速箱油", 980, "传动"), ("更换正时皮带", 1680, "发动机"),
    ("节气门清洗", 260, "发动机"), ("喷油嘴清洗", 320, "发动机"), ("更换雨刮片", 160, "车身"),
    ("钣金喷漆（左前门）", 1200, "钣金"), ("更换前大灯总成", 2350, "电气"), ("更换水泵", 860, "发动机"),
    ("更换防冻液", 240, "冷却"), ("发动机故障诊断", 150, "诊断"), ("更换转向拉杆球头", 520, "底盘"),
]
COMPLAINTS = [
    "保养到期，客户要求做常规保养", "发动机冷启动有异响", "刹车时有尖锐异响，踏板偏软",
    "空调制冷效果差，出风有异味", "仪表盘发动机故障灯亮", "方向盘跑偏，轮胎偏磨",
    "车辆底盘过减速带时异响", "左前门刮擦，需钣金喷漆", "蓄电池亏电，无法启动", "变速箱换挡顿挫",
]
PARTS_BRANDS = ["Castrol EDGE 5W-30", "Mobil 1 0W-40", "BOSCH", "MANN-FILTER", "NGK", "Brembo", "VARTA"]


def vin_check(vin16: str) -> str:
    """VIN with its check digit inserted at position 9 (``vin16`` has the other 16 characters)."""
    chars = vin16[:8] + "0" + vin16[8:]
    total = sum(_VIN_VALUES[c] * w for c, w in zip(chars, _VIN_WEIGHTS, strict=True))
    check = total % 11
    return chars[:8] + ("X" if check == 10 else str(check)) + chars[9:]


@dataclass
class Vehicle:
    vin: str
    plate: str
    make: str
    model: str
    customer: str
    phone: str
    mileage: int


def _vehicle(rng: random.Random) -> Vehicle:
    wmi, make, models = rng.choice(MODELS)
    body = "".join(rng.choice(_VIN_CHARS) for _ in range(5)) + rng.choice("KLMNPR") + rng.choice("ABCDEFGH") \
        + "".join(rng.choice("0123456789") for _ in range(6))
    vin = vin_check(wmi + body[:5] + body[5:])
    return Vehicle(
        vin=vin,
        plate=_plate(rng),
        make=make,
        model=rng.choice(models),
        customer=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
        phone="1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9)),
        mileage=rng.randint(3000, 80000),
    )


def _plate(rng: random.Random) -> str:
    province, offices = rng.choice(PROVINCE_CITY)
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    if rng.random() < 0.2:
        tail = rng.choice("DF") + "".join(rng.choice("0123456789") for _ in range(5))
    else:
        tail = "".join(rng.choice(letters + "0123456789" * 3) for _ in range(5))
    return province + rng.choice(offices) + tail


def synthetic_documents(n: int, seed: int = 1) -> Iterator[Document]:
    """``n`` work orders for about n/4 vehicles over 2021-2025; some plates change hands."""
    rng = random.Random(seed)
    vehicles = [_vehicle(rng) for _ in range(max(1, n // 4))]
    first = date(2021, 1, 1)
    for i in range(n):
        v = rng.choice(vehicles)
        if rng.random() < 0.01:  # re-registered: the car gets a new plate
            v.plate = _plate(rng)
        v.mileage += rng.randint(2000, 12000)
        yield _order(rng, i, v, first + timedelta(days=i * 1826 // n))


def _order(rng: random.Random, i: int, v: Vehicle, day_in: date) -> Document:
    date_in = day_in.isoformat()
    date_out = (day_in + timedelta(days=rng.choice((0, 0, 1, 2)))).isoformat()
    order_no = f"RO{day_in:%Y%m%d}{i % 100000:05d}"
    advisor = rng.choice(ADVISORS)
    dealer = rng.choice(DEALERS)
    items = rng.sample(ITEMS, rng.randint(1, 4))
    labor = sum(round(a * 0.35) for _, a, _ in items)
    parts = sum(a - round(a * 0.35) for _, a, _ in items)
    total = labor + parts
    plate_printed = v.plate[:2] + "·" + v.plate[2:]
    lines = [
        f"{v.make}{dealer} 售后服务部 维修委托书/结算单",
        f"工单号：{order_no}    进厂日期：{date_in} {rng.randint(8, 17):02d}:{rng.choice(('00', '15', '30', '45'))}",
        f"服务顾问：{advisor}    出厂日期：{date_out}",
        f"客户名称：{v.customer}    联系电话：{v.phone[:3]}-{v.phone[3:7]}-{v.phone[7:]}",
        f"车牌号：{plate_printed}    车架号(VIN)：{v.vin}",
        f"车型：{v.make} {v.model}    行驶里程：{v.mileage} km    颜色：{rng.choice(['白色', '黑色', '银色', '红色', '蓝色'])}",
        f"客户描述：{rng.choice(COMPLAINTS)}",
        "序号  维修项目  类别  数量  金额",
    ]
    for k, (name, amount, kind) in enumerate(items, 1):
        lines.append(f"{k}  {name}  {kind}  1  {amount:.2f}")
    lines += [
        f"使用配件：{rng.choice(PARTS_BRANDS)}  质保期：3个月或5000公里",
        f"工时费：{labor:.2f}  材料费：{parts:.2f}  合计：¥{total:,.2f}",
        "客户签字：__________  本单据一式两联，请妥善保管。",
    ]
    page = PageText(page_no=1, width=2480, height=3508, dpi=300,
                    lines=[OcrLine(text=t, box=(0, 0, 1, 1), conf=0.95) for t in lines])

    def fv(value: str) -> FieldValue:
        return FieldValue(value=value, confidence=0.95, valid=True)

    doc_id = f"{i:016x}"
    return Document(
        id=doc_id, source_name=f"scan_{i:06d}.pdf", sha256=doc_id * 4, original=f"originals/{doc_id}.pdf",
        archive_pdf=f"pdf/{doc_id}.pdf", archive_sha256=doc_id * 4, pages=[page], ocr_engine="synthetic",
        ocr_version="0", ingested_at="2025-01-01T00:00:00Z",
        fields={
            "order_no": fv(order_no), "vin": fv(v.vin), "plate": fv(v.plate), "date_in": fv(date_in),
            "date_out": fv(date_out), "mileage_km": fv(str(v.mileage)), "customer_name": fv(v.customer),
            "phone": fv(v.phone), "model": fv(f"{v.make} {v.model}"), "advisor": fv(advisor),
            "labor_cost": fv(f"{labor}.00"), "parts_cost": fv(f"{parts}.00"), "total_cost": fv(f"{total}.00"),
        },
        items=[{"name": name, "quantity": 1, "amount": f"{amount}.00"} for name, amount, _ in items],
        confidence=0.95, needs_review=rng.random() < 0.05, tags={"dealer": dealer},
    )


# -- the benchmark ------------------------------------------------------------------------------
@dataclass
class Probe:
    """Values picked from the generated data for the queries (every ``step``-th document)."""

    vins: list[str]
    plates: list[str]
    customers: list[str]


def collect_probes(n: int, seed: int, count: int = 8) -> Probe:
    step = max(1, n // count)
    p = Probe([], [], [])
    for i, d in enumerate(synthetic_documents(n, seed)):
        if i % step == step // 2:
            p.vins.append(d.fields["vin"].value or "")
            p.plates.append(d.fields["plate"].value or "")
            p.customers.append(d.fields["customer_name"].value or "")
    return p


@dataclass
class Case:
    kind: str
    whoosh: str  # query string, or "history:<key>"
    sql: tuple[str, tuple[object, ...]]  # SQLite FTS5 equivalent


def cases(p: Probe) -> list[Case]:
    fts_top = "SELECT f.id FROM docs f WHERE docs MATCH ? ORDER BY rank LIMIT 20"
    fts_date = ("SELECT f.id FROM docs f JOIN meta m ON m.id = f.id WHERE docs MATCH ? AND m.date BETWEEN ? AND ? "
                "ORDER BY rank LIMIT 20")
    hist = ("SELECT id, date FROM meta WHERE vin IN (SELECT vin FROM meta WHERE plate = ?) "
            "OR plate = ? ORDER BY date")
    hist_vin = ("SELECT id, date FROM meta WHERE vin IN (SELECT m.vin FROM docs f JOIN meta m ON m.id = f.id "
                "WHERE docs MATCH ?) ORDER BY date")
    return [
        Case("VIN tail (6)", p.vins[0][-6:], (fts_top, (f'vin:"{p.vins[0][-6:]}"',))),
        Case("VIN tail (8)", f"vin:{p.vins[1][-8:]}", (fts_top, (f'vin:"{p.vins[1][-8:]}"',))),
        Case("VIN tail (6)", p.vins[2][-6:], (fts_top, (f'vin:"{p.vins[2][-6:]}"',))),
        Case("full VIN", p.vins[3], (fts_top, (f'vin:"{p.vins[3]}"',))),
        Case("plate with dot", p.plates[0][:2] + "·" + p.plates[0][2:], (fts_top, (f'plate:"{p.plates[0]}"',))),
        Case("plate, no province", p.plates[1][1:], (fts_top, (f'plate:"{p.plates[1][1:]}"',))),
        Case("plate: field", f"plate:{p.plates[2]}", (fts_top, (f'plate:"{p.plates[2]}"',))),
        Case("Chinese phrase", "更换机油机滤", (fts_top, ('content:"更换机油机滤"',))),
        Case("Chinese phrase", "刹车片", (fts_top, ('content:"刹车片"',))),
        # Trigrams cannot match a two-character word (MATCH and LIKE both return nothing): scan with
        # instr() among the rows the longer word selects.
        Case("Chinese words", "发动机 异响",
             ("SELECT f.id FROM docs f WHERE docs MATCH ? AND instr(f.content, ?) > 0 ORDER BY rank LIMIT 20",
              ('content:"发动机"', "异响"))),
        Case("Chinese phrase", "空调系统清洗", (fts_top, ('content:"空调系统清洗"',))),
        Case("customer name", f"customer:{p.customers[4]}",
             (fts_top, (f'customer:"{p.customers[4]}"',)) if len(p.customers[4]) >= 3 else
             ("SELECT m.id FROM meta m JOIN docs f ON f.id = m.id WHERE instr(f.customer, ?) > 0 LIMIT 20",
              (p.customers[4],))),
        Case("date range + text", "date:2024-01..2024-03 刹车片", (fts_date, ('content:"刹车片"', 20240101, 20240331))),
        Case("date month + text", "date:2023-06 更换蓄电池", (fts_date, ('content:"更换蓄电池"', 20230601, 20230630))),
        Case("date range + text", "date:2022 四轮定位 dealer:广州",
             (fts_date.replace(" ORDER BY", " AND instr(f.dealer, ?) > 0 ORDER BY"),
              ('content:"四轮定位"', 20220101, 20221231, "广州"))),
        Case("amount range", "total:>5000",
             ("SELECT id FROM meta WHERE total > ? ORDER BY date DESC LIMIT 20", (500000,))),
        Case("amount range + text", "total:500..2000 四轮定位",
             ("SELECT f.id FROM docs f JOIN meta m ON m.id = f.id WHERE docs MATCH ? AND m.total BETWEEN ? AND ? "
              "ORDER BY rank LIMIT 20", ('content:"四轮定位"', 50000, 200000))),
        Case("history by plate", f"history:{p.plates[5]}", (hist, (p.plates[5], p.plates[5]))),
        Case("history by VIN tail", f"history:{p.vins[6][-8:]}", (hist_vin, (f'vin:"{p.vins[6][-8:]}"',))),
        Case("history by plate", f"history:{p.plates[7][:2]}·{p.plates[7][2:]}", (hist, (p.plates[7], p.plates[7]))),
    ]


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def build_whoosh(root: Path, n: int, seed: int, procs: int) -> dict[str, float]:
    from index.store import CURRENT_NAME, build_generation

    index_dir = root / "index"
    index_dir.mkdir(parents=True)
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    stats = build_generation(index_dir / "g000001", synthetic_documents(n, seed), procs=procs)
    (index_dir / CURRENT_NAME).write_text("g000001")
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    return {"docs": stats.docs, "seconds": wall, "cpu_seconds": cpu, "docs_per_s": stats.docs / wall,
            "bytes": stats.bytes}


def build_sqlite(path: Path, n: int, seed: int) -> dict[str, float]:
    from index.schema import document_fields

    con = sqlite3.connect(path)
    con.executescript(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        "CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, content, vin, plate, customer, dealer, tokenize='trigram');"
        "CREATE TABLE meta (id TEXT PRIMARY KEY, vin TEXT, plate TEXT, date INTEGER, total INTEGER, doc TEXT);"
    )
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    batch_docs: list[tuple[object, ...]] = []
    batch_meta: list[tuple[object, ...]] = []

    def flush() -> None:
        con.executemany("INSERT INTO docs VALUES (?,?,?,?,?,?)", batch_docs)
        con.executemany("INSERT INTO meta VALUES (?,?,?,?,?,?)", batch_meta)
        batch_docs.clear()
        batch_meta.clear()

    for d in synthetic_documents(n, seed):
        f = document_fields(d)  # same normalised values as the Whoosh index
        batch_docs.append((d.id, f["content"], f.get("vin"), f.get("plate"), f.get("customer"), f.get("dealer")))
        batch_meta.append((d.id, f.get("vin"), f.get("plate"), f.get("date"), f.get("total"),
                           json.dumps({"text": f["text"], "meta": f["meta"]}, ensure_ascii=False)))
        if len(batch_docs) >= 2000:
            flush()
    flush()
    con.executescript("CREATE INDEX meta_vin ON meta(vin); CREATE INDEX meta_plate ON meta(plate);"
                      "CREATE INDEX meta_date ON meta(date); CREATE INDEX meta_total ON meta(total);")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    return {"docs": n, "seconds": wall, "cpu_seconds": cpu, "docs_per_s": n / wall, "bytes": path.stat().st_size}


def time_whoosh(root: Path, case: Case) -> tuple[float, float, int]:
    """Wall and CPU seconds of one query through the public API (opens the index, as the CLI does)."""
    import index
    from core.archive import Archive

    archive = Archive(root)
    c0, t0 = time.process_time(), time.perf_counter()
    if case.whoosh.startswith("history:"):
        n = len(index.vehicle_history(archive, case.whoosh.split(":", 1)[1]))
    else:
        n = index.search(archive, case.whoosh, limit=20).total
    return time.perf_counter() - t0, time.process_time() - c0, n


def time_sqlite(con: sqlite3.Connection, case: Case) -> tuple[float, float, int]:
    sql, params = case.sql
    c0, t0 = time.process_time(), time.perf_counter()
    rows = con.execute(sql, params).fetchall()
    if " LIMIT 20" in sql:  # the total, as the Whoosh search reports it
        con.execute(f"SELECT count(*) FROM ({sql.replace(' ORDER BY rank', '').split(' LIMIT')[0]})", params).fetchone()
    for (doc_id, *_rest) in rows:  # fetch the stored document for display, as Whoosh does
        con.execute("SELECT doc FROM meta WHERE id = ?", (doc_id,)).fetchone()
    return time.perf_counter() - t0, time.process_time() - c0, len(rows)


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def corpus_arguments(ap: argparse.ArgumentParser, name: str, reuse: str) -> None:
    """The options of a benchmark on the synthetic orders: how many and their seed, the indexing
    processes, the working directory (``--reuse``: what a run left there) and the JSON output."""
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--procs", type=int, default=2, help="Whoosh indexing processes")
    ap.add_argument("--work", type=Path, default=None, help="working directory (default: a temp dir, removed)")
    ap.add_argument("--reuse", action="store_true", help=reuse)
    ap.add_argument("--out", type=Path, default=Path(f"bench-out/{name}.json"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    corpus_arguments(ap, "bench_index", "reuse the indexes and build figures left in --work")
    ap.add_argument("--rounds", type=int, default=5, help="timed rounds of the 20 queries (after one warm-up)")
    args = ap.parse_args(argv)

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-index-"))
    builds_file = work / "builds.json"
    try:
        load_start = os.getloadavg()
        print(f"generating probes over {args.docs} synthetic orders …", file=sys.stderr)
        qs = cases(collect_probes(args.docs, args.seed))
        if args.reuse and builds_file.exists():
            builds = json.loads(builds_file.read_text())
        else:
            shutil.rmtree(work / "whoosh", ignore_errors=True)
            (work / "sqlite.db").unlink(missing_ok=True)
            work.mkdir(parents=True, exist_ok=True)
            print("building the Whoosh index …", file=sys.stderr)
            builds = {"whoosh": build_whoosh(work / "whoosh", args.docs, args.seed, args.procs),
                      "load_during_whoosh_build": os.getloadavg()}
            print("building the SQLite FTS5 trigram baseline …", file=sys.stderr)
            builds["sqlite"] = build_sqlite(work / "sqlite.db", args.docs, args.seed)
            builds_file.write_text(json.dumps(builds))

        con = sqlite3.connect(work / "sqlite.db")
        samples: dict[str, dict[int, list[float]]] = {k: {i: [] for i in range(len(qs))}
                                                      for k in ("w_wall", "w_cpu", "s_wall", "s_cpu")}
        hits: dict[str, dict[int, int]] = {"w": {}, "s": {}}
        for rnd in range(args.rounds + 1):
            for i, c in enumerate(qs):
                ww, wc, wn = time_whoosh(work / "whoosh", c)
                sw, sc, sn = time_sqlite(con, c)
                if rnd:  # round 0 warms the page cache
                    for key, v in (("w_wall", ww), ("w_cpu", wc), ("s_wall", sw), ("s_cpu", sc)):
                        samples[key][i].append(v)
                hits["w"][i], hits["s"][i] = wn, sn
        con.close()
        from core.archive import Archive
        from index import search

        indexed = search(Archive(work / "whoosh"), "", limit=1).total
        assert indexed == args.docs, f"index holds {indexed} documents, expected {args.docs}"

        def flat(key: str) -> list[float]:
            return [t for ts in samples[key].values() for t in ts]

        result = {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "uname": " ".join(platform.uname()),
            "nproc": os.cpu_count(),
            "loadavg_queries": [load_start, os.getloadavg()],
            "docs": args.docs,
            "builds": builds,
            **{f"{key}_p{q}_ms": pct(flat(key), q / 100) * 1000 for key in samples for q in (50, 95)},
            "queries": [
                {"kind": c.kind, "query": c.whoosh,
                 **{f"{key}_median_ms": statistics.median(samples[key][i]) * 1000 for key in samples},
                 "whoosh_hits": hits["w"][i], "sqlite_rows": hits["s"][i]}
                for i, c in enumerate(qs)
            ],
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1))
        print(render(result))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def render(r: dict[str, Any]) -> str:
    wb, sb, n = r["builds"]["whoosh"], r["builds"]["sqlite"], r["docs"]
    lines = [
        f"Run {r['date']} on `{r['uname']}`, nproc {r['nproc']}; {n} synthetic orders. Load average "
        f"(1/5/15 min) during the Whoosh build {fmt_load(r['builds'].get('load_during_whoosh_build'))}, "
        f"during the queries {fmt_load(r['loadavg_queries'][0])} → {fmt_load(r['loadavg_queries'][1])}.",
        "",
        "| | Whoosh, bigram analysis (this index) | SQLite FTS5 trigram (baseline) |",
        "|---|---|---|",
        f"| build, wall clock | {wb['docs_per_s']:.0f} docs/s ({wb['seconds']:.0f} s) "
        f"| {sb['docs_per_s']:.0f} docs/s ({sb['seconds']:.0f} s) |",
        f"| build, CPU time (all processes) | {wb['cpu_seconds']:.0f} s = {n / wb['cpu_seconds']:.0f} docs per CPU-s "
        f"| {sb['cpu_seconds']:.0f} s = {n / sb['cpu_seconds']:.0f} docs per CPU-s |",
        f"| size | {wb['bytes'] / 1e6:.0f} MB ({wb['bytes'] / n:.0f} B/doc) "
        f"| {sb['bytes'] / 1e6:.0f} MB ({sb['bytes'] / n:.0f} B/doc) |",
        f"| query p50 / p95, wall clock | {r['w_wall_p50_ms']:.1f} / {r['w_wall_p95_ms']:.1f} ms "
        f"| {r['s_wall_p50_ms']:.1f} / {r['s_wall_p95_ms']:.1f} ms |",
        f"| query p50 / p95, CPU time | {r['w_cpu_p50_ms']:.1f} / {r['w_cpu_p95_ms']:.1f} ms "
        f"| {r['s_cpu_p50_ms']:.1f} / {r['s_cpu_p95_ms']:.1f} ms |",
        "",
        "| query | kind | Whoosh ms wall / CPU (hits) | SQLite ms wall / CPU (rows) |",
        "|---|---|---|---|",
    ]
    for q in r["queries"]:
        lines.append(f"| `{q['query']}` | {q['kind']} | {q['w_wall_median_ms']:.1f} / {q['w_cpu_median_ms']:.1f} "
                     f"({q['whoosh_hits']}) | {q['s_wall_median_ms']:.1f} / {q['s_cpu_median_ms']:.1f} "
                     f"({q['sqlite_rows']}) |")
    return "\n".join(lines)


def fmt_load(load: list[float] | None) -> str:
    return "/".join(f"{x:.1f}" for x in load) if load else "?"


if __name__ == "__main__":
    raise SystemExit(main())
