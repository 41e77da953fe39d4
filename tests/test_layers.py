"""The import contract: every layer imports only from the layers below it (pyproject.toml,
``[tool.importlinter]``), and the check really fails on an upward import. And the tests' own rule:
a test module (or a benchmark) imports helper modules, never another test module or a conftest."""

from __future__ import annotations

import ast
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


def imported_test_modules(source: str, package: str) -> list[str]:
    """The modules of the tests that ``source`` imports (absolute, relative resolved in ``package``)
    that are test modules (``test_*``) or conftest files."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base]) if base else ".".join(parts)
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        for name in names:
            last = name.split(".")[-1]
            if name.split(".")[0] == "tests" and (last.startswith("test_") or last == "conftest"):
                found.append(name)
    return found


def test_no_test_module_imports_another_or_a_conftest() -> None:
    offenders = []
    for path in sorted([*(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")]):
        package = ".".join(path.relative_to(ROOT).parent.parts)
        for name in imported_test_modules(path.read_text(encoding="utf-8"), package):
            offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders, "\n".join(offenders)
    # the check sees each way of writing such an import
    probes = ["from tests.test_lifecycle import x", "import tests.test_ocr_real", "from tests.web.conftest import A",
              "from .conftest import A", "from . import test_api", "from tests import test_samples"]
    assert all(imported_test_modules(p, "tests.web") for p in probes)
    assert not imported_test_modules("from tests.helpers import documents\nfrom .helpers import WebArchive", "tests.web")
