"""One table of environment-policy cases through every consumer of the policy.

Each case is a version state in an environment; every consumer must reach the same verdict.
``promote_from`` and ``min_soak`` are rules about a change, so their ``not-promoted`` and
``min-soak`` are expected only where a pointer moves (deploy, and ``check`` of an uncommitted
pointer); what serves or shows a state that is already committed (``check`` of a clean tree,
``status``, ``render``, the runtime) judges the rest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from registry import PromptRegistry, RegistryError
from registry.fingerprint import fingerprint
from registry.models import EnvironmentPolicy, Evaluation, PromptVersion
from registry.policy import Candidate, Promotion, judge
from tests.clirun import run
from tests.testing import commit_all, pointer_yaml, version_yaml, write

PID = "greet"
VER = "1.0.0"
CONTENT = "Hello {name}\n"
BY = "Dana Reyes <dana@example.com>"
VERSION_FILE = f"prompts/{PID}/{VER}.yaml"
SETTINGS = (
    "environments:\n"
    "  development: {require_tested: false}\n"
    "  scored: {require_tested: false, min_score: 0.5}\n"
    "  staging: {require_tested: true}\n"
    "  production: {require_tested: true, min_score: 0.5, promote_from: staging}\n"
    "  soaked: {require_tested: true, promote_from: staging, min_soak: 1h}\n"
)
# When staging started running the version: long enough ago for ``soaked``'s hour, or not.
SOAKED_AT = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _evaluated(score: str, content: str = CONTENT) -> str:
    """The version marked tested with ``score``, its evaluation taken of ``content``."""
    text = version_yaml(PID, VER, CONTENT).replace("tested: false\n", "tested: true\n")
    return text + (
        f"evaluation_score: {score}\n"
        "evaluation:\n"
        f"  suite: evals/{PID}.yaml\n"
        "  threshold: 0.5\n"
        f"  fingerprint: {fingerprint(PID, content, None, None)}\n"
        '  evaluated_at: "2026-11-20T11:00:00Z"\n'
        f"  evaluated_by: {BY}\n"
    )


STATES = {
    "untested": version_yaml(PID, VER, CONTENT),
    # A score without a matching evaluation is not a tested score: it counts for nothing.
    "untested-scored": version_yaml(PID, VER, CONTENT) + "evaluation_score: 0.9\n",
    # An evaluation of this very content, but `tested: false`: still not a tested score.
    "withdrawn-scored": _evaluated("0.9").replace("tested: true\n", "tested: false\n"),
    # `tested: true` whose evaluation was of other content: the file itself is invalid.
    "stale-scored": _evaluated("0.9", content="Hi {name}\n"),
    "tested-below": _evaluated("0.4"),
    "tested-at": _evaluated("0.5"),
    "tested-above": _evaluated("0.9"),
    "tested-null": _evaluated("null"),
}


@dataclass(frozen=True)
class Case:
    """A version state in an environment and the error codes every consumer must agree on."""

    environment: str
    state: str
    codes: frozenset[str]
    promoted: bool = True
    soaked: bool = True  # staging has run the version for longer than min_soak

    @property
    def change_codes(self) -> frozenset[str]:
        """What a pointer move to this version meets: the state's codes plus promotion."""
        if not self.promoted:
            return self.codes | {"not-promoted"}  # how long staging ran it does not matter
        return self.codes if self.soaked else self.codes | {"min-soak"}

    @property
    def id(self) -> str:
        return (
            f"{self.environment}-{self.state}"
            + ("" if self.promoted else "-not-promoted")
            + ("" if self.soaked else "-not-soaked")
        )


def _case(env: str, state: str, *codes: str, promoted: bool = True, soaked: bool = True) -> Case:
    return Case(env, state, frozenset(codes), promoted, soaked)


CASES = [
    _case("development", "untested"),
    _case("development", "untested-scored"),
    _case("development", "stale-scored", "fingerprint"),
    _case("development", "tested-null"),
    _case("scored", "untested", "min-score"),
    _case("scored", "untested-scored", "min-score"),
    _case("scored", "withdrawn-scored", "min-score"),
    _case("scored", "stale-scored", "fingerprint", "min-score"),
    _case("scored", "tested-below", "min-score"),
    _case("scored", "tested-at"),
    _case("scored", "tested-above"),
    _case("scored", "tested-null", "min-score"),
    _case("staging", "untested", "untested"),
    _case("staging", "untested-scored", "untested"),
    _case("staging", "withdrawn-scored", "untested"),
    _case("staging", "stale-scored", "fingerprint", "untested"),
    _case("staging", "tested-below"),
    _case("staging", "tested-null"),
    _case("production", "untested", "untested", "min-score"),
    _case("production", "untested-scored", "untested", "min-score"),
    _case("production", "stale-scored", "fingerprint", "untested", "min-score"),
    _case("production", "tested-below", "min-score"),
    _case("production", "tested-at"),
    _case("production", "tested-above"),
    _case("production", "tested-null", "min-score"),
    _case("production", "tested-above", promoted=False),
    _case("production", "untested-scored", "untested", "min-score", promoted=False),
    _case("soaked", "tested-above"),
    _case("soaked", "tested-above", soaked=False),
    _case("soaked", "untested", "untested", soaked=False),
    _case("soaked", "tested-above", promoted=False, soaked=False),
]


def _registry(repo: Path, case: Case) -> Path:
    """The settings and the version committed; staging runs the version when promoted, since
    two hours ago when soaked, else since now."""
    write(repo, "promptreg.yaml", SETTINGS)
    write(repo, VERSION_FILE, STATES[case.state])
    commit_all(repo, "base", date=SOAKED_AT)
    if case.environment in ("production", "soaked") and case.promoted:
        write(repo, f"deployments/staging/{PID}.yaml", pointer_yaml(PID, "staging", VER))
        commit_all(repo, "staging runs it", date=SOAKED_AT if case.soaked else None)
    return repo


def _codes(problems: list[dict[str, object]], case: Case) -> frozenset[str]:
    """The error codes about the version file and the pointer under test."""
    paths = {VERSION_FILE, f"deployments/{case.environment}/{PID}.yaml"}
    return frozenset(
        str(p["code"]) for p in problems if p["path"] in paths and p["severity"] == "error"
    )


def _library_deploy_refused(repo: Path, case: Case) -> bool:
    with PromptRegistry(repo, source="files") as reg:
        try:
            reg.deploy(PID, VER, case.environment, BY)
        except RegistryError:
            return True
    return False


def _runtime_refused(repo: Path, case: Case) -> bool:
    with PromptRegistry(repo) as reg:
        try:
            served = reg.get_active(PID, case.environment)
        except RegistryError:
            return True
    assert served is not None and served.version == VER
    return False


def _undeploy(repo: Path, case: Case) -> None:
    (repo / f"deployments/{case.environment}/{PID}.yaml").unlink(missing_ok=True)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_consumer_reaches_the_same_verdict(
    repo: Path, case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(_registry(repo, case))
    env = case.environment
    change_refused = bool(case.change_codes)
    state_refused = bool(case.codes)

    # A change: the pointer moves to the version.
    assert _library_deploy_refused(repo, case) is change_refused, "deploy (library)"
    _undeploy(repo, case)
    r = run(capsys, "-C", root, "deploy", PID, VER, "--env", env, "--by", BY)
    assert r.code == (1 if change_refused else 0), ("deploy (CLI)", r.err)
    _undeploy(repo, case)
    write(repo, f"deployments/{env}/{PID}.yaml", pointer_yaml(PID, env, VER))
    r = run(capsys, "-C", root, "check", "--json")
    assert _codes(json.loads(r.out), case) == case.change_codes, "check of the change"
    assert r.code == (1 if change_refused else 0), r.out

    # A state: the pointer is committed and served.
    commit_all(repo, "deploy")
    r = run(capsys, "-C", root, "check", "--json")
    assert _codes(json.loads(r.out), case) == case.codes, "check of the state"
    r = run(capsys, "-C", root, "status", "--json", "--env", env)
    (row,) = json.loads(r.out)
    assert {p["code"] for p in row["problems"]} == case.codes, "status"
    assert r.code == (1 if state_refused else 0), "status exit code"
    r = run(capsys, "-C", root, "render", PID, "--env", env, "--var", "name=Ann")
    assert r.code == (1 if state_refused else 0), ("render", r.err)
    if not state_refused:
        assert r.out == "Hello Ann\n"
    assert _runtime_refused(repo, case) is state_refused, "PromptRegistry.get_active"


# -- the rules themselves, from literals -----------------------------------------------------


def _version(tested: bool, score: float | None) -> PromptVersion:
    v = PromptVersion(PID, VER, content=CONTENT, evaluation_score=score)
    if not tested:
        return v
    evaluation = Evaluation(f"evals/{PID}.yaml", 0.5, v.fingerprint, "2026-11-20T11:00:00Z", BY)
    return replace(v, tested=True, evaluation=evaluation)


PRODUCTION = EnvironmentPolicy("production", True, 0.5, "staging")


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        (
            _version(False, None),
            [
                ("untested", "greet 1.0.0 has not passed evaluation tests; production requires"
                 " a tested version: run `promptreg eval greet 1.0.0`"),
                ("min-score", "greet 1.0.0 scored nothing; production requires a tested score"
                 " of at least 0.5"),
            ],
        ),
        (
            _version(False, 0.9),
            [
                ("untested", "greet 1.0.0 has not passed evaluation tests; production requires"
                 " a tested version: run `promptreg eval greet 1.0.0`"),
                ("min-score", "greet 1.0.0 is not tested, so its evaluation_score 0.9 does not"
                 " count; production requires a tested score of at least 0.5: run"
                 " `promptreg eval greet 1.0.0`"),
            ],
        ),
        (
            _version(True, None),
            [("min-score", "greet 1.0.0 has no evaluation_score; production requires a tested"
              " score of at least 0.5")],
        ),
        (
            _version(True, 0.4),
            [("min-score", "greet 1.0.0 scored 0.4; production requires a tested score of at"
              " least 0.5")],
        ),
        (_version(True, 0.5), []),
    ],
    ids=["untested", "untested-scored", "tested-null", "tested-below", "tested-at"],
)  # fmt: skip
def test_judge_names_the_prompt_version_and_environment(
    version: PromptVersion, expected: list[tuple[str, str]]
) -> None:
    found = judge(Candidate(version, "production", PRODUCTION, promotion=None), line=3)
    assert [(p.code, p.message) for p in found] == expected
    assert {(p.path, p.line, p.severity) for p in found} <= {
        ("deployments/production/greet.yaml", 3, "error")
    }


def test_promotion_is_judged_only_when_given_and_a_return_is_exempt() -> None:
    v = _version(True, 0.9)
    asked: list[bool] = []

    def ran_before() -> bool:
        asked.append(True)
        return False

    def codes(move: Promotion | None) -> list[str]:
        return [p.code for p in judge(Candidate(v, "production", PRODUCTION, move))]

    assert codes(None) == []
    assert codes(Promotion(VER, ran_before)) == [] and asked == []  # staging runs it
    (problem,) = judge(Candidate(v, "production", PRODUCTION, Promotion("0.9.0", ran_before)))
    assert problem.code == "not-promoted" and asked == [True]
    assert problem.message == (
        "greet 1.0.0 must be active in staging before production (staging runs 0.9.0);"
        " deploy it to staging first"
    )
    assert "(staging runs nothing)" in judge(Candidate(v, "production", PRODUCTION,
                                                       Promotion(None)))[0].message  # fmt: skip
    assert codes(Promotion(None, lambda: True)) == []


SOAKING = EnvironmentPolicy("production", True, None, "staging", min_soak=3600)
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _soak(since: datetime | None, ran: bool = False, runs: str | None = VER) -> list[str]:
    move = Promotion(runs, lambda: ran, lambda: since, NOW)
    found = judge(Candidate(_version(True, 0.9), "production", SOAKING, move))
    return [f"{p.code}: {p.message}" for p in found]


def test_min_soak_says_how_long_is_left() -> None:
    assert _soak(NOW - timedelta(minutes=20)) == [
        "min-soak: greet 1.0.0 is active in staging for 20m; production needs 1h: 40m left"
    ]
    # Half a minute left is a minute, never "0m left".
    assert _soak(NOW - timedelta(minutes=59, seconds=30))[0].endswith("needs 1h: 1m left")
    assert _soak(NOW - timedelta(hours=1)) == []
    assert _soak(None) == [
        "min-soak: greet 1.0.0 is not active in staging in committed git history; production"
        " needs 1h there: commit (or merge) its deployment to staging and wait"
    ]
    # A commit time ahead of the clock: the hour starts counting when that time comes.
    assert "for 0m; production needs 1h: 4h left" in _soak(NOW + timedelta(hours=3))[0]


def test_min_soak_exempts_a_return_and_leaves_an_unpromoted_version_to_not_promoted() -> None:
    assert _soak(None, ran=True) == []
    assert [m.split(":")[0] for m in _soak(None, runs="0.9.0")] == ["not-promoted"]
    asked: list[bool] = []

    def since() -> datetime | None:
        asked.append(True)
        return None

    move = Promotion(VER, source_since=since)
    assert judge(Candidate(_version(True, 0.9), "production", PRODUCTION, move)) == []
    assert asked == []  # without min_soak, history is never read


@pytest.mark.parametrize(
    ("seconds", "up", "shown"),
    [(0, False, "0m"), (59, False, "0m"), (59, True, "1m"), (3600, False, "1h"),
     (3660, False, "1h 1m"), (90000, False, "1d 1h"), (172800, True, "2d"), (-5, True, "0m")],
)  # fmt: skip
def test_durations_are_printed_in_whole_minutes(seconds: int, up: bool, shown: str) -> None:
    from registry.durations import format_duration, parse_duration

    assert format_duration(seconds, round_up=up) == shown
    assert parse_duration(shown.split(" ")[0]) == {"0m": 0, "1m": 60, "1h": 3600, "1d": 86400,
                                                   "2d": 172800}[shown.split(" ")[0]]  # fmt: skip
