"""The arrows point one way, and these tests hold them there.

The import contracts live in ``setup.cfg`` (``[importlinter]``); ``make lint``
runs them too. The checks below add what they do not say: no import hidden
inside a function, no cycle between modules, one reader of the environment.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = ROOT / "registry"
#: A function-level import is allowed only for an optional, heavy dependency,
#: and its line says so.
OPTIONAL_MARK = "optional"


def modules() -> dict[str, Path]:
    found = {}
    for path in REGISTRY.rglob("*.py"):
        if "templates" in path.relative_to(REGISTRY).parts:
            continue
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


def imported(name: str, path: Path, tree: ast.AST, known: dict[str, Path]) -> Iterator[str]:
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known]
            yield from targets or [base]
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)


def test_the_import_contracts_hold():
    linter = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(linter)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_module_imports_inside_a_function_without_saying_why():
    hidden = []
    for name, path in modules().items():
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    line = lines[inner.lineno - 1]
                    if OPTIONAL_MARK not in line:
                        hidden.append(f"{name}:{inner.lineno}: {line.strip()}")
    assert hidden == []


def test_there_are_no_import_cycles_between_modules():
    known = modules()
    edges = {
        name: {t for t in imported(name, path, ast.parse(path.read_text()), known) if t in known}
        - {name}
        for name, path in known.items()
    }

    def reachable(start: str) -> set[str]:
        seen, stack = set(), [start]
        while stack:
            for target in edges[stack.pop()]:
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        return seen

    cycles = sorted(name for name in known if name in reachable(name))
    assert cycles == []


def test_only_the_settings_read_the_environment():
    readers = [
        str(path.relative_to(ROOT))
        for path in modules().values()
        if ("os.environ" in path.read_text() or "getenv(" in path.read_text())
        and path.name != "settings.py"
    ]
    assert readers == []
