"""Read commands outside a registry, or of an unknown prompt, say so and exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clirun import run
from tests.testing import LENIENT_SETTINGS, commit_all, init_repo, pointer_yaml, version_yaml, write

COMMANDS = [
    ("list",),
    ("list", "--json"),
    ("status",),
    ("status", "--json"),
    ("history", "greet"),
    ("history", "greet", "--json"),
    ("show", "greet"),
    ("active", "greet", "--env", "production"),
    ("active", "greet", "--env", "production", "--at", "2026-11-21T00:00:00Z"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_outside_a_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    # A git repository with files, but no prompts/ and no deployments/.
    repo = init_repo(tmp_path / "elsewhere")
    write(repo, "README.md", "not a registry\n")
    commit_all(repo, "unrelated")
    r = run(capsys, "-C", str(repo), *args)
    assert r.code == 1, (r.out, r.err)
    assert r.out == ""
    assert "is not a promptreg registry" in r.err and str(repo) in r.err
    assert "promptreg init" in r.err


@pytest.fixture
def registry(repo: Path) -> Path:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    write(repo, "prompts/quiet/1.0.0.yaml", version_yaml("quiet", "1.0.0"))
    write(repo, "deployments/production/greet.yaml", pointer_yaml("greet", "production", "1.0.0"))
    commit_all(repo, "registry")
    return repo


@pytest.mark.parametrize("json_flag", [(), ("--json",)], ids=["text", "json"])
def test_history_of_an_unknown_prompt(
    registry: Path, capsys: pytest.CaptureFixture[str], json_flag: tuple[str, ...]
) -> None:
    r = run(capsys, "-C", str(registry), "history", "gret", *json_flag)
    assert r.code == 1 and r.out == ""
    assert "prompt 'gret' not found" in r.err


def test_history_of_a_prompt_never_deployed_is_empty(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, "-C", str(registry), "history", "quiet", "--json")
    assert (r.code, r.out.strip()) == (0, "[]")
    assert run(capsys, "-C", str(registry), "history", "greet").code == 0


def test_a_fresh_registry_lists_nothing_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = init_repo(tmp_path / "new")
    (repo / "prompts").mkdir()
    for args in (("list", "--json"), ("status", "--json")):
        r = run(capsys, "-C", str(repo), *args)
        assert (r.code, r.out.strip()) == (0, "[]"), r.err
