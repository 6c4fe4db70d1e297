"""check --all on worker processes (registry/check/parallel.py) finds what the serial path finds.

Every bad-file case of tests/example-files/check/ is checked in a registry that also holds
prompts of its own (so the shards are not empty and a prompt's files and pointers land
together), once on one process and once sharded over three; the problem lists must be equal,
and the sharded run must really have forked.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from registry.check import parallel
from registry.check.run import run_check
from registry.models import Problem
from tests.test_check_cli import _case_files, _check_cases
from tests.testing import LENIENT_SETTINGS, commit_all, init_repo, pointer_yaml, version_yaml, write


def _fillers(repo: Path) -> None:
    """Prompts of every shape the rules read across files: several versions, pointers in
    each environment, a placeholder added within a major, a Mustache-style brace."""
    for i in range(5):
        pid = f"filler_{i}"
        for ver in ("1.0.0", "1.1.0", "2.0.0"):
            write(repo, f"prompts/{pid}/{ver}.yaml", version_yaml(pid, ver))
        write(repo, f"deployments/staging/{pid}.yaml", pointer_yaml(pid, "staging", "2.0.0"))
        write(repo, f"deployments/production/{pid}.yaml", pointer_yaml(pid, "production", "1.1.0"))
    write(repo, "prompts/grows/1.0.0.yaml", version_yaml("grows", "1.0.0", "Hi {name}\n"))
    write(repo, "prompts/grows/1.1.0.yaml", version_yaml("grows", "1.1.0", "Hi {name} {age}\n"))
    write(repo, "prompts/braces/1.0.0.yaml", version_yaml("braces", "1.0.0", "Hi {{name}}\n"))
    write(repo, "deployments/production/ghost.yaml", pointer_yaml("ghost", "production", "1.0.0"))


def _both(repo: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Problem], list[Problem]]:
    """(serial, sharded) problems of ``check --all``; asserts the sharded run forked."""
    monkeypatch.setattr(parallel, "PARALLEL_MIN_FILES", 0)
    monkeypatch.setattr(parallel, "processes", lambda: 1)
    serial, _ = run_check(repo, [], check_all=True)
    forks: list[int] = []
    real_fork = os.fork

    def counting_fork() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(parallel, "processes", lambda: 3)
    monkeypatch.setattr(os, "fork", counting_fork)
    sharded, _ = run_check(repo, [], check_all=True)
    assert len(forks) == 3
    return serial, sharded


@pytest.mark.parametrize("case", _check_cases(), ids=lambda p: p.name)
def test_each_bad_file_case_is_found_alike_on_one_process_and_on_three(
    tmp_path: Path, case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = init_repo(tmp_path / "repo")
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    _fillers(repo)
    for rel, text in _case_files(case).items():
        write(repo, rel, text)
    commit_all(repo, "case")
    serial, sharded = _both(repo, monkeypatch)
    assert serial == sharded
    codes = {p.code for p in serial}
    assert {"breaking-variables", "mustache-placeholder", "missing-version"} <= codes


def test_strict_and_broken_settings_and_uncommitted_pointers_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = init_repo(tmp_path / "repo")
    _fillers(repo)  # no settings file: the strict default, every pointer untested
    commit_all(repo, "strict")
    serial, sharded = _both(repo, monkeypatch)
    assert serial == sharded and "untested" in {p.code for p in serial}
    # An uncommitted pointer is judged for promotion, in the parent.
    write(
        repo,
        "deployments/production/filler_0.yaml",
        pointer_yaml("filler_0", "production", "2.0.0"),
    )
    serial, sharded = _both(repo, monkeypatch)
    assert serial == sharded
    # A promotion rule: judged only for the uncommitted pointer, in the parent.
    write(
        repo,
        "promptreg.yaml",
        LENIENT_SETTINGS.replace("production: {", "production: {promote_from: staging, "),
    )
    write(
        repo,
        "deployments/production/filler_1.yaml",
        pointer_yaml("filler_1", "production", "1.0.0"),
    )
    serial, sharded = _both(repo, monkeypatch)
    assert serial == sharded
    assert [p.path for p in serial if p.code == "not-promoted"] == [
        "deployments/production/filler_1.yaml"
    ]
    # Broken settings: the pointers' policy problems are left out alike.
    write(repo, "promptreg.yaml", "environments: [1, 2]\n")
    serial, sharded = _both(repo, monkeypatch)
    assert serial == sharded and "schema" in {p.code for p in serial}


def test_a_shard_whose_fork_fails_is_checked_in_the_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = init_repo(tmp_path / "repo")
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    _fillers(repo)
    commit_all(repo, "init")
    monkeypatch.setattr(parallel, "PARALLEL_MIN_FILES", 0)
    monkeypatch.setattr(parallel, "processes", lambda: 1)
    serial, _ = run_check(repo, [], check_all=True)

    def no_fork() -> int:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(parallel, "processes", lambda: 2)
    monkeypatch.setattr(os, "fork", no_fork)
    fallen_back, _ = run_check(repo, [], check_all=True)
    assert fallen_back == serial and serial
