"""ARCHITECTURE.md's module table names every module of the package, and only modules that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "bayes_igf1"


def _table_entries() -> list[str]:
    text = (ROOT / "ARCHITECTURE.md").read_text()
    return re.findall(r"^\| `([^`]+)` \|", text, re.MULTILINE)


def test_the_module_table_matches_the_package():
    entries = _table_entries()
    folders = {e for e in entries if e.endswith("/")}
    modules = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"}
    unlisted = sorted(m for m in modules if m not in entries and not any(m.startswith(f) for f in folders))
    assert not unlisted, f"modules missing from ARCHITECTURE.md's table: {unlisted}"
    missing = sorted(e for e in entries if not (PACKAGE / e).exists())
    assert not missing, f"ARCHITECTURE.md names modules that do not exist: {missing}"
