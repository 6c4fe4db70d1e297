"""``promptreg init``: the files a new registry repository starts with."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from registry import __version__
from registry.fsio import atomic_write
from registry.gitio.repo import find_work_tree, is_work_tree
from registry.paths import SETTINGS
from registry.scaffold.vscode import SETTINGS_PATH, write_settings
from registry.schema.files import modeline_target, write_copies
from registry.yamlio.dump import modeline

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

# The hook runs the promptreg installed on the machine (`pip install promptreg-git`): it works
# offline and needs no release tag. pre-commit passes the staged registry files on a commit,
# and every tracked one on `pre-commit run --all-files`; `check --staged FILES` checks the
# staged change plus each named file in full, so --all-files checks the whole registry state.
# `always_run` runs it for a commit that only deletes files (no name to pass); `types: []`
# passes symlinks and other non-regular files too, which the check refuses.
PRE_COMMIT_TEXT = """\
# promptreg's check on every commit and merge; run `pre-commit install` once per clone.
# It runs the promptreg installed here (pip install promptreg-git).
default_install_hook_types: [pre-commit, pre-merge-commit]
repos:
  - repo: local
    hooks:
      - id: promptreg-check
        name: promptreg check
        entry: promptreg check --staged
        language: system
        files: ^(prompts/|deployments/|evals/|promptreg\\.yaml$)
        types: []
        always_run: true
        require_serial: true
        stages: [pre-commit, pre-merge-commit]
"""

WORKFLOW_PATH = ".github/workflows/promptreg.yml"

# The CI gate: the pull request against its base, with full history. The steps stay separate
# so that later checks can be added as steps of their own.
WORKFLOW_TEXT = f"""\
# promptreg's CI gate: every pull request is checked against its base branch, and every
# push to the base branch as a whole. Make the check job a required status check of it.
name: promptreg
on:
  pull_request:
  push:
    branches: [main] # the base branch
permissions:
  contents: read
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
        with:
          fetch-depth: 0 # the history and the base branch; a shallow clone is refused
      - uses: actions/setup-python@v6
        with:
          python-version: "3.12"
      - name: Install promptreg
        run: python -m pip install "promptreg-git=={__version__}"
      - name: promptreg check
        if: github.event_name == 'pull_request'
        # Re-runs the suites of the evaluations a pull request records: if they call a model,
        # give this step its key as env (from the repository's secrets).
        run: promptreg check --base "origin/$GITHUB_BASE_REF" --verify-evaluations --format github
      - name: promptreg check --all
        if: github.event_name == 'push'
        # Every file of the base branch: a pull request is judged on what it touches and what
        # depends on that, so a problem already in a file no pull request touches shows here.
        run: promptreg check --all --format github
"""


def init_registry(root: Path, *, workflow: bool = True) -> list[str]:
    """Create what is missing of a registry skeleton under ``root``; return what was made.
    ``workflow=False`` leaves out the GitHub Actions workflow."""
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
        (PRE_COMMIT_PATH, PRE_COMMIT_TEXT),
    ):
        if _write_new(root, name, text):
            created.append(name)
    if workflow and _write_workflow(root):
        created.append(WORKFLOW_PATH)
    return created


PRE_COMMIT_PATH = ".pre-commit-config.yaml"


def kept_file_notes(root: Path, created: list[str], *, workflow: bool = True) -> list[str]:
    """For a hook config or workflow that was there already and does not run promptreg's
    check: say so, and what to add, since init never rewrites a team's own file."""
    notes: list[str] = []
    config = root / PRE_COMMIT_PATH
    if PRE_COMMIT_PATH not in created and not _mentions_check(config):
        hook = PRE_COMMIT_TEXT[PRE_COMMIT_TEXT.index("  - repo: local") :]
        notes.append(
            f"kept {PRE_COMMIT_PATH}, which does not run promptreg's check; add this under its"
            " `repos:` (and `default_install_hook_types: [pre-commit, pre-merge-commit]` at the"
            " top), then run `pre-commit install`:\n" + hook.rstrip("\n")
        )
    flow = root / WORKFLOW_PATH
    if workflow and WORKFLOW_PATH not in created and not _mentions_check(flow):
        notes.append(
            f"kept {WORKFLOW_PATH}, which does not run `promptreg check`; see the README's"
            " CI section for the job to add (or remove the file and run `promptreg init`)"
        )
    return notes


def _mentions_check(path: Path) -> bool:
    """Whether a regular file (never through a link or a FIFO, which would block) names the
    check; at most 1 MiB of it is read."""
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return False
        with path.open("rb") as f:
            text = f.read(1 << 20).decode("utf-8", "replace")
    except OSError:
        return False
    return "promptreg check" in text or "promptreg-check" in text


def not_at_repository_root(root: Path) -> Path | None:
    """The enclosing git work tree when ``root`` is below its top: pre-commit and GitHub read
    their files only at the top, so a registry there gets no hook and no CI check."""
    here = root.resolve()
    return None if is_work_tree(here) else find_work_tree(here.parent)


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


def _write_new(root: Path, name: str, text: str) -> bool:
    """Write ``root/name`` unless something is there already; True when written."""
    p = root / name
    if os.path.lexists(p):
        return False
    p.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(p, text.encode("utf-8"))
    return True


def _write_workflow(root: Path) -> bool:
    """``.github/workflows/promptreg.yml``, the pull-request check, unless it exists."""
    return _write_new(root, WORKFLOW_PATH, WORKFLOW_TEXT)
