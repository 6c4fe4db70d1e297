"""Removal is explicit: `promptreg undeploy` writes a tombstone pointer that every reader
understands, and deleting a pointer where tested versions are required is a check problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from registry import PromptRegistry, ValidationError
from tests.testing import commit_all, fresh, git, pointer_yaml, run_cli, version_yaml, write

ACTOR = "Dana Reyes <dana@example.com>"
OTHER = "Sam Lee <sam@example.com>"
POINTER = "deployments/development/greet.yaml"
POLICY = """\
environments:
  development: {require_tested: false}
  staging: {require_tested: true}
  production: {require_tested: true}
"""


def cli(repo: Path, *args: str) -> tuple[int, str, str]:
    r = run_cli("-C", str(repo), *args, cwd=repo)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, r.stdout, r.stderr


def at(monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    """The git time of the next commits."""
    monkeypatch.setenv("GIT_AUTHOR_DATE", when)
    monkeypatch.setenv("GIT_COMMITTER_DATE", when)


@pytest.fixture
def deployed(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """greet 1.0.0 then 1.1.0 deployed to development, each in its own commit."""
    write(repo, "promptreg.yaml", POLICY)
    for v in ("1.0.0", "1.1.0"):
        write(repo, f"prompts/greet/{v}.yaml", version_yaml("greet", v))
    at(monkeypatch, "2026-11-20T10:00:00Z")
    commit_all(repo, "seed")
    for when, v in (("2026-11-21T10:00:00Z", "1.0.0"), ("2026-11-22T10:00:00Z", "1.1.0")):
        at(monkeypatch, when)
        code, _, err = cli(repo, "deploy", "greet", v, "--env", "development", "--commit")
        assert code == 0, err
    return repo


def undeploy(repo: Path, *extra: str) -> tuple[int, str, str]:
    return cli(repo, "undeploy", "greet", "--env", "development", "--by", OTHER,
               "--reason", "Greeting moves to the new portal", *extra)  # fmt: skip


def commits(repo: Path) -> int:
    return int(git(repo, "rev-list", "--count", "HEAD"))


def test_undeploy_writes_a_tombstone_that_history_records_with_who_and_why(
    deployed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = commits(deployed)
    at(monkeypatch, "2026-11-23T10:00:00Z")
    code, out, err = undeploy(deployed, "--commit")
    assert code == 0, err
    assert out.startswith("removed greet from development (was 1.1.0); nothing is active there")
    assert commits(deployed) == before + 1
    assert git(deployed, "status", "--porcelain") == ""
    data = yaml.safe_load((deployed / POINTER).read_text(encoding="utf-8"))
    assert data["version"] is None and data["action"] == "remove"
    assert data["previous_version"] == "1.1.0"
    assert data["deployed_by"] == OTHER
    assert data["reason"] == "Greeting moves to the new portal"
    assert "Remove greet from development (was 1.1.0)" in git(deployed, "log", "-1", "--format=%B")

    code, out, err = cli(deployed, "history", "greet", "--env", "development", "--json")
    assert code == 0, err
    last = json.loads(out)[-1]
    assert last["version"] is None and last["action"] == "remove"
    assert last["previous_version"] == "1.1.0"
    assert last["deployed_by"] == OTHER
    assert last["reason"] == "Greeting moves to the new portal"
    assert last["deployed_at"] == "2026-11-23T10:00:00Z"
    code, out, _ = cli(deployed, "history", "greet", "--env", "development")
    assert "remove" in out.splitlines()[-1] and "Greeting moves" in out

    # A tombstone is a valid pointer for every check.
    for args in (["--all"], ["--base", "HEAD~1"]):
        code, out, err = cli(deployed, "check", *args)
        assert code == 0, (args, out, err)


def test_nothing_is_active_after_an_undeploy(deployed: Path) -> None:
    assert undeploy(deployed, "--commit")[0] == 0
    with PromptRegistry(deployed) as reg:
        assert reg.get_active("greet", "development") is None
    with PromptRegistry(deployed, source="files") as reg:
        assert reg.get_active("greet", "development") is None

    code, out, err = cli(deployed, "status", "--json")
    assert code == 0, err
    (row,) = [r for r in json.loads(out) if r["environment"] == "development"]
    assert row == {"prompt_id": "greet", "environment": "development", "version": None,
                   "tested": False, "problems": []}  # fmt: skip
    code, out, _ = cli(deployed, "status")
    assert code == 0 and f"removed by {OTHER}: Greeting moves" in out

    code, out, err = cli(deployed, "render", "greet", "--env", "development",
                         "--var", "context=c", "--var", "query=q")  # fmt: skip
    assert code == 1 and out == ""
    assert "nothing is active for greet in development: removed by Sam Lee" in err
    assert "Greeting moves to the new portal" in err

    code, out, _ = cli(deployed, "active", "greet", "--env", "development")
    assert code == 0 and out.startswith("nothing was active for greet in development")
    code, out, _ = cli(deployed, "list", "--json")
    assert json.loads(out)[0]["active"] == {}


def test_active_at_sees_the_removal(deployed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at(monkeypatch, "2026-11-23T10:00:00Z")
    assert undeploy(deployed, "--commit")[0] == 0
    with PromptRegistry(deployed) as reg:
        v = reg.active_at("greet", "development", "2026-11-22T12:00:00Z")
        assert v is not None and v.version == "1.1.0"
        assert reg.active_at("greet", "development", "2026-11-23T12:00:00Z") is None
    code, out, _ = cli(deployed, "active", "greet", "--env", "development", "--at",
                       "2026-11-23T12:00:00Z", "--json")  # fmt: skip
    assert code == 0 and json.loads(out) is None


def test_rollback_after_an_undeploy_brings_back_the_removed_version(deployed: Path) -> None:
    assert undeploy(deployed, "--commit")[0] == 0
    code, out, err = cli(deployed, "rollback", "greet", "--env", "development", "--commit")
    assert code == 0, err
    assert out.startswith("rolled back greet in development to 1.1.0 (was nothing)")
    data = yaml.safe_load((deployed / POINTER).read_text(encoding="utf-8"))
    assert (data["version"], data["previous_version"], data["action"]) == ("1.1.0", None,
                                                                            "rollback")  # fmt: skip
    with PromptRegistry(deployed) as reg:
        v = reg.get_active("greet", "development")
        assert v is not None and v.version == "1.1.0"


def test_deploy_after_an_undeploy(deployed: Path) -> None:
    assert undeploy(deployed, "--commit")[0] == 0
    code, out, err = cli(deployed, "deploy", "greet", "1.0.0", "--env", "development", "--commit")
    assert code == 0, err
    assert out.startswith("deployed greet 1.0.0 to development (was nothing)")
    code, out, _ = cli(deployed, "history", "greet", "--env", "development", "--json")
    assert [(e["version"], e["previous_version"], e["action"]) for e in json.loads(out)] == [
        ("1.0.0", None, "deploy"),
        ("1.1.0", "1.0.0", "deploy"),
        (None, "1.1.0", "remove"),
        ("1.0.0", None, "deploy"),
    ]


def test_undeploy_twice_changes_nothing_the_second_time(deployed: Path) -> None:
    assert undeploy(deployed, "--commit")[0] == 0
    before, text = commits(deployed), (deployed / POINTER).read_bytes()
    code, out, err = undeploy(deployed, "--commit")
    assert code == 0, err
    assert out.startswith("nothing is active for greet in development already")
    assert out.rstrip().endswith("nothing to do")
    assert commits(deployed) == before
    assert (deployed / POINTER).read_bytes() == text


def test_undeploy_needs_a_reason_and_something_to_remove(deployed: Path) -> None:
    code, _, err = cli(deployed, "undeploy", "greet", "--env", "development")
    assert code == 2 and "--reason" in err
    code, _, err = cli(deployed, "undeploy", "greet", "--env", "staging", "--reason", "x")
    assert code == 1
    assert "nothing is deployed for greet in staging; there is nothing to undeploy" in err
    with PromptRegistry(deployed) as reg, pytest.raises(ValidationError, match="needs a reason"):
        reg.undeploy("greet", "development", ACTOR, reason="  ")
    assert git(deployed, "status", "--porcelain") == ""


def test_the_library_undeploys(deployed: Path) -> None:
    with PromptRegistry(deployed) as reg:
        d = reg.undeploy("greet", "development", ACTOR, reason="retired", commit=True)
        assert (d.version, d.previous_version, d.action, d.reason) == (None, "1.1.0", "remove",
                                                                        "retired")  # fmt: skip
        assert d.commit == git(deployed, "rev-parse", "HEAD").strip()
        reg.reload()
        assert reg.get_active("greet", "development") is None
        assert reg.history("greet", "development")[-1].action == "remove"


def test_an_application_serving_the_version_takes_the_tombstone(deployed: Path) -> None:
    with PromptRegistry(deployed, refresh_interval=0) as reg:
        v = fresh(reg).get_active("greet", "development")
        assert v is not None and v.version == "1.1.0"
        assert undeploy(deployed, "--commit")[0] == 0
        assert fresh(reg).get_active("greet", "development") is None
        assert reg.last_error is None


def test_a_hand_written_null_version_must_be_a_tombstone(deployed: Path) -> None:
    text = pointer_yaml("greet", "development", "1.1.0", "1.0.0").replace('"1.1.0"', "null", 1)
    write(deployed, POINTER, text)
    code, out, err = cli(deployed, "check", "--all")
    assert code == 1
    assert f"{POINTER}:3: schema version: null means nothing is active" in out + err


# --- deleting a pointer ---------------------------------------------------------------------


SUITE = """\
prompt_id: greet
threshold: 0.5
cases:
  - name: keeps the context
    vars: {context: "Leave policy, section 4.2", query: "How many days?"}
    assert:
      - {type: contains, value: "section 4.2"}
"""


@pytest.fixture
def tested(repo: Path) -> Path:
    """greet 1.0.0, evaluated, deployed to development (no tests required) and staging."""
    write(repo, "promptreg.yaml", POLICY)
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    write(repo, "evals/greet.yaml", SUITE)
    commit_all(repo, "seed")
    for args in (["eval", "greet", "1.0.0"], ["deploy", "greet", "1.0.0", "--env", "development"],
                 ["deploy", "greet", "1.0.0", "--env", "staging"]):  # fmt: skip
        code, out, err = cli(repo, *args, "--commit")
        assert code == 0, (args, out, err)
    return repo


def test_deleting_a_pointer_where_tests_are_required_is_refused(tested: Path) -> None:
    git(tested, "rm", "-q", "deployments/staging/greet.yaml")
    code, out, err = cli(tested, "check", "--staged")
    assert code == 1
    assert "deployments/staging/greet.yaml: pointer-deleted " in out + err
    assert "`promptreg undeploy greet --env staging --reason TEXT`" in out + err
    git(tested, "commit", "-q", "--no-verify", "-m", "remove greet from staging")
    code, out, err = cli(tested, "check", "--base", "HEAD~1", "--format", "json")
    assert code == 1
    found = [p for p in json.loads(out) if p["code"] == "pointer-deleted"]
    assert [p["path"] for p in found] == ["deployments/staging/greet.yaml"]
    assert "it runs greet 1.0.0" in found[0]["message"]


def test_deleting_a_pointer_where_tests_are_not_required_is_allowed(tested: Path) -> None:
    git(tested, "rm", "-q", POINTER)
    code, out, err = cli(tested, "check", "--staged")
    assert code == 0, out + err
    git(tested, "commit", "-q", "--no-verify", "-m", "remove greet from development")
    code, out, err = cli(tested, "check", "--base", "HEAD~1")
    assert code == 0, out + err


def test_renaming_a_pointer_away_is_a_deletion(tested: Path) -> None:
    write(tested, "prompts/other/1.0.0.yaml", version_yaml("other", "1.0.0"))
    commit_all(tested, "other")
    git(tested, "mv", "deployments/staging/greet.yaml", "deployments/staging/other.yaml")
    write(tested, "deployments/staging/other.yaml",
          pointer_yaml("greet", "staging", "1.0.0").replace("greet", "other"))  # fmt: skip
    git(tested, "add", "-A")
    code, out, _ = cli(tested, "check", "--staged", "--format", "json")
    assert code == 1
    assert "deployments/staging/greet.yaml" in [
        p["path"] for p in json.loads(out) if p["code"] == "pointer-deleted"
    ]


def test_a_tombstone_may_be_deleted(tested: Path) -> None:
    code, _, err = cli(tested, "undeploy", "greet", "--env", "staging", "--reason", "gone",
                       "--commit")  # fmt: skip
    assert code == 0, err
    git(tested, "rm", "-q", "deployments/staging/greet.yaml")
    code, out, err = cli(tested, "check", "--staged")
    assert code == 0, out + err
