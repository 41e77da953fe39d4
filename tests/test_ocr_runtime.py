"""The OpenVINO runtime's CPU properties reach the sessions rapidocr-openvino builds, and bound
the memory a worker keeps per input shape."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import rapidocr_openvino.utils.infer_engine as engine
from openvino.runtime import Core

from core.models import OcrLine
from pipeline.ocr.rapid import RapidOcrEngine, layout_detector, openvino_cpu_properties, rapidocr_models

ROOT = Path(__file__).resolve().parents[1]

# Recognition of 150 one-line crops of as many widths (each width is a new input shape), resident
# memory growth in MB printed; "bounded" is woa's construction, "library" rapidocr-openvino's own.
_GROWTH = textwrap.dedent("""
    import sys
    import numpy as np
    sys.path.insert(0, {root!r})
    if sys.argv[1] == "bounded":
        from pipeline.ocr.rapid import rapidocr_models
        models = rapidocr_models(1, "openvino")
    else:
        from rapidocr_openvino import RapidOCR
        models = RapidOCR(inference_num_threads=1)
    def rss():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    rng = np.random.default_rng(0)
    crop = lambda w: (rng.random((48, w, 3)) * 255).astype(np.uint8)
    models.text_rec([crop(200)])
    base = rss()
    for i in range(150):
        models.text_rec([crop(100 + 7 * i)])
    print(rss() - base)
""")


def _growth(kind: str) -> float:
    proc = subprocess.run([sys.executable, "-c", _GROWTH.format(root=str(ROOT)), kind],
                          capture_output=True, text=True, timeout=600, check=True)
    return float(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_worker_keeps_far_less_memory_per_new_input_shape() -> None:
    library, bounded = _growth("library"), _growth("bounded")
    # measured 460 MB against 199 MB (0.43); the primitives cache is what grows with the shapes
    assert library > 150, library
    assert bounded < 0.7 * library, (bounded, library)


def test_construction_swaps_the_library_core_only_while_it_lasts() -> None:
    with openvino_cpu_properties():
        assert engine.Core is not Core and issubclass(engine.Core, Core)
        engine.Core()  # a Core that sets the properties (OpenVINO refuses an unknown one)
    assert engine.Core is Core
    with pytest.raises(RuntimeError), openvino_cpu_properties():
        raise RuntimeError("model file missing")
    assert engine.Core is Core


def _compiled(session: Any) -> Any:
    """The compiled model behind one of RapidOCR's sessions (the detector and classifier keep
    theirs as ``infer``, the recogniser as ``session``)."""
    infer = session.infer if hasattr(session, "infer") else session.session
    return infer.session.get_compiled_model()


def test_the_openvino_sessions_leave_thread_placement_to_the_kernel() -> None:
    """Pinned, two single-threaded workers on two cores shared one core (docs/benchmarks.md)."""
    models = rapidocr_models(1, "openvino")
    detector = layout_detector(1, "openvino")._ocr
    for session in (models.text_det, models.text_cls, models.text_rec, detector.text_det, detector.text_cls):
        compiled = _compiled(session)
        assert compiled.get_property("ENABLE_CPU_PINNING") is False
        assert compiled.get_property("INFERENCE_NUM_THREADS") == 1


@pytest.mark.parametrize(("crop_width", "padded"), [(100, 320), (320, 320), (321, 448), (400, 448), (700, 704), (1500, 1600)])
def test_recognition_batches_come_in_few_widths(crop_width: int, padded: int) -> None:
    """Each new input shape costs OpenVINO memory kept for the process's life (docs/benchmarks.md)."""
    rec = rapidocr_models(1, "openvino").text_rec
    crop = np.full((48, crop_width, 3), 255, np.uint8)
    assert rec.resize_norm_img(crop, max(crop_width, 320) / 48).shape == (3, 48, padded)


def test_rounded_widths_read_the_same_words_at_the_same_places() -> None:
    """The decoder is told the padded width, so word boxes do not move (they would by the
    padding's share of the width if it were not)."""
    from rapidocr_openvino import RapidOCR as OpenVinoOCR

    engine = RapidOcrEngine(runtime="openvino")
    page = cv2.imread(str(ROOT / "samples" / "wo07_001.jpg"))
    rounded = engine.read(page, 200)
    engine._ocr = OpenVinoOCR(inference_num_threads=1)  # the library's own widths
    plain = engine.read(page, 200)
    assert len(rounded) > 20

    def key(line: OcrLine) -> str:
        return line.text.replace(" ", "")

    def twin(line: OcrLine) -> OcrLine | None:  # the same text in the same place
        near = [b for b in plain if key(b) == key(line) and max(abs(b.box[0] - line.box[0]), abs(b.box[1] - line.box[1])) < 10]
        return near[0] if near else None

    matched = [(a, b) for a in rounded if (b := twin(a)) is not None]
    assert len(matched) >= 0.9 * len(plain), (len(matched), len(plain))  # the padding is all that differs
    for a, b in matched:
        ga = [(w.text, w.box) for w in a.words]
        gb = [(w.text, w.box) for w in b.words]
        if [t for t, _ in ga] != [t for t, _ in gb]:
            continue  # split into words differently (a space read or not)
        column = (a.box[3] - a.box[1]) * 8 / 48  # one CTC column: 8 px of the 48 px high input
        for (_, ba), (_, bb) in zip(ga, gb, strict=True):
            assert max(abs(p - q) for p, q in zip(ba, bb, strict=True)) <= column, (a.text, ba, bb)
