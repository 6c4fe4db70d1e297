"""``promptreg init``: the files a new registry repository starts with."""

from __future__ import annotations

from pathlib import Path

from registry import __version__
from registry.fsio import atomic_write
from registry.paths import SETTINGS
from registry.schemafiles import modeline_target, write_copies
from registry.vscode import SETTINGS_PATH, write_settings
from registry.yamldump import modeline

SETTINGS_TEXT = (
    modeline(modeline_target("settings", SETTINGS))
    + """\
# promptreg settings: environments in promotion order and what each accepts.
environments:
  development: {require_tested: false}
  staging: {require_tested: true}
  production: {require_tested: true, promote_from: staging}
"""
)

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


def init_schema_copies(root: Path, *, update: bool = False) -> list[str]:
    """Copy the installed JSON Schemas into ``schemas/`` (the files modelines point at); a copy
    that differs is refreshed only with ``update``. One line per copy written or kept."""
    lines = []
    for rel, action in write_copies(root, update=update):
        if action == "kept":
            lines.append(
                f"kept {rel}: it differs from the installed promptreg's;"
                " refresh it with `promptreg init --update-schemas`"
            )
        else:
            lines.append(f"{action} {rel}")
    return lines


def init_editor_settings(root: Path) -> list[str]:
    """Map the registry's files to the schema copies in ``.vscode/settings.json``."""
    outcome = write_settings(root)
    if outcome.action in ("created", "merged"):
        return [f"{outcome.action} {SETTINGS_PATH}"]
    return [outcome.hint] if outcome.hint else []
