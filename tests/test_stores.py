"""Every document gets a store: `woa ingest --store`, `woa batch --store`, the watched inbox's
`inbox_stores`, else `default_store` — in the sidecar and in the index's `store` field."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from core.archive import Archive
from index import search
from tests.helpers import make_settings


def _scan(path: Path, n: int) -> Path:
    """A small page of its own (different bytes each): quick to OCR."""
    img = Image.new("L", (320, 160), 255)
    ImageDraw.Draw(img).text((20, 60 + n), f"order {n}", fill=0)
    img.save(path)
    return path


def test_ingest_batch_and_watch_set_the_store(tmp_path: Path) -> None:
    from batch.work import process_file
    from watch_folder.worker import Job, run_job
    from woa.cli import main

    root = tmp_path / "archive"
    a, b, c, d = (_scan(tmp_path / f"s{n}.png", n) for n in range(4))
    assert main(["ingest", str(a), "--store", "GZ", "--archive", str(root), "-q"]) == 0
    settings = make_settings(root, inbox_stores={"广州店": "GZ", "深圳店": "SZ"}, default_store="HQ")
    assert run_job(Job(1, str(b), {"dealer": "深圳店"}, False), settings).ok
    assert run_job(Job(2, str(c), {"dealer": "佛山店"}, False), settings).ok  # not mapped: default_store
    assert process_file(str(d), "", settings, tags={"store": "SZ"}).ok
    archive = Archive(root)
    stores = {archive.load(i).source_name: archive.load(i).store for i in archive.ids()}
    assert stores == {"s0.png": "GZ", "s1.png": "SZ", "s2.png": "HQ", "s3.png": "SZ"}
    from index import rebuild_index

    rebuild_index(archive, procs=1)  # the batch leaves indexing to its single writer
    found = search(archive, "needs_review:yes", limit=10, stores=["SZ"])
    assert sorted(h.fields["source_name"] for h in found.hits) == ["s1.png", "s3.png"]
    assert {h.fields["store"] for h in found.hits} == {"SZ"}
