"""Writers tell the truth: what deploy prints is what it did, --commit records what the branch
ran, a failed commit leaves git's index as it was, and a write that the disk or the filesystem
refuses is a clear error (exit 1) with the registry intact.

Full disks and read-only filesystems are real ones: a small tmpfs mounted for the test (and a
read-only bind mount) when the tests run as root, where ``chmod`` stops nobody; a read-only
folder by ``chmod`` otherwise. What needs a mount is skipped where mounting is not allowed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from registry.errors import RegistryError
from tests.testing import (
    commit_all,
    git,
    init_repo,
    pointer_yaml,
    run_cli,
    version_yaml,
    write,
)

ACTOR = "Dana Reyes <dana@example.com>"
POINTER = "deployments/development/greet.yaml"
SETTINGS = "environments:\n  development: {require_tested: false}\n"
SUITE = """\
prompt_id: greet
threshold: 0.5
cases:
  - name: keeps the context
    vars: {context: "Leave policy, section 4.2", query: "How many days?"}
    assert:
      - {type: contains, value: "section 4.2"}
"""


def seed(repo: Path, running: str = "1.0.0", versions: int = 3) -> Path:
    """greet 1.0.0 .. 1.<versions-1>.0, development running ``running``, all committed."""
    write(repo, "promptreg.yaml", SETTINGS)
    for i in range(versions):
        write(repo, f"prompts/greet/1.{i}.0.yaml", version_yaml("greet", f"1.{i}.0"))
    write(repo, "evals/greet.yaml", SUITE)
    write(repo, POINTER, pointer_yaml("greet", "development", running))
    commit_all(repo, "seed")
    return repo


def cli(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    r = run_cli("-C", str(repo), *args, cwd=repo)
    assert "Traceback" not in r.stderr, r.stderr
    return r


def commits(repo: Path) -> int:
    return int(git(repo, "rev-list", "--count", "HEAD"))


def committed_pointer(repo: Path, rev: str = "HEAD") -> dict[str, object]:
    data = yaml.safe_load(git(repo, "show", f"{rev}:{POINTER}"))
    assert isinstance(data, dict)
    return data


def snapshot(repo: Path) -> tuple[object, ...]:
    """HEAD, git's index (entries and what is staged) and every file of the working tree."""
    files = {
        p.relative_to(repo).as_posix(): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and p.relative_to(repo).parts[0] != ".git" and p.name != "filler"
    }
    return (
        git(repo, "rev-parse", "HEAD"),
        git(repo, "ls-files", "-s"),
        git(repo, "diff", "--cached", "--name-status"),
        files,
    )


# --- what deploy prints is what it did (item 10a) ------------------------------------------


def _waits_for(pid: int, lock: Path, timeout: float = 60.0) -> None:
    """Until process ``pid`` has the lock file open (it is waiting for the lock)."""
    fds = Path(f"/proc/{pid}/fd")
    if not fds.is_dir():  # no /proc: give the process time to get there
        time.sleep(5)
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for fd in fds.iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) == str(lock):
                    return
        time.sleep(0.02)
    raise AssertionError("the deploy never reached the write lock")


def test_a_deploy_that_waited_for_the_lock_says_what_it_did(repo: Path) -> None:
    seed(repo, running="1.1.0")
    before = commits(repo)
    lock = repo / ".git" / "promptreg.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        proc = subprocess.Popen(
            [sys.executable, "-m", "registry", "-C", str(repo), "deploy", "greet", "1.1.0",
             "--env", "development", "--by", ACTOR, "--commit"],
            cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        _waits_for(proc.pid, lock)
        # While it waits, another writer (holding the lock) moves the pointer on.
        write(repo, POINTER, pointer_yaml("greet", "development", "1.2.0", "1.1.0"))
        commit_all(repo, "deploy greet 1.2.0")
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert commits(repo) == before + 2
    assert out.startswith("deployed greet 1.1.0 to development (was 1.2.0) in commit "), out
    assert committed_pointer(repo)["previous_version"] == "1.2.0"


def test_48_concurrent_deploys_of_one_pointer_each_report_what_they_did(repo: Path) -> None:
    from registry.deploy import deploy_change
    from registry.pointers import PointerChange

    seed(repo)
    before = commits(repo)
    wanted = ["1.1.0", "1.2.0"] * 24
    barrier = threading.Barrier(len(wanted))
    results: list[PointerChange | RegistryError] = []

    def work(version: str) -> None:
        barrier.wait()
        try:
            results.append(deploy_change(repo, "greet", version, "development", ACTOR, commit=True))
        except RegistryError as exc:
            results.append(exc)

    threads = [threading.Thread(target=work, args=(v,)) for v in wanted]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    changes = [r for r in results if isinstance(r, PointerChange)]
    assert len(changes) == len(wanted), [r for r in results if not isinstance(r, PointerChange)]
    changed = [c for c in changes if c.changed]
    # Every "changed" is one commit, every "nothing to do" none.
    assert commits(repo) - before == len(changed)
    for c in changes:
        assert c.before is not None
        if c.changed:
            assert c.after.previous_version == c.before.version != c.after.version
            assert c.after.commit is not None
        else:
            assert c.before.version == c.after.version
    log = git(repo, "log", "--reverse", "--format=%H", "--", POINTER).split()
    chain = [committed_pointer(repo, sha) for sha in log]
    for prev, cur in itertools.pairwise(chain):
        assert cur["previous_version"] == prev["version"]
    assert git(repo, "status", "--porcelain") == ""


# --- --commit records what the branch ran (item 10b) ---------------------------------------


def test_deploy_commit_of_a_version_the_working_tree_already_names(repo: Path) -> None:
    seed(repo)
    before = commits(repo)
    assert cli(repo, "deploy", "greet", "1.1.0", "--env", "development").returncode == 0
    assert commits(repo) == before  # written, not committed
    r = cli(repo, "deploy", "greet", "1.1.0", "--env", "development", "--commit")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("deployed greet 1.1.0 to development (was 1.0.0) in commit ")
    assert commits(repo) == before + 1
    pointer = committed_pointer(repo)
    assert (pointer["version"], pointer["previous_version"]) == ("1.1.0", "1.0.0")
    assert git(repo, "status", "--porcelain") == ""
    # The next deploy records a previous version that the branch really ran.
    assert cli(repo, "deploy", "greet", "1.2.0", "--env", "development", "--commit").returncode == 0
    assert committed_pointer(repo)["previous_version"] == "1.1.0"
    r = cli(repo, "history", "greet", "--env", "development", "--json")
    events = [(e["version"], e["previous_version"]) for e in json.loads(r.stdout)]
    assert events == [("1.0.0", None), ("1.1.0", "1.0.0"), ("1.2.0", "1.1.0")]


def test_a_pointer_a_killed_writer_left_is_not_taken_for_the_branch(repo: Path) -> None:
    seed(repo)
    # What a writer killed between its write and its commit leaves: a pointer never committed.
    write(repo, POINTER, pointer_yaml("greet", "development", "1.2.0", "1.0.0"))
    r = cli(repo, "deploy", "greet", "1.1.0", "--env", "development", "--commit")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("deployed greet 1.1.0 to development (was 1.0.0)")
    assert committed_pointer(repo)["previous_version"] == "1.0.0"
    assert git(repo, "status", "--porcelain") == ""


def test_an_uncommitted_pointer_is_neither_kept_silently_nor_thrown_away(repo: Path) -> None:
    seed(repo, running="1.1.0")
    write(repo, POINTER, pointer_yaml("greet", "development", "1.2.0", "1.1.0"))
    before = snapshot(repo)
    r = cli(repo, "deploy", "greet", "1.1.0", "--env", "development", "--commit")
    assert r.returncode == 1
    assert f"{POINTER} has an uncommitted change (it names 1.2.0; HEAD has 1.1.0" in r.stderr
    assert f"git checkout -- {POINTER}" in r.stderr
    assert snapshot(repo) == before


# --- a failed commit leaves the index as it was (item 10c) ---------------------------------


def test_a_refused_commit_leaves_the_index_and_the_working_tree_as_they_were(repo: Path) -> None:
    seed(repo)
    # Work in progress: an edit of the pointer and another file, both staged.
    write(repo, POINTER, pointer_yaml("greet", "development", "1.0.0", reason="staged edit"))
    write(repo, "notes.txt", "draft\n")
    git(repo, "add", POINTER, "notes.txt")
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'refused by policy' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = snapshot(repo)
    r = cli(repo, "deploy", "greet", "1.1.0", "--env", "development", "--commit")
    assert r.returncode == 1
    assert r.stderr.startswith(f"promptreg: git commit of {POINTER} failed: refused by policy")
    assert "nothing was committed" in r.stderr
    assert snapshot(repo) == before
    # The next unrelated commit carries only what was staged before.
    hook.unlink()
    git(repo, "commit", "-q", "-m", "notes")
    assert committed_pointer(repo)["version"] == "1.0.0"
    assert committed_pointer(repo)["reason"] == "staged edit"


# --- full disks and read-only filesystems (items 9 and 10c) --------------------------------


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs of its own (root only: a full disk without filling the real one)."""
    mnt = tmp_path / "fs"
    mnt.mkdir()
    if os.geteuid() != 0 or not _mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)):
        pytest.skip("needs root to mount a small tmpfs")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(mnt: Path, pages_left: int) -> None:
    """Fill the filesystem until ``pages_left`` blocks are free."""
    st = os.statvfs(mnt)
    size = max(0, (st.f_bavail - pages_left) * st.f_frsize)
    with open(mnt / "filler", "wb") as f, contextlib.suppress(OSError):
        f.write(b"\0" * size)


WRITES = {
    "deploy": ["deploy", "greet", "1.1.0", "--env", "development", "--commit"],
    "deploy-no-commit": ["deploy", "greet", "1.1.0", "--env", "development"],
    "rollback": ["rollback", "greet", "--env", "development", "--to", "1.2.0", "--commit"],
    "undeploy": ["undeploy", "greet", "--env", "development", "--reason", "gone", "--commit"],
    "new": ["new", "greet", "--bump", "minor", "-d", "Next", "--commit"],
    "eval": ["eval", "greet", "1.1.0", "--commit"],
}


@pytest.mark.parametrize("pages", range(9))
@pytest.mark.parametrize("command", list(WRITES))
def test_a_full_disk_is_a_clear_error_and_changes_nothing(
    tiny_fs: Path, command: str, pages: int
) -> None:
    repo = seed(init_repo(tiny_fs / "repo"))
    before = snapshot(repo)
    fill(tiny_fs, pages)
    try:
        r = cli(repo, *WRITES[command])
    finally:
        (tiny_fs / "filler").unlink()
    assert r.returncode in (0, 1), r.stderr
    if r.returncode == 1:
        # Exit 1 naming what could not be written (a file or git's step), nothing changed.
        assert r.stderr.startswith("promptreg: "), r.stderr
        said = ("No space left on device", "Out of diskspace", "couldn't write")
        assert any(words in r.stderr for words in said), r.stderr
        assert snapshot(repo) == before, r.stderr
    elif command != "deploy-no-commit":
        assert commits(repo) == 2
    if command != "deploy-no-commit":
        assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert not [p for p in (repo / ".git").iterdir() if p.name.startswith("promptreg-index.")]


@pytest.fixture
def read_only() -> Iterator[object]:
    """Make a folder read-only for real: a read-only bind mount as root, chmod otherwise."""
    undo: list[tuple[str, Path]] = []

    def make(folder: Path) -> None:
        if os.geteuid() == 0:
            if not (_mount("--bind", str(folder), str(folder))
                    and _mount("-o", "remount,bind,ro", str(folder))):  # fmt: skip
                pytest.skip("needs a read-only bind mount (mount is not allowed here)")
            undo.append(("umount", folder))
        else:
            folder.chmod(0o555)
            undo.append(("chmod", folder))

    yield make
    for how, folder in reversed(undo):
        if how == "umount":
            subprocess.run(["umount", "-l", str(folder)], check=False)
        else:
            folder.chmod(0o755)


READ_ONLY = {
    "deploy": ("deployments/development", POINTER),
    "rollback": ("deployments/development", POINTER),
    "undeploy": ("deployments/development", POINTER),
    "new": ("prompts/greet", "prompts/greet/1.3.0.yaml"),
    "eval": ("prompts/greet", "prompts/greet/1.1.0.yaml"),
}


@pytest.mark.parametrize("command", list(READ_ONLY))
def test_a_read_only_folder_is_a_clear_error_naming_the_file(
    repo: Path, read_only: object, command: str
) -> None:
    seed(repo)
    folder, named = READ_ONLY[command]
    before = snapshot(repo)
    assert callable(read_only)
    read_only(repo / folder)
    r = cli(repo, *WRITES[command])
    assert r.returncode == 1, (r.stdout, r.stderr)
    why = os.strerror(errno.EROFS if os.geteuid() == 0 else errno.EACCES)
    assert r.stderr.startswith(f"promptreg: {named}: cannot be written: {why}"), r.stderr
    assert snapshot(repo) == before


def test_a_read_only_filesystem_names_the_write_lock(tiny_fs: Path) -> None:
    repo = seed(init_repo(tiny_fs / "repo"))
    before = snapshot(repo)
    assert _mount("-o", "remount,ro", str(tiny_fs))
    r = cli(repo, *WRITES["deploy"])
    assert r.returncode == 1
    assert r.stderr.startswith("promptreg: cannot take the registry write lock "), r.stderr
    assert "promptreg.lock: Read-only file system; nothing was changed" in r.stderr
    assert snapshot(repo) == before


def test_a_private_index_a_killed_writer_left_is_swept(repo: Path) -> None:
    seed(repo)
    stale = repo / ".git" / "promptreg-index.killed"
    stale.write_bytes(b"left by a writer killed during its commit")
    r = cli(repo, "deploy", "greet", "1.1.0", "--env", "development", "--commit")
    assert r.returncode == 0, r.stderr
    assert not stale.exists()
    assert git(repo, "status", "--porcelain") == ""


def test_a_full_disk_exits_1_from_a_real_interpreter(tiny_fs: Path) -> None:
    repo = seed(init_repo(tiny_fs / "repo"))
    before = snapshot(repo)
    fill(tiny_fs, 0)
    try:
        r = run_cli("-C", str(repo), *WRITES["deploy"], cwd=repo, real=True)
    finally:
        (tiny_fs / "filler").unlink()
    assert r.returncode == 1, r.stderr
    assert r.stderr == (
        f"promptreg: {POINTER}: cannot be written: No space left on device; it is unchanged\n"
    )
    assert snapshot(repo) == before


def test_deploy_commit_replaces_a_broken_committed_pointer(repo: Path) -> None:
    seed(repo)
    write(repo, POINTER, "prompt_id: [\n")
    commit_all(repo, "a broken pointer")
    write(repo, POINTER, pointer_yaml("greet", "development", "1.0.0"))  # fixed, not committed
    r = cli(repo, "deploy", "greet", "1.1.0", "--env", "development", "--commit")
    assert r.returncode == 0, r.stderr
    assert committed_pointer(repo)["previous_version"] == "1.0.0"
