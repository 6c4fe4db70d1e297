"""``check --staged``, ``check --base`` and ``active --at`` / ``history`` through the real CLI,
on real git repositories: what git would record (the index, git's temporary index in a hook)
and what changed since a base are what count, and history is read from dated commits."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from registry.fingerprint import fingerprint
from tests.testing import (
    LENIENT_SETTINGS,
    commit_all,
    git,
    pointer_yaml,
    run_cli,
    version_yaml,
    write,
)

PID = "hr"
CONTENT = "You are helpful. Context: {context}\nQuestion: {query}\n"
V1 = f"prompts/{PID}/1.0.0.yaml"
V2 = f"prompts/{PID}/1.1.0.yaml"
PROD = f"deployments/production/{PID}.yaml"
DANA = "Dana Reyes <dana@example.com>"
SAM = "Sam Lee <sam@example.com>"


# -- helpers ---------------------------------------------------------------------------------


def evaluated_yaml(
    version: str,
    content: str = CONTENT,
    score: str = "0.9",
    evaluated_at: str = "2026-11-20T11:00:00Z",
    **extra: str,
) -> str:
    """A version file whose ``tested: true`` is backed by a matching fingerprint."""
    text = version_yaml(PID, version, content, **extra)
    assert "tested: false\n" in text
    return text.replace("tested: false\n", "tested: true\n") + (
        f"evaluation_score: {score}\n"
        "evaluation:\n"
        f"  suite: evals/{PID}.yaml\n"
        "  threshold: 0.5\n"
        f"  fingerprint: {fingerprint(PID, content, None, None)}\n"
        f'  evaluated_at: "{evaluated_at}"\n'
        f"  evaluated_by: {DANA}\n"
    )


def cli(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real ``promptreg -C repo ...``."""
    return run_cli("-C", str(repo), *args)


def check_json(repo: Path, *args: str) -> tuple[int, list[dict[str, Any]]]:
    """Exit code and problems of ``promptreg check --json ...``; never a traceback."""
    proc = cli(repo, "check", "--json", *args)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 1), (proc.returncode, proc.stdout, proc.stderr)
    return proc.returncode, json.loads(proc.stdout)


def codes(problems: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(code, path) of each problem."""
    return {(p["code"], p["path"]) for p in problems}


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def released(repo: Path) -> Path:
    """HEAD: strict default settings, tested 1.0.0 in production, untested 1.1.0 released."""
    write(repo, V1, evaluated_yaml("1.0.0"))
    write(repo, V2, version_yaml(PID, "1.1.0", "Second. {context} {query}\n"))
    write(repo, PROD, pointer_yaml(PID, "production", "1.0.0"))
    commit_all(repo, "release 1.0.0 and 1.1.0")
    return repo


# -- check --staged: the index is what counts ------------------------------------------------


def test_staged_untested_pointer_is_refused_while_the_working_tree_is_fine(repo: Path) -> None:
    released(repo)
    write(repo, PROD, pointer_yaml(PID, "production", "1.1.0", previous="1.0.0"))
    git(repo, "add", PROD)
    write(repo, PROD, pointer_yaml(PID, "production", "1.0.0"))  # unstaged: back to good
    code, problems = check_json(repo, "--staged")
    assert code == 1
    assert codes(problems) == {("untested", PROD)}
    assert problems[0]["line"] == 3  # the version line of the staged pointer
    assert check_json(repo) == (0, [])  # the working tree copy is fine


def test_staged_tested_pointer_passes_while_the_working_tree_is_bad(repo: Path) -> None:
    released(repo)
    write(repo, "README.md", "notes\n")
    git(repo, "add", "README.md")
    write(repo, PROD, pointer_yaml(PID, "production", "1.1.0", previous="1.0.0"))  # unstaged
    code, problems = check_json(repo, "--staged")
    assert (code, problems) == (0, [])
    code, problems = check_json(repo)
    assert code == 1 and codes(problems) == {("untested", PROD)}


def test_staged_pointer_to_a_version_evaluated_only_in_the_working_tree_is_refused(
    repo: Path,
) -> None:
    released(repo)
    # `promptreg eval` recorded the result on disk, but only the pointer was staged.
    write(repo, V2, evaluated_yaml("1.1.0", "Second. {context} {query}\n"))
    write(repo, PROD, pointer_yaml(PID, "production", "1.1.0", previous="1.0.0"))
    git(repo, "add", PROD)
    code, problems = check_json(repo, "--staged")
    assert code == 1
    assert codes(problems) == {("untested", PROD)}
    assert check_json(repo) == (0, [])
    git(repo, "add", V2)
    assert check_json(repo, "--staged") == (0, [])


def test_staged_pointer_judges_the_staged_copy_of_its_version(repo: Path) -> None:
    released(repo)
    write(repo, V2, evaluated_yaml("1.1.0", "Second. {context} {query}\n"))
    write(repo, PROD, pointer_yaml(PID, "production", "1.1.0", previous="1.0.0"))
    git(repo, "add", "-A")
    # An unstaged edit voids the evaluation on disk; the commit records the tested copy.
    write(repo, V2, (repo / V2).read_text().replace("Second.", "Second, edited."))
    assert check_json(repo, "--staged") == (0, [])
    code, problems = check_json(repo)
    assert code == 1 and ("untested", PROD) in codes(problems)


def test_staged_settings_are_read_from_the_index(repo: Path) -> None:
    released(repo)
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    commit_all(repo, "relax production on its own")
    strict = LENIENT_SETTINGS.replace("production: {require_tested: false}", "production: {}")
    write(repo, PROD, pointer_yaml(PID, "production", "1.1.0", previous="1.0.0"))
    git(repo, "add", "-A")
    write(repo, "promptreg.yaml", strict)
    assert check_json(repo, "--staged") == (0, [])  # the staged settings are lenient
    git(repo, "add", "promptreg.yaml")
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    code, problems = check_json(repo, "--staged")
    assert code == 1 and codes(problems) == {("untested", PROD)}


def test_staged_stricter_settings_check_the_pointers_already_committed(repo: Path) -> None:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, V2, version_yaml(PID, "1.1.0"))
    write(repo, PROD, pointer_yaml(PID, "production", "1.1.0"))
    commit_all(repo, "lenient production")
    strict = LENIENT_SETTINGS.replace("production: {require_tested: false}", "production: {}")
    write(repo, "promptreg.yaml", strict)
    git(repo, "add", "promptreg.yaml")
    code, problems = check_json(repo, "--staged")
    assert code == 1 and codes(problems) == {("untested", PROD)}


def test_staged_check_from_a_subdirectory(repo: Path) -> None:
    released(repo)
    write(repo, PROD, pointer_yaml(PID, "production", "1.1.0", previous="1.0.0"))
    git(repo, "add", PROD)
    proc = run_cli("check", "--staged", cwd=repo / "prompts" / PID)
    assert proc.returncode == 1, proc.stderr
    assert f"{PROD}:3: untested" in proc.stderr


def test_staged_pointer_to_a_version_only_on_disk_is_refused(repo: Path) -> None:
    released(repo)
    write(repo, f"prompts/{PID}/1.2.0.yaml", evaluated_yaml("1.2.0"))  # untracked, never added
    write(repo, PROD, pointer_yaml(PID, "production", "1.2.0", previous="1.0.0"))
    git(repo, "add", PROD)
    code, problems = check_json(repo, "--staged")
    assert code == 1
    assert codes(problems) == {("missing-version", PROD)}
    assert "1.2.0" in problems[0]["message"]
    assert check_json(repo) == (0, [])  # on disk it exists and is tested


def test_staged_deletion_of_a_released_version_is_refused(repo: Path) -> None:
    released(repo)
    git(repo, "rm", "-q", V2)
    proc = cli(repo, "check", "--staged")
    assert proc.returncode == 1, proc.stderr
    assert f"{V2}: deleted-version" in proc.stderr


def test_staged_deletion_of_a_deployed_version_reports_both(repo: Path) -> None:
    released(repo)
    git(repo, "rm", "-q", V1)
    code, problems = check_json(repo, "--staged")
    assert code == 1
    assert codes(problems) == {("deleted-version", V1), ("missing-version", PROD)}


def test_staged_deletion_with_the_file_still_on_disk_is_refused(repo: Path) -> None:
    released(repo)
    git(repo, "rm", "-q", "--cached", V2)  # gone from the index, still in the working tree
    code, problems = check_json(repo, "--staged")
    assert code == 1 and ("deleted-version", V2) in codes(problems)


def test_staged_rename_of_a_released_version_is_refused(repo: Path) -> None:
    released(repo)
    git(repo, "mv", V2, f"prompts/{PID}/1.2.0.yaml")
    code, problems = check_json(repo, "--staged")
    assert code == 1
    assert ("renamed-version", V2) in codes(problems)


@pytest.mark.parametrize(
    ("field", "old", "new", "line"),
    [
        ("description", "description: Revision 1.0.0", "description: Something else", 3),
        ("content", "  You are helpful.", "  You are very helpful.", 6),
        ("author", f"author: {DANA}", f"author: {SAM}", 4),
    ],
)
def test_staged_edit_of_a_frozen_field_is_refused_with_the_line(
    repo: Path, field: str, old: str, new: str, line: int
) -> None:
    released(repo)
    text = (repo / V1).read_text()
    assert old in text
    write(repo, V1, text.replace(old, new, 1))
    git(repo, "add", V1)
    code, problems = check_json(repo, "--staged")
    assert code == 1
    frozen = [p for p in problems if p["code"] == "frozen-field"]
    assert [(p["path"], p["line"]) for p in frozen] == [(V1, line)]
    assert f"'{field}' of a released version may not change" in frozen[0]["message"]
    proc = cli(repo, "check", "--staged")
    assert f"{V1}:{line}: frozen-field" in proc.stderr


def test_staged_re_evaluation_of_a_released_version_is_allowed(repo: Path) -> None:
    released(repo)
    # 1.1.0 was released untested; recording its evaluation changes only the evaluation fields.
    write(repo, V2, evaluated_yaml("1.1.0", "Second. {context} {query}\n"))
    # 1.0.0 re-evaluated: a new score and a new evaluation record.
    write(repo, V1, evaluated_yaml("1.0.0", score="0.95", evaluated_at="2026-12-01T08:00:00Z"))
    git(repo, "add", "-A")
    assert git(repo, "diff", "--cached", "--name-only").split() == [V1, V2]
    assert check_json(repo, "--staged") == (0, [])


def test_staged_un_evaluation_is_allowed_but_its_pointer_is_not(repo: Path) -> None:
    released(repo)
    write(repo, V1, version_yaml(PID, "1.0.0"))  # tested: false again, no evaluation
    git(repo, "add", V1)
    code, problems = check_json(repo, "--staged")
    assert code == 1
    assert codes(problems) == {("untested", PROD)}  # no frozen-field: those fields may change


def test_staged_first_commit_without_head(repo: Path) -> None:
    write(repo, V1, evaluated_yaml("1.0.0"))
    write(repo, PROD, pointer_yaml(PID, "production", "1.0.0"))
    git(repo, "add", "-A")
    proc = cli(repo, "check", "--staged")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    write(repo, PROD, pointer_yaml(PID, "production", "1.1.0"))
    write(repo, V2, version_yaml(PID, "1.1.0"))
    git(repo, "add", "-A")
    code, problems = check_json(repo, "--staged")
    assert code == 1 and codes(problems) == {("untested", PROD)}


def test_staged_first_commit_of_an_empty_index(repo: Path) -> None:
    proc = cli(repo, "check", "--staged")
    assert proc.returncode == 0, proc.stderr


def test_staged_commit_touching_no_registry_file_reads_no_registry_file(repo: Path) -> None:
    released(repo)
    for i in range(200):
        write(repo, f"prompts/p{i}/1.0.0.yaml", version_yaml(f"p{i}", "1.0.0"))
    commit_all(repo, "many prompts")
    write(repo, "README.md", "notes\n")
    git(repo, "add", "README.md")
    proc = cli(repo, "check", "--staged")
    assert proc.returncode == 0, proc.stderr
    # The short cut taken before any registry file is parsed (speed is for benchmarks/).
    assert "no registry files staged" in proc.stdout + proc.stderr


def test_staged_symlink_under_prompts_is_refused(repo: Path) -> None:
    released(repo)
    link = repo / f"prompts/{PID}/1.2.0.yaml"
    link.symlink_to("1.0.0.yaml")
    git(repo, "add", str(link.relative_to(repo)))
    # The working tree copy becomes a regular file; the index still records a symlink.
    link.unlink()
    write(repo, f"prompts/{PID}/1.2.0.yaml", evaluated_yaml("1.2.0"))
    assert git(repo, "ls-files", "-s", f"prompts/{PID}/1.2.0.yaml").startswith("120000")
    code, problems = check_json(repo, "--staged")
    assert code == 1
    assert ("symlink", f"prompts/{PID}/1.2.0.yaml") in codes(problems)


def test_staged_symlink_under_deployments_is_refused(repo: Path) -> None:
    released(repo)
    (repo / "deployments/staging").mkdir(parents=True)
    (repo / "deployments/staging/hr.yaml").symlink_to("../production/hr.yaml")
    git(repo, "add", "deployments/staging/hr.yaml")
    code, problems = check_json(repo, "--staged")
    assert code == 1
    assert ("symlink", "deployments/staging/hr.yaml") in codes(problems)


def test_staged_pointer_to_an_intent_to_add_version_is_refused(repo: Path) -> None:
    released(repo)
    new = f"prompts/{PID}/1.2.0.yaml"
    write(repo, new, evaluated_yaml("1.2.0"))
    git(repo, "add", "--intent-to-add", new)  # recorded as nothing by `git commit`
    write(repo, PROD, pointer_yaml(PID, "production", "1.2.0", previous="1.0.0"))
    git(repo, "add", PROD)
    code, problems = check_json(repo, "--staged")
    assert code == 1
    assert {c for c, p in codes(problems) if p == PROD} & {"missing-version", "invalid-version"}


@pytest.mark.parametrize("where", [f"prompts/{PID}/2.0.0.yaml", f"prompts/{PID}/sub"])
def test_staged_and_committed_gitlink_under_prompts_is_refused(repo: Path, where: str) -> None:
    released(repo)
    sha = head(repo)
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{sha},{where}")
    code, problems = check_json(repo, "--staged")
    assert code == 1 and ("not-regular", where) in codes(problems)
    git(repo, "commit", "-q", "--no-verify", "-m", "a gitlink")
    code, problems = check_json(repo, "--base", "HEAD~1")
    assert code == 1 and ("not-regular", where) in codes(problems)


def test_staged_deletion_of_a_whole_prompt_is_refused(repo: Path) -> None:
    released(repo)
    git(repo, "rm", "-q", "-r", f"prompts/{PID}", PROD)
    code, problems = check_json(repo, "--staged")
    assert code == 1
    # The production pointer goes too: removing a prompt from production is `undeploy`.
    assert codes(problems) == {
        ("deleted-version", V1),
        ("deleted-version", V2),
        ("pointer-deleted", PROD),
    }


# -- the hook sees git's temporary index (GIT_INDEX_FILE) ------------------------------------


def _install_hook(repo: Path) -> None:
    hook = repo / ".git/hooks/pre-commit"
    hook.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m registry check --staged\n')
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _commit(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "commit", "-q", *args], cwd=repo, capture_output=True, text=True, check=False
    )


def test_hook_checks_the_temporary_index_of_commit_all(repo: Path) -> None:
    released(repo)
    _install_hook(repo)
    before = head(repo)
    # Unstaged: the real index is clean, but `commit -a` would record the edit.
    write(repo, PROD, pointer_yaml(PID, "production", "1.1.0", previous="1.0.0"))
    assert check_json(repo, "--staged") == (0, [])
    proc = _commit(repo, "-a", "-m", "deploy untested")
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert f"{PROD}:3: untested" in proc.stderr
    assert head(repo) == before


def test_hook_checks_the_temporary_index_of_a_partial_commit(repo: Path) -> None:
    released(repo)
    _install_hook(repo)
    before = head(repo)
    write(repo, PROD, pointer_yaml(PID, "production", "1.1.0", previous="1.0.0"))
    proc = _commit(repo, "-m", "deploy untested", "--", PROD)  # `git commit <path>`
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "untested" in proc.stderr
    assert head(repo) == before


def test_hook_lets_a_good_commit_all_through(repo: Path) -> None:
    released(repo)
    _install_hook(repo)
    write(repo, V2, evaluated_yaml("1.1.0", "Second. {context} {query}\n"))
    write(repo, PROD, pointer_yaml(PID, "production", "1.1.0", previous="1.0.0"))
    before = head(repo)
    proc = _commit(repo, "-a", "-m", "evaluate and deploy 1.1.0")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert head(repo) != before


def test_hook_ignores_a_bad_unstaged_edit_that_is_not_committed(repo: Path) -> None:
    released(repo)
    _install_hook(repo)
    write(repo, "README.md", "notes\n")
    git(repo, "add", "README.md")
    write(repo, PROD, pointer_yaml(PID, "production", "1.1.0", previous="1.0.0"))
    proc = _commit(repo, "-m", "docs")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hook_checks_a_deletion_made_only_in_the_working_tree(repo: Path) -> None:
    released(repo)
    _install_hook(repo)
    before = head(repo)
    (repo / V2).unlink()  # `rm`, not `git rm`: only `commit -a` records it
    proc = _commit(repo, "-a", "-m", "drop 1.1.0")
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert f"{V2}: deleted-version" in proc.stderr
    assert head(repo) == before


def test_merge_hook_checks_the_merged_index(repo: Path) -> None:
    released(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, PROD, pointer_yaml(PID, "production", "1.1.0", previous="1.0.0"))
    _sneak(repo, "deploy untested 1.1.0")
    git(repo, "checkout", "-q", "main")
    write(repo, "README.md", "notes\n")
    commit_all(repo, "main moves on")
    hook = repo / ".git/hooks/pre-merge-commit"
    hook.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m registry check --staged\n')
    hook.chmod(0o755)
    before = head(repo)
    proc = subprocess.run(
        ["git", "merge", "--no-ff", "-m", "Merge feature", "feature"],
        cwd=repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert f"{PROD}:3: untested" in proc.stderr
    assert head(repo) == before
    git(repo, "merge", "--abort")


def test_relative_git_index_file_is_resolved_from_the_caller(repo: Path) -> None:
    released(repo)
    write(repo, PROD, pointer_yaml(PID, "production", "1.1.0", previous="1.0.0"))
    alt = repo / ".git/alt-index"
    env = {**os.environ, "GIT_INDEX_FILE": str(alt)}
    subprocess.run(["git", "read-tree", "HEAD"], cwd=repo, env=env, check=True)
    subprocess.run(["git", "add", PROD], cwd=repo, env=env, check=True)
    assert check_json(repo, "--staged") == (0, [])  # the real index is clean
    # As git hands it to hooks: relative to the top of the work tree, which is the cwd.
    proc = subprocess.run(
        [sys.executable, "-m", "registry", "check", "--staged"],
        cwd=repo,
        env={**os.environ, "GIT_INDEX_FILE": ".git/alt-index"},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc.stderr
    assert "untested" in proc.stderr


# -- check --base: the CI backstop -----------------------------------------------------------


@pytest.fixture
def feature(repo: Path) -> Path:
    """main with released versions; HEAD on a new branch ``feature``."""
    released(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    return repo


def _sneak(repo: Path, message: str) -> None:
    """A commit that bypasses any hook."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)


def test_base_catches_a_content_edit_of_a_released_version(feature: Path) -> None:
    text = (feature / V2).read_text()
    write(feature, V2, text.replace("Second.", "Second, edited."))
    _sneak(feature, "edit 1.1.0 in place")
    code, problems = check_json(feature, "--base", "main")
    assert code == 1
    assert [(p["code"], p["path"], p["line"]) for p in problems] == [("frozen-field", V2, 6)]
    proc = cli(feature, "check", "--base", "main")
    assert proc.returncode == 1 and f"{V2}:6: frozen-field" in proc.stderr


def test_base_catches_an_edit_of_a_tested_deployed_version(feature: Path) -> None:
    text = (feature / V1).read_text()
    write(feature, V1, text.replace("You are helpful.", "You are sneaky."))
    _sneak(feature, "edit 1.0.0 in place")
    code, problems = check_json(feature, "--base", "main")
    assert code == 1
    # The edit voids the evaluation too, so production now runs an untested version.
    assert codes(problems) == {("frozen-field", V1), ("fingerprint", V1), ("untested", PROD)}


def test_base_catches_a_deleted_version(feature: Path) -> None:
    git(feature, "rm", "-q", V2)
    _sneak(feature, "delete 1.1.0")
    code, problems = check_json(feature, "--base", "main")
    assert code == 1
    assert codes(problems) == {("deleted-version", V2)}


def test_base_catches_a_renamed_version(feature: Path) -> None:
    git(feature, "mv", V2, f"prompts/{PID}/1.1.1.yaml")
    _sneak(feature, "rename 1.1.0")
    code, problems = check_json(feature, "--base", "main")
    assert code == 1
    assert ("renamed-version", V2) in codes(problems)


def test_base_catches_a_deletion_later_restored_under_another_commit(feature: Path) -> None:
    git(feature, "rm", "-q", V2)
    _sneak(feature, "delete 1.1.0")
    write(feature, "README.md", "more\n")
    _sneak(feature, "unrelated")
    code, problems = check_json(feature, "--base", "main")
    assert code == 1 and ("deleted-version", V2) in codes(problems)


@pytest.mark.parametrize(
    "where", [f"prompts/{PID}/1.2.0.yaml", "deployments/staging/hr.yaml", f"evals/{PID}.yaml"]
)
def test_base_catches_a_symlink(feature: Path, where: str) -> None:
    target = feature / where
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(os.path.relpath(feature / V1, target.parent))
    _sneak(feature, "add a symlink")
    # Whatever the working tree holds afterwards, the commit records a symlink.
    target.unlink()
    code, problems = check_json(feature, "--base", "main")
    assert code == 1
    assert ("symlink", where) in codes(problems)


def test_base_catches_a_released_version_replaced_by_a_symlink(feature: Path) -> None:
    (feature / V2).unlink()
    (feature / V2).symlink_to("1.0.0.yaml")
    _sneak(feature, "1.1.0 becomes a link to 1.0.0")
    code, problems = check_json(feature, "--base", "main")
    assert code == 1 and ("symlink", V2) in codes(problems)


def test_base_catches_an_untested_version_in_production(feature: Path) -> None:
    write(feature, PROD, pointer_yaml(PID, "production", "1.1.0", previous="1.0.0"))
    _sneak(feature, "deploy untested 1.1.0")
    # The working tree is put back to good: --base judges the commits, not the checkout.
    write(feature, PROD, pointer_yaml(PID, "production", "1.0.0"))
    code, problems = check_json(feature, "--base", "main")
    assert code == 1
    assert codes(problems) == {("untested", PROD)}
    proc = cli(feature, "check", "--base", "main")
    assert proc.returncode == 1 and f"{PROD}:3: untested" in proc.stderr


def test_base_catches_a_pointer_to_a_missing_version(feature: Path) -> None:
    write(feature, PROD, pointer_yaml(PID, "production", "9.9.9", previous="1.0.0"))
    _sneak(feature, "deploy nothing")
    code, problems = check_json(feature, "--base", "main")
    assert code == 1 and codes(problems) == {("missing-version", PROD)}


def test_base_passes_a_clean_feature_branch(feature: Path) -> None:
    write(
        feature, f"prompts/{PID}/1.2.0.yaml", evaluated_yaml("1.2.0", "Third. {context} {query}\n")
    )
    _sneak(feature, "add 1.2.0")
    write(feature, PROD, pointer_yaml(PID, "production", "1.2.0", previous="1.0.0"))
    _sneak(feature, "deploy 1.2.0")
    proc = cli(feature, "check", "--base", "main")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr


def test_base_passes_a_version_added_and_edited_on_the_branch(feature: Path) -> None:
    new = f"prompts/{PID}/1.2.0.yaml"
    write(feature, new, version_yaml(PID, "1.2.0", "Draft {query}\n"))
    _sneak(feature, "add 1.2.0")
    write(feature, new, version_yaml(PID, "1.2.0", "Better draft {query}\n", description="Fix"))
    _sneak(feature, "rework 1.2.0 before it is released")
    assert check_json(feature, "--base", "main") == (0, [])


def test_base_passes_a_branch_behind_main(feature: Path) -> None:
    """A branch that has not merged main's newer commits deletes nothing: "since REF" is
    what the branch changed since it left REF (the merge base), as in a pull request."""
    write(feature, "README.md", "branch work\n")
    _sneak(feature, "branch work")
    git(feature, "checkout", "-q", "main")
    write(feature, f"prompts/{PID}/1.2.0.yaml", version_yaml(PID, "1.2.0", "Third {query}\n"))
    commit_all(feature, "main releases 1.2.0 meanwhile")
    git(feature, "checkout", "-q", "feature")
    code, problems = check_json(feature, "--base", "main")
    assert (code, problems) == (0, [])


def test_base_accepts_a_commit_id_and_a_tag(feature: Path) -> None:
    main = git(feature, "rev-parse", "main").strip()
    git(feature, "tag", "v1", "main")
    git(feature, "rm", "-q", V2)
    _sneak(feature, "delete 1.1.0")
    for ref in (main, main[:12], "v1", "HEAD~1"):
        code, problems = check_json(feature, "--base", ref)
        assert code == 1 and codes(problems) == {("deleted-version", V2)}, ref


def test_base_passes_a_re_evaluation(feature: Path) -> None:
    write(feature, V2, evaluated_yaml("1.1.0", "Second. {context} {query}\n", score="0.8"))
    write(feature, V1, evaluated_yaml("1.0.0", score="0.99", evaluated_at="2026-12-24T00:00:00Z"))
    _sneak(feature, "re-evaluate")
    assert check_json(feature, "--base", "main") == (0, [])


def test_base_with_no_change_passes(feature: Path) -> None:
    assert check_json(feature, "--base", "main") == (0, [])
    assert check_json(feature, "--base", "HEAD") == (0, [])


def test_base_unknown_ref_is_a_clear_error(feature: Path) -> None:
    proc = cli(feature, "check", "--base", "no-such-branch")
    assert proc.returncode == 1
    assert "no-such-branch" in proc.stderr and "not a known git revision" in proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr


@pytest.mark.parametrize("ref", ["--all", "-x", "main\nHEAD"])
def test_base_option_like_ref_is_refused(feature: Path, ref: str) -> None:
    proc = cli(feature, "check", f"--base={ref}")
    assert proc.returncode in (1, 2), proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr


def test_base_in_a_shallow_clone_says_to_fetch_full_history(feature: Path, tmp_path: Path) -> None:
    write(feature, PROD, pointer_yaml(PID, "production", "1.1.0", previous="1.0.0"))
    _sneak(feature, "deploy untested")
    clone = tmp_path / "clone"
    git(
        tmp_path,
        "clone",
        "-q",
        "--depth",
        "1",
        "--branch",
        "feature",
        f"file://{feature}",
        str(clone),
    )
    assert git(clone, "rev-parse", "--is-shallow-repository").strip() == "true"
    for ref in ("main", "origin/main"):
        proc = cli(clone, "check", "--base", ref)
        assert proc.returncode == 1, proc.stderr
        assert ref in proc.stderr
        assert "fetch" in proc.stderr and "full history" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr


def test_base_outside_git_is_a_clear_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    write(plain, V1, version_yaml(PID, "1.0.0"))
    for args in (("--base", "main"), ("--staged",)):
        proc = cli(plain, "check", *args)
        assert proc.returncode == 1, proc.stderr
        assert "git repository" in proc.stderr and "Traceback" not in proc.stderr


# -- active --at and history -----------------------------------------------------------------

T1 = "2026-01-01T10:00:00Z"  # deploy 1.0.0
T2 = "2026-01-02T10:00:00Z"  # unrelated commit
T3 = "2026-01-03T10:00:00Z"  # deploy 1.1.0
T4 = "2026-01-04T10:00:00Z"  # rollback to 1.0.0
T5 = "2026-01-05T10:00:00Z"  # 1.0.0 edited in place, 1.1.0 deleted (both against the rules)


@pytest.fixture
def timeline(repo: Path) -> dict[str, str]:
    """Dated deploy, unrelated commit, deploy, rollback, then later edits; the commit ids."""
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, V1, version_yaml(PID, "1.0.0", "First {query}\n"))
    write(repo, V2, version_yaml(PID, "1.1.0", "Second {query}\n"))
    write(repo, PROD, pointer_yaml(PID, "production", "1.0.0", reason="first release"))
    ids = {"c1": commit_all(repo, "deploy 1.0.0", date=T1)}
    write(repo, "README.md", "notes\n")
    ids["c2"] = commit_all(repo, "unrelated", date=T2)
    write(repo, PROD, pointer_yaml(PID, "production", "1.1.0", "1.0.0", by=SAM, reason="roll out"))
    ids["c3"] = commit_all(repo, "deploy 1.1.0", date=T3)
    write(
        repo,
        PROD,
        pointer_yaml(PID, "production", "1.0.0", "1.1.0", "rollback", reason="regression"),
    )
    ids["c4"] = commit_all(repo, "rollback", date=T4)
    write(repo, V1, version_yaml(PID, "1.0.0", "First, edited {query}\n"))
    (repo / V2).unlink()
    ids["c5"] = commit_all(repo, "rewrite", date=T5)
    return ids


def active_json(repo: Path, at: str, env: str = "production") -> Any:
    proc = cli(repo, "active", PID, "--env", env, "--at", at, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize(
    ("at", "version", "content"),
    [
        ("2025-12-31T23:59:59Z", None, None),
        ("2026-01-01T09:59:59Z", None, None),
        ("2026-01-01T09:59:59.999999Z", None, None),
        (T1, "1.0.0", "First {query}\n"),
        ("2026-01-01T11:00:00+01:00", "1.0.0", "First {query}\n"),  # T1 in another zone
        ("2026-01-01T05:00:00-05:00", "1.0.0", "First {query}\n"),
        ("2026-01-02T12:00:00Z", "1.0.0", "First {query}\n"),  # after the unrelated commit
        ("2026-01-03T09:59:59Z", "1.0.0", "First {query}\n"),
        (T3, "1.1.0", "Second {query}\n"),  # deleted from HEAD since; served as it was
        ("2026-01-03T23:00:00Z", "1.1.0", "Second {query}\n"),
        (T4, "1.0.0", "First {query}\n"),
        ("2026-01-04T12:00:00Z", "1.0.0", "First {query}\n"),  # before the in-place edit
    ],
)
def test_active_at(
    timeline: dict[str, str], repo: Path, at: str, version: str | None, content: str | None
) -> None:
    found = active_json(repo, at)
    if version is None:
        assert found is None
        proc = cli(repo, "active", PID, "--env", "production", "--at", at)
        assert proc.returncode == 0, proc.stderr
        assert "nothing was active" in proc.stdout
        return
    assert found["prompt_id"] == PID
    assert found["version"] == version
    assert found["content"] == content
    proc = cli(repo, "active", PID, "--env", "production", "--at", at)
    assert proc.returncode == 0 and proc.stdout.startswith(f"{PID} {version}")


def test_active_at_after_every_event(timeline: dict[str, str], repo: Path) -> None:
    assert active_json(repo, "2030-01-01T00:00:00Z")["version"] == "1.0.0"


def test_active_at_another_environment_never_deployed(timeline: dict[str, str], repo: Path) -> None:
    assert active_json(repo, "2030-01-01T00:00:00Z", env="staging") is None


def test_active_now_and_at_agree_on_the_current_version(
    timeline: dict[str, str], repo: Path
) -> None:
    now = cli(repo, "active", PID, "--env", "production", "--json")
    assert now.returncode == 0, now.stderr
    assert json.loads(now.stdout)["version"] == active_json(repo, "2030-01-01T00:00:00Z")["version"]


def test_history_json(timeline: dict[str, str], repo: Path) -> None:
    proc = cli(repo, "history", PID, "--env", "production", "--json")
    assert proc.returncode == 0, proc.stderr
    events = json.loads(proc.stdout)
    fields = (
        "prompt_id", "environment", "version", "previous_version", "action",
        "deployed_by", "deployed_at", "reason", "commit",
    )  # fmt: skip
    for e in events:
        assert set(fields) <= set(e), e
    got = [tuple(e[f] for f in fields) for e in events]
    assert got == [
        (PID, "production", "1.0.0", None, "deploy", DANA, T1, "first release", timeline["c1"]),
        (PID, "production", "1.1.0", "1.0.0", "deploy", SAM, T3, "roll out", timeline["c3"]),
        (PID, "production", "1.0.0", "1.1.0", "rollback", DANA, T4, "regression", timeline["c4"]),
    ]


def test_history_json_of_every_environment(timeline: dict[str, str], repo: Path) -> None:
    proc = cli(repo, "history", PID, "--json")
    assert proc.returncode == 0, proc.stderr
    assert [e["commit"] for e in json.loads(proc.stdout)] == [
        timeline["c1"],
        timeline["c3"],
        timeline["c4"],
    ]


def test_history_table(timeline: dict[str, str], repo: Path) -> None:
    proc = cli(repo, "history", PID)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:3] == ["WHEN", "ENVIRONMENT", "VERSION"]
    assert len(lines) == 4
    assert timeline["c4"][:12] in lines[3] and "rollback" in lines[3] and "regression" in lines[3]


def test_active_at_a_no_ff_merge_deploys_when_it_lands(repo: Path) -> None:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, V1, version_yaml(PID, "1.0.0", "First {query}\n"))
    write(repo, PROD, pointer_yaml(PID, "production", "1.0.0"))
    commit_all(repo, "deploy 1.0.0", date=T1)
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, V2, version_yaml(PID, "1.1.0", "Second {query}\n"))
    write(repo, PROD, pointer_yaml(PID, "production", "1.1.0", "1.0.0"))
    branch_commit = commit_all(repo, "deploy 1.1.0 on the branch", date=T2)
    git(repo, "checkout", "-q", "main")
    write(repo, "README.md", "notes\n")
    commit_all(repo, "unrelated on main", date=T3)
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge feature", "feature", date=T5)
    merge = head(repo)
    assert active_json(repo, T2)["version"] == "1.0.0"  # the branch commit is not a deployment
    assert active_json(repo, "2026-01-04T23:59:59Z")["version"] == "1.0.0"
    found = active_json(repo, T5)
    assert found["version"] == "1.1.0" and found["content"] == "Second {query}\n"
    proc = cli(repo, "history", PID, "--env", "production", "--json")
    events = json.loads(proc.stdout)
    assert [(e["version"], e["commit"], e["deployed_at"]) for e in events] == [
        ("1.0.0", events[0]["commit"], T1),
        ("1.1.0", merge, T5),
    ]
    assert merge != branch_commit


def test_history_and_active_at_after_the_pointer_is_deleted(repo: Path) -> None:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, V1, version_yaml(PID, "1.0.0", "First {query}\n"))
    write(repo, PROD, pointer_yaml(PID, "production", "1.0.0"))
    c1 = commit_all(repo, "deploy 1.0.0", date=T1)
    (repo / PROD).unlink()
    c2 = commit_all(repo, "take hr out of production", date=T2)
    proc = cli(repo, "history", PID, "--env", "production", "--json")
    assert proc.returncode == 0, proc.stderr
    events = json.loads(proc.stdout)
    assert [(e["version"], e["previous_version"], e["action"], e["deployed_at"], e["commit"])
            for e in events] == [("1.0.0", None, "deploy", T1, c1), (None, "1.0.0", "remove", T2, c2)]  # fmt: skip
    assert active_json(repo, "2026-01-01T12:00:00Z")["version"] == "1.0.0"
    assert active_json(repo, T2) is None


def test_active_at_committed_with_an_offset_zone(repo: Path) -> None:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, V1, version_yaml(PID, "1.0.0", "First {query}\n"))
    write(repo, PROD, pointer_yaml(PID, "production", "1.0.0"))
    commit_all(repo, "deploy 1.0.0", date="2026-01-01T11:00:00+01:00")
    proc = cli(repo, "history", PID, "--json")
    assert [e["deployed_at"] for e in json.loads(proc.stdout)] == [T1]  # shown in UTC
    assert active_json(repo, "2026-01-01T09:59:59Z") is None
    assert active_json(repo, "2026-01-01T10:00:00.000001Z")["version"] == "1.0.0"


@pytest.mark.parametrize(
    "version_file",
    [None, f'prompt_id: {PID}\nversion: "1.0.0"\n'],
    ids=["missing-version-file", "invalid-version-file"],
)
def test_active_at_never_says_nothing_when_history_shows_a_deployment(
    repo: Path, version_file: str | None
) -> None:
    """A pointer committed past the hook to a missing or invalid version: history records the
    deployment, so `active --at` must not answer "nothing was active" (an audit would be
    misled); it says what was deployed and why it cannot be shown."""
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    if version_file is not None:
        write(repo, V1, version_file)
    write(repo, PROD, pointer_yaml(PID, "production", "1.0.0"))
    commit_all(repo, "deploy 1.0.0", date=T1)
    proc = cli(repo, "history", PID, "--env", "production", "--json")
    assert [e["version"] for e in json.loads(proc.stdout)] == ["1.0.0"]
    for extra in ((), ("--json",)):
        proc = cli(repo, "active", PID, "--env", "production", "--at", T2, *extra)
        assert "nothing was active" not in proc.stdout and proc.stdout.strip() != "null", (
            f"active --at {T2} {' '.join(extra)}: exit {proc.returncode}, {proc.stdout!r}"
        )
        assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
        assert "1.0.0" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "at",
    [
        "yesterday",
        "2026-01-01T10:00:00",  # no zone
        "2026-01-01",
        "",
    ],
)
def test_active_at_invalid_time_is_a_clear_error(
    timeline: dict[str, str], repo: Path, at: str
) -> None:
    proc = cli(repo, "active", PID, "--env", "production", "--at", at)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)  # a usage error
    assert "invalid time" in proc.stderr and "RFC 3339" in proc.stderr, proc.stderr
    assert "Invalid value for '--at'" in proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert proc.stdout == ""


def test_active_at_impossible_date_is_a_clear_error(timeline: dict[str, str], repo: Path) -> None:
    proc = cli(repo, "active", PID, "--env", "production", "--at", "2026-13-01T10:00:00Z")
    assert proc.returncode == 2, (proc.returncode, proc.stderr)  # a usage error
    assert "invalid time '2026-13-01T10:00:00Z'" in proc.stderr and "month" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_shallow_clone_refuses_history(
    timeline: dict[str, str], repo: Path, tmp_path: Path
) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "2", f"file://{repo}", str(clone))
    for args in (
        ("history", PID),
        ("history", PID, "--env", "production", "--json"),
        ("active", PID, "--env", "production", "--at", T3),
    ):
        proc = cli(clone, *args)
        assert proc.returncode == 1, (args, proc.stderr)
        assert "shallow" in proc.stderr and "fetch" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_history_of_a_repository_without_commits_is_a_clear_answer(repo: Path) -> None:
    write(repo, f"prompts/{PID}/1.0.0.yaml", version_yaml(PID, "1.0.0"))  # not committed yet
    for args in (("history", PID), ("active", PID, "--env", "production", "--at", T1)):
        proc = cli(repo, *args, "--json")
        assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
        if proc.returncode == 0:  # an empty history, or a clear refusal
            assert json.loads(proc.stdout) in ([], None)
        else:
            assert proc.returncode == 1 and "no commit" in proc.stderr, proc.stderr


# -- what counts as released for --staged -----------------------------------------------------


def _clone_with_upstream(repo: Path, tmp_path: Path) -> Path:
    """``repo`` as origin, and a clone of it tracking origin/main."""
    released(repo)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    return clone


def test_staged_allows_amending_a_version_not_yet_pushed(repo: Path, tmp_path: Path) -> None:
    clone = _clone_with_upstream(repo, tmp_path)
    v3 = f"prompts/{PID}/1.2.0.yaml"
    write(clone, v3, version_yaml(PID, "1.2.0", "Third. {context} {query}\n"))
    commit_all(clone, "add 1.2.0, not pushed yet")
    write(clone, v3, version_yaml(PID, "1.2.0", "Third, fixed. {context} {query}\n"))
    git(clone, "add", v3)
    code, problems = check_json(clone, "--staged")
    assert (code, problems) == (0, [])
    # What origin already has stays frozen.
    text = (clone / V1).read_text()
    write(clone, V1, text.replace("You are helpful.", "You are very helpful.", 1))
    git(clone, "add", V1)
    code, problems = check_json(clone, "--staged")
    assert code == 1 and ("frozen-field", V1) in codes(problems)


def test_staged_without_upstream_treats_head_as_released(repo: Path) -> None:
    released(repo)
    text = (repo / V2).read_text()
    write(repo, V2, text.replace("Second.", "Second, edited.", 1))
    git(repo, "add", V2)
    code, problems = check_json(repo, "--staged")
    assert code == 1 and codes(problems) == {("frozen-field", V2)}


def test_staged_with_base_uses_where_the_branch_left_it(repo: Path) -> None:
    released(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    v3 = f"prompts/{PID}/1.2.0.yaml"
    write(repo, v3, version_yaml(PID, "1.2.0", "Third. {context} {query}\n"))
    commit_all(repo, "add 1.2.0 on the branch")
    write(repo, v3, version_yaml(PID, "1.2.0", "Third, fixed. {context} {query}\n"))
    git(repo, "add", v3)
    assert check_json(repo, "--staged")[0] == 1  # no upstream: HEAD counts as released
    assert check_json(repo, "--staged", "--base", "main") == (0, [])
    proc = cli(repo, "check", "--staged", "--base", "no-such-branch")
    assert proc.returncode == 1 and "no-such-branch" in proc.stderr


def test_files_with_base_alone_is_a_usage_error(repo: Path) -> None:
    released(repo)
    proc = cli(repo, "check", V1, "--base", "HEAD")
    assert proc.returncode == 2 and "cannot be combined" in proc.stderr
    assert cli(repo, "check", V1, "--staged", "--base", "HEAD").returncode == 0


def test_history_survives_broken_current_settings(repo: Path) -> None:
    released(repo)
    write(repo, "promptreg.yaml", "environments: [broken\n")
    commit_all(repo, "break settings")
    proc = cli(repo, "history", PID, "--json")
    assert proc.returncode == 0, proc.stderr
    assert [e["version"] for e in json.loads(proc.stdout)] == ["1.0.0"]


def test_staged_allows_amending_a_version_on_a_pushed_feature_branch(
    repo: Path, tmp_path: Path
) -> None:
    clone = _clone_with_upstream(repo, tmp_path)
    git(clone, "checkout", "-q", "-b", "feature")
    v3 = f"prompts/{PID}/1.2.0.yaml"
    write(clone, v3, version_yaml(PID, "1.2.0", "Third. {context} {query}\n"))
    commit_all(clone, "add 1.2.0")
    git(clone, "push", "-q", "-u", "origin", "feature")
    write(clone, v3, version_yaml(PID, "1.2.0", "Third, after review. {context} {query}\n"))
    git(clone, "add", v3)
    assert check_json(clone, "--staged") == (0, [])


PROMOTING = (
    "environments:\n  staging: {require_tested: true}\n"
    "  production: {require_tested: true, promote_from: staging}\n"
)


def test_reverting_a_production_deploy_needs_no_promotion(repo: Path) -> None:
    write(repo, "promptreg.yaml", PROMOTING)
    write(repo, V1, evaluated_yaml("1.0.0"))
    write(repo, V2, evaluated_yaml("1.1.0", "Second. {context} {query}\n"))
    for env in ("staging", "production"):
        write(repo, f"deployments/{env}/{PID}.yaml", pointer_yaml(PID, env, "1.0.0"))
    commit_all(repo, "1.0.0 everywhere")
    write(repo, f"deployments/staging/{PID}.yaml", pointer_yaml(PID, "staging", "1.1.0", "1.0.0"))
    commit_all(repo, "1.1.0 to staging")
    write(repo, PROD, pointer_yaml(PID, "production", "1.1.0", "1.0.0"))
    commit_all(repo, "1.1.0 to production")
    git(repo, "revert", "--no-edit", "HEAD")
    assert check_json(repo, "--base", "HEAD~1") == (0, [])
    git(repo, "revert", "--no-edit", "HEAD")  # and the revert of the revert: a promotion again
    assert check_json(repo, "--base", "HEAD~1") == (0, [])


def test_history_without_env_includes_retired_environments(repo: Path) -> None:
    released(repo)
    write(repo, f"deployments/canary/{PID}.yaml", pointer_yaml(PID, "canary", "1.0.0"))
    commit_all(repo, "canary")
    git(repo, "rm", "-q", "-r", "deployments/canary")
    commit_all(repo, "retire canary")
    proc = cli(repo, "history", PID, "--json")
    events = [(e["environment"], e["action"]) for e in json.loads(proc.stdout)]
    assert ("canary", "deploy") in events and ("canary", "remove") in events
