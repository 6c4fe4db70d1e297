"""Large registries are parsed in worker processes; the findings must not change."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.check import parallel as shards
from registry.check.run import run_check
from tests.testing import commit_all, pointer_yaml, version_yaml, write


def _registry(repo: Path) -> None:
    for i in range(12):
        write(repo, f"prompts/p{i}/1.0.0.yaml", version_yaml(f"p{i}", "1.0.0"))
        write(
            repo, f"deployments/production/p{i}.yaml", pointer_yaml(f"p{i}", "production", "1.0.0")
        )
    write(repo, "prompts/bad/1.0.0.yaml", "prompt_id: bad\nversion: 1.10\n")
    write(repo, "prompts/tpl/1.0.0.yaml", version_yaml("tpl", "1.0.0", "Hi {name!r}\n"))
    write(repo, "deployments/production/gone.yaml", pointer_yaml("gone", "production", "2.0.0"))


def test_parallel_and_serial_checks_agree(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _registry(repo)
    commit_all(repo, "init")
    serial, _ = run_check(repo, [], check_all=True)
    monkeypatch.setattr(shards, "PARALLEL_MIN_FILES", 0)
    parallel, _ = run_check(repo, [], check_all=True)
    assert serial == parallel
    codes = {p.code for p in serial}
    # Untested everywhere (strict default), the broken files and the dangling pointer.
    assert {"untested", "schema", "template", "missing-version"} <= codes
