.PHONY: setup demo test test-fast lint bench bench-pipeline bench-orientation bench-extract bench-index bench-watch bench-batch bench-lifecycle samples clean test-web-postgresql test-browser screenshots bench-web bench-backup bench-forms fuzz bench-vin bench-learn bench-values

PY := .venv/bin/python
ARCHIVE ?= demo-archive

setup:
	@bash scripts/setup.sh

demo: setup
	@bash scripts/demo.sh "$(ARCHIVE)"

# Everything, on two pytest-xdist workers (CI's two cores; WOA_TEST_WORKERS to change): serially
# the suite had grown to 25 min on the 2-core machine, its CPU single-threaded in the main
test: setup
	$(PY) -m pytest -q -ra -n $${WOA_TEST_WORKERS:-2} --dist worksteal tests

# The developer's loop: everything but the tests marked slow (subprocess, kill, Celery, browser,
# real OCR of many files), on every core (pytest-xdist; the workers share the ingested samples)
test-fast: setup
	$(PY) -m pytest -q -ra -n auto --dist worksteal -m "not slow" tests

lint: setup
	.venv/bin/ruff check .
	.venv/bin/mypy core pipeline extractors index app watch_folder batch woa web
	.venv/bin/mypy --strict core
	.venv/bin/lint-imports

samples: setup
	$(PY) samples/generate.py --out samples --count 20 --seed 7

# Benchmarks are long (tens of minutes each on 2 cores) and never part of `make test`.
bench: bench-pipeline bench-orientation bench-extract bench-index bench-watch bench-batch bench-web bench-backup bench-lifecycle

bench-pipeline: setup
	$(PY) benchmarks/bench_pipeline.py --pages 100 --receipts 20

# Archive options (issue 13): faithful/MRC/1b size, speed, re-OCR legibility, OCRmyPDF --optimize 3.
bench-archive: setup
	nice -n 10 $(PY) benchmarks/bench_pipeline.py --pages 12 --samples wo07_007,wo07_008,wo07_009,wo07_013 \
		--engines rapidocr --archive-modes faithful-onnxruntime,faithful,mrc,mrc-1b,mrc-nopatch --legibility \
		--ocrmypdf-optimize 3
	$(PY) benchmarks/mrc_crops.py --out docs

bench-orientation: setup
	$(PY) benchmarks/bench_orientation.py --receipts 40 --docs 100

bench-extract: setup
	$(PY) benchmarks/bench_extract.py

bench-index: setup
	$(PY) benchmarks/bench_index.py --docs 100000

bench-watch: setup
	$(PY) benchmarks/bench_watch.py

bench-batch: setup
	$(PY) benchmarks/bench_batch.py

clean:
	rm -rf demo-archive bench-out .pytest_cache .mypy_cache .ruff_cache

# The web tests on a PostgreSQL server started for the run (Debian's postgresql, loopback, free port)
test-web-postgresql: setup
	WOA_TEST_DB=postgresql $(PY) -m pytest -q -ra tests/web

# The browser tests alone (Debian's chromium, headless, against woa serve)
test-browser: setup
	$(PY) -m pytest -q -ra tests/web/test_browser.py

# Screenshots of the main pages (Chinese interface) for the README, from the browser tests
screenshots: setup
	WOA_SCREENSHOTS=docs/screenshots $(PY) -m pytest -q tests/web/test_browser.py

# Web app load benchmark: 100,000 orders, page times, 20 users for 5 min, SQLite then PostgreSQL
bench-web: setup
	$(PY) benchmarks/bench_web.py --docs 100000 --users 20 --minutes 5

# Records lifecycle: tiering to a loopback S3 server, cold vs hot open, a daily pass over 100,000 orders
bench-lifecycle: setup
	mkdir -p bench-out && nice -n 10 $(PY) benchmarks/bench_lifecycle.py --tier-docs 10000 --pass-docs 100000 --json bench-out/lifecycle.json

# Restore drill and encryption overhead (generated born-digital work orders, real restic; ~30 min on 2 busy cores)
bench-backup: setup
	nice -n 10 $(PY) benchmarks/bench_backup.py --docs 300 --new 10

# Other dealers' / national standard forms (issue 12): the held-out set (80 documents, OCR), then
# learning from k = 0/1/3/5 corrected documents per layout, then document types on the real scans
bench-forms: setup
	nice -n 10 $(PY) benchmarks/bench_extract.py --count 80 --seed 901 --layouts forms --heldout --no-real --out bench-out/extract-heldout
	nice -n 10 $(PY) benchmarks/bench_extract.py --label-recall --out bench-out/extract-heldout
	$(PY) benchmarks/bench_learn.py --out bench-out/extract-heldout
	nice -n 10 $(PY) benchmarks/bench_doctype.py

# Learning from corrections (issue 12): one dealership per layout (samples/generate.py --dealers 1),
# 55 documents each; the first k = 0/1/3/5 corrected, measured on the next 50. LEARN_SEED=911 by default.
LEARN_SEED ?= 911
bench-learn: setup
	nice -n 10 $(PY) benchmarks/bench_extract.py --layouts forms --heldout --dealers 1 --count 220 --seed $(LEARN_SEED) --no-real --workers 1 --out bench-out/learn-$(LEARN_SEED)
	$(PY) benchmarks/bench_learn.py --out bench-out/learn-$(LEARN_SEED)

# The values' second pass (issue 12): held-out forms, with and without it, on the same OCR.
bench-values: setup
	nice -n 10 $(PY) benchmarks/bench_extract.py --count 80 --seed 901 --layouts forms --heldout --no-real --workers 1 --out bench-out/values-heldout
	$(PY) benchmarks/bench_extract.py --count 80 --seed 901 --layouts forms --heldout --no-real --cached-only --without-value-reread --out bench-out/values-heldout

# The VIN's second pass (issue 12): its cost per page, with and without, interleaved.
bench-vin: setup
	nice -n 10 $(PY) benchmarks/bench_vin_reread.py --count 12 --seed 7501 --layouts national_std,colour_preprint,form_colon

# Fuzz harness, long run (issue 16): 1,000 mutated real scans through `woa ingest` under a 2 GB cap.
fuzz: setup
	FUZZ_MUTANTS=$${FUZZ_MUTANTS:-1000} FUZZ_REPORT=$${FUZZ_REPORT:-fuzz-report.json} $(PY) -m pytest -q -s tests/test_fuzz.py
