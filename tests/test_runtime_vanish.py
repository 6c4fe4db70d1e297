"""The runtime never takes a registry that vanished (a sync swapping or deleting files under
it) for a good update, and still takes a removal that a commit made."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from registry import PromptRegistry, RegistryError
from tests.testing import commit_all, fresh, git, init_repo, pointer_yaml, version_yaml, write

SETTINGS = "environments:\n  live: {require_tested: false}\n"
PROMPTS = ("alpha", "beta")


def _fill(root: Path) -> None:
    write(root, "promptreg.yaml", SETTINGS)
    for pid in PROMPTS:
        write(root, f"prompts/{pid}/1.0.0.yaml", version_yaml(pid, "1.0.0"))
        write(root, f"deployments/live/{pid}.yaml", pointer_yaml(pid, "live", "1.0.0"))


def _swap(link: Path, target: Path) -> None:
    tmp = link.with_name(link.name + ".next")
    tmp.symlink_to(target)
    os.replace(tmp, link)


def _hammer(reg: PromptRegistry, churn: Callable[[], None], readers: int = 4) -> tuple[int, int]:
    """Readers ask for every prompt while ``churn`` runs; (wrong answers, reads)."""
    stop = threading.Event()
    wrong = [0] * readers
    reads = [0] * readers

    def read(i: int) -> None:
        while not stop.is_set():
            for pid in PROMPTS:
                try:
                    v = reg.get_active(pid, "live")
                    ok = v is not None and v.version == "1.0.0"
                except RegistryError:
                    ok = False
                reads[i] += 1
                if not ok:
                    wrong[i] += 1

    threads = [threading.Thread(target=read, args=(i,)) for i in range(readers)]
    for t in threads:
        t.start()
    try:
        churn()
    finally:
        stop.set()
        for t in threads:
            t.join()
    return sum(wrong), sum(reads)


def test_plain_folders_swapped_and_deleted_while_read_never_give_a_wrong_answer(
    tmp_path: Path,
) -> None:
    template = tmp_path / "template"
    _fill(template)
    shutil.copytree(template, tmp_path / "copy0")
    current = tmp_path / "current"
    current.symlink_to(tmp_path / "copy0")

    def churn() -> None:
        for i in range(12):
            new = tmp_path / f"copy{i + 1}"
            shutil.copytree(template, new)
            # An rsync --delete in progress: the settings and pointers go first.
            (new / "promptreg.yaml").unlink()
            shutil.rmtree(new / "deployments")
            _swap(current, new)
            time.sleep(0.005)
            shutil.copytree(template / "deployments", new / "deployments")
            shutil.copy(template / "promptreg.yaml", new / "promptreg.yaml")
            time.sleep(0.005)
            shutil.rmtree(tmp_path / f"copy{i}")  # the old copy, deleted while it may be read

    with PromptRegistry(current, refresh_interval=0.0) as reg:
        assert reg.get_active("alpha", "live") is not None
        wrong, reads = _hammer(reg, churn)
    assert reads > 100
    assert wrong == 0


def test_git_sync_worktrees_swapped_and_deleted_while_read_never_give_a_wrong_answer(
    tmp_path: Path,
) -> None:
    origin = init_repo(tmp_path / "origin")
    _fill(origin)
    commit = commit_all(origin, "deploy")
    git(origin, "worktree", "add", "-q", "--detach", str(tmp_path / "wt0"), commit)
    current = tmp_path / "current"
    current.symlink_to(tmp_path / "wt0")

    def churn() -> None:
        for i in range(8):
            new = tmp_path / f"wt{i + 1}"
            # The link is swapped before the checkout is there (no .git yet, then files).
            new.mkdir()
            _swap(current, new)
            time.sleep(0.005)
            git(origin, "worktree", "add", "-q", "--detach", str(new), commit)
            time.sleep(0.005)
            shutil.rmtree(tmp_path / f"wt{i}")  # deleted under readers; git learns it later
            git(origin, "worktree", "prune")

    with PromptRegistry(current, refresh_interval=0.0) as reg:
        assert reg.get_active("alpha", "live") is not None
        wrong, reads = _hammer(reg, churn)
        assert reg.snapshot_id == commit
    assert reads > 100
    assert wrong == 0


def test_a_plain_folder_losing_its_settings_keeps_serving_and_says_why(tmp_path: Path) -> None:
    root = tmp_path / "image"
    _fill(root)
    with PromptRegistry(root, refresh_interval=0.0) as reg:
        assert fresh(reg).get_active("alpha", "live") is not None
        (root / "promptreg.yaml").unlink()
        assert fresh(reg).get_active("alpha", "live").version == "1.0.0"  # type: ignore[union-attr]
        assert reg.last_error is not None and "promptreg.yaml" in reg.last_error
        # Back again (the sync finished): a good update, the error is gone.
        write(root, "promptreg.yaml", SETTINGS + "  qa: {require_tested: false}\n")
        assert fresh(reg).get_active("alpha", "live").version == "1.0.0"  # type: ignore[union-attr]
        assert reg.last_error is None and "qa" in reg.settings.names


def test_a_plain_folder_losing_a_pointer_never_served_keeps_it(tmp_path: Path) -> None:
    root = tmp_path / "image"
    _fill(root)
    with PromptRegistry(root, refresh_interval=0.0) as reg:
        assert reg.get_active("alpha", "live") is not None
        (root / "deployments/live/beta.yaml").unlink()
        reg.reload()
        assert reg.last_error is not None and "deployments/live/beta.yaml" in reg.last_error
        assert reg.get_active("alpha", "live") is not None


def test_a_commit_removing_the_settings_and_pointers_is_accepted(repo: Path) -> None:
    _fill(repo)
    commit_all(repo, "deploy")
    with PromptRegistry(repo, refresh_interval=0.0) as reg:
        assert fresh(reg).get_active("alpha", "live") is not None
        git(repo, "rm", "-q", "promptreg.yaml", "deployments/live/beta.yaml")
        gone = commit_all(repo, "retire the live environment's settings and beta")
        with pytest.raises(RegistryError, match="not configured"):
            fresh(reg).get_active("alpha", "live")
        assert reg.snapshot_id == gone and reg.last_error is None
        assert fresh(reg).get_active("beta", "production") is None


def test_a_commit_removing_a_served_pointer_is_accepted(repo: Path) -> None:
    _fill(repo)
    commit_all(repo, "deploy")
    with PromptRegistry(repo, refresh_interval=0.0) as reg:
        assert fresh(reg).get_active("beta", "live") is not None
        git(repo, "rm", "-q", "deployments/live/beta.yaml")
        commit_all(repo, "remove beta")
        assert fresh(reg).get_active("beta", "live") is None
        assert reg.last_error is None


def test_a_git_root_swapped_to_a_folder_without_git_is_not_read_as_files(
    tmp_path: Path,
) -> None:
    origin = init_repo(tmp_path / "origin")
    _fill(origin)
    commit = commit_all(origin, "deploy")
    git(origin, "worktree", "add", "-q", "--detach", str(tmp_path / "wt"), commit)
    current = tmp_path / "current"
    current.symlink_to(tmp_path / "wt")
    plain = tmp_path / "plain"
    _fill(plain)
    write(plain, "promptreg.yaml", "environments:\n  qa: {require_tested: false}\n")
    with PromptRegistry(current, refresh_interval=0.0) as reg:
        assert fresh(reg).get_active("alpha", "live") is not None
        _swap(current, plain)
        assert fresh(reg).get_active("alpha", "live").version == "1.0.0"  # type: ignore[union-attr]
        assert reg.snapshot_id == commit
        assert reg.last_error is not None and "git" in reg.last_error
