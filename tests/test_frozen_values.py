"""A released version's frozen fields compare as typed values: ``true`` is not ``1`` and
``0.0`` is not ``0`` (a model API receives different JSON), while mapping order is no change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.testing import LENIENT_SETTINGS, commit_all, git, run_cli, version_yaml, write

V1 = "prompts/hr/1.0.0.yaml"


def _released(repo: Path, model: str) -> None:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, V1, version_yaml("hr", "1.0.0") + model)
    commit_all(repo, "release 1.0.0")
    git(repo, "checkout", "-q", "-b", "feature")


def _frozen(repo: Path, model: str) -> list[tuple[str, str, int]]:
    write(repo, V1, version_yaml("hr", "1.0.0") + model)
    git(repo, "commit", "-qam", "edit the released model block", "--no-verify")
    proc = run_cli("-C", str(repo), "check", "--json", "--base", "main")
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    return [(p["code"], p["path"], p["line"]) for p in json.loads(proc.stdout)]


BASE = "model:\n  max_tokens: 1\n  stream: 0\n"


@pytest.mark.parametrize(
    "edited",
    [
        "model:\n  max_tokens: true\n  stream: 0.0\n",
        "model:\n  max_tokens: true\n  stream: 0\n",
        "model:\n  max_tokens: 1\n  stream: 0.0\n",
        "model:\n  max_tokens: 1.0\n  stream: 0\n",
        "model:\n  max_tokens: 1\n  stream: false\n",
    ],
)
def test_a_value_of_another_type_is_a_change(repo: Path, edited: str) -> None:
    _released(repo, BASE)
    assert _frozen(repo, edited) == [("frozen-field", V1, 10)]


def test_the_same_values_in_another_order_are_no_change(repo: Path) -> None:
    _released(repo, BASE)
    assert _frozen(repo, "model: {stream: 0, max_tokens: 1}\n") == []


def test_a_list_of_numbers_keeps_its_types(repo: Path) -> None:
    _released(repo, "model:\n  stop: [1, 2]\n")
    assert _frozen(repo, "model:\n  stop: [true, 2.0]\n") == [("frozen-field", V1, 10)]
