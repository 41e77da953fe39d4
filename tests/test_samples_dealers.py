"""Dealer profiles in the sample generator (``--dealers N``): one dealership's documents share its
shop, its DMS's order-number format, a handful of advisors and one printed form; dealers differ."""

from __future__ import annotations

import re
from types import ModuleType

import pytest

from tests.helpers import load_generator


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return load_generator()


def pattern(order_no: str) -> str:
    return re.sub(r"\d", "9", order_no)


def contents(gen: ModuleType, count: int, seed: int, dealers: int, layouts: tuple[str, ...]) -> list[tuple[str, object]]:
    out = []
    for plan in gen.plan_batch(count, seed, layouts=list(layouts), dealers=dealers):
        composed = gen.compose(plan, dpi=40)  # the content and the style; the page drawn small
        out.append((plan.dealer, composed.doc))
    return out


@pytest.mark.parametrize("layout", ["national_std", "colour_preprint", "label_above", "kv_slip", "grid_right"])
def test_one_dealers_documents_share_its_shop_dms_advisors_and_form(gen: ModuleType, layout: str) -> None:
    docs = [d for _, d in contents(gen, 12, 4101, 1, (layout,))]
    c0, s0 = docs[0].content, docs[0].style
    assert {d.content.dealer for d in docs} == {c0.dealer}
    assert {pattern(d.content.order_no) for d in docs} == {pattern(c0.order_no)}
    assert len({d.content.order_no for d in docs}) == len(docs)  # the numbers themselves differ
    assert 1 < len({d.content.advisor for d in docs}) <= 5  # a handful of advisors, not one per visit
    assert {d.content.brand.name for d in docs} == {c0.brand.name}
    assert all(d.style.labels == s0.labels and d.style.money_fmt == s0.money_fmt and d.style.date_fmt == s0.date_fmt
               for d in docs)
    assert len({d.content.customer for d in docs}) > len(docs) // 2  # the visits are the customers'


def test_dealers_of_one_layout_differ_and_documents_are_dealt_in_turn(gen: ModuleType) -> None:
    docs = contents(gen, 16, 4102, 2, ("label_above", "kv_slip"))
    keys = [k for k, _ in docs]
    assert keys[:4] == ["4102-label_above-1", "4102-kv_slip-1", "4102-label_above-2", "4102-kv_slip-2"]
    by_dealer: dict[str, list[object]] = {}
    for k, d in docs:
        by_dealer.setdefault(k, []).append(d)
    assert len(by_dealer) == 4
    shops = {k: {d.content.dealer for d in ds} for k, ds in by_dealer.items()}  # type: ignore[attr-defined]
    assert all(len(v) == 1 for v in shops.values()) and len({next(iter(v)) for v in shops.values()}) == 4


def test_without_dealers_every_document_draws_its_own(gen: ModuleType) -> None:
    docs = [d for _, d in contents(gen, 12, 4103, 0, ("label_above",))]
    assert len({d.content.dealer for d in docs}) > 6
    assert len({d.content.advisor for d in docs}) > 8
    assert all(not p.dealer for p in gen.plan_batch(4, 4103, layouts=["label_above"]))
