"""``check --base REF --verify-evaluations``: evaluation records a range adds or changes are
re-run in the CI job (``evaluation-unverified``), and a suite weakened in the same range is
``suite-weakened``. Real repositories, the real CLI and the real evaluation engine."""

from __future__ import annotations

import json
import py_compile
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from registry.sources import DirSource
from registry.view import RegistryView
from tests.testing import commit_all, git, init_repo, pointer_yaml, run_cli, version_yaml, write

PID = "greet"
V1 = f"prompts/{PID}/1.0.0.yaml"
SUITE = f"evals/{PID}.yaml"
PROD = f"deployments/production/{PID}.yaml"
GOOD = "You are helpful. Context: {context}\nQuestion: {query}\n"
# Scores 0.75 on SUITE_TEXT: no "question:" for the regex.
WEAK = "You are helpful. Context: {context}\n{query}\n"
SETTINGS = """\
environments:
  staging: {require_tested: true}
  production: {require_tested: true, min_score: 0.85}
"""
SUITE_TEXT = """\
prompt_id: greet
threshold: 0.85
cases:
  - name: keeps the context
    vars: {context: "Leave policy, section 4.2", query: "How many days?"}
    assert:
      - {type: contains, value: "section 4.2"}
      - {type: not_contains, value: "As an AI"}
      - {type: regex, value: "(?i)question:"}
      - {type: max_length, value: 4000}
"""


def _base(
    tmp_path: Path, suite: str | None = SUITE_TEXT, files: dict[str, str] | None = None
) -> tuple[Path, str]:
    """A registry on main with the policy, the suite (None: none) and ``files``; returns it
    and the base commit, with a branch ``change`` checked out."""
    repo = init_repo(tmp_path / "repo")
    write(repo, "promptreg.yaml", SETTINGS)
    if suite is not None:
        write(repo, SUITE, suite)
    write(repo, "prompts/.gitkeep", "")
    for rel, text in (files or {}).items():
        write(repo, rel, text)
    base = commit_all(repo, "policy and suite")
    git(repo, "checkout", "-q", "-b", "change")
    return repo, base


def _hand_record(repo: Path, rel: str, score: float, tested: bool = True) -> None:
    """Write an evaluation record by hand: a matching fingerprint, a made-up score."""
    view = RegistryView(DirSource(repo))
    v = view.version(PID, Path(rel).stem)
    assert v is not None
    text = (repo / rel).read_text(encoding="utf-8")
    record = (
        f"tested: {'true' if tested else 'false'}\nevaluation_score: {score}\nevaluation:\n"
        f"  suite: {SUITE}\n  threshold: 0.85\n  fingerprint: {v.fingerprint}\n"
        '  evaluated_at: "2026-11-21T10:00:00Z"\n  evaluated_by: Dana Reyes <dana@example.com>\n'
    )
    (repo / rel).write_text(text.replace("tested: false\n", record), encoding="utf-8")


def _deploy_hand_recorded(repo: Path, content: str, score: float) -> None:
    write(repo, V1, version_yaml(PID, "1.0.0", content=content))
    _hand_record(repo, V1, score)
    write(repo, PROD, pointer_yaml(PID, "production", "1.0.0"))
    commit_all(repo, "release 1.0.0 to production")


def _check(repo: Path, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    proc = run_cli("-C", str(repo), "check", "--format", "json", *args)
    assert "Traceback" not in proc.stderr, proc.stderr
    problems = json.loads(proc.stdout) if proc.stdout.strip() else []
    return proc.returncode, problems, proc.stderr


def _codes(problems: list[dict[str, Any]]) -> list[tuple[str, str, int | None]]:
    return [(p["code"], p["path"], p["line"]) for p in problems]


def _tested_line(repo: Path, rel: str) -> int:
    lines = (repo / rel).read_text(encoding="utf-8").splitlines()
    return lines.index("tested: true") + 1


# -- the bypass: a hand-written record --------------------------------------------------------


def test_a_hand_written_record_passes_check_but_not_its_verification(tmp_path: Path) -> None:
    repo, base = _base(tmp_path)
    _deploy_hand_recorded(repo, WEAK, 0.99)
    code, problems, _ = _check(repo, "--base", base)
    assert (code, problems) == (0, [])  # what the record says is all check can see
    code, problems, _ = _check(repo, "--base", base, "--verify-evaluations")
    assert code == 1
    assert _codes(problems) == [("evaluation-unverified", V1, _tested_line(repo, V1))]
    message = problems[0]["message"]
    assert f"re-run of {SUITE} scored 0.75, below its threshold 0.85" in message
    assert "promptreg eval greet 1.0.0" in message


def test_a_hand_written_score_the_re_run_does_not_reproduce(tmp_path: Path) -> None:
    repo, base = _base(tmp_path)
    _deploy_hand_recorded(repo, GOOD, 0.9)  # the suite passes, but scores 1.0
    code, problems, _ = _check(repo, "--base", base, "--verify-evaluations")
    assert code == 1 and _codes(problems) == [("evaluation-unverified", V1, _tested_line(repo, V1))]
    assert (
        "scored 1.0, the record says 0.9 (the suite's tolerance is 0.0)" in problems[0]["message"]
    )


def test_the_suites_tolerance_on_the_base_allows_a_close_score(tmp_path: Path) -> None:
    repo, base = _base(
        tmp_path, SUITE_TEXT.replace("threshold: 0.85\n", "threshold: 0.85\ntolerance: 0.1\n")
    )
    _deploy_hand_recorded(repo, GOOD, 0.9)
    assert _check(repo, "--base", base, "--verify-evaluations")[:2] == (0, [])


def test_a_record_eval_wrote_is_verified(tmp_path: Path) -> None:
    repo, base = _base(tmp_path)
    write(repo, V1, version_yaml(PID, "1.0.0", content=GOOD))
    commit_all(repo, "add 1.0.0")
    proc = run_cli(
        "-C", str(repo), "eval", PID, "1.0.0", "--by", "Dana <d@example.com>", "--commit"
    )
    assert proc.returncode == 0, proc.stderr
    write(repo, PROD, pointer_yaml(PID, "production", "1.0.0"))
    commit_all(repo, "deploy")
    code, problems, err = _check(repo, "--base", base, "--verify-evaluations")
    assert (code, problems) == (0, []), err
    assert "git status" not in err and not list(repo.rglob("__pycache__"))


def test_records_the_range_does_not_change_are_not_re_run(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    write(repo, "promptreg.yaml", SETTINGS)
    write(repo, SUITE, SUITE_TEXT)
    write(repo, V1, version_yaml(PID, "1.0.0", content=WEAK))
    _hand_record(repo, V1, 0.99)  # merged before verification existed
    base = commit_all(repo, "base")
    write(repo, PROD, pointer_yaml(PID, "production", "1.0.0"))
    commit_all(repo, "deploy")
    assert _check(repo, "--base", base, "--verify-evaluations")[:2] == (0, [])
    # Re-recording it (a new score, in other words) is a change the re-run checks.
    text = (repo / V1).read_text(encoding="utf-8")
    (repo / V1).write_text(text.replace("evaluation_score: 0.99", "evaluation_score: 0.98"))
    commit_all(repo, "re-record")
    assert _codes(_check(repo, "--base", base, "--verify-evaluations")[1]) == [
        ("evaluation-unverified", V1, _tested_line(repo, V1))
    ]


def test_a_record_that_claims_nothing_is_not_re_run(tmp_path: Path) -> None:
    repo, base = _base(tmp_path)
    write(repo, V1, version_yaml(PID, "1.0.0", content=WEAK))  # tested: false, no score
    commit_all(repo, "add 1.0.0")
    assert _check(repo, "--base", base, "--verify-evaluations")[:2] == (0, [])


def test_a_record_without_a_suite_is_unverified(tmp_path: Path) -> None:
    repo, base = _base(tmp_path, suite=None)
    _deploy_hand_recorded(repo, GOOD, 1.0)
    code, problems, _ = _check(repo, "--base", base, "--verify-evaluations")
    assert code == 1 and _codes(problems) == [("evaluation-unverified", V1, _tested_line(repo, V1))]
    assert f"there is no valid suite {SUITE} at HEAD to re-run" in problems[0]["message"]


def test_a_suite_removed_with_the_record_is_suite_weakened(tmp_path: Path) -> None:
    repo, base = _base(tmp_path)
    (repo / SUITE).unlink()
    _deploy_hand_recorded(repo, GOOD, 1.0)
    for args in [(), ("--verify-evaluations",)]:
        code, problems, _ = _check(repo, "--base", base, *args)
        assert code == 1 and _codes(problems) == [("suite-weakened", V1, _tested_line(repo, V1))]
        assert "the suite was removed" in problems[0]["message"]


def test_a_failing_hook_is_unverified_with_its_reason(tmp_path: Path) -> None:
    suite = SUITE_TEXT.replace("cases:", "target: greet_target:answer\ncases:")
    hook = "def answer(rendered, case):\n    raise RuntimeError('no key')\n"
    repo, base = _base(tmp_path, suite, {"greet_target.py": hook})
    _deploy_hand_recorded(repo, GOOD, 0.99)
    code, problems, _ = _check(repo, "--base", base, "--verify-evaluations")
    assert code == 1 and _codes(problems) == [("evaluation-unverified", V1, _tested_line(repo, V1))]
    assert "scored 0.0" in problems[0]["message"]


# -- check runs no registry code without the flag ---------------------------------------------

MARKER_HOOK = """\
from pathlib import Path
Path(__file__).with_name("imported.txt").write_text("ran")
def answer(rendered, case):
    return rendered if isinstance(rendered, str) else ""
"""


def test_check_runs_suite_code_only_with_verify_evaluations(tmp_path: Path) -> None:
    suite = SUITE_TEXT.replace("cases:", "target: greet_hook:answer\ncases:")
    repo, base = _base(
        tmp_path, suite, {"greet_hook.py": MARKER_HOOK, ".gitignore": "imported.txt\n"}
    )
    _deploy_hand_recorded(repo, GOOD, 1.0)
    assert _check(repo, "--base", base)[:2] == (0, [])
    assert _check(repo, "--all")[0] == 0
    assert not (repo / "imported.txt").exists()
    assert _check(repo, "--base", base, "--verify-evaluations")[:2] == (0, [])
    assert (repo / "imported.txt").read_text() == "ran"


# -- the re-run reads no cache and only HEAD's code -------------------------------------------

HONEST = "def cites(output, case):\n    return 'cite the section' in output\n"
CHEAT = "def cites(output, case):\n    return True\n"


def test_a_committed_bytecode_cache_does_not_stand_in_for_the_hook(tmp_path: Path) -> None:
    suite = SUITE_TEXT + '      - {type: python, value: "greet_checks:cites"}\n'
    repo, base = _base(tmp_path, suite, {"greet_checks.py": HONEST})
    # The base holds bytecode of other code that Python would never compare with the source
    # it sits next to (an unchecked-hash .pyc), committed by mistake or by someone else.
    cheat = tmp_path / "cheat" / "greet_checks.py"
    write(cheat.parent, cheat.name, CHEAT)
    tag = sys.implementation.cache_tag
    pyc = repo / "__pycache__" / f"greet_checks.{tag}.pyc"
    pyc.parent.mkdir()
    py_compile.compile(str(cheat), cfile=str(pyc), doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)  # fmt: skip
    git(repo, "add", "-f", str(pyc))
    base = commit_all(repo, "bytecode")
    _deploy_hand_recorded(repo, GOOD, 1.0)
    code, problems, _ = _check(repo, "--base", base, "--verify-evaluations")
    assert code == 1 and _codes(problems) == [("evaluation-unverified", V1, _tested_line(repo, V1))]
    assert "scored 0.8, below its threshold" in problems[0]["message"]
    assert sys.pycache_prefix is None  # put back


def test_a_working_tree_that_differs_from_head_is_refused(tmp_path: Path) -> None:
    repo, base = _base(tmp_path)
    _deploy_hand_recorded(repo, GOOD, 1.0)
    write(repo, SUITE, SUITE_TEXT.replace('section 4.2"}', 'section 9"}'))
    proc = run_cli("-C", str(repo), "check", "--base", base, "--verify-evaluations")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"differs from HEAD ({SUITE}); commit or stash" in proc.stderr


@pytest.mark.parametrize("args", [("--verify-evaluations",), ("--staged", "--verify-evaluations")])
def test_verify_evaluations_needs_a_base(tmp_path: Path, args: tuple[str, ...]) -> None:
    repo, base = _base(tmp_path)
    extra = ("--base", base) if "--staged" in args else ()
    proc = run_cli("-C", str(repo), "check", *args, *extra)
    assert proc.returncode == 2 and "--verify-evaluations" in proc.stderr, proc.stderr


def test_verify_evaluations_in_a_real_subprocess(tmp_path: Path) -> None:
    repo, base = _base(tmp_path)
    _deploy_hand_recorded(repo, WEAK, 0.99)
    proc = subprocess.run(
        [sys.executable, "-m", "registry", "-C", str(repo), "check", "--base", base,
         "--verify-evaluations", "--format", "github"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    line = _tested_line(repo, V1)
    assert proc.stdout.startswith(f"::error file={V1},line={line},title=evaluation-unverified::")


# -- suite-weakened ---------------------------------------------------------------------------


def test_a_lowered_threshold_and_a_new_record_is_suite_weakened(tmp_path: Path) -> None:
    repo, base = _base(tmp_path)
    write(repo, SUITE, SUITE_TEXT.replace("threshold: 0.85", "threshold: 0.7"))
    write(repo, V1, version_yaml(PID, "1.0.0", content=WEAK))
    commit_all(repo, "add 1.0.0 and relax its suite")
    proc = run_cli(
        "-C", str(repo), "eval", PID, "1.0.0", "--by", "Dana <d@example.com>", "--commit"
    )
    assert proc.returncode == 0, proc.stderr  # a real pass, against the weaker suite
    for args in [(), ("--verify-evaluations",)]:
        code, problems, _ = _check(repo, "--base", base, *args)
        assert code == 1
        assert _codes(problems) == [("suite-weakened", V1, _tested_line(repo, V1))]
        assert "threshold lowered from 0.85 to 0.7" in problems[0]["message"]
        assert "merge the suite change on its own first" in problems[0]["message"]


def test_a_weakened_suite_on_its_own_is_allowed(tmp_path: Path) -> None:
    repo, base = _base(tmp_path, files={V1: version_yaml(PID, "1.0.0", content=WEAK)})
    write(repo, SUITE, SUITE_TEXT.replace("threshold: 0.85", "threshold: 0.7"))
    commit_all(repo, "relax the suite")
    assert _check(repo, "--base", base, "--verify-evaluations")[:2] == (0, [])


def test_changed_hook_code_and_a_new_record_is_suite_weakened(tmp_path: Path) -> None:
    suite = SUITE_TEXT + '      - {type: python, value: "greet_checks:cites"}\n'
    repo, base = _base(tmp_path, suite, {"greet_checks.py": HONEST})
    write(repo, "greet_checks.py", CHEAT)
    _deploy_hand_recorded(repo, GOOD, 1.0)
    code, problems, _ = _check(repo, "--base", base, "--verify-evaluations")
    assert code == 1 and _codes(problems) == [("suite-weakened", V1, _tested_line(repo, V1))]
    assert (
        "Python code the suite's run can import changed (greet_checks.py)" in problems[0]["message"]
    )


def test_a_hook_that_exits_the_process_does_not_pass_the_check(tmp_path: Path) -> None:
    suite = SUITE_TEXT.replace("cases:", "target: greet_exit:answer\ncases:")
    hook = "import os\ndef answer(rendered, case):\n    os._exit(0)\n"
    repo, base = _base(tmp_path, suite, {"greet_exit.py": hook})
    _deploy_hand_recorded(repo, WEAK, 0.99)
    proc = run_cli("-C", str(repo), "check", "--base", base, "--verify-evaluations", real=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr


def test_a_tolerance_raised_with_the_record_it_admits_is_suite_weakened(tmp_path: Path) -> None:
    repo, base = _base(tmp_path)
    write(repo, SUITE, SUITE_TEXT.replace("threshold: 0.85\n", "threshold: 0.85\ntolerance: 0.2\n"))
    _deploy_hand_recorded(repo, GOOD, 0.85)  # scores 1.0: within 0.2 of the record
    code, problems, _ = _check(repo, "--base", base, "--verify-evaluations")
    assert code == 1 and _codes(problems) == [("suite-weakened", V1, _tested_line(repo, V1))]
    assert "tolerance raised from 0.0 to 0.2" in problems[0]["message"]


def test_code_the_range_adds_is_never_run(tmp_path: Path) -> None:
    # A new prompt, its new suite and a new hook in one change: nothing is weakened, but the
    # re-run would run the change's own code (which could fake the verdict or read secrets).
    suite = SUITE_TEXT.replace("cases:", "target: greet_hook:answer\ncases:")
    repo, base = _base(tmp_path, suite=None, files={".gitignore": "imported.txt\n"})
    write(repo, SUITE, suite)
    write(repo, "greet_hook.py", MARKER_HOOK)
    _deploy_hand_recorded(repo, GOOD, 1.0)
    assert _check(repo, "--base", base)[:2] == (0, [])
    code, problems, _ = _check(repo, "--base", base, "--verify-evaluations")
    assert code == 1 and _codes(problems) == [("evaluation-unverified", V1, _tested_line(repo, V1))]
    assert (
        "not re-run: the range also changes Python code the run would import (greet_hook.py)"
        in (problems[0]["message"])
    )
    assert not (repo / "imported.txt").exists()
    # Merged on its own first, the hook is the base's code, and the record is re-run.
    git(repo, "checkout", "-q", "main")
    write(repo, SUITE, suite)
    write(repo, "greet_hook.py", MARKER_HOOK)
    write(repo, V1, version_yaml(PID, "1.0.0", content=GOOD))
    base = commit_all(repo, "the prompt, its suite and its hook")
    git(repo, "checkout", "-q", "-B", "record")
    _deploy_hand_recorded(repo, GOOD, 1.0)
    assert _check(repo, "--base", base, "--verify-evaluations")[:2] == (0, [])
    assert (repo / "imported.txt").read_text() == "ran"


def test_the_re_run_trusts_only_the_base_s_trusted_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An installed module the change trusts for itself (the base trusts none): the CI re-run
    # must not import it, or the pull request would run code of its choosing in the CI job.
    marker = tmp_path / "ran.txt"
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "outside_checks.py").write_text(
        f"def cites(output, case):\n    open({str(marker)!r}, 'w').close()\n    return True\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PYTHONPATH", str(lib))
    suite = SUITE_TEXT + '      - {type: python, value: "outside_checks:cites"}\n'
    repo, base = _base(tmp_path, suite=None)
    write(repo, "promptreg.yaml", SETTINGS + "trusted_modules: [outside_checks]\n")
    write(repo, SUITE, suite)
    _deploy_hand_recorded(repo, GOOD, 1.0)
    code, problems, _ = _check(repo, "--base", base, "--verify-evaluations")
    assert code == 1
    assert ("untrusted-hook", SUITE) in {(p["code"], p["path"]) for p in problems}
    assert ("evaluation-unverified", V1) in {(p["code"], p["path"]) for p in problems}
    assert not marker.exists()


# -- where the CI job's model key may go ---------------------------------------------------------


def _model_record(repo: Path) -> None:
    """A hand-recorded version with a model block (a model target needs model.name)."""
    text = version_yaml(PID, "1.0.0", content=GOOD).replace(
        "tested: false\n", "model: {name: m}\ntested: false\n"
    )
    write(repo, V1, text)
    _hand_record(repo, V1, 1.0)
    write(repo, PROD, pointer_yaml(PID, "production", "1.0.0"))
    commit_all(repo, "release 1.0.0 to production")


def test_a_new_suite_cannot_send_the_job_s_key_to_a_host_it_chooses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fake_openai import FakeOpenAI

    monkeypatch.setenv("CI_DEPLOY_TOKEN", "secret-of-the-ci-job")
    with FakeOpenAI() as server:
        target = f"target: {{provider: openai, base_url: '{server.url}', api_key_env: CI_DEPLOY_TOKEN}}\n"
        repo, base = _base(tmp_path, suite=None)
        write(repo, SUITE, SUITE_TEXT.replace("cases:", target + "cases:"))
        _model_record(repo)
        code, problems, _ = _check(repo, "--base", base, "--verify-evaluations")
        assert code == 1
        assert _codes(problems) == [("evaluation-unverified", V1, _tested_line(repo, V1))]
        assert (
            "sends its target requests to a base_url or with an api_key_env"
            in (problems[0]["message"])
        )
        assert server.requests == []  # nothing, and no key, left the job


def test_an_endpoint_the_base_s_suite_names_is_re_run(tmp_path: Path) -> None:
    from tests.fake_openai import FakeOpenAI

    with FakeOpenAI() as server:
        target = f"target: {{provider: openai, base_url: '{server.url}'}}\n"
        repo, base = _base(tmp_path, SUITE_TEXT.replace("cases:", target + "cases:"))
        _model_record(repo)
        code, problems, _ = _check(repo, "--base", base, "--verify-evaluations")
        assert "not re-run" not in json.dumps(problems)
        assert len(server.requests) == 1  # the one case, asked again in CI
        assert (code, problems) == (0, [])
