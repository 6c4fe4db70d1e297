"""``promptreg init``: the files a new registry repository starts with."""

from __future__ import annotations

from pathlib import Path

from registry import __version__
from registry.fsio import atomic_write

SETTINGS_TEXT = """\
# yaml-language-server: $schema=https://promptreg.dev/schemas/settings.schema.json
# promptreg settings: environments in promotion order and what each accepts.
environments:
  development: {require_tested: false}
  staging: {require_tested: true}
  production: {require_tested: true, promote_from: staging}
"""

PRE_COMMIT_TEXT = f"""\
repos:
  - repo: https://github.com/promptreg/promptreg
    rev: v{__version__}
    hooks:
      - id: promptreg-check
"""

CI_HINT = """\
# Deployment pointers. Protect deployments/production/ with CODEOWNERS and branch protection.
"""


def init_registry(root: Path) -> list[str]:
    """Create what is missing of a registry skeleton under ``root``; return what was made."""
    root.mkdir(parents=True, exist_ok=True)
    created: list[str] = []
    for folder in ("prompts", "deployments", "evals"):
        p = root / folder
        if not p.exists():
            p.mkdir()
            (p / ".gitkeep").write_bytes(b"")
            created.append(f"{folder}/")
    for name, text in (
        ("promptreg.yaml", SETTINGS_TEXT),
        (".pre-commit-config.yaml", PRE_COMMIT_TEXT),
    ):
        p = root / name
        if not p.exists():
            atomic_write(p, text.encode("utf-8"))
            created.append(name)
    return created
