"""Typed records shared by every stage: pages, OCR results, fields, documents.

Coordinates are pixels of the *processed* page image (after rotation and deskew), origin at the
top-left, as ``(x0, y0, x1, y1)``. The PDF writer maps them to PDF points using the page dpi.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from core.errors import SidecarError

Box = tuple[float, float, float, float]


def _box(v: Any) -> Box:
    return (float(v[0]), float(v[1]), float(v[2]), float(v[3]))


def box_union(boxes: list[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


@dataclass
class OcrWord:
    text: str
    box: Box
    conf: float  # 0..1


Alternative = tuple[str, float]  # a character the recogniser also saw there, and its probability


@dataclass
class OcrLine:
    text: str
    box: Box
    conf: float  # 0..1
    words: list[OcrWord] = field(default_factory=list)
    # per character of ``text``, what else the recogniser saw there, likeliest first (its own
    # reading among them); only for recognition-only readings (``PageText.region_reads``) of an
    # engine that gives them, else empty
    alternatives: list[list[Alternative]] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OcrLine:
        return cls(
            text=d["text"],
            box=_box(d["box"]),
            conf=float(d.get("conf", 1.0)),
            words=[OcrWord(w["text"], _box(w["box"]), float(w.get("conf", 1.0))) for w in d.get("words", [])],
            alternatives=[[(str(c), float(p)) for c, p in at] for at in d.get("alternatives", [])],
        )


@dataclass
class PageText:
    """What was read on one page, plus how the page was prepared."""

    page_no: int  # 1-based
    width: int  # processed image size in pixels
    height: int
    dpi: float
    lines: list[OcrLine] = field(default_factory=list)
    rotation: int = 0  # clockwise degrees applied to the original (0/90/180/270)
    skew: float = 0.0  # degrees of deskew rotation applied
    source: str = "ocr"  # "ocr" or "pdf-text" (born-digital page: text taken from the PDF)
    ocr_seconds: float = 0.0
    dropout: str = ""  # colour dropout: the pre-printed ink (#rrggbb) read around; "" none
    # second, recognition-only readings of a region the first pass could not read whole (the
    # VIN's box strip), by the field they are for; not part of ``lines`` (nor the text layer)
    region_reads: dict[str, list[OcrLine]] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for line in [*d["lines"], *(x for v in d["region_reads"].values() for x in v)]:
            if not line["alternatives"]:  # the first pass's lines have none: not a key each
                del line["alternatives"]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PageText:
        return cls(
            page_no=int(d["page_no"]),
            width=int(d["width"]),
            height=int(d["height"]),
            dpi=float(d["dpi"]),
            lines=[OcrLine.from_dict(x) for x in d.get("lines", [])],
            rotation=int(d.get("rotation", 0)),
            skew=float(d.get("skew", 0.0)),
            source=d.get("source", "ocr"),
            ocr_seconds=float(d.get("ocr_seconds", 0.0)),
            dropout=str(d.get("dropout", "")),
            region_reads={k: [OcrLine.from_dict(x) for x in v] for k, v in (d.get("region_reads") or {}).items()},
        )


@dataclass
class FieldValue:
    """One extracted field: its canonical value and the evidence for it.

    ``valid`` means the value passed the field's validation (check digit, format, arithmetic);
    ``confidence`` combines OCR confidence and validation. A field whose confidence is below the
    review threshold sends its document to review.
    """

    value: str | None
    confidence: float
    page: int | None = None
    box: Box | None = None
    raw: str | None = None  # the text as read, before normalisation
    valid: bool = False
    note: str = ""
    source: str = "extracted"  # "extracted" or "review"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if self.box is not None:
            d["box"] = [round(v, 1) for v in self.box]
        d["confidence"] = round(self.confidence, 3)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FieldValue:
        box = d.get("box")
        return cls(
            value=d.get("value"),
            confidence=float(d.get("confidence", 0.0)),
            page=d.get("page"),
            box=_box(box) if box else None,
            raw=d.get("raw"),
            valid=bool(d.get("valid", False)),
            note=d.get("note", ""),
            source=d.get("source", "extracted"),
        )


CANONICAL_FIELDS = (
    "order_no",
    "vin",
    "plate",
    "date_in",
    "date_out",
    "mileage_km",
    "customer_name",
    "phone",
    "model",
    "advisor",
    "labor_cost",
    "parts_cost",
    "total_cost",
)


SIDECAR_SCHEMA = 1
# The sidecar's text entries: these must be there; those are "" when absent or null.
_SIDECAR_TEXT = ("id", "source_name", "sha256", "original", "archive_pdf", "archive_sha256")
_SIDECAR_OPTIONAL_TEXT = ("store", "doc_type", "retain_until", "retention_rule", "retain_extended")


@dataclass
class Document:
    """Everything the archive knows about one document; serialised as its JSON sidecar."""

    id: str
    source_name: str
    sha256: str
    original: str  # path of the original, relative to the archive root
    archive_pdf: str  # path of the PDF/A copy, relative to the archive root
    archive_sha256: str
    pages: list[PageText]
    ocr_engine: str
    ocr_version: str
    ingested_at: str  # ISO 8601, UTC
    input_bytes: int = 0
    archive_bytes: int = 0
    pdfa_level: str = "2b"
    timings: dict[str, float] = field(default_factory=dict)
    fields: dict[str, FieldValue] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)  # repair items: name, quantity, amount
    confidence: float = 0.0
    needs_review: bool = False
    tags: dict[str, str] = field(default_factory=dict)  # e.g. {"dealer": "广州店"}
    history: list[dict[str, Any]] = field(default_factory=list)  # review corrections
    duplicates: list[dict[str, Any]] = field(default_factory=list)  # same bytes seen again
    store: str = ""  # code of the store (门店) the document belongs to; "" = none given
    doc_type: str = ""  # work_order | invoice | receipt | other (extractors.doctype); "" = not classified
    doc_fields: dict[str, FieldValue] = field(default_factory=dict)  # fields of another type (invoice: 发票号码 …)
    # Records lifecycle (app/lifecycle): keep until this date (ISO), set by this retention rule;
    # a legal hold {by, at, reason} blocks disposal; tier {name, where, keys, moved_at} = cold copy.
    retain_until: str = ""
    retention_rule: str = ""
    retain_extended: str = ""  # a manager's extension: retain_until is never earlier than this
    hold: dict[str, Any] | None = None
    tier: dict[str, Any] = field(default_factory=dict)
    schema: int = SIDECAR_SCHEMA

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.pages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "id": self.id,
            "source_name": self.source_name,
            "sha256": self.sha256,
            "original": self.original,
            "archive_pdf": self.archive_pdf,
            "archive_sha256": self.archive_sha256,
            "pdfa_level": self.pdfa_level,
            "input_bytes": self.input_bytes,
            "archive_bytes": self.archive_bytes,
            "ingested_at": self.ingested_at,
            "ocr": {"engine": self.ocr_engine, "version": self.ocr_version},
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "tags": self.tags,
            "store": self.store,
            "doc_type": self.doc_type,
            "doc_fields": {k: v.to_dict() for k, v in self.doc_fields.items()},
            "confidence": round(self.confidence, 3),
            "needs_review": self.needs_review,
            "fields": {k: v.to_dict() for k, v in self.fields.items()},
            "items": self.items,
            "history": self.history,
            "duplicates": self.duplicates,
            "retain_until": self.retain_until,
            "retention_rule": self.retention_rule,
            "retain_extended": self.retain_extended,
            "hold": self.hold,
            "tier": self.tier,
            "text": self.text,
            "pages": [p.to_dict() for p in self.pages],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Document:
        """The document a sidecar describes; ``SidecarError`` (one line) if it has the wrong shape."""
        if not isinstance(d, dict):
            raise SidecarError(f"not a JSON object but {type(d).__name__}")
        for key in _SIDECAR_TEXT:
            if not isinstance(d.get(key), str):
                raise SidecarError(f"{key!r} is {'missing' if key not in d else type(d[key]).__name__}, not text")
        for key, kind in (("pages", list), ("ocr", dict), ("timings", dict), ("fields", dict), ("items", list),
                          ("tags", dict), ("history", list), ("duplicates", list)):
            if key in d and not isinstance(d[key], kind):
                raise SidecarError(f"{key!r} is {type(d[key]).__name__}, not {kind.__name__}")
        try:
            return cls._from_dict(d)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
            raise SidecarError(f"wrong shape: {type(exc).__name__}: {exc}") from exc

    @classmethod
    def _from_dict(cls, d: dict[str, Any]) -> Document:
        return cls(
            **{key: d[key] for key in _SIDECAR_TEXT},
            **{key: str(d.get(key) or "") for key in _SIDECAR_OPTIONAL_TEXT},
            pages=[PageText.from_dict(p) for p in d.get("pages", [])],
            ocr_engine=d.get("ocr", {}).get("engine", ""),
            ocr_version=d.get("ocr", {}).get("version", ""),
            ingested_at=d.get("ingested_at", ""),
            input_bytes=int(d.get("input_bytes", 0)),
            archive_bytes=int(d.get("archive_bytes", 0)),
            pdfa_level=d.get("pdfa_level", "2b"),
            timings=dict(d.get("timings", {})),
            fields={k: FieldValue.from_dict(v) for k, v in d.get("fields", {}).items()},
            items=list(d.get("items", [])),
            confidence=float(d.get("confidence", 0.0)),
            needs_review=bool(d.get("needs_review", False)),
            tags=dict(d.get("tags", {})),
            history=list(d.get("history", [])),
            duplicates=list(d.get("duplicates", [])),
            doc_fields={k: FieldValue.from_dict(v) for k, v in (d.get("doc_fields") or {}).items()},
            hold=d.get("hold") or None,
            tier=dict(d.get("tier") or {}),
            schema=int(d.get("schema", SIDECAR_SCHEMA)),
        )


def field_value(doc: Document, name: str) -> str | None:
    """The value of the document's field ``name`` as stripped text; None when missing or empty."""
    fv = doc.fields.get(name)
    if fv is None or fv.value is None:
        return None
    value = str(fv.value).strip()
    return value or None
