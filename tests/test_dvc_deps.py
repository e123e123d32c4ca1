"""dvc.yaml's code deps of each stage equal the import closure of its script.

A module a stage imports but does not declare lets a changed module leave stale results looking fresh;
a declared module it never imports reruns it for nothing. The closure is walked with ``ast`` (every
``import`` anywhere in a module, lazy ones inside functions included, plus each package's
``__init__``), so a stage added later cannot drift either.
"""

import ast
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "chimera"


def _module_file(name: str) -> Path | None:
    base = ROOT / Path(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}  # `from pkg import module`
    return {n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")}


def closure(script: Path) -> set[Path]:
    """The stage script and every chimera source file it can import, transitively."""
    seen, todo = {script}, [script]
    while todo:
        for name in _imported(todo.pop()):
            parts = name.split(".")
            for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__ too
                path = _module_file(".".join(parts[:i]))
                if path is not None and path not in seen:
                    seen.add(path)
                    todo.append(path)
    return {p.relative_to(ROOT) for p in seen}


def _declared_code(deps: list[str]) -> set[Path]:
    files = set()
    for dep in deps:
        path = ROOT / dep
        if dep.startswith((f"{PACKAGE}/", "stages/")):
            found = sorted(path.rglob("*.py")) if path.is_dir() else [path]
            files |= {p.relative_to(ROOT) for p in found if "__pycache__" not in p.parts}
    return files


def _stages() -> list[tuple[str, Path, list[str]]]:
    spec = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    out = []
    for name, stage in spec.items():
        body = stage.get("do", stage)
        script = next(w for w in body["cmd"].split() if w.startswith("stages/") and w.endswith(".py"))
        out.append((name, Path(script), body["deps"]))
    return out


STAGES = _stages()


def test_every_stage_script_is_a_stage():
    scripts = {str(s) for _, s, _ in STAGES}
    assert scripts == {str(p.relative_to(ROOT)) for p in (ROOT / "stages").glob("*.py")}


@pytest.mark.parametrize(("name", "script", "deps"), STAGES, ids=[s[0] for s in STAGES])
def test_code_deps_equal_the_import_closure(name, script, deps):
    needed, declared = closure(ROOT / script), _declared_code(deps)
    assert sorted(map(str, needed - declared)) == [], f"{name}: imported but not a dep in dvc.yaml"
    assert sorted(map(str, declared - needed)) == [], f"{name}: a dep in dvc.yaml it never imports"


def test_the_walker_sees_lazy_and_from_imports(tmp_path):
    """The test above can fail: a lazy import inside a function is part of the closure."""
    found = closure(ROOT / "chimera" / "cli.py")
    assert Path("chimera/models/check.py") in found  # imported inside the check-model command
    assert Path("chimera/__init__.py") in found and Path("chimera/runtime.py") in found
