"""Safe writes: atomic file replacement, the registry write lock and undoable transactions."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from registry.errors import (
    LoadError,
    LockError,
    UnsupportedPlatformError,
    WriteError,
)

_fcntl: ModuleType | None
try:
    import fcntl as _fcntl
except ImportError:  # Windows: reading works, writing needs the POSIX lock
    _fcntl = None

LOCK_TIMEOUT = 30.0


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


def _why(exc: OSError) -> str:
    """An OSError as a person reads it: "No space left on device"."""
    return exc.strerror or str(exc)


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


def sweep_temp_files(path: Path) -> None:
    """Remove temporary files a killed writer left beside ``path`` (only under the lock, when
    no other writer can be between its write and its rename)."""
    with contextlib.suppress(OSError):
        for leftover in path.parent.glob(f".{path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _lock_file(root: Path) -> Path:
    from registry.gitio.repo import git_dir

    gd = git_dir(root)
    return gd / "promptreg.lock" if gd is not None and gd.is_dir() else root / ".promptreg.lock"


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
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise WriteError(
            f"cannot take the registry write lock {path}: {_why(exc)}; nothing was changed"
        ) from None
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
        except OSError as exc:  # a folder where the file should be, an unreadable file
            raise WriteError(f"{rel}: cannot be replaced: {_why(exc)}; it is unchanged") from None
        self._saved.append((path, old))
        missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
        self._made_dirs += sorted(missing, key=lambda p: len(p.parts), reverse=True)
        sweep_temp_files(path)
        try:
            atomic_write(path, data)
        except OSError as exc:
            # A full disk or a read-only filesystem is the caller's to fix, not a bug: the
            # temporary file is gone and the old file untouched (os.replace never ran).
            self._saved.pop()
            raise WriteError(f"{rel}: cannot be written: {_why(exc)}; it is unchanged") from None

    def rollback(self) -> None:
        """Put every written file back as it was; raises WriteError naming the files that
        could not be put back (and how to restore them from git)."""
        stuck: list[str] = []
        for path, old in reversed(self._saved):
            try:
                if old is None:
                    path.unlink(missing_ok=True)
                else:
                    atomic_write(path, old)
            except OSError as exc:
                stuck.append(f"{path.relative_to(self.root)} ({_why(exc)})")
        for d in self._made_dirs:
            with contextlib.suppress(OSError):
                d.rmdir()
        self._saved.clear()
        self._made_dirs.clear()
        if stuck:
            raise WriteError(
                "a failed change could not be undone in "
                + ", ".join(stuck)
                + "; restore the file with `git checkout -- FILE` (or delete it if new)"
            )

    @property
    def paths(self) -> list[str]:
        """Repo-relative paths written so far."""
        return [str(p.relative_to(self.root)) for p, _ in self._saved]
