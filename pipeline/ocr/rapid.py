"""RapidOCR (PP-OCRv4 ONNX models shipped inside the rapidocr wheels; works offline).

A second, finer recogniser (``ocr_fine_model``): PP-OCRv6's small recogniser, shipped in the
``rapidocr`` 3.10 wheel, which is installed for that file only (``requirements-models.lock``,
without its dependencies: it would bring a second OpenCV) and never imported. It reads dot-matrix
print far better than PP-OCRv4 (the dev forms' value strips, best image each: 683 of 772 read
right against 653; docs/benchmarks.md) at about 2.3x the time per line, and OpenVINO 2024.0 cannot
read it, so it runs on onnxruntime: it reads the values' second pass (``read_fine``) and, with
``ocr_fine_below`` and ``ocr_fine_page_share``, the first pass's lines PP-OCRv4 was unsure of on
pages with many of them.

The same PP-OCR models run on one of two runtimes (``ocr_runtime``): OpenVINO
(``rapidocr-openvino``, the default: 2.35x the pages per minute of onnxruntime on one thread
for the same CER, measured in ``docs/benchmarks.md``) or onnxruntime (``rapidocr-onnxruntime``).

RapidOCR's own ``__call__`` detects text on the whole page at full size and crops from that
same image. Detection at full 200 dpi cost ten times more than at 1280 px on the long side,
with no loss (measured on the samples: character bag error 0.020 at 1280 px against 0.026 at
full size), so this engine detects on a bounded copy and recognises crops cut from the full
page. Page orientation is decided before OCR (``pipeline.orientation``) from a detection at the
same scale, whose quads the pipeline passes back in as ``regions``: no second detection and no
per-line direction classifier.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import inspect
import logging
import math
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from core.models import Alternative, OcrLine
from core.plugins import package_version
from core.settings import Settings
from pipeline.ocr.base import Glyph, affine_box, lines_from_glyphs, reading_order

log = logging.getLogger(__name__)

DET_MAX_SIDE = 1280
RUNTIMES = {"openvino": "rapidocr-openvino", "onnxruntime": "rapidocr-onnxruntime"}
DEFAULT_RUNTIME = "openvino"

# OpenVINO's CPU plugin keeps compiled primitives per input shape (up to 5,000 entries). PP-OCR's
# inputs change shape with every page and every batch of line crops, so a worker's resident size
# crept by ~6.7 MB a file: 1.7 GB after 166 files of a batch with one worker. Without that cache
# (capacity 0) the same 80 files ended at 722 MB resident instead of 987 MB (peak 890 / 1067 MB),
# at no cost in speed that one run could show (docs/benchmarks.md, "Batch and scale-out").
#
# The CPU plugin also pins its inference threads to cores (ENABLE_CPU_PINNING, on by default on
# Linux), choosing them as if the process had the machine to itself: two batch workers on two
# cores pinned their one thread each to the same core and ran at 1.31 s a page each against 0.73 s
# alone (56 % scaling); unpinned, 0.80 s against 0.70 s (87 %). The kernel's scheduler places
# single-threaded workers well; pinning is left to it.
OPENVINO_CPU_PROPERTIES = {"CPU_RUNTIME_CACHE_CAPACITY": "0", "ENABLE_CPU_PINNING": "NO"}


@contextlib.contextmanager
def openvino_cpu_properties() -> Iterator[None]:
    """While RapidOCR builds its sessions, the ``Core`` it makes for each one sets our CPU properties.

    rapidocr-openvino makes a ``Core`` of its own per model session and passes on no plugin
    property but the thread count, and a property set on another ``Core`` does not reach those;
    so for the construction only (one per process: the models are cached) its module's ``Core``
    is a subclass that sets them, and the library's own is put back afterwards.
    """
    import rapidocr_openvino.utils.infer_engine as engine
    from openvino.runtime import Core

    class _Core(Core):
        def __init__(self) -> None:
            super().__init__()
            self.set_property("CPU", OPENVINO_CPU_PROPERTIES)

    original = engine.Core
    engine.Core = _Core
    try:
        yield
    finally:
        engine.Core = original


REC_WIDTH_STEP = 128


def round_recognition_widths(models: Any, step: int = REC_WIDTH_STEP) -> Any:
    """Recognition batches padded to 320 px (the models' least width) plus a multiple of ``step``.

    RapidOCR pads each batch of line crops to its widest crop, so nearly every batch is a new
    input shape, and OpenVINO's CPU plugin keeps memory per shape it has seen: a worker grew
    about 3.7 MB a file. Rounded widths (the extra columns are the same zero padding a batch's
    shorter crops already get) bound the shapes; the decoder is told the padded width, so word
    boxes stay where they are.
    """
    rec = models.text_rec
    _, height, least = rec.rec_image_shape  # 48 px high, at least 320 px wide
    resize, decode = rec.resize_norm_img, rec.postprocess_op

    def rounded(ratio: float) -> float:
        width = least + math.ceil(max(0.0, height * ratio - least) / step) * step
        return width / height

    def resize_norm_img(img: np.ndarray, max_wh_ratio: float) -> np.ndarray:
        return resize(img, rounded(max_wh_ratio) + 1e-9)

    def postprocess(preds: np.ndarray, return_word_box: bool = False, **kwargs: Any) -> Any:
        if "max_wh_ratio" in kwargs:
            kwargs["max_wh_ratio"] = rounded(kwargs["max_wh_ratio"])
        return decode(preds, return_word_box, **kwargs)

    rec.resize_norm_img, rec.postprocess_op = resize_norm_img, postprocess
    return models


@lru_cache(maxsize=4)
def rapidocr_models(threads: int = 1, runtime: str = DEFAULT_RUNTIME) -> Any:
    """One RapidOCR instance (three model sessions) per process and runtime, shared with
    orientation detection."""
    if runtime == "openvino":
        from rapidocr_openvino import RapidOCR as OpenVinoOCR

        with openvino_cpu_properties():
            return round_recognition_widths(OpenVinoOCR(inference_num_threads=threads))
    if runtime == "onnxruntime":
        from rapidocr_onnxruntime import RapidOCR

        return RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)
    raise ValueError(f"unknown OCR runtime {runtime!r} (choose from {', '.join(RUNTIMES)})")


FINE_MODELS = {
    # name: (package whose wheel carries it, file in the package, its SHA-256 as RapidOCR lists it)
    "ppocrv6-small": ("rapidocr", "models/PP-OCRv6_rec_small.onnx",
                      "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884"),
}


class FineModelMissing(RuntimeError):
    """The fine recogniser's model file is not installed (or is not the file it should be)."""


def fine_model_path(name: str) -> Path:
    """Where the fine recogniser ``name``'s model is, checked against its SHA-256. The package is
    found, not imported (``rapidocr`` 3.x would import its own dependencies, which are not
    installed)."""
    if name not in FINE_MODELS:
        raise ValueError(f"unknown fine recogniser {name!r} (choose from {', '.join(FINE_MODELS)} or none)")
    package, rel, sha = FINE_MODELS[name]
    spec = importlib.util.find_spec(package)
    roots = list(spec.submodule_search_locations or []) if spec is not None else []
    path = Path(roots[0]) / rel if roots else None
    if path is None or not path.is_file():
        raise FineModelMissing(f"the {name} recogniser needs the {package} wheel ({package}==3.10.0, "
                               "requirements-models.lock; `make setup` installs it), or set ocr_fine_model = \"none\"")
    if hashlib.sha256(path.read_bytes()).hexdigest() != sha:
        raise FineModelMissing(f"{path} is not the {name} model it should be (SHA-256 differs)")
    return path


@lru_cache(maxsize=2)
def fine_recogniser(name: str, threads: int = 1) -> Any:
    """The fine recogniser (one per process), on onnxruntime; its character list is in the model."""
    from rapidocr_onnxruntime.ch_ppocr_rec.text_recognize import TextRecognizer

    return TextRecognizer({"model_path": str(fine_model_path(name)), "rec_img_shape": [3, 48, 320],
                           "rec_batch_num": 6, "intra_op_num_threads": threads, "inter_op_num_threads": 1})


# RapidOCR's detector scales its input up until the short side is 736 px: a sliver of a page
# (3x4000) became a 942080x736 tensor and 24 GB. The copy it gets is padded with white (right and
# bottom, so box coordinates do not move) to at most DET_MAX_ASPECT and at least DET_MIN_SIDE,
# which bounds its input to 736x2208 px whatever the page.
DET_MAX_ASPECT = 3.0
DET_MIN_SIDE = 32


def detection_copy(image: np.ndarray, max_side: int = DET_MAX_SIDE) -> tuple[np.ndarray, float]:
    """The image scaled down to at most ``max_side`` pixels on its long side (then padded white
    to a bounded shape), and the factor used."""
    f = min(1.0, max_side / max(image.shape[:2]))
    small = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else image
    h, w = small.shape[:2]
    want_h = max(h, DET_MIN_SIDE, int(np.ceil(w / DET_MAX_ASPECT)))
    want_w = max(w, DET_MIN_SIDE, int(np.ceil(h / DET_MAX_ASPECT)))
    if (want_h, want_w) != (h, w):
        small = cv2.copyMakeBorder(small, 0, want_h - h, 0, want_w - w, cv2.BORDER_CONSTANT,
                                   value=(255, 255, 255) if small.ndim == 3 else 255)
    return small, f


class PpOcrDetector:
    """``pipeline.orientation.TextDetector`` on PP-OCR's models: a whole RapidOCR instance, or
    its detector and 0/180 classifier alone (``layout_detector``)."""

    def __init__(self, models: Any) -> None:
        self._ocr = models

    def boxes(self, bgr: np.ndarray) -> np.ndarray:
        boxes, _ = self._ocr.text_det(bgr)
        return np.zeros((0, 4, 2), dtype=np.float32) if boxes is None else np.asarray(boxes, dtype=np.float32)

    def upright_votes(self, bgr: np.ndarray, quads: np.ndarray) -> tuple[float, float]:
        crops = self._ocr.get_crop_img_list(bgr, quads)
        _, cls_res, _ = self._ocr.text_cls(crops)
        up = sum(score for label, score in cls_res if label == "0")
        down = sum(score for label, score in cls_res if label == "180")
        return float(up), float(down)


@lru_cache(maxsize=4)
def layout_detector(threads: int = 1, runtime: str = DEFAULT_RUNTIME) -> PpOcrDetector:
    """PP-OCR's text detector and 0/180 classifier without the recogniser (the largest model):
    what the orientation step needs when the OCR engine is not RapidOCR."""
    if runtime == "openvino":
        import rapidocr_openvino.main as rapid
    elif runtime == "onnxruntime":
        import rapidocr_onnxruntime.main as rapid
    else:
        raise ValueError(f"unknown OCR runtime {runtime!r} (choose from {', '.join(RUNTIMES)})")
    config = rapid.update_model_path(rapid.read_yaml(rapid.DEFAULT_CFG_PATH))
    for part in ("Det", "Cls"):
        if runtime == "openvino":
            config[part]["inference_num_threads"] = threads
        else:
            config[part].update(intra_op_num_threads=threads, inter_op_num_threads=1)
    models = rapid.RapidOCR.__new__(rapid.RapidOCR)  # for its crop helper; the recogniser is not loaded
    with openvino_cpu_properties() if runtime == "openvino" else contextlib.nullcontext():
        models.text_det = rapid.TextDetector(config["Det"])
        models.text_cls = rapid.TextClassifier(config["Cls"])
    return PpOcrDetector(models)


class RapidOcrEngine:
    name = "rapidocr"
    uses_text_regions = True

    def __init__(self, threads: int = 1, det_max_side: int = DET_MAX_SIDE, runtime: str = DEFAULT_RUNTIME,
                 fine_model: str = "none", fine_below: float = 0.0, fine_share: float = 0.0) -> None:
        if runtime not in RUNTIMES:
            raise ValueError(f"unknown OCR runtime {runtime!r} (choose from {', '.join(RUNTIMES)})")
        self.runtime = runtime
        self.version = f"{package_version(RUNTIMES[runtime])} {runtime}"
        self.det_max_side = det_max_side
        self._ocr = rapidocr_models(threads, runtime)
        self.text_detector = PpOcrDetector(self._ocr)  # the orientation step shares these models
        self.fine_model = "" if fine_model == "none" else fine_model
        self._fine = fine_recogniser(self.fine_model, threads) if self.fine_model else None
        self.fine_below, self.fine_share = fine_below, fine_share
        if self._fine is not None:
            self.version += f" + {self.fine_model} (rapidocr {package_version('rapidocr')})"

    @classmethod
    def from_settings(cls, settings: Settings) -> RapidOcrEngine:
        return cls(threads=settings.ocr_threads, runtime=settings.ocr_runtime,
                   fine_model=settings.ocr_fine_model, fine_below=settings.ocr_fine_below,
                   fine_share=settings.ocr_fine_page_share)

    def detect(self, bgr: np.ndarray) -> np.ndarray:
        """Text line quads (N, 4, 2) in pixels of ``bgr``, detected on a copy of bounded size."""
        small, f = detection_copy(bgr, self.det_max_side)
        boxes, _ = self._ocr.text_det(small)
        if boxes is None or len(boxes) == 0:
            return np.zeros((0, 4, 2), dtype=np.float32)
        return (np.asarray(boxes, dtype=np.float32) / f).astype(np.float32)

    def read(
        self, image: np.ndarray, dpi: float, regions: np.ndarray | None = None, to_page: np.ndarray | None = None
    ) -> list[OcrLine]:
        bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
        boxes = self.detect(bgr) if regions is None else np.ascontiguousarray(regions, dtype=np.float32)
        if len(boxes):
            # A quad under 2 px on a side (a damaged page) leaves RapidOCR a crop it divides by zero.
            w = np.linalg.norm(boxes[:, 1] - boxes[:, 0], axis=1)
            h = np.linalg.norm(boxes[:, 3] - boxes[:, 0], axis=1)
            boxes = boxes[(w >= 2) & (h >= 2)]
        if len(boxes) == 0:
            return []
        crops = self._ocr.get_crop_img_list(bgr, boxes)
        rec, _ = self._ocr.text_rec(crops, True)
        if self._fine is not None and self.fine_below > 0:  # lines the first recogniser was unsure of, read finer
            unsure = [i for i, r in enumerate(rec) if float(r[1]) < self.fine_below]
            # only a page many of whose lines are unsure (dot-matrix or faint print): on a laser
            # page the few unsure lines are not worth 2.3x their time
            if unsure and len(unsure) >= self.fine_share * len(rec):
                again, _ = self._fine([crops[i] for i in unsure], True)
                rec = list(rec)
                for i, r in zip(unsure, again, strict=True):
                    rec[i] = r
        words = self._ocr.cal_rec_boxes(crops, boxes, rec)
        lines: list[OcrLine] = []
        for quad, (text, score, word_quads, word_texts, word_confs) in zip(boxes, words, strict=True):
            if not text or float(score) < 0.5:
                continue
            glyphs = [
                Glyph(t, affine_box(q, to_page), float(c))
                for q, t, c in zip(word_quads, word_texts, word_confs, strict=False)
            ]
            if glyphs and "".join(g.text for g in glyphs).replace(" ", "") == text.replace(" ", ""):
                lines.extend(lines_from_glyphs(glyphs))
            else:
                lines.extend(lines_from_glyphs([Glyph(text, affine_box(quad, to_page), float(score))]))
        return reading_order(lines)

    def read_line(self, image: np.ndarray, dpi: float) -> OcrLine | None:
        return self._read_line(self._ocr.text_rec, image)

    def read_fine(self, image: np.ndarray, dpi: float) -> OcrLine | None:
        return self._read_line(self._ocr.text_rec if self._fine is None else self._fine, image)

    @staticmethod
    def _read_line(recogniser: Any, image: np.ndarray) -> OcrLine | None:
        bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
        h, w = bgr.shape[:2]
        if h < 2 or w < 2:
            return None
        text, score, alternatives = recognise_with_alternatives(recogniser, np.ascontiguousarray(bgr))
        lead = len(text) - len(text.lstrip())
        text = text.strip()
        if not text:
            return None
        return OcrLine(text, (0.0, 0.0, float(w), float(h)), score, alternatives=alternatives[lead:lead + len(text)])


ALTERNATIVES = 3  # per character, its own reading among them
ALTERNATIVE_FLOOR = 0.01  # a character the recogniser gave less probability is not kept


@lru_cache(maxsize=8)
def _characters(decode: Any) -> tuple[str, ...]:
    """The recogniser's character list (index 0: CTC's blank), under ``round_recognition_widths``'s
    wrapper too."""
    while not hasattr(decode, "character"):
        decode = inspect.getclosurevars(decode).nonlocals["decode"]
    return tuple(decode.character)


def recognise_with_alternatives(recogniser: Any, bgr: np.ndarray) -> tuple[str, float, list[list[Alternative]]]:
    """One line image read as RapidOCR's recogniser reads it (its own resize, model and CTC
    decode: the same text and confidence), and per character of the text the likeliest
    characters at the step the decoder took it from — the recogniser's second choices, which
    extraction weighs against what a field may hold (a name starts with a surname: 同霞海 read
    with 周 at 0.35 beside 同). Empty when the steps do not map onto the text one to one."""
    h, w = bgr.shape[:2]
    _, height, least = recogniser.rec_image_shape
    ratio = max(least / height, w / h)
    batch = recogniser.resize_norm_img(bgr, ratio)[np.newaxis, :].astype(np.float32)
    out = recogniser.session(batch)
    preds = np.asarray(out[0] if isinstance(out, (list, tuple)) else out)  # onnxruntime: a list of outputs
    text, score = recogniser.postprocess_op(preds, False, wh_ratio_list=[w / h], max_wh_ratio=ratio)[0][:2]
    text = str(text)
    probs = preds[0]
    best = probs.argmax(axis=1)
    taken = np.ones(len(best), dtype=bool)
    taken[1:] = best[1:] != best[:-1]
    taken &= best != 0  # CTC's blank
    chars = _characters(recogniser.postprocess_op)
    steps = np.flatnonzero(taken)
    if len(steps) != len(text) or any(chars[best[t]] != c for t, c in zip(steps, text, strict=True)):
        return text, float(score), []
    alternatives: list[list[Alternative]] = []
    for t in steps:
        top = np.argsort(-probs[t])[: ALTERNATIVES + 1]
        alternatives.append([(chars[i], round(float(probs[t][i]), 3)) for i in top
                             if i != 0 and probs[t][i] >= ALTERNATIVE_FLOOR][:ALTERNATIVES])
    return text, float(score), alternatives
