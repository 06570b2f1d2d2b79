"""The package layout of docs/ARCHITECTURE.md: every module imports, imports flow one way.

The layer order is read from the ```layers block of docs/ARCHITECTURE.md, so the document
and this check cannot drift apart. Every `genepheno_core` import counts, including those
inside functions (they hid cycles before).
"""

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import genepheno_core

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "genepheno_core"


def documented_layers() -> list[list[str]]:
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    block = re.search(r"```layers\n(.*?)```", text, re.S)
    assert block, "docs/ARCHITECTURE.md has no ```layers block"
    return [line.split() for line in block.group(1).splitlines() if line.strip()]


def area_of(module: str) -> str:
    """genepheno_core.datasets.builders -> datasets; genepheno_core -> __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _type_checking_only(tree: ast.AST) -> set[int]:
    """ids of the nodes under `if TYPE_CHECKING:` (annotations only, never imported at run time)."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            skip |= {id(sub) for stmt in node.body for sub in ast.walk(stmt)}
    return skip


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every genepheno_core / dashboard import in the file
    (inside functions too; `if TYPE_CHECKING:` blocks excepted)."""
    found = []
    tree = ast.parse(path.read_text(), str(path))
    skip = _type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "genepheno_core":  # `from genepheno_core import datasets` names a sub-package
                for alias in node.names:
                    sub = f"genepheno_core.{alias.name}"
                    found.append((node.lineno, sub if (PACKAGE / alias.name).exists()
                                  or (PACKAGE / f"{alias.name}.py").exists() else "genepheno_core"))
            else:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return [(line, m) for line, m in found if m.split(".")[0] in ("genepheno_core", "dashboard")]


def test_every_module_imports():
    names = [m.name for m in pkgutil.walk_packages(genepheno_core.__path__, "genepheno_core.")]
    assert len(names) > 40
    for name in names:
        importlib.import_module(name)


def test_every_area_is_in_the_documented_layers():
    layers = documented_layers()
    documented = {area for layer in layers for area in layer}
    areas = {p.stem if p.suffix == ".py" else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").exists())}
    assert areas == documented, f"undocumented: {areas - documented}, documented but absent: {documented - areas}"


def test_imports_flow_one_way():
    rank = {area: i for i, layer in enumerate(documented_layers()) for area in layer}
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        src = area_of(module_name(path))
        for line, target in imports_of(path):
            if target.startswith("dashboard"):
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {target} (nothing imports the dashboard)")
                continue
            dst = area_of(target)
            if dst != src and rank[dst] > rank[src]:
                upward.append(f"{path.relative_to(ROOT)}:{line} ({src}) imports {target} ({dst}, a later layer)")
    assert not upward, "\n".join(upward)


def test_dashboard_uses_only_the_public_api():
    public = set(genepheno_core.__all__)
    wrong = []
    for path in sorted([ROOT / "streamlit_app.py", *(ROOT / "dashboard").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("genepheno_core"):
                names = {a.name for a in node.names}
                if node.module != "genepheno_core" or not names <= public:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} from {node.module} import {sorted(names)}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("genepheno_core") and alias.name != "genepheno_core":
                        wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} import {alias.name}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("bad, message", [
    ("from genepheno_core.cli import main", "imports genepheno_core.cli"),
])
def test_the_check_catches_an_upward_import(tmp_path, bad, message):
    # the scanner sees imports inside functions too
    path = tmp_path / "probe.py"
    path.write_text(f"def f():\n    {bad}\n")
    assert imports_of(path) == [(2, "genepheno_core.cli")]


def test_type_checking_imports_are_not_run_time_imports(tmp_path):
    path = tmp_path / "probe.py"
    path.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from genepheno_core.cli import x\n"
                    "import genepheno_core.io\n")
    assert imports_of(path) == [(4, "genepheno_core.io")]
