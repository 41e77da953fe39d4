"""A search that runs into a concurrent commit is retried, not answered with an error.

Found by the web load benchmark (benchmarks/bench_web.py: 20 users searching while others
correct fields): a correction's commit can merge away the segment files a search opened a moment
before, and Whoosh then fails inside its readers with a TypeError (a column reader that is None)
— which the search page turned into an HTTP 500. ``index.store.with_searcher`` now treats any
failure of a read during which the index changed as a read failure and retries it.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

import index
from index import store
from tests.helpers import base_archive, documents


def test_a_read_broken_by_a_concurrent_commit_is_retried(tmp_path: Path) -> None:
    archive = base_archive(tmp_path)
    n = len(documents())
    changed = copy.deepcopy(documents()[0])
    changed.fields["customer_name"].value = "欧阳修远"
    calls: list[int] = []

    def action(searcher: Any) -> int:
        calls.append(searcher.doc_count())
        if len(calls) == 1:
            index.update_index(archive, [changed])  # another process commits meanwhile ...
            raise TypeError("'NoneType' object is not subscriptable")  # ... and Whoosh's reader fails so
        return int(searcher.doc_count())

    assert store.with_searcher(archive, action) == n
    assert len(calls) == 2  # retried once, on the new generation
    hits = index.search(archive, "customer:欧阳修远").hits
    assert [h.id for h in hits] == [changed.id]


def test_a_failure_without_a_concurrent_commit_is_not_retried(tmp_path: Path) -> None:
    archive = base_archive(tmp_path)
    calls: list[int] = []

    def action(searcher: Any) -> int:
        calls.append(1)
        raise TypeError("a bug in the action itself")

    with pytest.raises(TypeError, match="a bug in the action itself"):
        store.with_searcher(archive, action)
    assert calls == [1]
