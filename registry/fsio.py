"""Safe writes: atomic file replacement, the registry write lock, and one-commit changes."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from registry.errors import (
    GitError,
    IdentityError,
    LoadError,
    LockError,
    UnsupportedPlatformError,
)

_fcntl: ModuleType | None
try:
    import fcntl as _fcntl
except ImportError:  # Windows: reading works, writing needs the POSIX lock
    _fcntl = None

LOCK_TIMEOUT = 30.0
_PERSON = re.compile(r"(?P<name>[^<>]+?)\s*<(?P<email>[^<>\s]+)>")


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a
    part: a temporary file in the same folder, fsync, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _refuse_links(root: Path, rel: str) -> None:
    """A symlinked folder or file in the way would send the write outside the registry."""
    cur = root
    for part in rel.split("/"):
        cur = cur / part
        if cur.is_symlink():
            raise LoadError(
                "is a symbolic link; promptreg writes regular files only",
                str(cur.relative_to(root)),
            )


def require_person(actor: str, flag: str = "--by") -> None:
    """A commit author must be ``Name <email>``: git needs the email."""
    if _PERSON.fullmatch(actor) is None:
        raise IdentityError(
            f"with --commit, {flag} must look like 'Name <email>' (git records the email as the"
            f" commit author), got {actor!r}"
        )


def sweep_temp_files(path: Path) -> None:
    """Remove temporary files a killed writer left beside ``path`` (only under the lock, when
    no other writer can be between its write and its rename)."""
    with contextlib.suppress(OSError):
        for leftover in path.parent.glob(f".{path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _lock_file(root: Path) -> Path:
    git = root / ".git"
    if git.is_dir():
        return git / "promptreg.lock"
    if git.is_file():
        text = git.read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            gd = Path(text[7:].strip())
            gd = gd if gd.is_absolute() else (root / gd)
            if gd.is_dir():
                return gd / "promptreg.lock"
    return root / ".promptreg.lock"


@contextlib.contextmanager
def write_lock(root: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Serialize writers of one registry (an advisory lock released if the process dies)."""
    fcntl = _fcntl
    if fcntl is None:
        raise UnsupportedPlatformError(
            f"writing to a registry needs the POSIX file lock (fcntl), which {sys.platform}"
            " does not have; promptreg supports Linux and macOS for writes"
        )
    path = _lock_file(root)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise LockError(
                        f"another promptreg write holds {path} for over {timeout:.0f} s;"
                        " try again when it finishes"
                    ) from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)


class Transaction:
    """Files to replace atomically, undone as a whole when anything fails before the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._saved: list[tuple[Path, bytes | None]] = []
        self._made_dirs: list[Path] = []

    def write(self, rel: str, data: bytes) -> None:
        """Replace ``rel`` atomically, remembering its old content. Call under write_lock."""
        path = self.root / rel
        _refuse_links(self.root, rel)
        try:
            old: bytes | None = path.read_bytes()
        except FileNotFoundError:
            old = None
        self._saved.append((path, old))
        missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
        self._made_dirs += sorted(missing, key=lambda p: len(p.parts), reverse=True)
        sweep_temp_files(path)
        atomic_write(path, data)

    def rollback(self) -> None:
        """Put every written file back as it was."""
        for path, old in reversed(self._saved):
            with contextlib.suppress(OSError):
                if old is None:
                    path.unlink()
                else:
                    atomic_write(path, old)
        for d in self._made_dirs:
            with contextlib.suppress(OSError):
                d.rmdir()
        self._saved.clear()
        self._made_dirs.clear()

    @property
    def paths(self) -> list[str]:
        """Repo-relative paths written so far."""
        return [str(p.relative_to(self.root)) for p, _ in self._saved]


@contextlib.contextmanager
def _git_repo(root: Path) -> Iterator[Any]:
    """GitPython's view of ``root`` for the write path (never the application's hot path,
    which keeps to one plain ``git cat-file`` process); closed after use."""
    import git

    try:
        repo = git.Repo(root)
    except (git.exc.InvalidGitRepositoryError, git.exc.NoSuchPathError):
        raise GitError(f"--commit needs a git repository; {root} is not one") from None
    try:
        yield repo
    except git.exc.GitCommandError as exc:
        detail = str(exc.stderr or exc.stdout or exc).strip().replace("\n", "; ")
        raise GitError(
            f"git {exc.command[1] if len(exc.command) > 1 else ''} failed: {detail}"
        ) from None
    finally:
        repo.close()


def git_identity(root: Path) -> str | None:
    """``user.name <user.email>`` from git config, or None when either is unset."""
    from registry.gitio.run import run_git

    def get(key: str) -> str:
        try:
            return run_git(root, "config", "--get", key, check=False).decode().strip()
        except (GitError, OSError):
            return ""

    name, email = get("user.name"), get("user.email")
    if name and email:
        return f"{name} <{email}>"
    return None


def resolve_actor(root: Path, given: str | None, flag: str = "--by") -> str:
    """The actor of a change: ``given`` or git's identity; raises IdentityError."""
    actor = given if given is not None else git_identity(root)
    if actor is None:
        raise IdentityError(
            f"who is making this change? pass {flag} 'Name <email>' or set git's"
            " user.name and user.email (git config user.name 'Dana Reyes')"
        )
    actor = actor.strip()
    if not actor or len(actor) > 200 or any(ch in actor for ch in "\r\n\0"):
        raise IdentityError(f"{flag} must be a single line of at most 200 characters")
    return actor


def uncommitted(root: Path, paths: Sequence[str]) -> list[str]:
    """Which of ``paths`` differ between the working tree and HEAD (untracked included)."""
    from registry.gitio.run import run_git

    out = run_git(root, "status", "--porcelain", "-z", "--untracked-files=all", "--", *paths)
    return sorted(
        {item[3:] for item in out.decode("utf-8", "surrogateescape").split("\0") if len(item) > 3}
    )


def commit_paths(root: Path, paths: Sequence[str], message: str, author: str) -> str:
    """Commit exactly ``paths`` (nothing else that is staged) with ``author``; return the id.

    Runs the git command line (through GitPython's command wrapper), which fails loudly when
    another writer moved the branch or holds the index, rather than losing a commit."""
    if not (root / ".git").exists():
        raise GitError(f"--commit needs a git repository; {root} is not one")
    person = _PERSON.fullmatch(author)
    env: dict[str, str] = {}
    if person is not None and git_identity(root) is None:
        # No git identity configured: the actor commits as well as authors.
        env = {"GIT_COMMITTER_NAME": person["name"], "GIT_COMMITTER_EMAIL": person["email"]}
    args = ["--quiet", "-m", message]
    if person is not None:
        args.append(f"--author={person['name']} <{person['email']}>")
    with _git_repo(root) as repo:
        repo.git.add("--", *paths)
        try:
            repo.git.commit(*args, "--", *paths, env=env)
        except BaseException:
            with contextlib.suppress(Exception):
                repo.git.reset("--quiet", "--", *paths)
            raise
        return str(repo.head.commit.hexsha)
