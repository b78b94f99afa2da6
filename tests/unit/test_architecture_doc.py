"""docs/ARCHITECTURE.md names what exists: its file::name references and its tables."""

from __future__ import annotations

import re
from pathlib import Path

from meshlink.deploy.handlers import HANDLERS
from meshlink.localcloud.patches import MODULES
from tests.helpers import REPO

DOC = REPO / "docs" / "ARCHITECTURE.md"
SRC = REPO / "src" / "meshlink"


def _files(suffix: str) -> list[Path]:
    """Source files whose path ends with `suffix` (the doc abbreviates inside a section)."""
    found = [*SRC.rglob("*.py"), *(REPO / "tests").rglob("*.py")]
    return [p for p in found if p.as_posix().endswith("/" + suffix)]


def _defines(path: Path, name: str) -> bool:
    pattern = rf"^(?:def |class )?{re.escape(name)}\b"
    return re.search(pattern, path.read_text(encoding="utf-8"), flags=re.MULTILINE) is not None


def test_every_file_and_name_it_cites_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    cited = re.findall(r"`([\w/]+\.py)(?:::([\w.]+))?`", text)
    assert len(cited) > 40
    missing = []
    for suffix, name in cited:
        files = _files(suffix)
        if not files:
            missing.append(suffix)
        elif name and not any(_defines(f, name.split(".")[0]) for f in files):
            missing.append(f"{suffix}::{name}")
    assert missing == []


def test_every_handler_and_patch_module_is_described() -> None:
    text = DOC.read_text(encoding="utf-8")
    for kind, handler in HANDLERS.items():
        assert f'"{kind}": ' in text and type(handler).__name__ in text, kind
    for module in MODULES:
        short = module.removeprefix("meshlink.localcloud.").removeprefix("patches.")
        assert f"| `{short}` |" in text, module


def test_every_admin_route_is_listed() -> None:
    text = DOC.read_text(encoding="utf-8")
    routes = {
        route
        for path in (SRC / "localcloud").rglob("*.py")
        for route in re.findall(r'register_route\("(/[\w-]+)"', path.read_text(encoding="utf-8"))
    }
    assert {"/health", "/dns"} <= routes
    assert [route for route in sorted(routes) if f"`{route}" not in text] == []
