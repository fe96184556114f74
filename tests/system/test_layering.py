"""The packages keep their places: `storage`, `ingest` and `search` are plain libraries (no
Flask, no `dossier`), `ingest` and `search` do not import each other, and the domain modules of
`dossier` never reach up into its web layer. Every import counts, also one hidden inside a
function."""

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


def _modules(path: Path) -> set[str]:
    """Every module the file imports, wherever the import statement is; `from a import b`
    counts as both `a` and `a.b` (b may be a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _imported(path: Path) -> set[str]:
    """Top-level names of every module the file imports."""
    return {name.split(".")[0] for name in _modules(path)}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_library_package_imports_nothing_above_or_beside_it(package: str) -> None:
    offences = {
        str(path.relative_to(ROOT)): sorted(_imported(path) & FORBIDDEN[package])
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    assert {path: names for path, names in offences.items() if names} == {}


def test_the_domain_never_imports_the_web_layer() -> None:
    """dossier/web and the CLI sit on top of the domain modules; only the application factory
    (dossier/__init__.py) wires the blueprints in."""
    top = {ROOT / "dossier" / "__init__.py"}
    offences = {
        str(path.relative_to(ROOT)): sorted(
            # dossier.web and its modules; dossier.webhooks is a domain module.
            name
            for name in _modules(path)
            if name == "dossier.web" or name.startswith("dossier.web.")
        )
        for path in sorted((ROOT / "dossier").rglob("*.py"))
        if path not in top
        and "web" not in path.relative_to(ROOT / "dossier").parts[:1]
        and not path.relative_to(ROOT / "dossier").parts[0].startswith("cli")
    }
    assert {path: names for path, names in offences.items() if names} == {}


def test_only_the_whoosh_backend_reads_its_private_modules() -> None:
    """The application, the scripts and the other packages use a backend through
    `search.backend` and `search.types`; `search.whoosh._*` is the engine's own business."""
    outside = [
        path
        for folder in ("dossier", "ingest", "search", "storage", "scripts")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if (ROOT / "search" / "whoosh") not in path.parents
    ]
    offences = {
        str(path.relative_to(ROOT)): sorted(
            name for name in _modules(path) if name.startswith("search.whoosh._")
        )
        for path in outside
    }
    assert {path: names for path, names in offences.items() if names} == {}


def test_the_checker_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text("def f():\n    from dossier.web import labels\n    import flask.json\n")
    assert _imported(module) == {"dossier", "flask"}
    assert "dossier.web.labels" in _modules(module)


@pytest.mark.parametrize("module", ["storage", "ingest.detect", "ingest.clauses", "search.backend"])
def test_importing_a_library_loads_no_flask(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'dossier')))"
    )
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert output.stdout.strip() == "[]", output.stderr


PACKAGES = ("dossier", "ingest", "search", "storage")


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _load_time_imports(path: Path, known: set[str], root: Path) -> set[str]:
    """The project modules a file imports when it is loaded: statements at module level, not
    inside functions or `if TYPE_CHECKING:` (those run later or never, so they cannot tie a
    knot at import time, and the layering tests above already watch their direction)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    # `from dossier import access` names the module dossier.access; `from dossier.models import
    # User` names a class, which resolves to the module dossier.models.
    return {name for name in found if name in known} - {_module_name(path, root)}


def _import_graph(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, set[str]]:
    paths = [path for package in packages for path in sorted((root / package).rglob("*.py"))]
    known = {_module_name(path, root) for path in paths}
    graph = {_module_name(path, root): _load_time_imports(path, known, root) for path in paths}
    # A package's __init__ is loaded by its modules' import, so it is not an edge of its own.
    return {
        module: {n for n in names if not module.startswith(n + ".")}
        for module, names in graph.items()
    }


def test_no_import_cycle_among_the_project_modules() -> None:
    """Modules form layers: none imports, at load time, a module that imports it back (a cycle
    between dossier/access.py, dossiers.py and memberships.py was found and cut this way)."""
    import graphlib

    try:
        tuple(graphlib.TopologicalSorter(_import_graph()).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def test_the_cycle_check_sees_a_cycle_but_not_a_deferred_import(tmp_path: Path) -> None:
    import graphlib

    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import thing\n")
    (package / "b.py").write_text("from pkg import c\nthing = 1\n")
    (package / "c.py").write_text("def f():\n    from pkg import a\n")
    graph = _import_graph(tmp_path, ("pkg",))
    assert graph == {"pkg": set(), "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.c"}, "pkg.c": set()}
    (package / "c.py").write_text("import pkg.a\n")
    with pytest.raises(graphlib.CycleError):
        tuple(graphlib.TopologicalSorter(_import_graph(tmp_path, ("pkg",))).static_order())


def test_the_indexing_stage_files_nothing() -> None:
    """Extraction returns an e-mail's attachments and `dossier/indexing.py` stores text and
    clauses; filing the attachments is the filing step's (`dossier.messages`), handed to
    indexing by the application factory, so indexing imports no filing module."""
    filing = {"dossier.messages", "dossier.documents", "dossier.importer"}
    assert _modules(ROOT / "dossier" / "indexing.py") & filing == set()
