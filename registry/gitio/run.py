"""A thin wrapper over the git command line: running git and its plumbing calls."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from registry.errors import GitError

_OID_RE = re.compile(rb"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True)
class TreeEntry:
    """One entry of a git tree or of the index."""

    mode: str  # "100644", "100755", "120000" (symlink), "160000" (gitlink), "040000"
    type: str  # "blob", "tree", "commit"
    sha: str
    path: str  # repo-relative, forward slashes


# -- running git -----------------------------------------------------------------------------


def _git_env(overrides: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    # The root is always explicit (`git -C root`); an inherited GIT_DIR / GIT_WORK_TREE (set by
    # git for some hooks) would silently point every call at another repository.
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    index = env.get("GIT_INDEX_FILE")
    if index and not os.path.isabs(index):
        # git hands hooks a path relative to where it ran them; -C would move its base.
        env["GIT_INDEX_FILE"] = os.path.abspath(index)
    env.update(
        LC_ALL="C",
        GIT_TERMINAL_PROMPT="0",
        GIT_PAGER="cat",
        PAGER="cat",
        GIT_OPTIONAL_LOCKS="0",
    )
    if overrides:
        env.update(overrides)
    return env


def _describe(args: Sequence[str]) -> str:
    text = shlex.join(["git", *args])
    return text if len(text) <= 200 else text[:197] + "..."


def _failure(root: Path, args: Sequence[str], code: int, stderr: bytes) -> GitError:
    lines = stderr.decode("utf-8", "replace").strip().splitlines()[:3]
    detail = "; ".join(lines) or "no message"
    return GitError(f"`{_describe(args)}` failed in {root} (exit {code}): {detail}")


def _run(
    root: Path,
    args: Sequence[str],
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args],
            input=input,
            stdin=subprocess.DEVNULL if input is None else None,
            capture_output=True,
            env=_git_env(env),
            check=False,
        )
    except OSError as exc:
        raise GitError(f"cannot run git ({exc}); is git installed and on PATH?") from None


def run_git(
    root: Path,
    *args: str,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> bytes:
    """Run ``git -C root <args>`` and return its stdout; raise GitError on failure if ``check``."""
    proc = _run(root, args, input, env)
    if check and proc.returncode != 0:
        raise _failure(root, args, proc.returncode, proc.stderr)
    return proc.stdout


def stream_git(
    root: Path, *args: str, env: Mapping[str, str] | None = None, pipe_bytes: int | None = None
) -> Generator[bytes, None, None]:
    """Run ``git -C root <args>`` and yield its stdout as it arrives; raise GitError at the end
    when git fails. Closing the iterator early stops git. ``pipe_bytes`` asks for a pipe that
    large (Linux), so that git keeps writing while the reader is busy or not scheduled."""
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                ["git", "-C", str(root), *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,  # a file, so git never stalls on a full stderr pipe
                bufsize=0,  # reads return what has arrived, not a full buffer
                env=_git_env(env),
            )
        except OSError as exc:
            raise GitError(f"cannot run git ({exc}); is git installed and on PATH?") from None
        assert proc.stdout is not None
        if pipe_bytes is not None:
            _grow_pipe(proc.stdout.fileno(), pipe_bytes)
        try:
            while chunk := proc.stdout.read(1 << 16):
                yield chunk
            code = proc.wait()
            if code != 0:
                err.seek(0)
                raise _failure(root, args, code, err.read(1 << 16))
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            proc.wait()


def _grow_pipe(fd: int, size: int) -> None:
    """Make the pipe ``fd`` hold ``size`` bytes where the system allows it (else as it is)."""
    import fcntl

    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, set_size, size)


def _check_rev(rev: str) -> str:
    if not rev or rev.startswith("-") or "\n" in rev or "\0" in rev:
        raise GitError(f"invalid git revision {rev!r}: give a branch, tag or commit id")
    return rev


def is_shallow(root: Path) -> bool:
    """True when ``root`` is a shallow clone (its history is cut off)."""
    return run_git(root, "rev-parse", "--is-shallow-repository").strip() == b"true"


def rev_parse(root: Path, rev: str) -> str | None:
    """The full commit id ``rev`` names, or None when it names no commit."""
    args = ("rev-parse", "--verify", "--quiet", "--end-of-options", f"{_check_rev(rev)}^{{commit}}")
    proc = _run(root, args)
    if proc.returncode == 1:
        return None
    if proc.returncode != 0:
        raise _failure(root, args, proc.returncode, proc.stderr)
    return proc.stdout.decode("ascii").strip()


def merge_base(root: Path, a: str, b: str) -> str | None:
    """The best common ancestor of two commits, or None when they share no history."""
    args = ("merge-base", "--end-of-options", _check_rev(a), _check_rev(b))
    proc = _run(root, args)
    if proc.returncode == 1:
        return None
    if proc.returncode != 0:
        raise _failure(root, args, proc.returncode, proc.stderr)
    return proc.stdout.decode("ascii").strip()


def _entries(out: bytes, stage_zero: bool = False) -> list[TreeEntry]:
    found: list[TreeEntry] = []
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        fields = meta.decode("ascii").split(" ")
        if stage_zero:  # ls-files: mode sha stage
            mode, sha, stage = fields
            if stage != "0":
                continue
            kind = "commit" if mode == "160000" else "tree" if mode == "040000" else "blob"
        else:  # ls-tree: mode type sha
            mode, kind, sha = fields
        found.append(TreeEntry(mode, kind, sha, os.fsdecode(path)))
    return found


def ls_tree(root: Path, rev: str, paths: Sequence[str] = ()) -> list[TreeEntry]:
    """Every file of ``rev``'s tree (recursively), limited to ``paths`` when given."""
    args = ["--literal-pathspecs", "ls-tree", "-r", "-z", "--full-tree"]
    # ls-tree takes paths right after the tree; after --end-of-options a "--" would be a path.
    out = run_git(root, *args, "--end-of-options", _check_rev(rev), *paths)
    return _entries(out)


def ls_index(root: Path, pathspecs: tuple[str, ...] = ()) -> list[TreeEntry]:
    """The stage-0 entries of the index (GIT_INDEX_FILE is honoured, as git sets it in hooks);
    only those ``pathspecs`` match when given (git pathspecs, magic included)."""
    args = ["ls-files", "--stage", "-z", "--full-name"]
    if pathspecs:
        args += ["--", *pathspecs]
    return _entries(run_git(root, *args), stage_zero=True)


def diff_names(
    root: Path, base: str, head: str | None = None, cached: bool = False
) -> list[tuple[str, str, str | None]]:
    """(status, path, old path of a rename) for what changed from ``base`` to ``head``, to the
    index (``cached``) or to the working tree; copies are reported as additions."""
    if cached and head is not None:
        raise ValueError("diff_names: cached compares the index with base; head must be None")
    # --ignore-submodules=none: a change's .gitmodules (ignore = all) must not hide the
    # submodule entries it adds from what the check judges.
    args = ["diff", "--name-status", "-z", "-M", "--no-ext-diff", "--no-color"]
    args.append("--ignore-submodules=none")
    if cached:
        args.append("--cached")
    args += ["--end-of-options", _check_rev(base)]
    if head is not None:
        args.append(_check_rev(head))
    tokens = iter(os.fsdecode(t) for t in run_git(root, *args, "--").split(b"\0"))
    changes: list[tuple[str, str, str | None]] = []
    for status in tokens:
        if not status:
            continue
        letter, path = status[0], next(tokens)
        if letter in "RC":
            old, path = path, next(tokens)
            changes.append(("R", path, old) if letter == "R" else ("A", path, None))
        else:
            changes.append((letter, path, None))
    return changes
