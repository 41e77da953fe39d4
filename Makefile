.PHONY: setup demo test lint typecheck bench bench-ocr bench-extract bench-index samples clean

PY := .venv/bin/python
ARCHIVE ?= demo-archive

setup:
	@bash scripts/setup.sh

demo: setup
	@bash scripts/demo.sh "$(ARCHIVE)"

test: setup
	$(PY) -m pytest -q -ra tests

lint: setup
	.venv/bin/ruff check .
	.venv/bin/mypy pipeline extractors index watch_folder woa

samples: setup
	$(PY) samples/generate.py --out samples --count 20 --seed 7

bench: setup
	$(PY) benchmarks/run_all.py

clean:
	rm -rf demo-archive bench-out .pytest_cache .mypy_cache .ruff_cache
