"""Web application benchmark: page server time and a concurrent load, on SQLite and PostgreSQL.

1. An archive of N synthetic work orders (``bench_index.synthetic_documents``: fields, repair
   items, Chinese OCR text; no OCR, no page images): one sidecar per order, written as the
   archive writes them, each order in the store (门店) of its dealer, and the Whoosh index rebuilt
   from the sidecars by the production code path (``index.rebuild_index``, as ``woa reindex``).
2. For each database (the default SQLite, then a PostgreSQL server started on 127.0.0.1 for the
   run): users and stores created through the web app's own models, ``woa serve`` (gunicorn, the
   production server) on a free loopback port, and then
   - *page time*: one logged-in client requests the search page (VIN tail, plate with the dot,
     Chinese phrase, customer), the vehicle page and the document page in turn, one request at a
     time on loopback: the response time is the server time plus well under a millisecond;
   - *load*: Locust, headless, ``--users`` simulated users (each a clerk+advisor of one store)
     searching, opening vehicles and documents and correcting fields (``benchmarks/locust_web.py``)
     for ``--minutes``; errors and p50/p95 per kind of request from Locust's statistics.

    .venv/bin/python benchmarks/bench_web.py --docs 100000 --minutes 5     # make bench-web

Session cookies are sent without the ``Secure`` flag in this run (``WOA_WEB_SECURE_COOKIES=false``):
the clients speak plain HTTP on loopback, and HTTP clients do not send a Secure cookie there.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_index import DEALERS, corpus_arguments, synthetic_documents  # noqa: E402

from core.atomic import write_json_atomic  # noqa: E402
from core.models import Document  # noqa: E402
from tests.services import postgres_server, woa_serve  # noqa: E402

STORES = {dealer: f"S{i + 1}" for i, dealer in enumerate(DEALERS)}  # 广州天河店 -> S1 ...
PASSWORD = "bench-web-Passw0rd!"
PROBES_PER_STORE = 60


# -- the archive --------------------------------------------------------------------------------
def bench_id(seed: int, i: int) -> str:
    return hashlib.sha256(f"bench-web-{seed}-{i}".encode()).hexdigest()


def archive_documents(n: int, seed: int) -> Iterator[Document]:
    """The index benchmark's orders with archive-like ids (spread over the 256 shards) and stores."""
    for i, doc in enumerate(synthetic_documents(n, seed)):
        sha = bench_id(seed, i)
        doc.id, doc.sha256, doc.archive_sha256 = sha[:16], sha, sha
        doc.original = f"originals/{sha[:2]}/{sha[:16]}.pdf"
        doc.archive_pdf = f"pdf/{sha[:2]}/{sha[:16]}.pdf"
        doc.store = STORES[doc.tags["dealer"]]
        yield doc


@dataclass
class Probes:
    """Per store: document ids, VINs, plates (as stored) and customers of some of its orders."""

    by_store: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def add(self, doc: Document) -> None:
        p = self.by_store.setdefault(doc.store, {"ids": [], "vins": [], "plates": [], "customers": []})
        if len(p["ids"]) < PROBES_PER_STORE:
            p["ids"].append(doc.id)
            p["vins"].append(doc.fields["vin"].value or "")
            p["plates"].append(doc.fields["plate"].value or "")
            p["customers"].append(doc.fields["customer_name"].value or "")


def make_archive(root: Path, n: int, seed: int, procs: int) -> dict[str, Any]:
    """Sidecars for ``n`` orders under ``root`` (kept if there already: a resumed build), then the
    index rebuilt from them as ``woa reindex`` does; returns build figures, writes probes.json."""
    from core.archive import Archive
    from index import rebuild_index

    probes = Probes()
    rng = random.Random(seed)
    t0 = time.perf_counter()
    for doc in archive_documents(n, seed):
        path = root / "sidecars" / doc.id[:2] / f"{doc.id}.json"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # the archive's own format (Document.to_dict); no fsync per file for 100,000 files
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(doc.to_dict(), ensure_ascii=False), encoding="utf-8")
            tmp.rename(path)
        if rng.random() < 0.02:
            probes.add(doc)
    sidecars_s = time.perf_counter() - t0
    write_json_atomic(root / "probes.json", probes.by_store)
    t1 = time.perf_counter()
    docs = rebuild_index(Archive(root), procs=procs)
    return {"docs": docs, "seconds": time.perf_counter() - t0, "sidecars_seconds": sidecars_s,
            "index_seconds": time.perf_counter() - t1}


# -- users --------------------------------------------------------------------------------------
SEED_USERS = r"""
import json, sys
from core.settings import load_settings
from web.bootstrap import setup
setup(load_settings())
from django.contrib.auth import get_user_model
from web.accounts.models import Membership, Store
spec = json.loads(sys.stdin.read())
User = get_user_model()
for code in spec["stores"]:
    Store.objects.get_or_create(code=code, defaults={"name": code})
for name, roles in spec["users"].items():
    u, _ = User.objects.get_or_create(username=name)
    u.set_password(spec["password"])
    u.save()
    for code, role in roles:
        Membership.objects.get_or_create(user=u, store=Store.objects.get(code=code), role=role)
print(User.objects.count())
"""


def seed_users(archive: Path, env: dict[str, str], users: int) -> dict[str, list[list[str]]]:
    """A manager of every store (for the page timings) and ``users`` clerk+advisors, one store each."""
    codes = sorted(STORES.values())
    spec: dict[str, list[list[str]]] = {"bench-manager": [[c, "manager"] for c in codes]}
    for i in range(users):
        code = codes[i % len(codes)]
        spec[f"bench-user{i:02d}"] = [[code, "clerk"], [code, "advisor"]]
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c", SEED_USERS],
                         input=json.dumps({"stores": codes, "users": spec, "password": PASSWORD}),
                         env={**os.environ, "PYTHONPATH": str(ROOT), "WOA_ARCHIVE_DIR": str(archive), **env},
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(f"creating the users failed:\n{out.stderr[-3000:]}")
    return spec


# -- phase 1: page server time ------------------------------------------------------------------
def login(session: Any, base: str, user: str) -> None:
    r = session.get(f"{base}/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', r.text)
    assert token, "no CSRF token on the log-in page"
    r = session.post(f"{base}/login/", data={"username": user, "password": PASSWORD,
                                             "csrfmiddlewaretoken": token.group(1)},
                     headers={"Referer": f"{base}/login/"}, allow_redirects=False)
    assert r.status_code == 302, f"log-in of {user} failed: {r.status_code}"


def page_requests(probes: dict[str, dict[str, list[str]]], count: int, seed: int) -> list[tuple[str, str]]:
    """(kind, path) pairs: searches of four kinds, vehicle pages and document pages, interleaved."""
    from urllib.parse import quote

    rng = random.Random(seed)
    stores = sorted(probes)
    out: list[tuple[str, str]] = []
    for i in range(count):
        p = probes[stores[i % len(stores)]]
        k = rng.randrange(len(p["ids"]))
        plate = p["plates"][k]
        q = [p["vins"][k][-8:], plate[:2] + "·" + plate[2:], rng.choice(["更换机油机滤", "刹车片", "发动机 异响"]),
             p["customers"][k]][i % 4]
        out.append(("search", f"/?q={quote(q)}"))
        out.append(("vehicle", f"/vehicle/{quote(p['vins'][k])}/"))
        out.append(("document", f"/doc/{p['ids'][k]}/"))
    return out


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))] if s else float("nan")


def time_pages(base: str, probes: dict[str, dict[str, list[str]]], count: int, seed: int) -> dict[str, Any]:
    """p50/p95 response time of each page, one request at a time from one logged-in client."""
    import requests

    s = requests.Session()
    login(s, base, "bench-manager")
    reqs = page_requests(probes, count, seed)
    for _kind, path in reqs[:30]:  # warm-up: each worker's first requests open the index
        s.get(base + path)
    wall: dict[str, list[float]] = {}
    for kind, path in reqs:
        t0 = time.perf_counter()
        r = s.get(base + path)
        wall.setdefault(kind, []).append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {r.status_code}")
    return {kind: {"n": len(ms), "p50_ms": pct(ms, 0.5), "p95_ms": pct(ms, 0.95), "max_ms": max(ms)}
            for kind, ms in wall.items()}


# -- phase 2: the load ----------------------------------------------------------------------------
def run_locust(base: str, work: Path, users: int, seconds: int, tag: str, probes_file: Path) -> dict[str, Any]:
    prefix = work / f"locust-{tag}"
    env = {**os.environ, "BENCH_WEB_PROBES": str(probes_file), "BENCH_WEB_PASSWORD": PASSWORD,
           "BENCH_WEB_USERS": str(users), "PYTHONPATH": str(ROOT)}
    cmd = [str(ROOT / ".venv" / "bin" / "locust"), "-f", str(ROOT / "benchmarks" / "locust_web.py"), "--headless",
           "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s", "--host", base,
           "--csv", str(prefix), "--only-summary", "--stop-timeout", "30", "--loglevel", "WARNING"]
    load0 = os.getloadavg()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 300, cwd=ROOT)
    with open(f"{prefix}_stats.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with open(f"{prefix}_failures.csv", encoding="utf-8") as fh:
        failures = list(csv.DictReader(fh))
    kinds = {r["Name"]: {"requests": int(r["Request Count"]), "failures": int(r["Failure Count"]),
                         "p50_ms": float(r["50%"] or 0), "p95_ms": float(r["95%"] or 0),
                         "p99_ms": float(r["99%"] or 0), "rps": float(r["Requests/s"])} for r in rows}
    return {"users": users, "seconds": seconds, "exit_code": out.returncode, "kinds": kinds,
            "failures": failures[:20], "loadavg": [load0, os.getloadavg()], "stderr_tail": out.stderr[-1500:]}


# -- one database -------------------------------------------------------------------------------
def run_db(tag: str, archive: Path, work: Path, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    env = {**env, "WOA_WEB_SECURE_COOKIES": "false", "WOA_WEB_WORKERS": str(args.workers)}
    t0 = time.perf_counter()
    seed_users(archive, env, args.users)
    seeded = time.perf_counter() - t0
    probes = json.loads((archive / "probes.json").read_text(encoding="utf-8"))
    with woa_serve(archive, env=env, timeout=120, log_path=work / f"serve-{tag}.log") as server:
        print(f"[{tag}] woa serve on {server.url}; page timings …", file=sys.stderr)
        load0 = os.getloadavg()
        pages = time_pages(server.url, probes, args.page_requests, args.seed)
        pages["loadavg"] = [load0, os.getloadavg()]
        print(f"[{tag}] load: {args.users} users for {args.minutes} min …", file=sys.stderr)
        load = run_locust(server.url, work, args.users, int(args.minutes * 60), tag, archive / "probes.json")
    return {"database": tag, "users_seeded_s": seeded, "pages": pages, "load": load}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    corpus_arguments(ap, "bench_web", "reuse the archive left in --work")
    ap.add_argument("--users", type=int, default=20, help="simulated concurrent users")
    ap.add_argument("--minutes", type=float, default=5.0, help="length of each load run")
    ap.add_argument("--page-requests", type=int, default=100, help="rounds of search+vehicle+document timings")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers (woa serve)")
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = ap.parse_args(argv)

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-web-"))
    archive = work / "archive"
    try:
        build_file = work / "build.json"
        if args.reuse and build_file.exists():
            build = json.loads(build_file.read_text())
            shutil.rmtree(archive / "db", ignore_errors=True)
        else:
            shutil.rmtree(archive, ignore_errors=True)
            archive.mkdir(parents=True)
            print(f"writing {args.docs} sidecars and the index …", file=sys.stderr)
            load0 = os.getloadavg()
            build = make_archive(archive, args.docs, args.seed, args.procs)
            build["loadavg"] = [load0, os.getloadavg()]
            build_file.write_text(json.dumps(build))
        runs = []
        with ExitStack() as stack:
            if args.db in ("sqlite", "both"):
                runs.append(run_db("sqlite", archive, work, {}, args))
            if args.db in ("postgresql", "both"):
                shutil.rmtree(archive / "db", ignore_errors=True)
                pg = stack.enter_context(postgres_server())
                runs.append(run_db("postgresql", archive, work, {"WOA_DATABASE_URL": pg.url}, args))
        result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "uname": " ".join(platform.uname()),
                  "nproc": os.cpu_count(), "docs": args.docs, "build": build, "runs": runs,
                  "args": {k: str(v) for k, v in vars(args).items()}}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1))
        print(render(result))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def fmt_load(load: list[float] | None) -> str:
    return "/".join(f"{x:.1f}" for x in load) if load else "?"


def render(r: dict[str, Any]) -> str:
    b = r["build"]
    lines = [f"Run {r['date']} on `{r['uname']}`, nproc {r['nproc']}; {r['docs']} synthetic orders "
             f"(sidecars written in {b.get('sidecars_seconds', 0):.0f} s, index rebuilt in {b.get('index_seconds', 0):.0f} s, "
             f"load {fmt_load(b['loadavg'][0])} → "
             f"{fmt_load(b['loadavg'][1])}).", "",
             "Page response time, one request at a time on loopback (server time + < 1 ms):", "",
             "| database | page | requests | p50 ms | p95 ms | max ms | load (1/5/15) |", "|---|---|---|---|---|---|---|"]
    for run in r["runs"]:
        pages = run["pages"]
        for kind in ("search", "vehicle", "document"):
            k = pages[kind]
            lines.append(f"| {run['database']} | {kind} | {k['n']} | {k['p50_ms']:.1f} | {k['p95_ms']:.1f} "
                         f"| {k['max_ms']:.0f} | {fmt_load(pages['loadavg'][1])} |")
    lines += ["", "Load (Locust):", "", "| database | request | count | failures | p50 ms | p95 ms | p99 ms | req/s |",
              "|---|---|---|---|---|---|---|---|"]
    for run in r["runs"]:
        ld = run["load"]
        for name, k in ld["kinds"].items():
            lines.append(f"| {run['database']} ({ld['users']} users, {ld['seconds']} s, load "
                         f"{fmt_load(ld['loadavg'][1])}) | {name} | {k['requests']} | {k['failures']} | "
                         f"{k['p50_ms']:.0f} | {k['p95_ms']:.0f} | {k['p99_ms']:.0f} | {k['rps']:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
