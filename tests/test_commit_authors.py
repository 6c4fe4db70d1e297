"""Who committed a pointer: ``committed_by`` after ``--commit``, and git's author in the text
history when it differs from the pointer's ``deployed_by``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clirun import run
from tests.testing import LENIENT_SETTINGS, commit_all, pointer_yaml, version_yaml, write

DANA = "Dana Reyes <dana@example.com>"
GIT_USER = "Test User <test@example.com>"  # the identity tests/conftest.py pins


@pytest.fixture
def registry(repo: Path) -> Path:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    write(repo, "prompts/greet/1.1.0.yaml", version_yaml("greet", "1.1.0"))
    commit_all(repo, "versions")
    return repo


def test_deploy_and_rollback_json_report_the_commit_author(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(registry)
    for version in ("1.0.0", "1.1.0"):
        r = run(capsys, "-C", root, "deploy", "greet", version, "--env", "staging", "--by", DANA,
                "--commit", "--json")  # fmt: skip
        assert r.code == 0, r.err
        out = json.loads(r.out)
        assert out["commit"] and out["committed_by"] == DANA
    r = run(capsys, "-C", root, "rollback", "greet", "--env", "staging", "--commit", "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert (out["action"], out["deployed_by"], out["committed_by"]) == (
        "rollback",
        GIT_USER,
        GIT_USER,
    )
    history = json.loads(run(capsys, "-C", root, "history", "greet", "--json").out)
    assert history[-1]["committed_by"] == out["committed_by"]
    # Without --commit nothing is committed, so nobody committed it.
    r = run(capsys, "-C", root, "deploy", "greet", "1.0.0", "--env", "development", "--json")
    assert json.loads(r.out)["committed_by"] is None


def test_text_history_shows_who_committed_a_hand_edited_pointer(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(registry)
    assert run(capsys, "-C", root, "deploy", "greet", "1.0.0", "--env", "staging", "--by", DANA,
               "--commit").code == 0  # fmt: skip
    # Someone else (the git user) edits the pointer by hand, keeping Dana's name in it.
    write(registry, "deployments/staging/greet.yaml",
          pointer_yaml("greet", "staging", "1.1.0", "1.0.0", by=DANA))  # fmt: skip
    commit_all(registry, "hand edit")
    lines = run(capsys, "-C", root, "history", "greet").out.splitlines()
    first = next(ln for ln in lines if "1.0.0" in ln and "deploy" in ln and "1.1.0" not in ln)
    second = next(ln for ln in lines if "1.1.0" in ln)
    assert DANA in first and "committed by" not in first
    assert f"{DANA} (committed by {GIT_USER})" in second


def test_a_no_op_deploy_reports_the_commit_that_last_changed_the_pointer(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(registry)
    first = json.loads(run(capsys, "-C", root, "deploy", "greet", "1.0.0", "--env", "staging",
                           "--by", DANA, "--commit", "--json").out)  # fmt: skip
    commit_all(registry, "an unrelated later commit")
    for args in (("deploy", "greet", "1.0.0"), ("rollback", "greet", "--to", "1.0.0")):
        r = run(capsys, "-C", root, *args, "--env", "staging", "--by", DANA, "--json")
        assert r.code == 0, r.err
        again = json.loads(r.out)
        assert (again["commit"], again["committed_by"]) == (first["commit"], DANA), args
    # An uncommitted pointer has no commit to report.
    r = run(capsys, "-C", root, "deploy", "greet", "1.1.0", "--env", "development", "--json")
    r = run(capsys, "-C", root, "deploy", "greet", "1.1.0", "--env", "development", "--json")
    assert r.code == 0, r.err
    assert (json.loads(r.out)["commit"], json.loads(r.out)["committed_by"]) == (None, None)
