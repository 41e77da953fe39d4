"""Dealer templates: extra label wordings and page regions for one dealer's form, chosen by keywords.

A template is a TOML file in ``settings.templates_dir`` (see docs/templates.md)::

    name = "广州某丰田4S店 结算单"
    keywords = ["广州某丰田", "结算单"]      # all must occur in the document text
    priority = 0                              # higher wins when several match

    [labels]                                  # extra wordings, tried before the defaults
    order_no = ["RO号"]

    [regions.vin]                             # value read from a page region (fractions of the page)
    page = 1
    box = [0.55, 0.10, 0.98, 0.16]
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractors.text import clean

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Region:
    page: int
    box: tuple[float, float, float, float]


@dataclass
class Template:
    name: str
    keywords: list[str]
    labels: dict[str, list[str]] = field(default_factory=dict)
    regions: dict[str, Region] = field(default_factory=dict)
    priority: int = 0
    path: Path | None = None


def parse_template(data: dict[str, Any], path: Path | None = None) -> Template:
    regions = {}
    for fld, r in data.get("regions", {}).items():
        box = tuple(float(v) for v in r["box"])
        if len(box) != 4 or not all(0 <= v <= 1 for v in box) or box[0] >= box[2] or box[1] >= box[3]:
            raise ValueError(f"region {fld}: box must be [x0, y0, x1, y1] fractions of the page")
        regions[fld] = Region(int(r.get("page", 1)), (box[0], box[1], box[2], box[3]))
    keywords = [str(k) for k in data.get("keywords", [])]
    if not keywords:
        raise ValueError("a template needs at least one keyword")
    return Template(
        name=str(data.get("name") or (path.stem if path else "template")),
        keywords=keywords,
        labels={k: [str(w) for w in v] for k, v in data.get("labels", {}).items()},
        regions=regions,
        priority=int(data.get("priority", 0)),
        path=path,
    )


def load_templates(directory: Path) -> list[Template]:
    """Every ``*.toml`` template in ``directory``; a broken file is logged and skipped."""
    out: list[Template] = []
    if not directory.is_dir():
        log.warning("templates directory %s does not exist", directory)
        return out
    for p in sorted(directory.glob("*.toml")):
        try:
            with open(p, "rb") as fh:
                out.append(parse_template(tomllib.load(fh), p))
        except (OSError, ValueError, KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
            log.error("template %s ignored: %s", p, exc)
    return out


def choose_template(templates: list[Template], text: str) -> Template | None:
    """The matching template (all keywords present) with the highest priority, then most keywords."""
    flat = clean(text).replace(" ", "").upper()
    matching = [t for t in templates if all(clean(k).replace(" ", "").upper() in flat for k in t.keywords)]
    if not matching:
        return None
    return max(matching, key=lambda t: (t.priority, len(t.keywords)))
