"""The package's layers (DESIGN §2): imports run one way, and nothing imports in a circle.

    student runtime  crmkit.runtime   what notebooks import; imports nothing else of the kit
    grading engine   crmkit.engine    course-agnostic; may import the runtime
    course           crmkit.course    this course; may import the engine and the runtime
    command line     crmkit.cli       thin; may import all

Every ``import`` and ``from … import`` of the kit is read from the source (inside functions too).
"""

from __future__ import annotations

import ast
from pathlib import Path

import crmkit

PACKAGE = Path(crmkit.__file__).resolve().parent
ORDER = ["runtime", "engine", "course", "cli"]
#: layer -> the layers it may import (itself included); "crmkit" is the package's face (its version)
ALLOWED = {"runtime": {"runtime", "crmkit"}, "engine": {"runtime", "engine", "crmkit"},
           "course": {"runtime", "engine", "course", "crmkit"}, "cli": {*ORDER, "crmkit"},
           "crmkit": {"cli"}}


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ORDER else "crmkit"


def _imports(path: Path) -> list[tuple[str, int]]:
    """(imported kit module, line) for every import of the kit in the file."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.split(".")[0] == "crmkit"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if base.split(".")[0] == "crmkit":
                for a in node.names:  # `from crmkit.engine import nbg`: the submodule when there is one
                    sub = f"{base}.{a.name}"
                    is_module = (PACKAGE.parent / Path(*sub.split("."))).with_suffix(".py").exists() or \
                        (PACKAGE.parent / Path(*sub.split(".")) / "__init__.py").exists()
                    found.append((sub if is_module else base, node.lineno))
    return found


FILES = sorted(PACKAGE.rglob("*.py"))
GRAPH = {_module(p): {m for m, _ in _imports(p)} for p in FILES}


def test_every_module_belongs_to_a_layer():
    loose = [_module(p) for p in FILES if _layer(_module(p)) == "crmkit" and _module(p) not in ("crmkit", "crmkit.__main__")]
    assert not loose, f"modules outside the layers runtime/engine/course/cli: {loose}"


def test_imports_run_one_way():
    wrong = []
    for path in FILES:
        mine = _layer(_module(path))
        for target, line in _imports(path):
            if _layer(target) not in ALLOWED[mine]:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: the {mine} layer imports {target}")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_the_student_runtime_imports_nothing_else_of_the_kit():
    """It ships whole in the student kit (crmkit bundle), so it must stand alone."""
    for path in sorted((PACKAGE / "runtime").rglob("*.py")):
        others = [m for m, _ in _imports(path) if not m.startswith("crmkit.runtime") and m != "crmkit"]
        assert not others, f"{path.relative_to(PACKAGE.parent)} imports {others}"


def test_no_module_imports_in_a_circle():
    """Modules import each other one way (a circle such as sandbox <-> kernelpool hides which one is the base)."""
    seen, stack, cycles = set(), [], []

    def visit(m):
        if m in stack:
            cycles.append(stack[stack.index(m):] + [m])
            return
        if m in seen or m not in GRAPH:
            return
        seen.add(m)
        stack.append(m)
        for target in sorted(GRAPH[m]):
            if target != m:
                visit(target)
        stack.pop()

    for m in sorted(GRAPH):
        visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_check_can_fail(tmp_path, monkeypatch):
    """A runtime module importing the engine is caught (the reader sees imports inside functions)."""
    bad = PACKAGE / "runtime" / "lesson.py"
    src = bad.read_text(encoding="utf-8") + "\n\ndef _x():\n    from crmkit.engine import nbg\n"
    fake = tmp_path / "crmkit" / "runtime" / "lesson.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(src, encoding="utf-8")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path / "crmkit")
    assert ("crmkit.engine.nbg" in {m for m, _ in _imports(fake)}) or ("crmkit.engine" in {m for m, _ in _imports(fake)})
