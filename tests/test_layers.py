"""The import contract: every layer imports only from the layers below it (pyproject.toml,
``[tool.importlinter]``), and the check really fails on an upward import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "pipeline", "extractors", "index", "app", "watch_folder", "batch", "woa", "web")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_layers_import_only_downward() -> None:
    r = lint_imports(ROOT)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "2 kept, 0 broken" in r.stdout


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    """A copy of the tree with one module of the base layer importing the application layer."""
    for pkg in PACKAGES:
        if (ROOT / pkg).is_dir():
            shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    assert lint_imports(tmp_path).returncode == 0  # the copy alone is clean
    (tmp_path / "core" / "upward_probe.py").write_text("from app.ingest import ingest_file\n", encoding="utf-8")
    (tmp_path / "extractors" / "sideways_probe.py").write_text("import index\n", encoding="utf-8")
    r = lint_imports(tmp_path)
    assert r.returncode != 0
    assert "0 kept, 2 broken" in r.stdout
    assert "core.upward_probe -> app.ingest" in r.stdout
    assert "extractors.sideways_probe -> index" in r.stdout
