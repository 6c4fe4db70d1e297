"""``eval --commit`` records ``tested`` only against a suite that HEAD holds."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.test_write import ACTOR, PASSING_SUITE, cli, commit_count, fresh, refused
from tests.testing import commit_all, version_yaml, write

__all__ = ["fresh"]  # the fixture


@pytest.mark.parametrize("suite_state", ["edited", "untracked"])
def test_eval_commit_refuses_an_uncommitted_suite(fresh: Path, suite_state: str) -> None:
    write(fresh, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    suite = "evals/greet.yaml"
    if suite_state == "untracked":
        (fresh / suite).unlink()
        commit_all(fresh, "version, no suite yet")
        write(fresh, suite, PASSING_SUITE)
    else:
        commit_all(fresh, "add 1.0.0")
        write(fresh, suite, PASSING_SUITE.replace("threshold: 0.85", "threshold: 0.1"))
    err = refused(
        fresh,
        ["eval", "greet", "1.0.0", "--by", ACTOR, "--commit"],
        lambda r: r.evaluate("greet", "1.0.0", evaluated_by=ACTOR, commit=True),
        (suite, "greet 1.0.0"),
        phrase="uncommitted changes",
    )
    assert "commit the suite first" in err


def test_eval_without_commit_may_use_an_edited_suite(fresh: Path) -> None:
    write(fresh, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    commit_all(fresh, "add 1.0.0")
    write(fresh, "evals/greet.yaml", PASSING_SUITE.replace("threshold: 0.85", "threshold: 0.5"))
    before = commit_count(fresh)
    proc = cli(fresh, "eval", "greet", "1.0.0", "--by", ACTOR)
    assert proc.returncode == 0, proc.stderr
    assert commit_count(fresh) == before


def test_eval_records_into_a_hand_written_version_without_evaluation_fields(fresh: Path) -> None:
    text = version_yaml("greet", "1.0.0").replace("tested: false\n", "")
    write(fresh, "prompts/greet/1.0.0.yaml", text)
    commit_all(fresh, "by hand")
    assert cli(fresh, "check", "--all").returncode == 0
    proc = cli(fresh, "eval", "greet", "1.0.0", "--by", ACTOR, "--commit")
    assert proc.returncode == 0, proc.stderr
    after = (fresh / "prompts/greet/1.0.0.yaml").read_text(encoding="utf-8")
    assert after.startswith(text) and "tested: true" in after and "evaluation:" in after
    assert cli(fresh, "deploy", "greet", "1.0.0", "--env", "staging", "--by", ACTOR).returncode == 0


@pytest.mark.parametrize("hook_state", ["edited", "untracked"])
def test_eval_commit_refuses_uncommitted_hook_code(fresh: Path, hook_state: str) -> None:
    """A recorded result must be reproducible from the commit: the registry's own Python that
    the suite calls is a dependency like the suite itself."""
    write(fresh, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    suite = PASSING_SUITE + '      - {type: python, value: "hooks.grading:ok"}\n'
    write(fresh, "evals/greet.yaml", suite)
    write(fresh, "hooks/__init__.py", "")
    if hook_state == "edited":
        write(fresh, "hooks/grading.py", "def ok(output, case):\n    return False\n")
        commit_all(fresh, "version, suite and its hook")
        write(fresh, "hooks/grading.py", "def ok(output, case):\n    return True\n")
    else:
        commit_all(fresh, "version and suite, hook not yet")
        write(fresh, "hooks/grading.py", "def ok(output, case):\n    return True\n")
    err = refused(
        fresh,
        ["eval", "greet", "1.0.0", "--by", ACTOR, "--commit"],
        lambda r: r.evaluate("greet", "1.0.0", evaluated_by=ACTOR, commit=True),
        ("hooks/grading.py", "greet 1.0.0"),
        phrase="uncommitted changes",
    )
    assert "evals/greet.yaml calls code in" in err
    # Once committed, the same evaluation is recorded.
    commit_all(fresh, "the hook")
    proc = cli(fresh, "eval", "greet", "1.0.0", "--by", ACTOR, "--commit")
    assert proc.returncode == 0, proc.stderr


def test_hook_files_only_follow_module_names(tmp_path: Path) -> None:
    """The suite loader refuses values that are not ``module:function``; the dependency
    check does not rely on it: only module names map to registry files, never a path."""
    from registry.evals.record import _hook_files
    from registry.evals.suite import Assertion, Case, Suite

    write(tmp_path, "hooks/__init__.py", "")
    write(tmp_path, "hooks/grading.py", "def ok(output, case):\n    return True\n")
    write(tmp_path, "__init__.py", "")  # what "..:x" or "/x" would reach as a path
    # An existing file outside the registry, named by an absolute path with no dot in it.
    outside = Path(tempfile.mkdtemp(prefix="promptreg_outside_", dir="/tmp"))
    try:
        write(outside, "grading.py", "def ok(output, case):\n    return True\n")
        values = ["hooks.grading:ok", f"{outside}/grading:ok", "../..:x", ".:x", "..:x"]
        case = Case("c", {}, tuple(Assertion("python", v) for v in values), 1)
        suite = Suite("evals/greet.yaml", "greet", 0.5, "/etc:x", (case,))
        assert _hook_files(tmp_path, suite) == ["hooks/__init__.py", "hooks/grading.py"]
    finally:
        shutil.rmtree(outside)
