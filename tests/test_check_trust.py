"""A pull request cannot loosen the gate it is judged by: the policy comes from the base
(``policy-relaxed``), and what an environment ran, and since when, comes from the base
branch's history, never from the branch's own commits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.test_check_git import (
    DANA,
    PID,
    PROD,
    V1,
    V2,
    _commit,
    _install_hook,
    check_json,
    cli,
    evaluated_yaml,
    head,
)
from tests.testing import commit_all, git, pointer_yaml, version_yaml, write

STAGE = f"deployments/staging/{PID}.yaml"
V3 = f"prompts/{PID}/1.2.0.yaml"
LAX_PRODUCTION = (
    "environments:\n  development: {}\n  staging: {}\n  production: {require_tested: false}\n"
)
STRICT = (
    "environments:\n"
    "  development: {require_tested: false}\n"
    "  staging: {require_tested: true}\n"
    "  production: {require_tested: true, min_score: 0.85, promote_from: staging}\n"
)


def _ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sneak(repo: Path, message: str, date: str | None = None) -> None:
    """A commit that bypasses any hook."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message, date=date)


def _errors(problems: list[dict[str, object]]) -> set[tuple[str, str]]:
    return {(str(p["code"]), str(p["path"])) for p in problems if p["severity"] == "error"}


def _base(repo: Path, settings: str | None, at: str | None = None) -> Path:
    """main: ``settings`` (None: no file), tested 1.0.0 (0.9) in staging and production,
    untested 1.1.0 and tested 1.2.0 scoring 0.5; then branch ``feature``."""
    if settings is not None:
        write(repo, "promptreg.yaml", settings)
    write(repo, V1, evaluated_yaml("1.0.0"))
    write(repo, V2, version_yaml(PID, "1.1.0", "Second. {context} {query}\n"))
    write(repo, V3, evaluated_yaml("1.2.0", "Third. {context} {query}\n", score="0.5"))
    write(repo, STAGE, pointer_yaml(PID, "staging", "1.0.0"))
    write(repo, PROD, pointer_yaml(PID, "production", "1.0.0"))
    commit_all(repo, "release", date=at)
    git(repo, "checkout", "-q", "-b", "feature")
    return repo


def _deploy(repo: Path, env: str, version: str, previous: str = "1.0.0") -> None:
    write(repo, f"deployments/{env}/{PID}.yaml", pointer_yaml(PID, env, version, previous))


# -- item: the policy comes from the base ------------------------------------------------------


def test_base_refuses_relaxing_require_tested_in_the_pull_request_that_deploys(
    repo: Path,
) -> None:
    _base(repo, None)  # the strict default: production requires a tested version
    write(repo, "promptreg.yaml", LAX_PRODUCTION)
    _deploy(repo, "production", "1.1.0")
    _sneak(repo, "relax production and deploy untested 1.1.0")
    code, problems = check_json(repo, "--base", "main")
    assert code == 1
    assert _errors(problems) == {("untested", PROD), ("policy-relaxed", "promptreg.yaml")}
    by_code = {p["code"]: p for p in problems if p["severity"] == "error"}
    assert str(by_code["untested"]["message"]).endswith("(the policy of the base main)")
    relaxed = str(by_code["policy-relaxed"]["message"])
    assert "require_tested true -> false" in relaxed and "moves a pointer in production" in relaxed
    assert by_code["policy-relaxed"]["line"] == 4


def test_base_refuses_deleting_the_settings_in_the_pull_request_that_deploys(
    repo: Path,
) -> None:
    _base(repo, STRICT)
    git(repo, "rm", "-q", "promptreg.yaml")  # the strict default has no min_score
    _deploy(repo, "staging", "1.2.0")
    _deploy(repo, "production", "1.2.0")
    _sneak(repo, "drop the settings; deploy 1.2.0 (score 0.5)")
    code, problems = check_json(repo, "--base", "main")
    assert code == 1
    assert _errors(problems) == {("min-score", PROD), ("policy-relaxed", "promptreg.yaml")}
    relaxed = next(p for p in problems if p["code"] == "policy-relaxed")
    assert "min_score 0.85 -> none" in str(relaxed["message"])
    assert "promote_from staging -> none" in str(relaxed["message"])


@pytest.mark.parametrize(
    ("production", "phrase"),
    [
        ("{require_tested: true, min_score: 0.4, promote_from: staging}", "min_score 0.85 -> 0.4"),
        ("{require_tested: true, promote_from: staging}", "min_score 0.85 -> none"),
        ("{require_tested: true, min_score: 0.85}", "promote_from staging -> none"),
        ("{require_tested: true, min_score: 0.85, promote_from: development}",
         "promote_from staging -> development"),
        ("{require_tested: true, min_score: 0.85, promote_from: staging, min_soak: 1m}",
         "min_soak 1h -> 1m"),
        ("{require_tested: true, min_score: 0.85, promote_from: staging}", "min_soak 1h -> none"),
    ],
)  # fmt: skip
def test_base_refuses_each_relaxation_alongside_a_pointer_move(
    repo: Path, production: str, phrase: str
) -> None:
    soaking = STRICT.replace("promote_from: staging}", "promote_from: staging, min_soak: 1h}")
    _base(repo, soaking, at=_ago(hours=3))
    _deploy(repo, "staging", "1.2.0")
    _sneak(repo, "relax production", date=_ago(hours=2))
    relaxed = STRICT.replace(STRICT.splitlines()[3], f"  production: {production}")
    write(repo, "promptreg.yaml", relaxed)
    _deploy(repo, "production", "1.2.0")
    _sneak(repo, "deploy 1.2.0")
    code, problems = check_json(repo, "--base", "main")
    assert code == 1
    relax = [p for p in problems if p["code"] == "policy-relaxed"]
    assert len(relax) == 1 and relax[0]["severity"] == "error", problems
    assert phrase in str(relax[0]["message"])
    # Each is also caught by the base's own policy of the pointer.
    assert {c for c, _ in _errors(problems)} - {"policy-relaxed"} <= {"min-score", "not-promoted",
                                                                      "min-soak"}  # fmt: skip


def test_a_relaxation_on_its_own_is_a_warning_for_review(repo: Path) -> None:
    _base(repo, STRICT)
    write(repo, "promptreg.yaml", STRICT.replace("min_score: 0.85", "min_score: 0.5"))
    _deploy(repo, "staging", "1.2.0")  # staging's policy is not relaxed
    _sneak(repo, "lower production's minimum on its own")
    code, problems = check_json(repo, "--base", "main")
    assert code == 0, problems
    (relaxed,) = problems
    assert (relaxed["code"], relaxed["severity"], relaxed["line"]) == (
        "policy-relaxed",
        "warning",
        4,
    )
    assert "allowed, as the change moves no pointer in production" in str(relaxed["message"])


def test_removing_an_environment_is_a_relaxation(repo: Path) -> None:
    _base(repo, STRICT)
    write(repo, "promptreg.yaml", "\n".join(STRICT.splitlines()[:3]) + "\n")
    git(repo, "rm", "-q", PROD)
    _sneak(repo, "retire production")
    code, problems = check_json(repo, "--base", "main")
    assert code == 1
    (relaxed,) = [p for p in problems if p["code"] == "policy-relaxed"]
    assert "the environment is removed" in str(relaxed["message"])


def test_tightening_a_policy_alongside_a_deploy_is_fine(repo: Path) -> None:
    _base(repo, STRICT)
    write(repo, "promptreg.yaml", STRICT.replace("  staging: {require_tested: true}\n",
                                                 "  staging: {min_score: 0.6}\n"))  # fmt: skip
    write(repo, f"prompts/{PID}/1.3.0.yaml", evaluated_yaml("1.3.0", "Fourth {context} {query}\n"))
    _deploy(repo, "staging", "1.3.0")
    _sneak(repo, "raise staging's bar and deploy 1.3.0")
    assert check_json(repo, "--base", "main") == (0, [])


def test_base_judges_by_the_policy_the_base_has_now(repo: Path) -> None:
    """main raised production's minimum after the branch left it: the branch's pointer meets
    today's bar, and the branch, which did not touch the settings, relaxes nothing."""
    _base(repo, STRICT.replace("min_score: 0.85", "min_score: 0.4"))
    _deploy(repo, "staging", "1.2.0")
    _deploy(repo, "production", "1.2.0")
    _sneak(repo, "deploy 1.2.0 (score 0.5)")
    assert check_json(repo, "--base", "main") == (0, [])
    git(repo, "checkout", "-q", "main")
    write(repo, "promptreg.yaml", STRICT)
    commit_all(repo, "production needs 0.85")
    git(repo, "checkout", "-q", "feature")
    code, problems = check_json(repo, "--base", "main")
    assert code == 1 and _errors(problems) == {("min-score", PROD)}
    assert "at least 0.85 (the policy of the base main)" in str(problems[0]["message"])


def test_staged_refuses_relaxing_the_policy_in_the_commit_that_deploys(repo: Path) -> None:
    _base(repo, None)
    write(repo, "promptreg.yaml", LAX_PRODUCTION)
    _deploy(repo, "production", "1.1.0")
    git(repo, "add", "-A")
    code, problems = check_json(repo, "--staged")
    assert code == 1
    assert _errors(problems) == {("untested", PROD), ("policy-relaxed", "promptreg.yaml")}
    untested = next(p for p in problems if p["code"] == "untested")
    assert str(untested["message"]).endswith("(the policy of HEAD)")


def test_broken_settings_in_the_change_still_meet_the_base_policy(repo: Path) -> None:
    _base(repo, None)
    write(repo, "promptreg.yaml", "environments: {production: {require_tested: nope}}\n")
    _deploy(repo, "production", "1.1.0")
    _sneak(repo, "break the settings and deploy untested 1.1.0")
    code, problems = check_json(repo, "--base", "main")
    assert code == 1
    assert ("untested", PROD) in _errors(problems)


# -- item: returning to a version is exempt only by the base branch's history -----------------


def _cloned(tmp_path: Path) -> Path:
    """A clone of a registry whose production (promote_from: staging) ran only 1.0.0;
    1.2.0 is tested but staging never ran it. HEAD on branch ``feature``."""
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    _base(origin, STRICT.replace("min_score: 0.85, ", ""))
    git(origin, "checkout", "-q", "main")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    git(clone, "checkout", "-q", "-b", "feature")
    return clone


def test_hook_does_not_learn_a_return_from_the_branch_s_own_commits(tmp_path: Path) -> None:
    clone = _cloned(tmp_path)
    _deploy(clone, "production", "1.2.0")
    _sneak(clone, "production runs 1.2.0, past the hook")
    _deploy(clone, "production", "1.0.0", previous="1.2.0")
    _sneak(clone, "and back")
    _deploy(clone, "production", "1.2.0")
    git(clone, "add", "-A")
    # The branch's history shows production running 1.2.0; only origin's counts.
    code, problems = check_json(clone, "--staged")
    assert code == 1 and _errors(problems) == {("not-promoted", PROD)}
    code, problems = check_json(clone)
    assert code == 1 and _errors(problems) == {("not-promoted", PROD)}
    _install_hook(clone)
    before = head(clone)
    proc = _commit(clone, "-m", "production runs 1.2.0 again")
    assert proc.returncode != 0 and "not-promoted" in proc.stderr, proc.stderr
    assert head(clone) == before
    git(clone, "commit", "-q", "--no-verify", "-m", "again")
    code, problems = check_json(clone, "--base", "origin/main")
    assert code == 1 and _errors(problems) == {("not-promoted", PROD)}


def test_hook_exempts_a_return_to_what_the_base_branch_ran(tmp_path: Path) -> None:
    clone = _cloned(tmp_path)
    origin = tmp_path / "origin"
    _deploy(origin, "staging", "1.2.0")
    _deploy(origin, "production", "1.2.0")
    commit_all(origin, "promote 1.2.0")
    _deploy(origin, "staging", "1.0.0", previous="1.2.0")
    _deploy(origin, "production", "1.0.0", previous="1.2.0")
    commit_all(origin, "back to 1.0.0")
    git(clone, "fetch", "-q", "origin")
    git(clone, "reset", "-q", "--hard", "origin/main")
    _deploy(clone, "production", "1.2.0")
    git(clone, "add", "-A")
    assert check_json(clone, "--staged") == (0, [])


# -- item: time in the source environment ----------------------------------------------------

SOAK = STRICT.replace("min_score: 0.85, ", "").replace(
    "promote_from: staging}", "promote_from: staging, min_soak: 1h}"
)


def test_one_pull_request_cannot_move_staging_and_production_at_once(repo: Path) -> None:
    _base(repo, SOAK, at=_ago(days=2))
    _deploy(repo, "staging", "1.2.0")
    _deploy(repo, "production", "1.2.0")
    _sneak(repo, "staging and production at once")
    code, problems = check_json(repo, "--base", "main")
    assert code == 1 and _errors(problems) == {("min-soak", PROD)}
    (soak,) = problems
    assert "greet" not in str(soak["message"]) and "not active in staging" in str(soak["message"])


def test_a_branch_s_backdated_staging_commit_is_no_soak_time(repo: Path) -> None:
    _base(repo, SOAK, at=_ago(days=2))
    _deploy(repo, "staging", "1.2.0")
    _sneak(repo, "staging, dated a day ago", date=_ago(days=1))
    _deploy(repo, "production", "1.2.0")
    _sneak(repo, "production")
    code, problems = check_json(repo, "--base", "main")
    assert code == 1 and _errors(problems) == {("min-soak", PROD)}


def _soaking(repo: Path, minutes: float) -> Path:
    """main: staging has run 1.2.0 for ``minutes``; HEAD on ``feature``."""
    _base(repo, SOAK, at=_ago(days=2))
    git(repo, "checkout", "-q", "main")
    _deploy(repo, "staging", "1.2.0")
    commit_all(repo, "staging runs 1.2.0", date=_ago(minutes=minutes))
    git(repo, "checkout", "-q", "feature")
    git(repo, "merge", "-q", "--ff-only", "main")
    return repo


def test_base_says_how_long_staging_still_has_to_run_the_version(repo: Path) -> None:
    _soaking(repo, 20)
    _deploy(repo, "production", "1.2.0")
    _sneak(repo, "production")
    code, problems = check_json(repo, "--base", "main")
    assert code == 1
    assert [(p["code"], p["message"]) for p in problems] == [
        ("min-soak", f"{PID} 1.2.0 is active in staging for 20m; production needs 1h: 40m left")
    ]


def test_base_passes_once_staging_ran_the_version_long_enough(repo: Path) -> None:
    _soaking(repo, 61)
    _deploy(repo, "production", "1.2.0")
    _sneak(repo, "production")
    assert check_json(repo, "--base", "main") == (0, [])
    assert check_json(repo, "--staged") == (0, [])


def test_deploy_and_status_say_how_long_is_left(repo: Path) -> None:
    _soaking(repo, 20)
    proc = cli(repo, "deploy", PID, "1.2.0", "--env", "production", "--by", DANA)
    assert proc.returncode == 1
    assert "is active in staging for 20m; production needs 1h: 40m left" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = cli(repo, "status")
    assert proc.returncode == 0, proc.stderr
    (row,) = [line for line in proc.stdout.splitlines() if " staging " in line]
    assert "active in staging for 20m; production needs 1h: 40m left" in row
    # An hour later the note is gone and the deploy goes through.
    git(repo, "commit", "-q", "--amend", "--no-edit", date=_ago(minutes=61))
    assert "needs 1h" not in cli(repo, "status").stdout
    proc = cli(repo, "deploy", PID, "1.2.0", "--env", "production", "--by", DANA)
    assert proc.returncode == 0, proc.stderr


def test_deploy_of_a_staging_pointer_not_yet_committed_has_no_soak_time(repo: Path) -> None:
    _base(repo, SOAK, at=_ago(days=2))
    _deploy(repo, "staging", "1.2.0")
    proc = cli(repo, "deploy", PID, "1.2.0", "--env", "production", "--by", DANA)
    assert proc.returncode == 1
    assert "not active in staging in committed git history" in proc.stderr


def test_min_soak_without_promote_from_is_a_settings_error(repo: Path) -> None:
    write(repo, "promptreg.yaml", "environments:\n  staging: {}\n  production: {min_soak: 1h}\n")
    write(repo, V1, evaluated_yaml("1.0.0"))
    code, problems = check_json(repo)
    assert code == 1
    assert [(p["code"], p["path"], p["line"]) for p in problems] == [
        ("settings", "promptreg.yaml", 3)
    ]
    assert "min_soak needs promote_from" in str(problems[0]["message"])
