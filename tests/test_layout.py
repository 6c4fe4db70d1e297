"""The package layout: every subpackage ships in the wheel."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "registry"


def _subpackages() -> set[str]:
    return {
        ".".join(init.parent.relative_to(ROOT).parts) for init in PACKAGE.rglob("__init__.py")
    }


def test_every_subpackage_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    assert _subpackages() | {"registry.schema_files"} == listed


def test_no_module_is_left_beside_a_package_of_its_name() -> None:
    """A package replaced a module (``yamlio.py`` became ``yamlio/``); no stale copy remains."""
    stale = [p for p in PACKAGE.rglob("*.py") if p.with_suffix("").is_dir()]
    assert stale == []
