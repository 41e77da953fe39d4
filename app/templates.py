"""Learned templates in the archive: learning from a clerk's corrections, loading for extraction.

Learned templates live in ``ARCHIVE/templates/learned/*.toml`` (readable and editable, see
docs/templates.md). A correction in review teaches the template of the document's layout
(found by its fingerprint, or started from it); extraction — at ingest and in ``woa reprocess``
— uses the templates whose fingerprint matches.
"""

from __future__ import annotations

import logging
from pathlib import Path

from core.archive import Archive
from core.atomic import write_bytes_atomic
from core.models import Document
from extractors.labels import Lexicon
from extractors.layout import PageIndex
from extractors.learn import (
    LearnedTemplate,
    choose_learned,
    dumps,
    fingerprint,
    learn,
    load_learned,
    new_template,
    same_shop,
    shop_lines,
)

log = logging.getLogger(__name__)
TEMPLATES_LOCK = "tl-learned-templates"  # a lock stripe of its own ("tl" is no hex id prefix)


def learned_dir(archive: Archive) -> Path:
    return archive.root / "templates" / "learned"


def learned_templates(archive: Archive) -> list[LearnedTemplate]:
    return load_learned(learned_dir(archive))


def corrected_values(doc: Document) -> dict[str, str]:
    """The fields a clerk has set on ``doc`` (the last value of each), from its review history."""
    out: dict[str, str] = {}
    for h in doc.history:
        if h.get("field") and h.get("new") is not None:
            out[str(h["field"])] = str(h["new"])
    return out


def learn_from_document(archive: Archive, doc: Document) -> LearnedTemplate | None:
    """Teach the template of ``doc``'s layout what the clerk's corrections say; save it."""
    truth = corrected_values(doc)
    if not truth or not doc.pages:
        return None
    marks = fingerprint(PageIndex.build(doc.pages, Lexicon()), doc.pages)
    if not marks:
        return None
    with archive.lock(TEMPLATES_LOCK):  # one writer of the template files at a time
        t = choose_learned(learned_templates(archive), marks, doc.pages)
        if t is not None and same_shop(t, doc.pages) is False:
            # the same form printed by another dealer: its values are its own (docs/templates.md)
            t = new_template(marks, shop_lines(doc.pages))
        t = t or new_template(marks)
        learn(t, doc.pages, truth, doc.id)
        path = t.path or learned_dir(archive) / f"{t.name}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, dumps(t).encode("utf-8"))
    t.path = path
    log.info("learned template %s taught by %s (%d documents)", t.name, doc.id, len(t.documents))
    return t
