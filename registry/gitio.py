"""A thin wrapper over the git command line: plumbing calls, one persistent cat-file reader,
and pure-Python HEAD tracking for the hot path."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import tempfile
import threading
import weakref
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

from registry.errors import GitError

_OID_RE = re.compile(rb"[0-9a-f]{40}|[0-9a-f]{64}")
# Refs that live in a linked worktree's own git dir rather than the common dir.
_PER_WORKTREE = ("refs/bisect/", "refs/worktree/", "refs/rewritten/")
# At most this many request bytes are written before their answers are read; a pipe holds at
# least a page, so the write never blocks while git waits for us to drain its output.
_CHUNK_BYTES = 4096


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
    root: Path, *args: str, env: Mapping[str, str] | None = None
) -> Generator[bytes, None, None]:
    """Run ``git -C root <args>`` and yield its stdout as it arrives; raise GitError at the end
    when git fails. Closing the iterator early stops git."""
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


def ls_index(root: Path) -> list[TreeEntry]:
    """The stage-0 entries of the index (GIT_INDEX_FILE is honoured, as git sets it in hooks)."""
    return _entries(run_git(root, "ls-files", "--stage", "-z", "--full-name"), stage_zero=True)


def diff_names(
    root: Path, base: str, head: str | None = None, cached: bool = False
) -> list[tuple[str, str, str | None]]:
    """(status, path, old path of a rename) for what changed from ``base`` to ``head``, to the
    index (``cached``) or to the working tree; copies are reported as additions."""
    if cached and head is not None:
        raise ValueError("diff_names: cached compares the index with base; head must be None")
    args = ["diff", "--name-status", "-z", "-M", "--no-ext-diff", "--no-color"]
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


# -- one persistent cat-file -----------------------------------------------------------------

_LIVE: weakref.WeakSet[CatFile] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for cat in list(_LIVE):
        cat._forget()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _spec_line(spec: str) -> bytes:
    if "\n" in spec or "\0" in spec:
        raise GitError(f"invalid object name {spec!r}: it contains a newline or NUL")
    return os.fsencode(spec) + b"\n"


def _chunks(lines: list[bytes]) -> Iterator[list[bytes]]:
    chunk: list[bytes] = []
    size = 0
    for line in lines:
        if chunk and size + len(line) > _CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
        chunk.append(line)
        size += len(line)
    if chunk:
        yield chunk


class CatFile:
    """One persistent ``git cat-file --batch`` process; thread-safe (a lock around each
    request); restarts itself after os.fork (pid check); close() and context manager;
    __del__ closes quietly."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._proc: subprocess.Popen[bytes] | None = None
        self._out: IO[bytes] | None = None
        self._err: IO[bytes] | None = None
        _LIVE.add(self)

    def __enter__(self) -> CatFile:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # At interpreter shutdown modules may already be torn down; never raise from here.
        with contextlib.suppress(Exception):
            self.close()

    def read(self, spec: str) -> bytes | None:
        """The object ``spec`` names ("<rev>:<path>" or an object id), None when missing."""
        return self.read_many([spec])[0]

    def read_many(self, specs: Sequence[str]) -> list[bytes | None]:
        """Like read() for each spec, pipelined through the one process."""
        lines = [_spec_line(s) for s in specs]
        if self._pid != os.getpid():
            self._forget()
        with self._lock:
            try:
                return self._request(lines)
            except BaseException:
                # A half-read answer leaves the stream out of step; start afresh next time.
                self._stop(kill=True)
                raise

    def close(self) -> None:
        """Stop the process (idempotent)."""
        if self._pid != os.getpid():
            self._forget()
            return
        with self._lock:
            self._stop(kill=False)

    # -- internals ------------------------------------------------------------------------------

    def _request(self, lines: list[bytes]) -> list[bytes | None]:
        proc = self._ensure()
        assert proc.stdin is not None
        answers: list[bytes | None] = []
        for chunk in _chunks(lines):
            data = memoryview(b"".join(chunk))
            try:
                while data:
                    data = data[proc.stdin.write(data) or 0 :]
            except BrokenPipeError:
                raise self._died() from None
            answers.extend(self._answer(line) for line in chunk)
        return answers

    def _answer(self, line: bytes) -> bytes | None:
        assert self._out is not None
        header = self._out.readline()
        if not header.endswith(b"\n"):
            raise self._died()
        fields = header[:-1].split(b" ")
        if len(fields) >= 3 and fields[-1].isdigit() and _OID_RE.fullmatch(fields[0]):
            size = int(fields[-1])
            body = self._out.read(size + 1)
            if len(body) != size + 1:
                raise self._died()
            return body[:-1]
        if fields[-1] == b"missing":
            return None
        shown = line[:-1].decode("utf-8", "replace")
        raise GitError(
            f"git cat-file in {self.root}: {shown!r}: {fields[-1].decode(errors='replace')}"
        )

    def _ensure(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._stop(kill=True)
        # stderr goes to a file: a pipe nobody reads could fill up and stall git.
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        try:
            self._proc = subprocess.Popen(
                ["git", "-C", str(self.root), "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._err,
                bufsize=0,  # unbuffered stdin: a forked child closing it can flush nothing
                env=_git_env(None),
            )
        except OSError as exc:
            self._stop(kill=True)
            raise GitError(f"cannot run git ({exc}); is git installed and on PATH?") from None
        assert self._proc.stdout is not None
        self._out = open(self._proc.stdout.fileno(), "rb", 1 << 16, closefd=False)  # noqa: SIM115
        return self._proc

    def _died(self) -> GitError:
        proc, err = self._proc, self._err
        code: int | None = None
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(timeout=5)
        message = b""
        if err is not None:
            err.seek(0)
            message = err.read(4096)
        detail = "; ".join(message.decode("utf-8", "replace").strip().splitlines()[:3])
        return GitError(
            f"git cat-file --batch in {self.root} stopped (exit {code}): {detail or 'no message'}"
        )

    def _stop(self, kill: bool) -> None:
        proc, self._proc = self._proc, None
        out, self._out = self._out, None
        err, self._err = self._err, None
        if proc is not None:
            if kill:
                proc.kill()
            for stream in (proc.stdin, out, proc.stdout):
                if stream is not None:
                    stream.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if err is not None:
            err.close()

    def _forget(self) -> None:
        """In a forked child: drop the parent's process without touching it."""
        self._lock = threading.Lock()
        self._pid = os.getpid()
        proc, self._proc = self._proc, None
        out, self._out = self._out, None
        err, self._err = self._err, None
        # Closing our copies lets the parent's process see end-of-input when the parent closes.
        for stream in (out, err, *(() if proc is None else (proc.stdin, proc.stdout))):
            if stream is not None:
                stream.close()
        if proc is not None:
            proc.poll()  # not our child: waitpid fails with ECHILD and Popen marks it done
            if proc.returncode is None:
                _ABANDONED.append(proc)


# Popen objects of a parent process that a forked child must never reap or warn about.
_ABANDONED: list[subprocess.Popen[bytes]] = []


# -- HEAD without a process ------------------------------------------------------------------


def find_root(start: Path) -> Path | None:
    """The top of the work tree enclosing ``start`` (a ``.git`` folder or file), else None."""
    here = Path(start).resolve()
    for cand in (here, *here.parents):
        marker = cand / ".git"
        if (marker / "HEAD").is_file() or (marker.is_file() and _gitdir_of(cand) is not None):
            return cand
    return None


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _gitdir_of(root: Path) -> Path | None:
    text = _read(root / ".git")
    if text is None or not text.startswith(b"gitdir:"):
        return None
    target = Path(os.fsdecode(text[len(b"gitdir:") :].strip()))
    return target if target.is_absolute() else root / target


def _git_dirs(root: Path) -> tuple[Path, Path] | None:
    """(git dir, common dir) of the work tree at ``root``."""
    dotgit = root / ".git"
    gitdir = dotgit if dotgit.is_dir() else _gitdir_of(root)
    if gitdir is None:
        return None
    common = _read(gitdir / "commondir")
    if common is None:
        return gitdir, gitdir
    target = Path(os.fsdecode(common.strip()))
    return gitdir, target if target.is_absolute() else gitdir / target


def _symref(content: bytes | None) -> str | None:
    if content is None or not content.startswith(b"ref:"):
        return None
    name = os.fsdecode(content[4:].strip())
    if not name.startswith("refs/") or ".." in name.split("/") or "\\" in name:
        return None
    return name


def _ref_file(dirs: tuple[Path, Path], name: str) -> Path:
    gitdir, common = dirs
    return (gitdir if name.startswith(_PER_WORKTREE) else common) / name


def _stat(path: Path) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return "-"
    return f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}"


def head_state(root: Path) -> tuple[str, ...]:
    """A token that changes whenever HEAD's commit may have changed (no process)."""
    dirs = _git_dirs(Path(root))
    if dirs is None:
        return ("no-git",)
    gitdir, common = dirs
    head = _read(gitdir / "HEAD")
    state = [(head or b"").decode("utf-8", "replace").strip(), _stat(gitdir / "HEAD")]
    target = _symref(head)
    if target is not None:
        state.append(_stat(_ref_file(dirs, target)))
    state.append(_stat(common / "packed-refs"))
    if (common / "reftable").is_dir():
        state.append(_stat(common / "reftable" / "tables.list"))
    return tuple(state)


def _packed_ref(common: Path, name: str) -> bytes | None:
    data = _read(common / "packed-refs")
    if data is None:
        return None
    at = data.find(b" " + os.fsencode(name) + b"\n")
    if at < 0:
        return None
    start = data.rfind(b"\n", 0, at) + 1
    return data[start:at]


# Sentinel for "pure Python cannot tell; ask git".
_ASK_GIT = "?"


def _resolve_head_files(root: Path) -> str | None:
    dirs = _git_dirs(root)
    if dirs is None or (dirs[1] / "reftable").is_dir():
        return _ASK_GIT
    content = _read(dirs[0] / "HEAD")
    for _ in range(5):  # HEAD -> branch, plus a few symbolic refs at most
        if content is None:
            return _ASK_GIT
        if _OID_RE.fullmatch(content.strip()):
            return content.strip().decode("ascii")
        name = _symref(content)
        if name is None:
            return _ASK_GIT
        content = _read(_ref_file(dirs, name))
        if content is None:
            # No loose ref: packed, or an unborn branch.
            packed = _packed_ref(dirs[1], name)
            if packed is None:
                return None
            return packed.decode("ascii") if _OID_RE.fullmatch(packed) else _ASK_GIT
    return _ASK_GIT


def resolve_head(root: Path) -> str | None:
    """HEAD's commit id, read from the ref files where possible; None on an unborn branch."""
    found = _resolve_head_files(Path(root))
    if found != _ASK_GIT:
        return found
    return rev_parse(Path(root), "HEAD")
