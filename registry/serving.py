"""How a PromptRegistry serves snapshots: construction, the refresh check, reloads that keep
the last good snapshot, symlink swaps of the root, and fork safety.

Only the first load blocks a request. After it, the request that finds the refresh interval
over starts a reload on a background thread (registry.refresh) and returns the snapshot it
has, as does every request until the new snapshot is swapped in whole."""

from __future__ import annotations

import logging
import os
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Self

from registry.errors import NotFoundError, RegistryError
from registry.gitio.repo import find_root, is_work_tree
from registry.refresh import Refresher
from registry.snapshot import Snapshot, build_snapshot, dir_token

if TYPE_CHECKING:
    from registry.gitio.catfile import CatFile

log = logging.getLogger("promptreg")

SourceMode = Literal["auto", "git", "files"]


_LIVE: weakref.WeakSet[SnapshotServing] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    # A lock held by another thread at fork() stays held forever in the child.
    # The parent's reload thread did not survive fork() (registry.refresh frees its lock); the
    # child looks for a change at its first request.
    for reg in list(_LIVE):
        reg._next_check = 0.0
        snap = reg._snap
        if snap is not None:
            snap.reset_lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class SnapshotServing:
    """The snapshot state of a PromptRegistry: which root and source it reads, the snapshot
    being served, and the reload that replaces it (the reads are PromptRegistry's)."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        refresh_interval: float = 0.5,
        source: SourceMode = "auto",
    ) -> None:
        self.root, has_git = find_root(path)
        if source == "git" and not has_git:
            raise NotFoundError(f"{self.root} is not a git work tree")
        # The path as given: a sync job may swap a symlink (`current -> release-2`), so where
        # it points is looked up again at every refresh.
        self._given = Path(os.path.abspath(path)) if path is not None else None
        self._git = has_git if source == "auto" else source == "git"
        self.refresh_interval = refresh_interval
        self.last_error: str | None = None
        self._snap: Snapshot | None = None
        self._next_check = 0.0
        self._refresher = Refresher(f"promptreg-reload {self.root}")
        self._cat: CatFile | None = None
        self._closed = False
        # A seam for tests: called on the reloading thread before the build and before each
        # entry it verifies (a test holds a reload there to show requests do not wait).
        self._build_hook: Callable[[], None] | None = None
        self._rejected_token: object = None
        _LIVE.add(self)

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop a reload in progress (waiting for it), the git reader process, and drop the
        snapshot."""
        self._closed = True
        # The reload sees the flag at its next entry and gives up; its reads must be over
        # before the reader stops, or they would start a new git process.
        self._refresher.join()
        if self._cat is not None:
            self._cat.close()
            self._cat = None
        self._snap = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def snapshot_id(self) -> str | None:
        """The commit id being served (``"files"`` for a plain directory), None before a read."""
        snap = self._snap
        return None if snap is None else snap.ident

    # -- snapshots -------------------------------------------------------------------------------
    def _reader(self) -> CatFile | None:
        if not self._git:
            return None
        if self._cat is None:
            from registry.gitio.catfile import CatFile

            self._cat = CatFile(self.root)
        return self._cat

    def _follow_root(self) -> None:
        """Switch to where the given path points now, if a symlink along it was swapped."""
        if self._given is None:
            return
        real = Path(os.path.realpath(self._given))
        if real == self.root or not real.is_dir():
            return
        # Whether the registry is a git checkout was decided once, at construction: a folder
        # a sync has not finished filling (no .git yet) is not a plain directory to read.
        if self._git and not is_work_tree(real):
            raise NotFoundError(
                f"update rejected: {self._given} now points at {real}, which is not a git"
                " checkout (the registry was one when it was opened); a sync in progress?"
            )
        if self._cat is not None:
            self._cat.close()
            self._cat = None
        self.root = real

    def _token(self, snap: Snapshot | None) -> object:
        if self._git:
            from registry.gitio.refs import head_state

            return (str(self.root), head_state(self.root))
        return (str(self.root), dir_token(self.root, snap))

    def reload(self) -> bool:
        """Check for a new state now; True when a new snapshot was swapped in."""
        if self._closed:
            raise RegistryError("this PromptRegistry is closed")
        return self._refresher.run(self._reload_locked)

    def _build_step(self) -> None:
        """Between the entries a reload verifies: the test seam, give up once closed, and let
        the requests waiting for the interpreter lock run."""
        time.sleep(0)
        hook = self._build_hook
        if hook is not None:
            hook()
        if self._closed:
            raise RegistryError("this PromptRegistry was closed during a reload")

    def _reload_locked(self) -> bool:
        prev = self._snap
        self._next_check = time.monotonic() + self.refresh_interval
        token: object = None
        try:
            self._follow_root()
            token = self._token(prev)
            # Unchanged, or the same broken state that was already refused: nothing to do.
            if prev is not None and (token == prev.token or token == self._rejected_token):
                return False
            # Taken before reading, so a change made while building is seen next time.
            base = token if self._git else self._token(None)
            step = None if prev is None else self._build_step
            snap = build_snapshot(self.root, self._git, self._reader(), prev, step)
            snap.token = base
        except Exception as exc:
            if self._closed:
                return False
            # Whatever went wrong with the new state, requests keep the last good snapshot.
            if prev is None:
                # Nothing to keep serving. A refusal says what is wrong and a folder the
                # process cannot read is the caller's to fix; anything else is a bug in
                # promptreg and propagates unchanged (the CLI reports it as internal, exit 3).
                if isinstance(exc, OSError):
                    raise RegistryError(
                        f"{self.root}: the registry cannot be read: {exc!r}"
                    ) from exc
                raise
            message = str(exc) if isinstance(exc, RegistryError) else f"update rejected: {exc!r}"
            if self.last_error != message:
                log.warning("promptreg: keeping snapshot %s: %s", prev.ident, message)
            self.last_error = message
            self._rejected_token = token
            return False
        if self._closed:  # close() ran while this snapshot was being built
            return False
        self._rejected_token = None
        self._snap = snap
        self.last_error = None
        return prev is None or snap.ident != prev.ident or not self._git

    def _current(self) -> Snapshot:
        snap = self._snap
        if snap is None:
            return self._first_load()
        if time.monotonic() >= self._next_check and not self._closed:
            # Stale-while-revalidate: the check and any rebuild run on a background thread.
            self._next_check = time.monotonic() + self.refresh_interval
            self._refresher.start(self._reload_locked)
        return snap

    def _first_load(self) -> Snapshot:
        """With nothing to serve yet, the request waits for the load (and sees its error)."""
        if self._closed:
            raise RegistryError("this PromptRegistry is closed")
        with self._refresher.lock:
            if self._snap is None:
                self._reload_locked()
        snap = self._snap
        if snap is None:
            raise RegistryError("this PromptRegistry is closed")
        return snap
