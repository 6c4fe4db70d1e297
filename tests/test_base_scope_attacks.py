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


# Cases that held before any fix: kept so the rule keeps holding them.


def test_a_version_file_turned_into_a_folder_under_an_unchanged_pointer(feature: Path) -> None:
    (feature / base.V2).unlink()
    write(feature, f"{base.V2}/inner.yaml", "x: 1\n")
    found = base.scoped(feature)
    assert ("missing-version", base.STAGING) in found
    assert ("unexpected-file", f"{base.V2}/inner.yaml") in found


def test_a_version_file_turned_into_a_symlink_under_an_unchanged_pointer(feature: Path) -> None:
    (feature / base.V2).unlink()
    (feature / base.V2).symlink_to("1.0.0.yaml")
    found = base.scoped(feature)
    assert {("symlink", base.V2), ("missing-version", base.STAGING)} <= found


def test_a_version_moved_to_another_prompt_s_folder(feature: Path) -> None:
    git(feature, "mv", base.V2, "prompts/f01/1.1.0.yaml")
    found = base.scoped(feature)
    assert ("missing-version", base.STAGING) in found
    assert ("path-mismatch", "prompts/f01/1.1.0.yaml") in found


def test_a_path_with_unusual_characters(feature: Path) -> None:
    odd = 'prompts/h\u00e9 "r"\ttab/1.0.0.yaml'
    write(feature, odd, "x: 1\n")
    assert base.scoped(feature) == {("unexpected-file", odd)}


def test_a_deleted_hook_module_inside_evals(feature: Path) -> None:
    write(feature, "evals/hooks/grade.py", "def grade(output, case):\n    return True\n")
    write(
        feature,
        SUITE,
        base._suite("default_assert: [{type: python, value: 'evals.hooks.grade:grade'}]\n"),
    )
    git(feature, "add", "-A")
    git(feature, "commit", "-q", "--no-verify", "-m", "a hook")
    git(feature, "branch", "-f", "main")
    (feature / "evals/hooks/grade.py").unlink()
    assert base.scoped(feature) == {("untrusted-hook", SUITE)}


def test_a_cases_file_turned_into_a_symlink(feature: Path) -> None:
    (feature / base.DATA).unlink()
    (feature / base.DATA).symlink_to("../hr.yaml")
    found = base.scoped(feature)
    assert found and {code for code, _ in found} <= {"cases-file", "symlink"}, found


def test_a_settings_edit_of_one_environment_relaxed_beside_a_move_elsewhere(
    feature: Path,
) -> None:
    # Production relaxed (a warning: no pointer moves there) and staging made stricter beside
    # a move in staging: the moved pointer is judged by the stricter policy.
    relaxed = base.SETTINGS.replace(
        "production: {require_tested: true}", "production: {require_tested: false}"
    )
    write(
        feature,
        "promptreg.yaml",
        relaxed.replace("staging: {require_tested: false}", "staging: {min_score: 0.95}"),
    )
    write(feature, base.STAGING, base.pointer_yaml(PID, "staging", "1.0.0", previous="1.1.0"))
    found = base.scoped(feature)
    assert found == {("policy-relaxed", "promptreg.yaml"), ("min-score", base.STAGING)}


def test_a_range_just_under_the_whole_share_still_judges_its_dependents(feature: Path) -> None:
    # 59 files at HEAD; thirteen new versions, their pointers, a deleted version and hr's two
    # pointers select 29 of them, just under half: judged by the scope, which holds.
    for i in range(13):
        pid = f"f{i:02d}"
        write(feature, f"prompts/{pid}/1.0.1.yaml", base.version_yaml(pid, "1.0.1", "Hey {name}\n"))
    (feature / base.V2).unlink()
    with_scope = base.scoped(feature)
    assert ("missing-version", base.STAGING) in with_scope
    with base.open_range(feature, "main") as rng:
        assert rng.scope is not None
        assert len(rng.head.entries()) == 59
        assert len(rng.scope.files | rng.scope.pointers) == 29
