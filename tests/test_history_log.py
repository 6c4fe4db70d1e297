"""The one log history reads (``gitio/logstream.py``): a ``--sparse`` first-parent log lists
every commit of the chain and the pointer changes, so it must give exactly what a separate
``git rev-list --first-parent`` and a path-limited ``git log`` give, on real repositories
with merges, renames, retired environments and rewritten pointer files, however the stream
is cut into chunks."""

from __future__ import annotations

import fcntl
import itertools
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from registry.errors import GitError
from registry.gitio.logstream import Change, LogStream, log_args, parse
from registry.gitio.run import _grow_pipe, stream_git
from registry.history import history, history_everywhere
from tests.testing import commit_all, git, pointer_yaml, write

PID = "greet"
T = 1_795_000_000


def _pointer(env: str) -> str:
    return f"deployments/{env}/{PID}.yaml"


def _deploy(repo: Path, env: str, version: str, when: int, reason: str | None = None) -> str:
    write(repo, _pointer(env), pointer_yaml(PID, env, version, reason=reason))
    return commit_all(repo, f"{version} to {env}", date=f"@{when} +0100")


def _other(repo: Path, when: int, name: str = "notes.txt") -> str:
    write(repo, name, f"{when}\n")
    return commit_all(repo, f"touch {name}", date=f"@{when} -0700")


def _busy_history(repo: Path) -> None:
    """Every kind of commit history meets: the root commit creates a pointer; unrelated
    commits (one with a clock far ahead, one behind); merges that change the pointer, keep
    it, or bring a new environment; a folder renamed; a pointer deleted and recreated; a
    pointer rewritten to the same version, byte-identical with a new mode, and made a
    symlink; one commit changing several pointers; a retired environment."""
    _deploy(repo, "production", "1.0.0", T)  # the root commit
    _other(repo, T + 10_000)  # a clock ahead
    _deploy(repo, "staging", "1.0.0", T + 20)  # a clock behind
    git(repo, "checkout", "-q", "-b", "feature")
    _deploy(repo, "production", "1.1.0", T + 30)
    _deploy(repo, "pilot", "1.1.0", T + 31)
    git(repo, "checkout", "-q", "main")
    _other(repo, T + 40)
    git(repo, "merge", "-q", "--no-ff", "-m", "merge feature", "feature", date=f"@{T + 50} +0000")
    git(repo, "checkout", "-q", "-b", "side")
    _other(repo, T + 60, "side.txt")
    git(repo, "checkout", "-q", "main")
    _deploy(repo, "production", "1.2.0", T + 70)
    git(repo, "merge", "-q", "--no-ff", "-m", "merge side", "side", date=f"@{T + 80} +0000")
    git(repo, "mv", "deployments/staging", "deployments/qa")
    commit_all(repo, "rename staging to qa", date=f"@{T + 90} +0000")
    _deploy(repo, "production", "1.2.0", T + 100, reason="same version, new reason")
    (repo / _pointer("production")).chmod(0o755)
    commit_all(repo, "mode only", date=f"@{T + 110} +0000")
    git(repo, "rm", "-q", _pointer("production"))
    commit_all(repo, "undeploy", date=f"@{T + 120} +0000")
    _deploy(repo, "production", "1.3.0", T + 130)
    write(repo, _pointer("qa"), pointer_yaml(PID, "qa", "2.0.0"))
    write(repo, _pointer("pilot"), pointer_yaml(PID, "pilot", "2.0.0"))
    commit_all(repo, "two pointers at once", date=f"@{T + 140} +0000")
    git(repo, "rm", "-q", "-r", "deployments/pilot")
    commit_all(repo, "retire pilot", date=f"@{T + 150} +0000")
    write(repo, "elsewhere.yaml", pointer_yaml(PID, "qa", "6.6.6"))
    (repo / _pointer("qa")).unlink()
    (repo / _pointer("qa")).symlink_to("../../elsewhere.yaml")
    commit_all(repo, "a symlink", date=f"@{T + 160} +0000")


PATHS = [_pointer(env) for env in ("production", "staging", "qa", "pilot")]


def _log(repo: Path, paths: list[str], chain: bool) -> bytes:
    return git(repo, *log_args("HEAD", paths, chain)).encode("utf-8")


def _rev_list(repo: Path) -> list[tuple[str, int]]:
    """(commit, committer time) of the first-parent chain, oldest first, from rev-list."""
    out = git(repo, "rev-list", "--first-parent", "--timestamp", "HEAD").split()
    return [(c, int(t)) for t, c in zip(out[0::2], out[1::2], strict=True)][::-1]


def _changes(found: list[Change]) -> list[tuple[str, int, str, str, tuple[object, ...]]]:
    return [(c.commit, c.committed_at, c.tz_offset, c.author, c.files) for c in found]


@pytest.fixture
def busy(repo: Path) -> Path:
    _busy_history(repo)
    return repo


def test_the_sparse_log_gives_the_chain_rev_list_gives(busy: Path) -> None:
    changes, chain = parse([_log(busy, PATHS, chain=True)])
    expected = _rev_list(busy)
    assert len(expected) > len(changes) > 10  # unrelated commits are on the chain too
    assert chain.tip == expected[-1][0] == git(busy, "rev-parse", "HEAD").strip()
    assert {c.decode(): p for c, p in chain.places.items()} == {
        c: i for i, (c, _) in enumerate(expected)
    }
    assert chain.high == list(itertools.accumulate((t for _, t in expected), max))
    for change in changes:  # the place of each change, told by its index in the log
        assert chain.place_of_index(change.index) == chain.place(change.commit)


def test_the_sparse_log_gives_the_changes_the_path_limited_log_gives(busy: Path) -> None:
    for paths in [PATHS, PATHS[:1], PATHS[2:3]]:
        sparse, _ = parse([_log(busy, paths, chain=True)])
        limited, _ = parse([_log(busy, paths, chain=False)])
        assert _changes(sparse) == _changes(limited)
        # The plain definition, read without promptreg's parser.
        out = git(
            busy, "log", "--first-parent", "--diff-merges=first-parent", "--raw",
            "--no-renames", "--no-abbrev", "--format=commit %H", "--", *paths,
        )  # fmt: skip
        commits = [line.split()[1] for line in out.splitlines() if line.startswith("commit ")]
        assert [c.commit for c in sparse] == commits
        entries = [line.split("\t")[1] for line in out.splitlines() if line.startswith(":")]
        assert [f.path for c in sparse for f in c.files] == entries
    merges = git(busy, "rev-list", "--first-parent", "--merges", "HEAD").split()
    sparse, _ = parse([_log(busy, PATHS, chain=True)])
    assert merges[1] in {c.commit for c in sparse}  # the merge that brought 1.1.0 and pilot
    assert merges[0] not in {c.commit for c in sparse}  # the merge that kept the pointers


@pytest.mark.parametrize("size", [1, 2, 3, 5, 17, 64, 4096])
def test_any_cut_of_the_stream_parses_alike(busy: Path, size: int) -> None:
    data = _log(busy, PATHS, chain=True)
    whole_changes, whole_chain = parse([data])
    changes, chain = parse(data[i : i + size] for i in range(0, len(data), size))
    assert changes == whole_changes
    assert (chain.places, chain.high, chain.tip) == (
        whole_chain.places,
        whole_chain.high,
        whole_chain.tip,
    )


def test_history_on_the_busy_repository(busy: Path) -> None:
    prod = history(busy, PID, "production", ["production"])
    assert [(e.version, e.action) for e in prod] == [
        ("1.0.0", "deploy"),
        ("1.1.0", "deploy"),  # at the merge, not the branch commit
        ("1.2.0", "deploy"),
        (None, "remove"),
        ("1.3.0", "deploy"),
    ]
    # Times never go back along the chain: the clock ahead holds every later one.
    ahead = datetime.fromtimestamp(T + 10_000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert prod[0].deployed_at < ahead
    assert {e.deployed_at for e in prod[1:]} == {ahead}
    everywhere = history_everywhere(busy, PID, ["production"])
    assert [(e.environment, e.version) for e in everywhere if e.environment != "production"] == [
        ("staging", "1.0.0"),
        ("pilot", "1.1.0"),
        ("qa", "1.0.0"),  # the rename: staging removed, qa created, in one commit
        ("staging", None),
        ("pilot", "2.0.0"),
        ("qa", "2.0.0"),
        ("pilot", None),  # retired
    ]


def test_a_log_without_paths_gives_the_chain_only(busy: Path) -> None:
    changes, chain = parse([_log(busy, [], chain=True)])
    assert changes == []
    assert [c.decode() for c in sorted(chain.places, key=chain.places.__getitem__)] == [
        c for c, _ in _rev_list(busy)
    ]


def test_a_log_of_paths_never_changed_gives_nothing(busy: Path) -> None:
    changes, chain = parse([_log(busy, ["deployments/nowhere/greet.yaml"], chain=False)])
    assert (changes, chain.tip, chain.high) == ([], None, [])
    assert history(busy, PID, "nowhere", ["nowhere"]) == []


def test_a_cut_or_garbled_stream_is_an_error(busy: Path) -> None:
    data = _log(busy, PATHS, chain=True)
    entry = data.index(b"\0\n:")
    cut = LogStream()
    cut.feed(data[: data.index(b"\0", entry + 1) + 1])  # an entry without its path
    with pytest.raises(GitError, match="unexpected git log output"):
        cut.finish()
    garbled = LogStream()
    garbled.feed(data.replace(b" +0000\0", b"\0", 1))  # a date without its zone
    garbled.finish()
    with pytest.raises(GitError, match="not a raw date"):
        garbled.chain()


@pytest.mark.skipif(not hasattr(fcntl, "F_GETPIPE_SZ"), reason="pipe sizes are a Linux feature")
def test_the_log_pipe_is_grown_where_the_system_allows(busy: Path) -> None:
    read, write = os.pipe()
    try:
        before = fcntl.fcntl(read, fcntl.F_GETPIPE_SZ)
        _grow_pipe(read, 1 << 20)  # refused past the user's pipe quota: left as it was
        assert fcntl.fcntl(read, fcntl.F_GETPIPE_SZ) in {before, 1 << 20}
        _grow_pipe(read, 1 << 40)  # beyond any limit: no error
    finally:
        os.close(read)
        os.close(write)
    # Streamed through the grown pipe, the log is the one git prints.
    args = log_args("HEAD", PATHS, chain=True)
    assert b"".join(stream_git(busy, *args, pipe_bytes=1 << 20)) == _log(busy, PATHS, chain=True)
