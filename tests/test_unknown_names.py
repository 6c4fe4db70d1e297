"""``active`` and ``history`` name an unknown prompt or environment and exit 1; a known prompt
never deployed somewhere, and a retired environment in history, stay valid (exit 0)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.testing import (
    LENIENT_SETTINGS,
    commit_all,
    git,
    pointer_yaml,
    run_cli,
    version_yaml,
    write,
)

AT = "2030-01-01T00:00:00Z"


@pytest.fixture
def registry(repo: Path) -> Path:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    write(repo, "deployments/production/greet.yaml", pointer_yaml("greet", "production", "1.0.0"))
    # An environment that held greet once, then was retired (removed from settings and disk).
    write(repo, "deployments/canary/greet.yaml", pointer_yaml("greet", "canary", "1.0.0"))
    commit_all(repo, "deploy", date="2026-11-21T09:30:00Z")
    git(repo, "rm", "-q", "deployments/canary/greet.yaml")
    commit_all(repo, "retire canary", date="2026-11-22T09:30:00Z")
    return repo


UNKNOWN = [
    (("active", "nope", "--env", "production"), "'nope' not found"),
    (("active", "nope", "--env", "production", "--json"), "'nope' not found"),
    (("active", "nope", "--env", "production", "--at", AT), "'nope' not found"),
    (("active", "nope", "--env", "production", "--at", AT, "--json"), "'nope' not found"),
    (("active", "greet", "--env", "prod_x", "--at", AT), "'prod_x' is not configured"),
    (("active", "greet", "--env", "prod_x", "--at", AT, "--json"), "'prod_x' is not configured"),
    (("active", "greet", "--env", "prod_x"), "'prod_x' is not configured"),
    (("history", "greet", "--env", "prod_x"), "'prod_x' is not configured"),
    (("history", "greet", "--env", "prod_x", "--json"), "'prod_x' is not configured"),
    (("history", "nope", "--env", "production"), "'nope' not found"),
]


@pytest.mark.parametrize(("args", "message"), UNKNOWN, ids=[" ".join(a) for a, _ in UNKNOWN])
def test_an_unknown_name_is_refused(registry: Path, args: tuple[str, ...], message: str) -> None:
    r = run_cli("-C", str(registry), *args)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert message in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert r.stdout == ""


KNOWN_BUT_EMPTY = [
    ("active", "greet", "--env", "staging"),
    ("active", "greet", "--env", "staging", "--at", AT),
    ("active", "greet", "--env", "production", "--at", "2020-01-01T00:00:00Z"),
    ("history", "greet", "--env", "staging"),
]


@pytest.mark.parametrize("args", KNOWN_BUT_EMPTY, ids=" ".join)
def test_a_known_prompt_never_deployed_there_is_an_empty_result(
    registry: Path, args: tuple[str, ...]
) -> None:
    r = run_cli("-C", str(registry), *args)
    assert r.returncode == 0, r.stderr
    as_json = run_cli("-C", str(registry), *args, "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) in (None, [])


def test_a_retired_environment_in_history_stays_valid(registry: Path) -> None:
    r = run_cli("-C", str(registry), "history", "greet", "--env", "canary", "--json")
    assert r.returncode == 0, r.stderr
    assert [e["action"] for e in json.loads(r.stdout)] == ["deploy", "remove"]
    at = run_cli("-C", str(registry), "active", "greet", "--env", "canary", "--at",
                 "2026-11-21T12:00:00Z", "--json")  # fmt: skip
    assert at.returncode == 0, at.stderr
    assert json.loads(at.stdout)["version"] == "1.0.0"
    gone = run_cli("-C", str(registry), "active", "greet", "--env", "canary", "--at", AT)
    assert gone.returncode == 0 and "nothing was active" in gone.stdout, gone.stderr
