"""``check --base`` judges what the range touches and what depends on it (registry/check/
scope.py), never less than the whole head for a problem the range introduces: each test builds
a registry, commits the base, changes it on a branch and compares ``check --base`` with the
whole-head check of the same range. Only problems the base already has may be missing."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from registry.check.base_range import open_range, range_problems
from registry.check.rules import check_view
from registry.fingerprint import fingerprint
from registry.models import Problem
from registry.sources import GitSource
from registry.view import RegistryView
from tests.testing import commit_all, git, pointer_yaml, run_cli, version_yaml, write

PID = "hr"
CONTENT = "You are helpful. Context: {context}\nQuestion: {query}\n"
V1, V2 = f"prompts/{PID}/1.0.0.yaml", f"prompts/{PID}/1.1.0.yaml"
PROD, STAGING = f"deployments/production/{PID}.yaml", f"deployments/staging/{PID}.yaml"
SUITE, DATA = f"evals/{PID}.yaml", f"evals/data/{PID}.jsonl"
SETTINGS = (
    "environments:\n"
    "  development: {require_tested: false}\n"
    "  staging: {require_tested: false}\n"
    "  production: {require_tested: true}\n"
)
FILLERS = 20
ROW = '{"vars": {"context": "a", "query": "b"}, "assert": [{"type": "contains", "value": "a"}]}\n'


def _tested(version: str, content: str = CONTENT) -> str:
    text = version_yaml(PID, version, content)
    return text.replace("tested: false\n", "tested: true\n") + (
        "evaluation_score: 0.9\n"
        "evaluation:\n"
        f"  suite: {SUITE}\n"
        "  threshold: 0.5\n"
        f"  fingerprint: {fingerprint(PID, content, None, None)}\n"
        '  evaluated_at: "2026-11-20T11:00:00Z"\n'
        "  evaluated_by: Dana Reyes <dana@example.com>\n"
    )


def _suite(extra: str = "") -> str:
    return (
        f"prompt_id: {PID}\nthreshold: 0.5\ncases_file: {DATA}\n{extra}"
        "cases:\n  - name: inline\n    vars: {context: c, query: q}\n"
        "    assert: [{type: contains, value: 'Question:'}]\n"
    )


@pytest.fixture
def feature(repo: Path) -> Path:
    """main: ``hr`` (tested 1.0.0 in production, untested 1.1.0 in staging, a suite with a
    cases_file), twenty unrelated prompts in development, one with a problem of its own (a
    Mustache warning the base already has); HEAD on a new branch ``feature``."""
    write(repo, "promptreg.yaml", SETTINGS)
    write(repo, V1, _tested("1.0.0"))
    write(repo, V2, version_yaml(PID, "1.1.0", "Second. {context} {query}\n"))
    write(repo, PROD, pointer_yaml(PID, "production", "1.0.0"))
    write(repo, STAGING, pointer_yaml(PID, "staging", "1.1.0"))
    write(repo, SUITE, _suite())
    write(repo, DATA, ROW)
    for i in range(FILLERS):
        pid = f"f{i:02d}"
        content = "Hi {{name}}\n" if i == 0 else "Hi {name}\n"
        write(repo, f"prompts/{pid}/1.0.0.yaml", version_yaml(pid, "1.0.0", content))
        write(
            repo, f"deployments/development/{pid}.yaml", pointer_yaml(pid, "development", "1.0.0")
        )
    commit_all(repo, "the base")
    git(repo, "checkout", "-q", "-b", "feature")
    return repo


def _key(p: Problem | dict[str, Any]) -> tuple[Any, ...]:
    d = p if isinstance(p, dict) else p.to_dict()
    return (d["code"], d["path"], d["line"], d["severity"], d["message"])


def _base_state(repo: Path) -> set[tuple[Any, ...]]:
    """The problems the base already has, checked as a whole state."""
    view = RegistryView(GitSource(repo, "main"), schema=True)
    try:
        return {_key(p) for p in check_view(view, None, set(), None)}
    finally:
        view.source.close()


def scoped(repo: Path, partial: bool = True) -> set[tuple[str, str]]:
    """Commit the branch's change, run ``check --base main`` and hold it against the whole
    head's check of the same range: nothing more, and nothing less but the base's own
    problems. Returns (code, path) of what ``check --base`` reports."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", "the change")
    proc = run_cli("-C", str(repo), "check", "--json", "--base", "main")
    assert "Traceback" not in proc.stderr, proc.stderr
    got = {_key(p) for p in json.loads(proc.stdout)}
    with open_range(repo, "main") as rng:
        assert (rng.scope is not None) == partial, rng.scope
        whole = {_key(p) for p in range_problems(rng, whole=True)}
    assert got <= whole, got - whole
    assert whole - got <= _base_state(repo), whole - got
    text = run_cli("-C", str(repo), "check", "--base", "main")
    if partial and not got:
        assert "the changed files and those that depend on them" in text.stdout, text.stdout
    return {(k[0], k[1]) for k in got}


def test_a_clean_change_reports_nothing_and_leaves_the_base_s_own_warning_out(
    feature: Path,
) -> None:
    write(
        feature,
        f"prompts/{PID}/1.1.1.yaml",
        version_yaml(PID, "1.1.1", "Third. {context} {query}\n"),
    )
    assert scoped(feature) == set()
    proc = run_cli("-C", str(feature), "check", "--base", "main")
    assert proc.returncode == 0
    assert proc.stdout.strip() == (
        "ok: 1 change(s) since main checked (3 file(s) at HEAD: the changed files and those"
        " that depend on them)"
    )
    # The base's own warning is check --all's to report.
    proc = run_cli("-C", str(feature), "check", "--all", "--json")
    assert "mustache-placeholder" in proc.stdout


def test_a_deleted_version_still_named_by_an_unchanged_pointer(feature: Path) -> None:
    (feature / V2).unlink()
    assert scoped(feature) == {("deleted-version", V2), ("missing-version", STAGING)}


def test_every_version_of_a_prompt_deleted_under_its_unchanged_suite_and_pointers(
    feature: Path,
) -> None:
    (feature / V1).unlink()
    (feature / V2).unlink()
    assert scoped(feature) == {
        ("deleted-version", V1),
        ("deleted-version", V2),
        ("missing-version", PROD),
        ("missing-version", STAGING),
        ("orphan-suite", SUITE),
    }


def test_a_changed_suite(feature: Path) -> None:
    write(feature, SUITE, _suite().replace("threshold: 0.5", "threshold: 7"))
    assert ("schema", SUITE) in scoped(feature)


def test_a_changed_cases_file(feature: Path) -> None:
    write(feature, DATA, ROW + "not json\n")
    assert scoped(feature) == {("cases-file", DATA)}


def test_a_deleted_cases_file(feature: Path) -> None:
    (feature / DATA).unlink()
    assert scoped(feature) == {("cases-file", SUITE)}


def test_a_deleted_python_file_a_suite_hook_names(feature: Path) -> None:
    write(feature, "checks.py", "def grade(output, case):\n    return True\n")
    write(feature, SUITE, _suite("default_assert: [{type: python, value: 'checks:grade'}]\n"))
    git(feature, "add", "-A")
    git(feature, "commit", "-q", "--no-verify", "-m", "a hook")
    git(feature, "branch", "-f", "main")
    (feature / "checks.py").unlink()
    assert scoped(feature) == {("untrusted-hook", SUITE)}


def test_stricter_settings_judge_every_unchanged_pointer_again(feature: Path) -> None:
    write(
        feature,
        "promptreg.yaml",
        SETTINGS.replace(
            "development: {require_tested: false}", "development: {require_tested: true}"
        ),
    )
    found = scoped(feature)
    assert {path for code, path in found if code == "untested"} == {
        f"deployments/development/f{i:02d}.yaml" for i in range(FILLERS)
    }


def test_relaxed_settings_and_a_removed_environment(feature: Path) -> None:
    write(feature, "promptreg.yaml", SETTINGS.replace("  staging: {require_tested: false}\n", ""))
    assert scoped(feature) == {
        ("policy-relaxed", "promptreg.yaml"),
        ("unknown-environment", STAGING),
    }


def test_broken_settings_at_head(feature: Path) -> None:
    write(feature, "promptreg.yaml", "environments: [\n")
    assert "promptreg.yaml" in {path for _, path in scoped(feature)}


def test_broken_settings_the_range_does_not_touch_are_still_reported(feature: Path) -> None:
    # Every pointer's judgement reads them: a range must not pass on policies it cannot read.
    write(feature, "promptreg.yaml", "environments: [\n")
    for i in range(FILLERS):  # versions no pointer names, so the range stays a small part
        write(feature, f"prompts/f{i:02d}/0.1.0.yaml", version_yaml(f"f{i:02d}", "0.1.0"))
    git(feature, "add", "-A")
    git(feature, "commit", "-q", "--no-verify", "-m", "broken settings")
    git(feature, "branch", "-f", "main")
    write(feature, f"deployments/canary/{PID}.yaml", pointer_yaml(PID, "canary", "1.1.0"))
    found = scoped(feature)
    assert "promptreg.yaml" in {path for _, path in found}, found


def test_a_renamed_version_reports_its_old_path_and_its_pointer(feature: Path) -> None:
    git(feature, "mv", V2, f"prompts/{PID}/1.2.0.yaml")
    text = (feature / f"prompts/{PID}/1.2.0.yaml").read_text()
    write(feature, f"prompts/{PID}/1.2.0.yaml", text.replace('"1.1.0"', '"1.2.0"'))
    assert scoped(feature) == {("renamed-version", V2), ("missing-version", STAGING)}


def test_a_new_environment_folder(feature: Path) -> None:
    write(feature, f"deployments/canary/{PID}.yaml", pointer_yaml(PID, "canary", "1.0.0"))
    assert scoped(feature) == {("unknown-environment", f"deployments/canary/{PID}.yaml")}


def test_a_schema_problem_in_a_changed_file(feature: Path) -> None:
    text = version_yaml(PID, "1.2.0", "Third. {context} {query}\n") + "colour: blue\n"
    write(feature, f"prompts/{PID}/1.2.0.yaml", text)
    assert scoped(feature) == {("schema", f"prompts/{PID}/1.2.0.yaml")}


def test_a_changed_pointer_to_an_unchanged_untested_version(feature: Path) -> None:
    write(feature, PROD, pointer_yaml(PID, "production", "1.1.0", previous="1.0.0"))
    assert ("untested", PROD) in scoped(feature)


def test_an_unchanged_pointer_to_an_amended_version(feature: Path) -> None:
    # Un-evaluating a released version is allowed; the pointer in production is not.
    write(feature, V1, version_yaml(PID, "1.0.0"))
    assert scoped(feature) == {("untested", PROD)}


def test_breaking_variables_across_a_new_version_and_its_unchanged_neighbour(
    feature: Path,
) -> None:
    write(
        feature,
        f"prompts/{PID}/1.2.0.yaml",
        version_yaml(PID, "1.2.0", "{context} {query} {tone}\n"),
    )
    assert scoped(feature) == {("breaking-variables", f"prompts/{PID}/1.2.0.yaml")}


def test_breaking_variables_across_a_deleted_version(feature: Path) -> None:
    # 1.1.0 took {tone} already (the base's own, released break); deleting it makes 1.2.0
    # break against 1.0.0, a pair neither of whose files the range touches.
    write(feature, V2, version_yaml(PID, "1.1.0", "{context} {query} {tone}\n"))
    write(
        feature,
        f"prompts/{PID}/1.2.0.yaml",
        version_yaml(PID, "1.2.0", "{context} {query} {tone}\n"),
    )
    write(feature, STAGING, pointer_yaml(PID, "staging", "1.2.0"))
    git(feature, "add", "-A")
    git(feature, "commit", "-q", "--no-verify", "-m", "a break")
    git(feature, "branch", "-f", "main")
    (feature / V2).unlink()
    assert scoped(feature) == {
        ("deleted-version", V2),
        ("breaking-variables", f"prompts/{PID}/1.2.0.yaml"),
    }


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_symlinks_added_in_the_range(feature: Path) -> None:
    os.symlink("1.0.0.yaml", feature / f"prompts/{PID}/1.2.0.yaml")
    os.symlink("../prompts/f01", feature / "prompts" / "linked")
    assert scoped(feature) == {
        ("symlink", f"prompts/{PID}/1.2.0.yaml"),
        ("symlink", "prompts/linked"),
    }


def test_a_range_touching_most_files_is_judged_whole(feature: Path) -> None:
    for i in range(FILLERS):
        pid = f"f{i:02d}"
        write(
            feature,
            f"prompts/{pid}/1.0.1.yaml",
            version_yaml(pid, "1.0.1", "Hello {{name}}\n" if i == 0 else "Hello {name}\n"),
        )
        write(
            feature,
            f"deployments/development/{pid}.yaml",
            pointer_yaml(pid, "development", "1.0.1", previous="1.0.0"),
        )
    found = scoped(feature, partial=False)
    assert ("mustache-placeholder", "prompts/f00/1.0.0.yaml") in found  # the whole head
    proc = run_cli("-C", str(feature), "check", "--base", "main")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "every file at HEAD checked" in proc.stdout, proc.stdout


def test_staged_deletion_of_a_python_file_a_suite_names(feature: Path) -> None:
    write(feature, "checks.py", "def grade(output, case):\n    return True\n")
    write(feature, SUITE, _suite("default_assert: [{type: python, value: 'checks:grade'}]\n"))
    git(feature, "add", "-A")
    git(feature, "commit", "-q", "--no-verify", "-m", "a hook")
    git(feature, "rm", "-q", "checks.py")
    proc = run_cli("-C", str(feature), "check", "--staged", "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert {(p["code"], p["path"]) for p in json.loads(proc.stdout)} == {("untrusted-hook", SUITE)}


def test_an_unchanged_pointer_to_a_version_the_range_adds(feature: Path) -> None:
    # The base's production pointer names a version it lacks (the base's own problem); the
    # range adds that version untested: the untouched pointer is refused for it now.
    write(feature, PROD, pointer_yaml(PID, "production", "1.2.0", previous="1.0.0"))
    git(feature, "add", "-A")
    git(feature, "commit", "-q", "--no-verify", "-m", "ahead of itself")
    git(feature, "branch", "-f", "main")
    write(
        feature,
        f"prompts/{PID}/1.2.0.yaml",
        version_yaml(PID, "1.2.0", "Third. {context} {query}\n"),
    )
    assert scoped(feature) == {("untested", PROD)}


def test_review_reports_what_check_base_reports(feature: Path) -> None:
    (feature / V2).unlink()
    found = scoped(feature)
    proc = run_cli("-C", str(feature), "review", "--base", "main", "--format", "json")
    assert "Traceback" not in proc.stderr, proc.stderr
    review = json.loads(proc.stdout)
    assert {(p["code"], p["path"]) for p in review["problems"]} == found
    assert review["passed"] is False
