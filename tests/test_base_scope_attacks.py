"""Changes crafted to slip past the part of a registry that ``check --base``, ``check
--staged`` and ``check FILE...`` judge (registry/check/scope.py): each must be refused as the
whole state's check refuses it."""

from __future__ import annotations

import json
from pathlib import Path

from tests import test_base_scope as base
from tests.testing import git, run_cli, write

feature = base.feature  # the registry of tests/test_base_scope.py, on a branch
PID, SUITE = base.PID, base.SUITE
NEW = f"prompts/{PID}/1.2.0.yaml"
HIDDEN = '[submodule "x"]\n\tpath = {path}\n\turl = ./x\n\tignore = all\n'


def _gitlink(repo: Path, path: str) -> None:
    """A submodule at ``path`` (a nested repository, which git stores as a commit entry of
    mode 160000) that ``.gitmodules`` tells git to leave out of its diffs (``ignore = all``);
    everything staged."""
    inner = repo / path
    inner.mkdir(parents=True)
    git(inner, "init", "-q")
    write(inner, "x.txt", "x\n")
    git(inner, "add", "-A")
    git(inner, "-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-q", "-m", "x")
    write(repo, ".gitmodules", HIDDEN.format(path=path))
    git(repo, "add", "-A")
    assert git(repo, "ls-files", "--stage", "--", path).startswith("160000 "), path


def _codes(proc_stdout: str) -> set[tuple[str, str]]:
    return {(p["code"], p["path"]) for p in json.loads(proc_stdout)}


def test_a_submodule_entry_that_gitmodules_hides_from_diffs(feature: Path) -> None:
    _gitlink(feature, NEW)
    assert base.scoped(feature) == {("not-regular", NEW)}


def test_a_staged_submodule_entry_that_gitmodules_hides_from_diffs(feature: Path) -> None:
    _gitlink(feature, NEW)
    proc = run_cli("-C", str(feature), "check", "--staged", "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert _codes(proc.stdout) == {("not-regular", NEW)}


def test_checking_settings_that_no_longer_trust_a_suite_s_hook(feature: Path) -> None:
    # `check promptreg.yaml` judges the working tree by its own trusted_modules: narrowing
    # them refuses the suites that call the module, as `check` of every file does.
    write(feature, "promptreg.yaml", base.SETTINGS + "trusted_modules: [corp]\n")
    write(feature, SUITE, base._suite("default_assert: [{type: python, value: 'corp:grade'}]\n"))
    git(feature, "add", "-A")
    git(feature, "commit", "-q", "--no-verify", "-m", "a trusted hook")
    write(feature, "promptreg.yaml", base.SETTINGS)
    whole = run_cli("-C", str(feature), "check", "--json")
    assert ("untrusted-hook", SUITE) in _codes(whole.stdout), whole.stdout
    proc = run_cli("-C", str(feature), "check", "--json", "promptreg.yaml")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert ("untrusted-hook", SUITE) in _codes(proc.stdout), proc.stdout
