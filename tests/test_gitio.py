from __future__ import annotations

import gc
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from registry.errors import GitError
from registry.gitio import run as gitio
from registry.gitio.catfile import CatFile
from registry.gitio.refs import head_state, resolve_head
from registry.gitio.repo import find_work_tree
from registry.gitio.run import (
    TreeEntry,
    diff_names,
    is_shallow,
    ls_index,
    ls_tree,
    rev_parse,
    run_git,
    stream_git,
)
from tests.testing import commit_all, git, init_repo, write


def _children() -> set[int]:
    """Live child processes of this process (Linux), zombies excluded."""
    pids: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        pids.update(int(p) for p in (task / "children").read_text().split())
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


needs_proc = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir(), reason="counts processes through /proc"
)


@pytest.fixture
def filled(repo: Path) -> Path:
    write(repo, "a.txt", "alpha\n")
    write(repo, "dir/b.txt", "beta\n")
    commit_all(repo, "first", date="2026-01-01T00:00:00Z")
    return repo


# -- find_work_tree, run_git, rev_parse -----------------------------------------------------------


def test_find_root_walks_up_to_the_work_tree(filled: Path) -> None:
    (filled / "dir" / "deep").mkdir()
    assert find_work_tree(filled / "dir" / "deep") == filled.resolve()
    assert find_work_tree(filled) == filled.resolve()


def test_find_root_none_outside_a_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    if any((p / ".git").exists() for p in (plain, *plain.parents)):
        pytest.skip("the temporary folder is itself inside a git repository")
    assert find_work_tree(plain) is None


def test_find_root_accepts_a_dot_git_file(filled: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    git(filled, "worktree", "add", "-q", "-b", "side", str(wt))
    assert (wt / ".git").is_file()
    assert find_work_tree(wt) == wt.resolve()


def test_run_git_returns_stdout_and_raises_with_stderr(filled: Path) -> None:
    assert run_git(filled, "rev-parse", "--show-toplevel").strip() == str(filled).encode()
    with pytest.raises(GitError) as info:
        run_git(filled, "cat-file", "-p", "nope:missing")
    message = str(info.value)
    assert "git cat-file -p nope:missing" in message
    assert "fatal" in message and "exit 128" in message
    assert run_git(filled, "cat-file", "-p", "nope:missing", check=False) == b""


def test_run_git_sanitizes_the_environment(
    filled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = init_repo(tmp_path / "other")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    # An inherited GIT_DIR must not redirect an explicit root.
    assert run_git(filled, "rev-parse", "--show-toplevel").strip() == str(filled).encode()
    env = run_git(filled, "var", "GIT_PAGER").strip()
    assert env == b"cat"
    assert run_git(filled, "var", "GIT_PAGER", env={"GIT_PAGER": "less"}).strip() == b"less"


def test_run_git_passes_input(filled: Path) -> None:
    sha = run_git(filled, "hash-object", "--stdin", input=b"hello\n").strip().decode()
    assert sha == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_rev_parse(filled: Path) -> None:
    head = git(filled, "rev-parse", "HEAD").strip()
    assert rev_parse(filled, "HEAD") == head
    assert rev_parse(filled, "main") == head
    assert rev_parse(filled, "no-such-branch") is None
    tree = git(filled, "rev-parse", "HEAD^{tree}").strip()
    assert rev_parse(filled, tree) is None  # a tree is not a commit


def test_rev_parse_rejects_option_like_revs_before_git(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*a: object, **k: object) -> None:
        raise AssertionError("git must not run")

    monkeypatch.setattr(subprocess, "run", boom)
    for rev in ("-rf", "--output=/tmp/x", "", "a\nb"):
        with pytest.raises(GitError, match="invalid git revision"):
            rev_parse(filled, rev)


def test_rev_parse_outside_a_repository_raises(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    if any((p / ".git").exists() for p in (plain, *plain.parents)):
        pytest.skip("the temporary folder is itself inside a git repository")
    with pytest.raises(GitError, match="not a git repository"):
        rev_parse(plain, "HEAD")


def test_is_shallow(filled: Path, tmp_path: Path) -> None:
    commit_all(filled, "second")
    assert not is_shallow(filled)
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{filled}", str(clone))
    assert is_shallow(clone)


# -- trees, index, diffs ---------------------------------------------------------------------


def test_ls_tree_reports_modes_types_and_paths(filled: Path) -> None:
    os.symlink("a.txt", filled / "link")
    tool = write(filled, "tool.sh", "#!/bin/sh\n")
    tool.chmod(0o755)
    commit_all(filled, "more")
    entries = {e.path: e for e in ls_tree(filled, "HEAD")}
    assert entries["link"].mode == "120000" and entries["link"].type == "blob"
    assert entries["tool.sh"].mode == "100755"
    assert entries["dir/b.txt"] == TreeEntry(
        "100644", "blob", git(filled, "rev-parse", "HEAD:dir/b.txt").strip(), "dir/b.txt"
    )
    assert [e.path for e in ls_tree(filled, "HEAD", ["dir"])] == ["dir/b.txt"]
    assert ls_tree(filled, "HEAD", ["nothing-here"]) == []


def test_ls_tree_treats_paths_literally(filled: Path) -> None:
    write(filled, "-n.txt", "dash\n")
    commit_all(filled, "dash")
    assert ls_tree(filled, "HEAD", ["*.txt"]) == []
    assert [e.path for e in ls_tree(filled, "HEAD", ["-n.txt"])] == ["-n.txt"]


def test_ls_index_and_git_index_file(filled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(filled, "staged.txt", "s\n")
    git(filled, "add", "staged.txt")
    assert {e.path for e in ls_index(filled)} == {"a.txt", "dir/b.txt", "staged.txt"}
    assert all(e.type == "blob" and e.mode == "100644" for e in ls_index(filled))
    alt = filled / ".git" / "alt-index"
    env = {**os.environ, "GIT_INDEX_FILE": str(alt)}
    subprocess.run(["git", "read-tree", "HEAD"], cwd=filled, env=env, check=True)
    write(filled, "other.txt", "o\n")
    subprocess.run(["git", "add", "other.txt"], cwd=filled, env=env, check=True)
    monkeypatch.setenv("GIT_INDEX_FILE", str(alt))
    assert {e.path for e in ls_index(filled)} == {"a.txt", "dir/b.txt", "other.txt"}
    # A relative GIT_INDEX_FILE means relative to where we run, as git meant it for a hook.
    monkeypatch.chdir(filled / "dir")
    monkeypatch.setenv("GIT_INDEX_FILE", "../.git/alt-index")
    assert {e.path for e in ls_index(filled)} == {"a.txt", "dir/b.txt", "other.txt"}


def test_ls_index_reports_gitlinks_as_commits(filled: Path) -> None:
    head = git(filled, "rev-parse", "HEAD").strip()
    git(filled, "update-index", "--add", "--cacheinfo", f"160000,{head},sub")
    (entry,) = [e for e in ls_index(filled) if e.path == "sub"]
    assert (entry.mode, entry.type, entry.sha) == ("160000", "commit", head)


def test_diff_names(filled: Path) -> None:
    base = git(filled, "rev-parse", "HEAD").strip()
    write(filled, "a.txt", "alpha changed\n")
    git(filled, "mv", "dir/b.txt", "dir/c.txt")
    write(filled, "new.txt", "n\n")
    head = commit_all(filled, "change")
    assert sorted(diff_names(filled, base, head)) == [
        ("A", "new.txt", None),
        ("M", "a.txt", None),
        ("R", "dir/c.txt", "dir/b.txt"),
    ]
    (filled / "new.txt").unlink()
    git(filled, "rm", "-q", "--cached", "new.txt")
    write(filled, "a.txt", "worktree only\n")
    assert diff_names(filled, head, cached=True) == [("D", "new.txt", None)]
    assert sorted(diff_names(filled, head)) == [("D", "new.txt", None), ("M", "a.txt", None)]
    with pytest.raises(ValueError, match="head must be None"):
        diff_names(filled, base, head, cached=True)
    with pytest.raises(GitError, match="invalid git revision"):
        diff_names(filled, "--output=x")


# -- CatFile ---------------------------------------------------------------------------------


def test_catfile_reads_and_reports_missing(filled: Path) -> None:
    with CatFile(filled) as cat:
        assert cat.read("HEAD:a.txt") == b"alpha\n"
        sha = git(filled, "rev-parse", "HEAD:dir/b.txt").strip()
        assert cat.read(sha) == b"beta\n"
        assert cat.read("HEAD:nope") is None
        assert cat.read("0" * 40) is None
        assert cat.read_many(["HEAD:a.txt", "HEAD:nope", "HEAD:dir/b.txt"]) == [
            b"alpha\n",
            None,
            b"beta\n",
        ]
        assert cat.read_many([]) == []


def test_catfile_refuses_newlines(filled: Path) -> None:
    with CatFile(filled) as cat:
        with pytest.raises(GitError, match="newline"):
            cat.read("HEAD:a.txt\nHEAD:dir/b.txt")
        assert cat.read("HEAD:a.txt") == b"alpha\n"


def test_catfile_binary_and_large_batches_do_not_deadlock(filled: Path) -> None:
    big = bytes(range(256)) * 4096 + b"\n\n"  # 1 MiB, newlines and NULs inside
    write(filled, "big.bin", big)
    commit_all(filled, "big")
    specs = ["HEAD:big.bin", "HEAD:a.txt", "HEAD:missing"] * 400
    with CatFile(filled) as cat:
        answers = cat.read_many(specs)
    assert answers[::3] == [big] * 400
    assert answers[1::3] == [b"alpha\n"] * 400
    assert answers[2::3] == [None] * 400


@needs_proc
def test_catfile_keeps_one_process_and_close_ends_it(filled: Path) -> None:
    before = _children()
    cat = CatFile(filled)
    for _ in range(200):
        assert cat.read("HEAD:a.txt") == b"alpha\n"
    cat.read_many(["HEAD:a.txt"] * 500)
    assert len(_children() - before) == 1
    cat.close()
    cat.close()
    assert _children() - before == set()


@needs_proc
def test_catfile_dropped_without_close_ends_its_process(filled: Path) -> None:
    before = _children()
    cat = CatFile(filled)
    cat.read("HEAD:a.txt")
    assert len(_children() - before) == 1
    del cat
    gc.collect()
    assert _children() - before == set()


def test_catfile_restarts_after_its_process_dies(filled: Path) -> None:
    with CatFile(filled) as cat:
        assert cat.read("HEAD:a.txt") == b"alpha\n"
        assert cat._proc is not None
        cat._proc.kill()
        cat._proc.wait()
        assert cat.read("HEAD:a.txt") == b"alpha\n"


def test_catfile_outside_a_repository_raises_with_gits_message(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    if any((p / ".git").exists() for p in (plain, *plain.parents)):
        pytest.skip("the temporary folder is itself inside a git repository")
    with CatFile(plain) as cat, pytest.raises(GitError, match="not a git repository"):
        cat.read("HEAD:a.txt")


def test_catfile_is_thread_safe(filled: Path) -> None:
    errors: list[BaseException] = []
    with CatFile(filled) as cat:

        def work() -> None:
            try:
                for _ in range(100):
                    assert cat.read_many(["HEAD:a.txt", "HEAD:dir/b.txt"]) == [
                        b"alpha\n",
                        b"beta\n",
                    ]
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_catfile_survives_fork(filled: Path) -> None:
    cat = CatFile(filled)
    assert cat.read("HEAD:a.txt") == b"alpha\n"
    parent_proc = cat._proc
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            ok = cat.read("HEAD:dir/b.txt") == b"beta\n" and cat._proc is not parent_proc
            cat.close()
            code = 0 if ok else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert cat._proc is parent_proc
    assert cat.read("HEAD:a.txt") == b"alpha\n"
    started = time.monotonic()
    cat.close()
    assert time.monotonic() - started < 2


# -- HEAD tracking ---------------------------------------------------------------------------


def test_head_state_changes_on_commit_and_checkout(filled: Path) -> None:
    first = head_state(filled)
    assert head_state(filled) == first
    commit_all(filled, "second")
    second = head_state(filled)
    assert second != first
    git(filled, "checkout", "-q", "-b", "other")  # same commit, another branch
    assert head_state(filled) != second
    git(filled, "checkout", "-q", "--detach")
    assert head_state(filled) not in (first, second)


def test_head_state_sees_a_commit_through_packed_refs(filled: Path) -> None:
    before = head_state(filled)
    git(filled, "pack-refs", "--all")
    packed = head_state(filled)
    assert packed != before
    commit_all(filled, "second")  # writes a loose ref again
    assert head_state(filled) != packed


def test_head_state_with_a_relative_gitdir_file(tmp_path: Path) -> None:
    work = init_repo(tmp_path / "work")
    write(work, "a.txt", "a\n")
    commit_all(work, "one")
    (work / ".git").rename(tmp_path / "store.git")
    (work / ".git").write_text("gitdir: ../store.git\n")
    assert find_work_tree(work) == work.resolve()
    before = head_state(work)
    assert resolve_head(work) == git(work, "rev-parse", "HEAD").strip()
    commit_all(work, "two")
    assert head_state(work) != before
    assert resolve_head(work) == git(work, "rev-parse", "HEAD").strip()


def test_head_state_in_a_linked_worktree(filled: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    git(filled, "worktree", "add", "-q", "-b", "side", str(wt))
    main_before, wt_before = head_state(filled), head_state(wt)
    assert main_before != wt_before
    write(wt, "w.txt", "w\n")
    commit_all(wt, "in worktree")
    assert head_state(wt) != wt_before
    assert head_state(filled) == main_before
    assert resolve_head(wt) == git(wt, "rev-parse", "HEAD").strip()


def test_head_state_without_git(tmp_path: Path) -> None:
    assert head_state(tmp_path) == ("no-git",)


def test_resolve_head_loose_packed_detached_and_unborn(repo: Path) -> None:
    assert resolve_head(repo) is None
    write(repo, "a.txt", "a\n")
    commit_all(repo, "one")
    assert resolve_head(repo) == git(repo, "rev-parse", "HEAD").strip()
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    assert resolve_head(repo) == git(repo, "rev-parse", "HEAD").strip()
    commit_all(repo, "two")
    assert resolve_head(repo) == git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "--detach", "HEAD~1")
    assert resolve_head(repo) == git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "--orphan", "fresh")
    assert resolve_head(repo) is None


def test_resolve_head_spawns_no_process_for_plain_refs(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = git(filled, "rev-parse", "HEAD").strip()

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("no process expected")

    monkeypatch.setattr(gitio, "_run", boom)
    assert resolve_head(filled) == expected
    assert head_state(filled)


def test_stream_git_yields_output_and_raises_on_failure(filled: Path) -> None:
    streamed = b"".join(stream_git(filled, "log", "--format=%H %s"))
    assert streamed == run_git(filled, "log", "--format=%H %s")
    with pytest.raises(GitError, match=r"bad revision|unknown revision"):
        list(stream_git(filled, "log", "no-such-rev", "--"))


@needs_proc
def test_stream_git_closed_early_stops_git(filled: Path) -> None:
    for i in range(30):
        commit_all(filled, f"c{i}")
    before = _children()
    stream = stream_git(filled, "rev-list", "--all", "--objects", "--no-object-names")
    assert next(stream)
    stream.close()
    assert _children() - before == set()


def test_the_write_lock_of_a_linked_worktree_lives_in_its_git_dir(
    filled: Path, tmp_path: Path
) -> None:
    from registry.fsio import write_lock

    wt = tmp_path / "linked"
    git(filled, "worktree", "add", "-q", "-b", "linked", str(wt))
    with write_lock(wt):
        assert (filled / ".git" / "worktrees" / "linked" / "promptreg.lock").is_file()
    assert not (wt / ".promptreg.lock").exists()
