"""Learning benchmark: per layout, the first k documents' corrections (the ground truth, as a clerk
would enter them) teach a learned template; accuracy is measured on the following documents of
that layout, with every layout's templates in place (so a template that hurts another layout
shows). k = 0 is the extractor alone.

Works on a directory made by ``bench_extract.py`` (``docs/`` with truth files, ``ocr/`` cache)::

    .venv/bin/python benchmarks/bench_learn.py --out bench-out/extract-heldout [--next 50]
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_extract import ocr_cached  # noqa: E402
from core.models import CANONICAL_FIELDS, PageText  # noqa: E402
from core.settings import Settings  # noqa: E402
from extractors import extract  # noqa: E402
from extractors.fields import canonical_model  # noqa: E402
from extractors.labels import Lexicon  # noqa: E402
from extractors.layout import PageIndex  # noqa: E402
from extractors.learn import LearnedTemplate, fingerprint, learn, new_template  # noqa: E402

KS = (0, 1, 3, 5)


def truth_of(t: dict[str, Any]) -> dict[str, str]:
    out = {f: t["fields"][f] for f in CANONICAL_FIELDS if f in t["fields"]}
    if "model" in out:
        out["model"] = canonical_model(out["model"])
    return out


def run(out: Path, next_n: int, text_runs: bool = False) -> dict[str, Any]:
    docs_dir = out / "docs"
    truths = {p.name.removesuffix(".truth.json"): json.loads(p.read_text(encoding="utf-8"))
              for p in sorted(docs_dir.glob("*.truth.json"))}
    files = sorted(p for p in docs_dir.iterdir() if not p.name.endswith(".json"))
    if text_runs:  # the generator's drawn text (bench_extract.py --text-runs): no OCR
        pages = {p.name.removesuffix(".pages.json"): [PageText.from_dict(d) for d in json.loads(p.read_text(encoding="utf-8"))]
                 for p in (out / "runs").glob("*.pages.json")}
    else:
        pages = ocr_cached(files, out / "ocr", out / "archive", 1, cached_only=True)
    by_layout: dict[str, list[str]] = {}
    for name, t in truths.items():
        if name in pages:
            by_layout.setdefault(t["layout"], []).append(name)
    settings = Settings()
    today = date.today()
    res: dict[str, Any] = {}
    for k in KS:
        templates: list[LearnedTemplate] = []
        for names in by_layout.values():
            if k == 0:
                break
            marks = fingerprint(PageIndex.build(pages[names[0]], Lexicon()), pages[names[0]])
            t = new_template(marks)
            for n in names[:k]:
                learn(t, pages[n], truth_of(truths[n]), n, today=today)
            templates.append(t)
        for lay, names in by_layout.items():
            test = names[max(KS):max(KS) + next_n]  # the same documents for every k
            st = res.setdefault(lay, {}).setdefault(str(k), {"n": 0, "fields": {}, "matched": 0})
            for n in test:
                ex = extract(pages[n], settings, today=today, learned=templates)
                st["n"] += 1
                st["matched"] += ex.template is not None
                for f, want in truth_of(truths[n]).items():
                    if f not in ("other_cost", "discount"):
                        fv = ex.fields.get(f)
                        c = st["fields"].setdefault(f, [0, 0, 0])
                        c[1] += 1
                        if fv is not None and fv.value == want:
                            c[0] += 1
                        elif fv is not None and fv.value is not None and fv.confidence >= settings.review_threshold:
                            c[2] += 1
    return res


def markdown(res: dict[str, Any]) -> str:
    lines = ["| layout | k | documents measured | template matched | lowest field | mean over fields | confident-but-wrong |",
             "|---|---|---|---|---|---|---|"]
    for lay, per_k in res.items():
        for k, st in per_k.items():
            accs = {f: c[0] / c[1] for f, c in st["fields"].items() if c[1]}
            low = min(accs, key=lambda f: accs[f])
            cw = sum(c[2] for c in st["fields"].values())
            total = sum(c[1] for c in st["fields"].values())
            lines.append(f"| {lay} | {k} | {st['n']} | {st['matched']} | {low} {accs[low]:.0%} | "
                         f"{sum(accs.values()) / len(accs):.1%} | {cw}/{total} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="a bench_extract.py output directory (docs/, ocr/)")
    ap.add_argument("--next", type=int, default=50, help="documents measured per layout after the k learned")
    ap.add_argument("--text-runs", action="store_true", help="pages from the generator's drawn text, not OCR")
    args = ap.parse_args(argv)
    res = run(args.out, args.next, args.text_runs)
    (args.out / "results-learn.json").write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
