"""A folder where a version, pointer or suite file belongs is reported as ``not-regular``
with its path, by ``check`` and ``status`` (exit 1), whether it is empty or not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.testing import LENIENT_SETTINGS, commit_all, run_cli, version_yaml, write


@pytest.fixture
def registry(repo: Path) -> Path:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, "prompts/q/1.0.0.yaml", version_yaml("q", "1.0.0"))
    commit_all(repo, "registry")
    return repo


FOLDERS = ["deployments/development/z.yaml", "prompts/p/1.0.0.yaml", "evals/q.yaml"]


@pytest.mark.parametrize("folder", FOLDERS)
@pytest.mark.parametrize("empty", [True, False], ids=["empty", "with-a-file"])
def test_check_reports_a_folder_named_like_a_file(registry: Path, folder: str, empty: bool) -> None:
    (registry / folder).mkdir(parents=True)
    if not empty:
        write(registry, f"{folder}/notes.txt", "x\n")
    r = run_cli("-C", str(registry), "check", "--all", "--json")
    assert r.returncode == 1, (r.stdout, r.stderr)
    found = [(p["code"], p["path"]) for p in json.loads(r.stdout)]
    assert ("not-regular", folder) in found, found


def test_status_reports_a_folder_where_a_pointer_belongs(registry: Path) -> None:
    (registry / "deployments/development/z.yaml").mkdir(parents=True)
    r = run_cli("-C", str(registry), "status", "--json")
    assert r.returncode == 1, (r.stdout, r.stderr)
    (row,) = json.loads(r.stdout)
    assert (row["prompt_id"], row["environment"]) == ("z", "development")
    assert [(p["code"], p["path"]) for p in row["problems"]] == [
        ("not-regular", "deployments/development/z.yaml")
    ]
