"""The packages keep their places: `storage`, `ingest` and `search` are plain libraries (no
Flask, no `dossier`), and `ingest` and `search` do not import each other. Every import counts,
also one hidden inside a function."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Package -> the top-level names it may never import.
FORBIDDEN = {
    "storage": {"flask", "dossier", "ingest", "search"},
    "ingest": {"flask", "dossier", "search"},
    "search": {"flask", "dossier", "ingest"},
}


def _imported(path: Path) -> set[str]:
    """Top-level names of every module the file imports, wherever the import statement is."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_library_package_imports_nothing_above_or_beside_it(package: str) -> None:
    offences = {
        str(path.relative_to(ROOT)): sorted(_imported(path) & FORBIDDEN[package])
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    assert {path: names for path, names in offences.items() if names} == {}


def test_the_checker_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text("def f():\n    from dossier.web import labels\n    import flask.json\n")
    assert _imported(module) == {"dossier", "flask"}


@pytest.mark.parametrize("module", ["storage", "ingest.detect", "ingest.clauses", "search.index"])
def test_importing_a_library_loads_no_flask(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'dossier')))"
    )
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert output.stdout.strip() == "[]", output.stderr
