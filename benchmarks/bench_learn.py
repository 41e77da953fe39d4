"""Learning benchmark: per layout, the first k documents' corrections (the ground truth, as a clerk
would enter them) teach a learned template; accuracy is measured on the next ``--next`` (50)
documents of that layout, the same documents for every k, with every layout's templates in place
(so a template that hurts another layout shows). k = 0 is the extractor alone. The *other
layouts* check measures each layout with only the other layouts' k = 5 templates in place, to
compare with k = 0: learning one layout must not make another worse.

Documents are grouped by their dealer (``dealer_profile`` in the truth, ``samples/generate.py
--dealers N``: one dealership's form, order-number format and advisors), else by layout. Works on
a directory made by ``bench_extract.py`` (``docs/`` with truth files, ``ocr/`` cache)::

    .venv/bin/python benchmarks/bench_extract.py --layouts forms --heldout --dealers 1 --count 220 \
        --seed 911 --no-real --workers 1 --out bench-out/learn-heldout    # 55 per layout, OCR cached
    .venv/bin/python benchmarks/bench_learn.py --out bench-out/learn-heldout [--next 50] [--errors]

``--text-runs`` measures on the generator's drawn text instead (``bench_extract.py --text-runs``:
no OCR; cheap, but OCR's misreadings, which value learning repairs, are not there).
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


def group_of(t: dict[str, Any]) -> str:
    """The documents one template is to learn: one dealer's (its profile), else one layout's."""
    return str(t.get("dealer_profile") or t["layout"])


def _measure(names: list[str], pages: dict[str, list[PageText]], truths: dict[str, Any],
             templates: list[LearnedTemplate], settings: Settings, today: date,
             errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Per-field [right, measured, confident-but-wrong, right and confident] over ``names``, and
    which template matched."""
    group = group_of(truths[names[0]])
    own = {t.name for t in templates if t.documents and group_of(truths[t.documents[0]]) == group}
    st: dict[str, Any] = {"n": 0, "fields": {}, "matched": 0, "matched_other": 0, "review": 0}
    for n in names:
        ex = extract(pages[n], settings, today=today, learned=templates)
        st["n"] += 1
        st["matched"] += ex.template in own
        st["matched_other"] += ex.template is not None and ex.template not in own
        st["review"] += ex.needs_review
        for f, want in truth_of(truths[n]).items():
            if f in ("other_cost", "discount"):
                continue
            fv = ex.fields.get(f)
            c = st["fields"].setdefault(f, [0, 0, 0, 0])
            c[1] += 1
            sure = fv is not None and fv.confidence >= settings.review_threshold
            if fv is not None and fv.value == want:
                c[0] += 1
                c[3] += sure
            else:
                if fv is not None and fv.value is not None and sure:
                    c[2] += 1
                if errors is not None:
                    errors.append({"doc": n, "group": group, "field": f, "want": want,
                                   "got": fv.value if fv else None, "conf": round(fv.confidence, 3) if fv else None,
                                   "raw": fv.raw if fv else None, "note": fv.note if fv else None,
                                   "template": ex.template})
    return st


def run(out: Path, next_n: int, text_runs: bool = False, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``{"k": {layout: {k: stats}}, "others": {layout: stats with the other layouts' k = 5 templates}}``."""
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
    for name, t in sorted(truths.items()):
        if name in pages:
            by_layout.setdefault(group_of(t), []).append(name)
    settings = Settings()
    today = date.today()
    res: dict[str, Any] = {"k": {}, "others": {}}
    taught: dict[int, dict[str, LearnedTemplate]] = {}
    for k in KS:
        taught[k] = {}
        for lay, names in by_layout.items():
            if k == 0:
                break
            # the clerk corrects the first k documents: each is matched against the templates so
            # far, as in the archive (the first starts the layout's template)
            t = new_template(fingerprint(PageIndex.build(pages[names[0]], Lexicon()), pages[names[0]]))
            for n in names[:k]:
                learn(t, pages[n], truth_of(truths[n]), n, today=today)
            taught[k][lay] = t
        for lay, names in by_layout.items():
            test = names[max(KS):max(KS) + next_n]  # the same documents for every k
            res["k"].setdefault(lay, {})[str(k)] = _measure(test, pages, truths, list(taught[k].values()), settings, today,
                                                            errors if k == max(KS) else None)
    for lay, names in by_layout.items():  # learning must not make another layout worse
        test = names[max(KS):max(KS) + next_n]
        others = [t for other, t in taught[max(KS)].items() if other != lay]
        res["others"][lay] = _measure(test, pages, truths, others, settings, today)
    return res


def _mean(st: dict[str, Any]) -> float:
    accs = [c[0] / c[1] for c in st["fields"].values() if c[1]]
    return sum(accs) / len(accs) if accs else 0.0


def markdown(res: dict[str, Any]) -> str:
    per_k = res["k"]
    lines = ["| layout | documents measured | k = 0 | k = 1 | k = 3 | k = 5 | template matched (k = 5) | "
             "confident-but-wrong k = 0 → 5 | with only the other layouts' templates |",
             "|---|---|---|---|---|---|---|---|---|"]
    for lay, by_k in per_k.items():
        st5, st0 = by_k[str(max(KS))], by_k["0"]
        cw = [sum(c[2] for c in by_k[str(k)]["fields"].values()) for k in (0, max(KS))]
        oth = res["others"][lay]
        lines.append(f"| {lay} | {st0['n']} | " + " | ".join(f"{_mean(by_k[str(k)]):.1%}" for k in KS)
                     + f" | {st5['matched']}/{st5['n']}" + (f" (+{st5['matched_other']} another's)" if st5["matched_other"] else "")
                     + f" | {cw[0]} → {cw[1]} | {_mean(oth):.1%} (matched {oth['matched_other']}) |")
    fields = list(next(iter(per_k.values()))["0"]["fields"])
    lines += ["", "Per field, right of measured for k = 0 / 1 / 3 / 5 (confident-but-wrong at k = 0 → 5 in brackets):", "",
              "| field | " + " | ".join(per_k) + " |", "|---|" + "---|" * len(per_k)]
    for f in fields:
        cells = []
        for by_k in per_k.values():
            cs = [by_k[str(k)]["fields"].get(f, [0, 0, 0, 0]) for k in KS]
            cells.append(" / ".join(f"{c[0]}" for c in cs) + f" of {cs[0][1]} ({cs[0][2]} → {cs[-1][2]})")
        lines.append(f"| {f} | " + " | ".join(cells) + " |")
    lines += ["", "All fields together, per k: right, confident-but-wrong (confidence ≥ the review threshold and "
              "wrong), right and confident (no review needed):", "",
              "| k | fields measured | right | confident-but-wrong | right and confident |", "|---|---|---|---|---|"]
    for k in KS:
        tot = [sum(by_k[str(k)]["fields"][f][i] for by_k in per_k.values() for f in by_k[str(k)]["fields"]) for i in range(4)]
        lines.append(f"| {k} | {tot[1]} | {tot[0]} ({tot[0] / max(1, tot[1]):.1%}) | {tot[2]} ({tot[2] / max(1, tot[1]):.2%}) "
                     f"| {tot[3]} ({tot[3] / max(1, tot[1]):.1%}) |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="a bench_extract.py output directory (docs/, ocr/)")
    ap.add_argument("--next", type=int, default=50, help="documents measured per layout after the k learned")
    ap.add_argument("--text-runs", action="store_true", help="pages from the generator's drawn text, not OCR")
    ap.add_argument("--errors", action="store_true", help="write the k = 5 errors to errors-learn.jsonl (tuning sets only)")
    args = ap.parse_args(argv)
    errors: list[dict[str, Any]] = []
    res = run(args.out, args.next, args.text_runs, errors if args.errors else None)
    suffix = "-runs" if args.text_runs else ""
    (args.out / f"results-learn{suffix}.json").write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.errors:
        (args.out / f"errors-learn{suffix}.jsonl").write_text(
            "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in errors), encoding="utf-8")
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
