"""``promptreg status``: each row's problems in JSON, and exit 1 when a deployment is broken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clirun import run
from tests.testing import commit_all, pointer_yaml, version_yaml, write

STRICT = "environments:\n  development: {require_tested: false}\n  production: {}\n"


@pytest.fixture
def registry_with(repo: Path) -> Path:
    write(repo, "promptreg.yaml", STRICT)
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    write(repo, "deployments/development/greet.yaml", pointer_yaml("greet", "development", "1.0.0"))
    commit_all(repo, "healthy")
    return repo


def test_a_healthy_registry_has_no_problems_and_exits_0(
    registry_with: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, "-C", str(registry_with), "status", "--json")
    assert r.code == 0, r.err
    assert [row["problems"] for row in json.loads(r.out)] == [[]]
    assert run(capsys, "-C", str(registry_with), "status").code == 0


def test_an_untested_version_in_production(
    registry_with: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(registry_with, "deployments/production/greet.yaml",
          pointer_yaml("greet", "production", "1.0.0"))  # fmt: skip
    r = run(capsys, "-C", str(registry_with), "status", "--json")
    assert r.code == 1
    rows = {row["environment"]: row for row in json.loads(r.out)}
    assert rows["development"]["problems"] == []
    problems = rows["production"]["problems"]
    assert [p["code"] for p in problems] == ["untested"]
    assert "production requires a tested version" in problems[0]["message"]
    text = run(capsys, "-C", str(registry_with), "status")
    assert text.code == 1
    assert any(ln.split()[:2] == ["greet", "production"] and "UNTESTED" in ln
               for ln in text.out.splitlines()), text.out  # fmt: skip
    assert "1 deployment(s) invalid or against policy" in text.err


@pytest.mark.parametrize(
    ("pointer", "code"),
    [
        ("prompt_id: greet\nenvironment: production\n", "schema"),
        (pointer_yaml("greet", "production", "9.9.9"), "missing-version"),
    ],
    ids=["invalid-pointer", "missing-version"],
)
def test_a_broken_pointer(
    registry_with: Path, capsys: pytest.CaptureFixture[str], pointer: str, code: str
) -> None:
    write(registry_with, "deployments/production/greet.yaml", pointer)
    r = run(capsys, "-C", str(registry_with), "status", "--json")
    assert r.code == 1
    rows = {row["environment"]: row for row in json.loads(r.out)}
    assert code in [p["code"] for p in rows["production"]["problems"]]
    assert all(p["message"] for p in rows["production"]["problems"])
    assert run(capsys, "-C", str(registry_with), "status").code == 1


BAD_YAML = "prompt_id: greet\nenvironment: development\nversion: [1.0.0\n"


def test_list_shows_a_pointer_it_cannot_read_and_exits_1(
    registry_with: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(registry_with, "deployments/production/greet.yaml", BAD_YAML)
    r = run(capsys, "-C", str(registry_with), "list")
    assert r.code == 1, (r.out, r.err)
    row = next(ln for ln in r.out.splitlines() if ln.startswith("greet"))
    assert "development=1.0.0, production=?" in row, r.out
    assert "deployments/production/greet.yaml:" in r.err, r.err
    as_json = run(capsys, "-C", str(registry_with), "list", "--json")
    assert as_json.code == 1
    assert json.loads(as_json.out)[0]["active"] == {"development": "1.0.0", "production": None}


def test_status_locates_a_yaml_error_in_the_note_and_the_json(
    registry_with: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(registry_with, "deployments/production/greet.yaml", BAD_YAML)
    r = run(capsys, "-C", str(registry_with), "status", "--json")
    assert r.code == 1
    (problem,) = {row["environment"]: row for row in json.loads(r.out)}["production"]["problems"]
    assert problem["path"] == "deployments/production/greet.yaml", problem
    assert problem["code"] == "yaml-syntax" and isinstance(problem["line"], int), problem
    text = run(capsys, "-C", str(registry_with), "status")
    note = next(ln for ln in text.out.splitlines() if ln.split()[:2] == ["greet", "production"])
    assert f"deployments/production/greet.yaml:{problem['line']}:" in note, text.out
