"""``check --staged`` lists only the part of the index a small version or pointer change can
matter to (registry/check/narrow.py). Each case stages such a change on a real repository,
asserts the listing was narrowed and what it reports, and holds the narrowed check to the
same problems as the check over the whole index (NARROW_MAX_PATHS below zero forces it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from registry.check import narrow
from registry.check.run import run_check
from registry.gitio.run import diff_names
from registry.models import Problem
from tests.testing import commit_all, git, pointer_yaml, version_yaml, write

PID, OTHER = "hr", "faq"
V1, V2 = f"prompts/{PID}/1.0.0.yaml", f"prompts/{PID}/1.1.0.yaml"
PROD, STAGING = f"deployments/production/{PID}.yaml", f"deployments/staging/{PID}.yaml"
SETTINGS = (
    "environments:\n"
    "  development: {require_tested: false}\n"
    "  staging: {require_tested: false}\n"
    "  production: {require_tested: true}\n"
)


@pytest.fixture
def reg(repo: Path) -> Path:
    """HEAD: lenient staging, strict production; hr 1.0.0 and 1.1.0 (untested), staging on
    1.0.0; another prompt beside it, pointed at from production."""
    write(repo, "promptreg.yaml", SETTINGS)
    write(repo, V1, version_yaml(PID, "1.0.0"))
    write(repo, V2, version_yaml(PID, "1.1.0"))
    write(repo, STAGING, pointer_yaml(PID, "staging", "1.0.0"))
    write(repo, f"prompts/{OTHER}/1.0.0.yaml", version_yaml(OTHER, "1.0.0"))
    write(repo, f"deployments/staging/{OTHER}.yaml", pointer_yaml(OTHER, "staging", "1.0.0"))
    commit_all(repo, "release")
    return repo


def staged(
    repo: Path, monkeypatch: pytest.MonkeyPatch, base: str | None = None
) -> set[tuple[str, str]]:
    """(code, path) of what ``check --staged`` reports, after asserting the listing was
    narrowed and that the whole index gives the same problems."""
    changes = diff_names(repo, "HEAD", None, cached=True)
    assert narrow.narrow_pathspecs(changes, []) is not None
    narrowed, _ = run_check(repo, [], staged=True, base=base)
    with monkeypatch.context() as m:
        m.setattr(narrow, "NARROW_MAX_PATHS", -1)
        assert narrow.narrow_pathspecs(changes, []) is None
        whole, _ = run_check(repo, [], staged=True, base=base)
    assert narrowed == whole
    return _codes(narrowed)


def _codes(problems: list[Problem]) -> set[tuple[str, str]]:
    return {(p.code, p.path) for p in problems}


def test_a_staged_pointer_to_a_missing_version(reg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(reg, STAGING, pointer_yaml(PID, "staging", "9.0.0", previous="1.0.0"))
    git(reg, "add", STAGING)
    assert staged(reg, monkeypatch) == {("missing-version", STAGING)}


def test_a_staged_pointer_to_an_untested_version(
    reg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(reg, PROD, pointer_yaml(PID, "production", "1.1.0"))
    git(reg, "add", PROD)
    found = staged(reg, monkeypatch)
    assert found and all(path == PROD for _, path in found)
    assert "missing-version" not in {code for code, _ in found}


def test_a_staged_version_rejudges_its_unchanged_pointers_elsewhere(
    reg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Committed: production on the untested 1.1.0 (a problem of HEAD already).
    write(reg, PROD, pointer_yaml(PID, "production", "1.1.0"))
    commit_all(reg, "production on 1.1.0")
    clean = run_check(reg, [], staged=True)[0]
    write(reg, f"prompts/{PID}/1.2.0.yaml", version_yaml(PID, "1.2.0"))
    git(reg, "add", f"prompts/{PID}/1.2.0.yaml")
    found = staged(reg, monkeypatch)
    assert clean == []  # nothing staged: nothing judged
    assert {path for _, path in found} == {PROD}  # the other prompt's pointer is not judged


def test_a_stray_file_beside_a_changed_pointer(reg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(reg, "deployments/staging/notes.txt", "committed before\n")
    commit_all(reg, "a stray file")
    write(reg, STAGING, pointer_yaml(PID, "staging", "1.1.0", previous="1.0.0"))
    git(reg, "add", STAGING)
    assert staged(reg, monkeypatch) == set()  # the committed stray is not the change's
    # A stray file staged with the pointer is the change's: the whole index is listed.
    write(reg, "deployments/staging/more.txt", "staged now\n")
    git(reg, "add", "deployments/staging/more.txt")
    changes = diff_names(reg, "HEAD", None, cached=True)
    assert narrow.narrow_pathspecs(changes, []) is None
    found = _codes(run_check(reg, [], staged=True)[0])
    assert found == {("unexpected-file", "deployments/staging/more.txt")}


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_a_symlink_in_a_changed_prompts_folder(reg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    link = reg / f"prompts/{PID}/1.2.0.yaml"
    link.symlink_to("1.1.0.yaml")
    commit_all(reg, "a symlinked version")
    write(reg, STAGING, pointer_yaml(PID, "staging", "1.2.0", previous="1.0.0"))
    git(reg, "add", STAGING)
    assert staged(reg, monkeypatch) == {("missing-version", STAGING)}


def test_a_pointer_in_a_new_environment_folder(reg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    qa = f"deployments/qa/{PID}.yaml"
    write(reg, qa, pointer_yaml(PID, "qa", "1.0.0"))
    git(reg, "add", qa)
    assert staged(reg, monkeypatch) == {("unknown-environment", qa)}


def test_a_promotion_reads_its_source_environments_pointer(
    reg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        reg,
        "promptreg.yaml",
        SETTINGS.replace(
            "{require_tested: true}", "{require_tested: false, promote_from: staging}"
        ),
    )
    commit_all(reg, "production takes staging's versions")
    write(reg, PROD, pointer_yaml(PID, "production", "1.1.0"))
    git(reg, "add", PROD)
    refused = staged(reg, monkeypatch)
    assert {path for _, path in refused} == {PROD}
    git(reg, "reset", "-q", "HEAD", "--", PROD)
    write(reg, PROD, pointer_yaml(PID, "production", "1.0.0"))  # what staging runs
    git(reg, "add", PROD)
    assert staged(reg, monkeypatch) == set()


def test_broken_settings_list_the_whole_index(reg: Path) -> None:
    other = f"deployments/staging/{OTHER}.yaml"
    write(reg, other, pointer_yaml(OTHER, "staging", "9.0.0"))
    write(reg, "promptreg.yaml", "environments: [\n")
    commit_all(reg, "broken settings, a pointer to a missing version")
    write(reg, STAGING, pointer_yaml(PID, "staging", "1.1.0", previous="1.0.0"))
    git(reg, "add", STAGING)
    found = _codes(run_check(reg, [], staged=True)[0])
    # Every pointer's judgement reads the settings: the other prompt's is judged again too.
    assert ("missing-version", other) in found
    assert any(path == "promptreg.yaml" for _, path in found)


def test_a_version_edited_on_the_branch_is_judged_with_a_staged_pointer(
    reg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = git(reg, "rev-parse", "HEAD").strip()
    faq = f"prompts/{OTHER}/1.0.0.yaml"
    write(reg, faq, version_yaml(OTHER, "1.0.0", "Edited after release. {context}\n"))
    commit_all(reg, "edit a released version on the branch")
    write(reg, STAGING, pointer_yaml(PID, "staging", "1.1.0", previous="1.0.0"))
    git(reg, "add", STAGING)
    assert ("frozen-field", faq) in staged(reg, monkeypatch, base=base)


def test_named_files_are_listed_beside_the_change(
    reg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pre-commit names the staged files; a named file outside the change is checked in full.
    other = f"deployments/staging/{OTHER}.yaml"
    write(reg, other, pointer_yaml(OTHER, "staging", "9.0.0"))
    commit_all(reg, "a pointer to a missing version")
    write(reg, STAGING, pointer_yaml(PID, "staging", "1.1.0", previous="1.0.0"))
    git(reg, "add", STAGING)
    changes = diff_names(reg, "HEAD", None, cached=True)
    assert narrow.narrow_pathspecs(changes, [STAGING, other, "README.md"]) is not None
    found, _ = run_check(reg, [STAGING, other, "README.md"], staged=True)
    with monkeypatch.context() as m:
        m.setattr(narrow, "NARROW_MAX_PATHS", -1)
        whole, _ = run_check(reg, [STAGING, other, "README.md"], staged=True)
    assert found == whole
    assert _codes(found) == {("missing-version", other)}
