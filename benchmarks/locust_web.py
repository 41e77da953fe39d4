"""Locust users for ``benchmarks/bench_web.py``: the people at the desk, on one store each.

Each simulated user logs in as one of the benchmark's clerk+advisor users (``bench-userNN``) and
then, with think times of 0.5-1.5 s, searches (VIN tail, plate with the dot, Chinese phrase,
customer), opens a vehicle page, opens a document page, and now and then corrects a field through
the API (``POST /api/documents/<id>/corrections/``), which writes the sidecar's history and updates
the index as ``woa review set`` does. Environment: BENCH_WEB_PROBES (the probes JSON),
BENCH_WEB_PASSWORD, BENCH_WEB_USERS.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
from typing import Any
from urllib.parse import quote

from locust import HttpUser, between, task

with open(os.environ["BENCH_WEB_PROBES"], encoding="utf-8") as _fh:
    PROBES: dict[str, dict[str, list[str]]] = json.load(_fh)
STORES = sorted(PROBES)
PASSWORD = os.environ["BENCH_WEB_PASSWORD"]
USERS = int(os.environ.get("BENCH_WEB_USERS", "20"))
ADVISORS = ["李娜", "王磊", "陈静", "赵强", "刘洋", "孙丽", "周杰", "吴敏"]
_numbers = itertools.count()
_lock = threading.Lock()


class DeskUser(HttpUser):
    # think times below gunicorn's keep-alive timeout (2 s): a longer pause races the server
    # closing the idle connection, which a browser retries silently and requests does not
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        with _lock:
            n = next(_numbers) % USERS
        self.rng = random.Random(n)
        self.probes = PROBES[STORES[n % len(STORES)]]  # bench-userNN is clerk+advisor of store n % 6
        r = self.client.get("/login/", name="login page")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', r.text)
        self.client.post("/login/", name="log in", allow_redirects=False,
                         data={"username": f"bench-user{n:02d}", "password": PASSWORD,
                               "csrfmiddlewaretoken": token.group(1) if token else ""},
                         headers={"Referer": self.host + "/login/"})
        self.csrf = self.client.cookies.get("woa_csrftoken", "")

    def _pick(self) -> int:
        return self.rng.randrange(len(self.probes["ids"]))

    @task(5)
    def search(self) -> None:
        k = self._pick()
        plate = self.probes["plates"][k]
        q = self.rng.choice([self.probes["vins"][k][-8:], plate[:2] + "·" + plate[2:], "更换机油机滤", "刹车片",
                             self.probes["customers"][k]])
        self._get(f"/?q={quote(q)}", "search page")

    @task(2)
    def vehicle(self) -> None:
        self._get(f"/vehicle/{quote(self.probes['vins'][self._pick()])}/", "vehicle page")

    @task(3)
    def document(self) -> None:
        self._get(f"/doc/{self.probes['ids'][self._pick()]}/", "document page")

    @task(1)
    def correct(self) -> None:
        doc_id = self.probes["ids"][self._pick()]
        body: dict[str, Any] = {"field": "advisor", "value": self.rng.choice(ADVISORS)}
        with self.client.post(f"/api/documents/{doc_id}/corrections/", json=body, name="correction (API)",
                              headers={"X-CSRFToken": self.csrf, "Referer": self.host + "/"},
                              catch_response=True) as r:
            if r.status_code != 201:
                r.failure(f"HTTP {r.status_code}: {r.error or r.text[:200]}")

    def _get(self, path: str, name: str) -> None:
        with self.client.get(path, name=name, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}" + (f": {r.error}" if r.status_code == 0 else ""))
