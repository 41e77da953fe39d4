"""Property tests of the query parser and search (Hypothesis): a random query string never raises
anything but ``QueryError`` (a one-line usage error) and never triggers an index rebuild."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.archive import Archive
from core.models import Document, FieldValue, OcrLine, PageText
from index import QueryError, search, update_index
from index.query import FIELD_ALIASES, parse_query

FIELDS = sorted(FIELD_ALIASES)
PIECES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["..", ">", ">=", "<", "<=", "~", "~2", '"', "-", ":", "1e309", "9" * 30, "-0", "2024-13-40",
                     "NaN", "inf", "1_000", "¥", "，", "\x00", "\n", "更换机油", "粤B·D12345", "LSVAU2180N2123456"]),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
FIELDED = st.tuples(st.sampled_from(FIELDS), st.lists(PIECES, max_size=3)).map(lambda t: f"{t[0]}:{''.join(t[1])}")
QUERIES = st.lists(st.one_of(PIECES, FIELDED), max_size=6).map(" ".join) | st.text(max_size=60)


@given(QUERIES)
@settings(max_examples=600, deadline=None)
def test_parse_query_never_raises_anything_but_query_error(query: str) -> None:
    try:
        parse_query(query)
    except QueryError as exc:
        assert "\n" not in str(exc).strip() or "\n" in query


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    archive = Archive(tmp_path_factory.mktemp("qfuzz"))
    docs = []
    for i, (text, total) in enumerate([("更换机油 机滤 粤B·D12345", "388.00"), ("刹车片 LSVAU2180N2123456", "1200.50")]):
        page = PageText(1, 100, 100, 200.0, [OcrLine(text, (0, 0, 10, 10), 0.9)])
        doc = Document(id=f"{i:016x}", source_name=f"d{i}.png", sha256=f"{i:016x}" + "0" * 48, original="",
                       archive_pdf="", archive_sha256="", pages=[page], ocr_engine="t", ocr_version="1",
                       ingested_at=f"2024-01-0{i + 1}T00:00:00Z",
                       fields={"total_cost": FieldValue(total, 0.9), "date_in": FieldValue(f"2024-0{i + 1}-15", 0.9)})
        archive.save(doc)
        docs.append(doc)
    update_index(archive, docs)
    return archive


def _generation(archive: Archive) -> tuple[str, list[str]]:
    idx = archive.index_dir
    return (idx / "CURRENT").read_text(), sorted(p.name for p in idx.iterdir())


@given(QUERIES)
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_search_never_raises_and_never_rebuilds(small_index: Archive, query: str) -> None:
    before = _generation(small_index)
    try:
        res = search(small_index, query, limit=5)
        assert res.total >= 0
    except QueryError:
        pass
    assert _generation(small_index) == before, query


def test_the_strategies_reach_the_out_of_range_numbers(small_index: Archive) -> None:
    for q in ("total:1e309", "total:>99999999999999999999999999", "total:9223372036854775807", "vin:", "total:>"):
        with pytest.raises(QueryError):
            search(small_index, q)
    assert Path(small_index.index_dir / "CURRENT").is_file()
