"""The OpenVINO runtime's CPU properties reach the sessions rapidocr-openvino builds, and bound
the memory a worker keeps per input shape."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import rapidocr_openvino.utils.infer_engine as engine
from openvino.runtime import Core

from pipeline.ocr.rapid import layout_detector, openvino_cpu_properties, rapidocr_models

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
