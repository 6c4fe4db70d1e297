"""A history of every environment includes retired ones (folders that held the pointer but are
no longer configured), found by ``gitio/envdirs.py`` with or without what it remembered.

Each case is checked against the definition: the environment folders that a glob log over
``deployments/*/<prompt>.yaml`` lists on the first-parent chain, read by one literal history.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from registry.gitio.envdirs import CACHE_FILE, read_seen
from registry.gitio.log import environments_in_history
from registry.history import history, history_everywhere
from registry.models import PromptDeployment
from tests.testing import commit_all, git, pointer_yaml, write

PID = "greet"
CONFIGURED = ["development", "staging", "production"]


def _cache(repo: Path) -> Path:
    return repo.joinpath(".git", *CACHE_FILE)


def _defined(repo: Path, configured: list[str] = CONFIGURED) -> list[PromptDeployment]:
    """What history of every environment means: configured ones, then every folder a glob
    log finds on the first-parent chain, by name."""
    out = git(
        repo, "log", "--first-parent", "--format=", "--name-only", "--",
        f":(glob)deployments/*/{PID}.yaml",
    )  # fmt: skip
    found = {line.split("/")[1] for line in out.splitlines() if line}
    envs = [*configured, *sorted(found.difference(configured))]
    return history(repo, PID, None, envs)


def _deploy(repo: Path, env: str, version: str, when: int) -> None:
    write(repo, f"deployments/{env}/{PID}.yaml", pointer_yaml(PID, env, version))
    commit_all(repo, f"{version} to {env}", date=f"@{when} +0000")


def _retire(repo: Path, env: str, when: int) -> None:
    git(repo, "rm", "-q", "-r", f"deployments/{env}")
    commit_all(repo, f"retire {env}", date=f"@{when} +0000")


T = 1_795_000_000


def _deleted_retired(repo: Path) -> None:
    _deploy(repo, "production", "1.0.0", T)
    _deploy(repo, "canary", "1.0.0", T + 10)
    _deploy(repo, "canary", "1.1.0", T + 20)
    _retire(repo, "canary", T + 30)


def _renamed(repo: Path) -> None:
    # qa becomes staging: the folder is moved in one commit (a removal and a creation).
    _deploy(repo, "qa", "1.0.0", T)
    _deploy(repo, "qa", "1.1.0", T + 10)
    git(repo, "mv", "deployments/qa", "deployments/staging")
    commit_all(repo, "rename qa to staging", date=f"@{T + 20} +0000")
    _deploy(repo, "staging", "1.2.0", T + 30)


def _merged(repo: Path) -> None:
    # A pull request adds a pilot environment; it lands (and deploys) at the merge commit.
    _deploy(repo, "production", "1.0.0", T)
    git(repo, "checkout", "-q", "-b", "pilot")
    _deploy(repo, "pilot", "1.0.0", T + 10)
    # A folder created and removed inside the branch never exists on the first-parent chain.
    _deploy(repo, "scratch", "1.0.0", T + 15)
    _retire(repo, "scratch", T + 16)
    git(repo, "checkout", "-q", "main")
    _deploy(repo, "production", "1.1.0", T + 20)
    git(repo, "merge", "-q", "--no-ff", "-m", "merge pilot", "pilot", date=f"@{T + 30} +0000")
    _retire(repo, "pilot", T + 40)


def _still_on_disk(repo: Path) -> None:
    # Removed from the settings only: the folder and its pointer are still there.
    _deploy(repo, "eu", "1.0.0", T)
    _deploy(repo, "production", "1.0.0", T + 10)


SCENARIOS: dict[str, Callable[[Path], None]] = {
    "retired-and-deleted": _deleted_retired,
    "renamed": _renamed,
    "merge-on-the-first-parent-chain": _merged,
    "retired-still-on-disk": _still_on_disk,
}


def _envs(events: list[PromptDeployment]) -> list[tuple[str, str | None, str]]:
    return [(e.environment, e.version, e.action) for e in events]


@pytest.mark.parametrize("build", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_every_environment_cold_and_warm(repo: Path, build: Callable[[Path], None]) -> None:
    build(repo)
    expected = _defined(repo)
    assert not _cache(repo).exists()
    assert history_everywhere(repo, PID, CONFIGURED) == expected  # nothing remembered yet
    assert _cache(repo).exists()
    assert history_everywhere(repo, PID, CONFIGURED) == expected  # from what was remembered


def test_the_scenarios_hold_what_they_say(repo: Path) -> None:
    _deleted_retired(repo)
    assert _envs(history_everywhere(repo, PID, CONFIGURED)) == [
        ("production", "1.0.0", "deploy"),
        ("canary", "1.0.0", "deploy"),
        ("canary", "1.1.0", "deploy"),
        ("canary", None, "remove"),
    ]


def test_a_renamed_environment_keeps_its_old_name_in_history(repo: Path) -> None:
    _renamed(repo)
    events = history_everywhere(repo, PID, CONFIGURED)
    assert _envs(events) == [
        ("qa", "1.0.0", "deploy"),
        ("qa", "1.1.0", "deploy"),
        ("staging", "1.1.0", "deploy"),  # the rename commit: created here, removed there
        ("qa", None, "remove"),
        ("staging", "1.2.0", "deploy"),
    ]
    assert environments_in_history(repo, PID) == ["qa", "staging"]


def test_a_merge_deploys_its_new_environment_at_the_merge(repo: Path) -> None:
    _merged(repo)
    merge = git(repo, "rev-parse", "HEAD~1").strip()
    events = history_everywhere(repo, PID, CONFIGURED)
    pilot = [e for e in events if e.environment == "pilot"]
    assert [(e.version, e.action, e.commit) for e in pilot] == [
        ("1.0.0", "deploy", merge),
        (None, "remove", git(repo, "rev-parse", "HEAD").strip()),
    ]
    assert "scratch" not in {e.environment for e in events}


def test_a_retired_folder_after_the_remembered_tip_is_found(repo: Path) -> None:
    _deploy(repo, "production", "1.0.0", T)
    history_everywhere(repo, PID, CONFIGURED)  # remembers the chain up to here
    tips, names = read_seen(repo)
    assert names == set(CONFIGURED) and tips == [git(repo, "rev-parse", "HEAD").strip()]
    _deploy(repo, "canary", "1.0.0", T + 10)
    _retire(repo, "canary", T + 20)
    assert history_everywhere(repo, PID, CONFIGURED) == _defined(repo)
    assert "canary" in read_seen(repo)[1]


def test_a_remembered_tip_on_another_branch_or_rewritten_history(repo: Path) -> None:
    _deploy(repo, "production", "1.0.0", T)
    git(repo, "checkout", "-q", "-b", "other")
    _deploy(repo, "canary", "1.0.0", T + 10)
    history_everywhere(repo, PID, CONFIGURED)  # remembers "other", canary included
    git(repo, "checkout", "-q", "main")
    _deploy(repo, "eu", "1.0.0", T + 20)  # main's own retired folder, after the fork
    events = history_everywhere(repo, PID, CONFIGURED)
    assert events == _defined(repo)
    assert {e.environment for e in events} == {"production", "eu"}  # canary is not on main
    git(repo, "reset", "-q", "--hard", "HEAD~1")  # rewritten: eu's commit is gone
    assert history_everywhere(repo, PID, CONFIGURED) == _defined(repo)
    assert environments_in_history(repo, PID) == ["production"]


def test_an_unreadable_or_unwritable_memory_changes_nothing(repo: Path) -> None:
    _deleted_retired(repo)
    expected = _defined(repo)
    write(repo, ".git/promptreg/environments", "promptreg environments 1\nenv ../x\n")
    assert history_everywhere(repo, PID, CONFIGURED) == expected
    assert read_seen(repo)[1] >= {"canary", *CONFIGURED}  # rewritten
    # A remembered tip that no longer exists (its branch deleted and pruned).
    gone = "promptreg environments 1\ntip " + "0" * 40 + "\nenv production\n"
    write(repo, ".git/promptreg/environments", gone)
    assert history_everywhere(repo, PID, CONFIGURED) == expected
    _cache(repo).unlink()
    _cache(repo).parent.rmdir()
    write(repo, ".git/promptreg", "a file where the folder would be")
    assert history_everywhere(repo, PID, CONFIGURED) == expected
    assert history_everywhere(repo, PID, CONFIGURED) == expected


def _started(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    started: list[list[str]] = []
    real_popen = subprocess.Popen

    def popen(args: list[str], *a: Any, **k: Any) -> Any:
        started.append(args)
        return real_popen(args, *a, **k)

    monkeypatch.setattr(subprocess, "Popen", popen)  # subprocess.run starts through it too
    return started


def _kinds(started: list[list[str]]) -> list[str]:
    # git -C root [-c ...] <command>: the first word that is not an option or its value
    kinds = []
    for args in started:
        rest = args[3:]
        while rest and rest[0].startswith("-"):
            rest = rest[2:] if rest[0] == "-c" else rest[1:]
        kinds.append(rest[0])
    return sorted(kinds)


def test_every_environment_is_one_pointer_log_once_remembered(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _deleted_retired(repo)
    started = _started(monkeypatch)
    history_everywhere(repo, PID, CONFIGURED)
    # Nothing remembered: the pointer log and the scan of deployments/ run side by side.
    assert _kinds(started) == ["cat-file", "log", "log", "log"], started
    started.clear()
    history_everywhere(repo, PID, CONFIGURED)
    assert _kinds(started) == ["cat-file", "log"], started
