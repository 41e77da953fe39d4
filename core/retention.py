"""Retention rules: how long a document must be kept, and the date that follows from its fields.

The rules are an ordered list in the settings (``[[retention]]`` tables in woa.toml); the first
rule whose matchers all match a document sets its ``retain_until``. A default rule (6 years from
``date_out``: SAMR order 43 art. 17 requires repair records to be kept at least 6 years) always
ends the list, so every document gets a date. A rule shorter than the legal minimum is refused
when the settings load unless it says ``override = true``.

Pure functions of a ``Document``: no I/O here (``app.lifecycle`` applies them and saves).
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.identifiers import parse_day
from core.models import Document, field_value

LEGAL_MINIMUM_YEARS = 6
MAX_YEARS = 100
DEFAULT_RULE_NAME = "default"

CountFrom = Literal["date_out", "date_in", "ingested"]


class RetentionRule(BaseModel):
    """One rule: matchers (all given ones must match) and a period counted from a date."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    years: int = 0
    months: int = 0
    days: int = 0
    # The date the period counts from; a missing date falls back along date_out -> date_in -> ingested.
    count_from: CountFrom = Field(default="date_out", alias="from")
    # Matchers (empty = match everything)
    store: list[str] = Field(default_factory=list)
    tag: list[str] = Field(default_factory=list)  # "key=value" or "key" (present)
    doc_type: list[str] = Field(default_factory=list)
    wmi: list[str] = Field(default_factory=list)  # first 3 characters of the VIN (the maker)
    field: dict[str, str] = Field(default_factory=dict)  # field or tag name -> value ("*" = present)
    override: bool = False  # allow a period below the legal minimum

    @field_validator("store", "tag", "doc_type", "wmi", mode="before")
    @classmethod
    def _listify(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v

    @field_validator("years", "months", "days")
    @classmethod
    def _non_negative(cls, v: int) -> int:
        if v < 0:
            raise ValueError("a period cannot be negative")
        return v

    @model_validator(mode="after")
    def _period(self) -> RetentionRule:
        total_days = self.years * 365.25 + self.months * 30.44 + self.days
        if total_days <= 0:
            raise ValueError(f"rule {self.name!r}: give a period (years, months or days)")
        if total_days > MAX_YEARS * 365.25:
            raise ValueError(f"rule {self.name!r}: a period over {MAX_YEARS} years is impossible")
        if total_days < LEGAL_MINIMUM_YEARS * 365.25 - 0.5 and not self.override:
            raise ValueError(
                f"rule {self.name!r}: {self.period_text()} is shorter than the legal minimum of "
                f"{LEGAL_MINIMUM_YEARS} years (SAMR order 43 art. 17); add 'override = true' to keep it anyway"
            )
        return self

    def period_text(self) -> str:
        parts = [f"{n} {unit}{'s' * (n != 1)}" for n, unit in ((self.years, "year"), (self.months, "month"),
                                                              (self.days, "day")) if n]
        return " ".join(parts) or "0 days"

    def matches(self, doc: Document) -> bool:
        if self.store and doc.store not in self.store:
            return False
        if self.tag and not any(_tag_matches(doc, t) for t in self.tag):
            return False
        if self.doc_type and _doc_type(doc) not in self.doc_type:
            return False
        if self.wmi:
            vin = (field_value(doc, "vin") or "").upper()
            if not any(vin.startswith(w.upper()) for w in self.wmi):
                return False
        for name, want in self.field.items():
            have = field_value(doc, name)
            if have is None:
                have = doc.tags.get(name)
            if have is None or (want != "*" and have != want):
                return False
        return True


DEFAULT_RULE = RetentionRule(name=DEFAULT_RULE_NAME, years=LEGAL_MINIMUM_YEARS)


def _doc_type(doc: Document) -> str:
    return field_value(doc, "doc_type") or doc.tags.get("doc_type") or doc.tags.get("type") or ""


def _tag_matches(doc: Document, spec: str) -> bool:
    key, sep, value = spec.partition("=")
    if not sep:
        return key in doc.tags
    return doc.tags.get(key) == value


def add_period(start: date, years: int, months: int, days: int) -> date:
    """``start`` plus a calendar period (29 February + 1 year is 28 February)."""
    from datetime import timedelta

    m = start.month - 1 + months + 12 * years
    y, mo = start.year + m // 12, m % 12 + 1
    d = min(start.day, calendar.monthrange(y, mo)[1])
    return date(y, mo, d) + timedelta(days=days)


def basis_date(doc: Document, count_from: CountFrom) -> tuple[date | None, str]:
    """The date the period counts from and which one it was (``date_out`` → ``date_in`` → ingest)."""
    chain: list[str] = ["date_out", "date_in", "ingested"]
    for name in chain[chain.index(count_from):]:
        d = parse_day(doc.ingested_at) if name == "ingested" else parse_day(field_value(doc, name))
        if d is not None:
            return d, name
    return None, ""


def effective_rules(rules: list[RetentionRule]) -> list[RetentionRule]:
    """The configured rules, then the built-in default unless a catch-all rule already ends them."""
    out = list(rules)
    if not any(r.name == DEFAULT_RULE_NAME for r in out):
        out.append(DEFAULT_RULE)
    return out


def compute_retention(doc: Document, rules: list[RetentionRule]) -> tuple[str, str]:
    """``(retain_until ISO date, rule name)`` for a document; ``("", "")`` if it has no date at all."""
    for rule in effective_rules(rules):
        if rule.matches(doc):
            start, _ = basis_date(doc, rule.count_from)
            if start is None:
                return "", rule.name
            return add_period(start, rule.years, rule.months, rule.days).isoformat(), rule.name
    return "", ""
