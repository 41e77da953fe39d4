"""Print `woa export` JSON lines as a compact table of the main fields (used by `make demo`)."""

import json
import sys

COLS = ("order_no", "vin", "plate", "date_in", "total_cost", "customer_name")


def main() -> None:
    rows = [json.loads(line) for line in sys.stdin if line.strip()]
    print(f"{'document':18} {'pages':>5}  " + "  ".join(f"{c:17}" for c in COLS) + "  review")
    for r in rows:
        vals = []
        for c in COLS:
            f = r["fields"].get(c) or {}
            v = f.get("value") or "-"
            vals.append(f"{str(v)[:17]:17}")
        print(f"{r['source_name'][:18]:18} {r['pages']:>5}  " + "  ".join(vals) + ("  yes" if r["needs_review"] else ""))
    print(f"{len(rows)} documents, {sum(r['needs_review'] for r in rows)} need review")


if __name__ == "__main__":
    main()
