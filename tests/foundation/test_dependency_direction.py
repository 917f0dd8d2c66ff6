"""Arrows between the apps point only down the floors (docs/architecture.md).

Reads every ``.py`` file of every app (migrations aside) with ``ast``, so an
import inside a function or under ``TYPE_CHECKING`` counts as much as one at
the top. Each failure names the importing module and line.
"""

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Lower numbers are lower floors. Inside the ground floor: resilience and bilingual < privacy
# < audit < {retention, staff}; retention and staff stand side by side and know
# nothing of each other.
FLOOR = {
    "resilience": 0,
    "bilingual": 0,
    "privacy": 1,
    "audit": 2,
    "retention": 3,
    "staff": 3,
    "supportline": 4,
    "hotline": 4,
    "prevention": 4,
    "insights": 4,
    "ecpat_site": 5,
}
FEATURES = {app for app, floor in FLOOR.items() if floor == 4}
# Top-level packages that are not apps of the site.
NOT_APPS = {"tests", "bench"}


@dataclass(frozen=True)
class Import:
    source: str  # the importing app
    target: str  # the imported app
    where: str  # "path/to/module.py:line"


def _module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, int]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # "from . import x" in a module is relative to its package.
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - node.level + 1]
                yield ".".join([*base, node.module or ""]).rstrip("."), node.lineno
            else:
                yield node.module or "", node.lineno


def app_imports() -> list[Import]:
    """Every import from one of our apps into another one."""
    found = []
    for app in FLOOR:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = _module_of(path)
            tree = ast.parse(path.read_text(), filename=str(path))
            for imported, line in _imported_modules(tree, module, path.name == "__init__.py"):
                target = imported.split(".")[0]
                if target in FLOOR and target != app:
                    found.append(Import(app, target, f"{path.relative_to(ROOT)}:{line}"))
    return found


def test_every_app_stands_on_a_floor():
    """Every top-level package of ours (an app or a plain shared package) has its floor."""
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - NOT_APPS
    assert packages <= set(FLOOR), f"put these packages on a floor in FLOOR: {sorted(packages - set(FLOOR))}"


def test_imports_point_only_down():
    """No app imports from its own floor or above; features may use one another's selectors, without cycles."""
    wrong = [
        f"{imp.where} imports {imp.target} (floor {FLOOR[imp.target]}) into {imp.source} (floor {FLOOR[imp.source]})"
        for imp in app_imports()
        if FLOOR[imp.target] >= FLOOR[imp.source] and not (imp.source in FEATURES and imp.target in FEATURES)
    ]
    assert not wrong, "imports that point up or sideways:\n" + "\n".join(wrong)


def test_no_import_cycle_between_apps():
    edges: dict[str, dict[str, str]] = {}
    for imp in app_imports():
        edges.setdefault(imp.source, {}).setdefault(imp.target, imp.where)

    def cycle_from(app: str, path: list[str]) -> list[str] | None:
        for target in sorted(edges.get(app, {})):
            if target in path:
                return [*path[path.index(target) :], target]
            found = cycle_from(target, [*path, target])
            if found:
                return found
        return None

    for app in sorted(edges):
        cycle = cycle_from(app, [app])
        if cycle:
            steps = [f"{a} -> {b} ({edges[a][b]})" for a, b in pairwise(cycle)]
            raise AssertionError("import cycle between apps:\n" + "\n".join(steps))


def test_the_check_sees_an_import_inside_a_function():
    """The scan itself: a deferred import is found, with its line."""
    tree = ast.parse("def f():\n    from retention.selectors import x\n")
    assert list(_imported_modules(tree, "staff.sites", is_package=False)) == [("retention.selectors", 2)]
