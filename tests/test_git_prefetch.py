"""A git state's files read ahead in pipelined cat-file batches load exactly as one by one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from registry.sources import GitSource
from registry.view import PREFETCH_FILES, RegistryView
from registry.yamlio.load import YamlError
from tests.testing import LENIENT_SETTINGS, commit_all, pointer_yaml, version_yaml, write


def _registry(repo: Path, versions: int) -> None:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    for i in range(versions):
        write(repo, f"prompts/p/1.{i}.0.yaml", version_yaml("p", f"1.{i}.0"))
    write(repo, "prompts/p/9.0.0.yaml", "prompt_id: p\nversion: [unclosed\n")
    write(repo, "deployments/staging/p.yaml", pointer_yaml("p", "staging", "1.0.0"))
    write(repo, "evals/p/cases.jsonl", '{"query": "q"}\n')
    os.symlink("1.0.0.yaml", repo / "prompts/p/7.0.0.yaml")
    commit_all(repo, "registry")


def _results(view: RegistryView) -> dict[str, object]:
    out: dict[str, object] = {}
    for e in view.entries():
        res = view.result_for(e.path)
        if res is not None:
            out[e.path] = (res.record, res.problems)
    return out


def test_preloaded_git_view_matches_files_loaded_one_by_one(repo: Path) -> None:
    # More files than one read-ahead chunk, a broken file among them.
    _registry(repo, PREFETCH_FILES + 3)
    one_by_one = RegistryView(GitSource(repo, "HEAD"), schema=True)
    ahead = RegistryView(GitSource(repo, "HEAD"), schema=True)
    try:
        ahead.preload([e.path for e in ahead.entries() if e.kind == "file"])
        expected = _results(one_by_one)
        assert _results(ahead) == expected
        assert expected["prompts/p/9.0.0.yaml"] != (None, [])
        assert len(expected) == PREFETCH_FILES + 7  # versions, broken, symlink, pointer, settings
    finally:
        one_by_one.source.close()
        ahead.source.close()


def test_read_ahead_hands_out_regular_files_only(repo: Path) -> None:
    _registry(repo, 1)
    src = GitSource(repo, "HEAD")
    try:
        paths = [e.path for e in src.entries()]
        src.prefetch(paths)
        # A symlink is still refused, never its target's bytes handed out.
        with pytest.raises(YamlError, match="not a regular file"):
            src.load("prompts/p/7.0.0.yaml")
        first = src.load("prompts/p/1.0.0.yaml")
        again = src.load("prompts/p/1.0.0.yaml")
        assert first is not None and again is not None and first.data == again.data
        # A data file is read when asked for, under its limit.
        assert src.read_data("evals/p/cases.jsonl", 1 << 20) == b'{"query": "q"}\n'
        with pytest.raises(YamlError, match="over the limit of 4 bytes"):
            src.read_data("evals/p/cases.jsonl", 4)
    finally:
        src.close()
