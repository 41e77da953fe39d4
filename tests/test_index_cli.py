"""``woa search/history/stats/reindex`` as users run them, and search over really ingested samples."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import index
from core.archive import Archive
from tests.helpers import ALL, D1, D2, D3, D4, VIN1, documents

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def archive_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-archive")
    a = Archive(root)
    for d in documents():
        a.save(d)
    return root  # no index yet: the first command builds it


def woa(archive_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "woa.cli", *args, "--archive", str(archive_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_cli_search_json_builds_the_index_on_first_use(archive_dir: Path) -> None:
    r = woa(archive_dir, "search", "--json", "机油")
    assert r.returncode == 0, r.stderr
    out: dict[str, Any] = json.loads(r.stdout)
    assert out["total"] == 1 and out["hits"][0]["id"] == D1
    assert "<b>机油</b>" in out["hits"][0]["snippet"]
    assert out["hits"][0]["fields"]["total"] == "1280.00"


def test_cli_search_table_paging_and_sort(archive_dir: Path) -> None:
    r = woa(archive_dir, "search", "dealer:广州", "--sort", "date", "--limit", "2", "--page", "2")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ["#", "date", "order"]
    rows = lines[1:-1:2]  # each hit row is followed by its snippet line
    assert [ln.split()[1] for ln in rows] == ["2024-01-15", "2022-06-10"]  # 3rd and 4th newest
    assert lines[-1].startswith("4 documents, page 2 of 2, by date")


def test_cli_search_reports_bad_query(archive_dir: Path) -> None:
    r = woa(archive_dir, "search", "total:lots")
    assert r.returncode == 2 and "total:lots" in r.stderr


def test_cli_history(archive_dir: Path) -> None:
    r = woa(archive_dir, "history", "粤B·D12345", "--json")
    assert r.returncode == 0, r.stderr
    assert [e["id"] for e in json.loads(r.stdout)] == [D2, D1, D4]
    r = woa(archive_dir, "history", VIN1[-8:])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"VIN: {VIN1}    plates: 粤BA88888, 粤BD12345"
    assert [ln.split()[0] for ln in lines[2:5]] == ["2022-06-10", "2024-01-15", "2024-03-05"]
    assert "更换机油机滤、四轮定位" in lines[3]
    assert lines[-1] == "3 orders"


def test_cli_stats_csv_and_json(archive_dir: Path) -> None:
    r = woa(archive_dir, "stats", "--from", "2024-01", "--to", "2024-06", "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0] == ["section", "key", "count", "labour", "parts", "total"]
    months = [r_ for r_ in rows if r_[0] == "month"]
    assert months[0] == ["month", "2024-01", "1", "300.00", "980.00", "1280.00"]
    assert [m[1] for m in months] == ["2024-01", "2024-02", "2024-03", "2024-06"]
    r = woa(archive_dir, "stats", "--format", "json")
    assert json.loads(r.stdout)["orders"] == len(ALL)


def test_cli_reindex(archive_dir: Path) -> None:
    r = woa(archive_dir, "reindex")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"indexed {len(ALL)} documents")
    assert json.loads(woa(archive_dir, "search", "--json", "advisor:陈静").stdout)["hits"][0]["id"] == D3


# -- real ingested samples ---------------------------------------------------------------------
def test_search_over_ingested_samples(ingested_archive: Any) -> None:
    """Samples ingested by the real pipeline are indexed by ingest and found by what was read."""
    a: Archive = ingested_archive.archive
    docs = list(a.documents())
    assert docs, "no sample was archived"
    assert index.search(a, "", limit=1).total == len(docs)
    checked = 0
    for d in docs:
        vin = d.fields.get("vin")
        if vin and vin.value:
            assert d.id in {h.id for h in index.search(a, f"vin:{vin.value[-6:]}").hits}
            assert d.id in {e.id for e in index.vehicle_history(a, vin.value)}
            checked += 1
        plate = d.fields.get("plate")
        if plate and plate.value:
            assert d.id in {h.id for h in index.search(a, f"plate:{plate.value[1:]}", limit=50).hits}
            checked += 1
    assert checked >= len(docs)  # VINs and plates were read on most samples


def test_chinese_substring_over_ingested_samples(ingested_archive: Any) -> None:
    """A two-character word from the middle of a longer run of OCR'd Chinese finds its document."""
    a: Archive = ingested_archive.archive
    tried = 0
    for sample in ingested_archive.samples:
        result = ingested_archive.results[sample.path.name]
        if result.status != "archived":
            continue
        text = a.load(result.doc_id).text
        for item in sample.truth.get("items", []):
            name = item["name"]
            if len(name) >= 4 and name in text:  # read correctly: 更换制动液 → search 制动
                word = name[2:4]
                if all("\u4e00" <= c <= "\u9fff" for c in word):
                    assert result.doc_id in {h.id for h in index.search(a, word, limit=100).hits}, word
                    tried += 1
                    break
    assert tried >= len(ingested_archive.samples) // 2
