"""The direction of imports that keeps each rule in one place: `community` imports neither
face, `realtime` never imports `api`, and `api` never imports the web pages."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The web face: its shared helpers and every module of pages (views.py, plan_views.py).
WEB_PAGES = ("community.web", *(".".join(path.relative_to(ROOT).with_suffix("").parts)
                                for path in sorted((ROOT / "community").rglob("*views.py"))))


def _imports(package: str) -> dict[str, set[str]]:
    """Every module a package's files import, by file (relative imports resolved)."""
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = module.rsplit(".", node.level)[0] if node.level else ""
                target = ".".join(part for part in (base, node.module) if part)
                names.add(target)
                names |= {f"{target}.{alias.name}" for alias in node.names}
        found[str(path.relative_to(ROOT))] = names
    return found


def _offenders(package: str, forbidden) -> list[str]:
    return sorted(f"{path}: {name}" for path, names in _imports(package).items() for name in names
                  if any(name == bad or name.startswith(bad + ".") for bad in forbidden))


@pytest.mark.parametrize(("package", "forbidden"), [
    ("community", ("api", "realtime")),
    ("realtime", ("api", *WEB_PAGES)),
    ("api", WEB_PAGES),
])
def test_imports_point_one_way(package, forbidden):
    assert _offenders(package, forbidden) == []


def test_the_check_sees_an_offending_import():
    """The walk above must notice a real import, or the test could never fail."""
    assert any(name.startswith("community.") for names in _imports("api").values() for name in names)
