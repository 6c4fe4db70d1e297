"""PromptRegistry: the library facade over one registry checkout."""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from registry.errors import NotFoundError, RegistryError
from registry.gitio.repo import find_work_tree, is_work_tree
from registry.ids import validate_environment, validate_prompt_id, validate_version
from registry.models import PromptDeployment, PromptVersion, Settings
from registry.snapshot import Snapshot, build_snapshot, dir_token
from registry.sources import DirSource
from registry.view import RegistryView

if TYPE_CHECKING:
    from registry.evals.run import EvalResult
    from registry.gitio.catfile import CatFile

log = logging.getLogger("promptreg")

SourceMode = Literal["auto", "git", "files"]


_LIVE: weakref.WeakSet[PromptRegistry] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    # A lock held by another thread at fork() stays held forever in the child.
    for reg in list(_LIVE):
        reg._reload_lock = threading.Lock()
        snap = reg._snap
        if snap is not None:
            snap.reset_lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def find_root(path: str | os.PathLike[str] | None) -> tuple[Path, bool]:
    """The registry root and whether it is a git work tree (pure Python, no process)."""
    start = Path(path) if path is not None else Path.cwd()
    start = start.resolve()
    if not start.is_dir():
        raise NotFoundError(f"registry path {str(start)!r} is not a directory")
    if path is not None:
        return start, is_work_tree(start)
    top = find_work_tree(start)
    return (start, False) if top is None else (top, True)


class PromptRegistry:
    """A prompt registry read from a checked-out repository (or a plain directory).

    ``get_active`` is served from an in-memory snapshot: one git commit where a ``.git``
    exists, else the files. The snapshot is refreshed at most every ``refresh_interval``
    seconds when HEAD (or the files) change; a broken update keeps the last good snapshot
    serving and sets ``last_error``. ``source="files"`` reads the working tree instead of
    HEAD (what the CLI does, so uncommitted edits are seen).
    """

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
        self._reload_lock = threading.Lock()
        self._cat: CatFile | None = None
        self._closed = False
        self._rejected_token: object = None
        _LIVE.add(self)

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the git reader process and drop the snapshot."""
        self._closed = True
        if self._cat is not None:
            self._cat.close()
            self._cat = None
        self._snap = None

    def __enter__(self) -> PromptRegistry:
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
        with self._reload_lock:
            return self._reload_locked()

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
            snap = build_snapshot(self.root, self._git, self._reader(), prev)
            snap.token = base
        except Exception as exc:
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
        if snap is None or time.monotonic() >= self._next_check:
            if self._closed:
                raise RegistryError("this PromptRegistry is closed")
            # One thread reloads; the others keep serving the snapshot they have.
            if self._reload_lock.acquire(blocking=snap is None):
                try:
                    if self._snap is snap:
                        self._reload_locked()
                finally:
                    self._reload_lock.release()
            snap = self._snap
            if snap is None:
                raise RegistryError("this PromptRegistry is closed")
        return snap

    # -- reads -----------------------------------------------------------------------------------
    def get_active(self, prompt_id: str, environment: str) -> PromptVersion | None:
        """The version active in ``environment``, or None when nothing is deployed there."""
        return self._current().active(prompt_id, environment)

    def get_version(self, prompt_id: str, version: str) -> PromptVersion | None:
        """One version, or None when it does not exist."""
        validate_prompt_id(prompt_id)
        validate_version(version)
        snap = self._current()
        res = snap.view.version_result(prompt_id, version)
        if res.record is None and res.problems:
            raise RegistryError(str(res.problems[0]))
        v = res.record
        if not isinstance(v, PromptVersion):
            return None
        return self._mark_active(snap, v)

    def versions(self, prompt_id: str) -> list[PromptVersion]:
        """Every version of ``prompt_id`` in SemVer order."""
        validate_prompt_id(prompt_id)
        snap = self._current()
        out = []
        for ver in self._version_names(snap, prompt_id):
            v = snap.view.version(prompt_id, ver)
            if v is not None:
                out.append(self._mark_active(snap, v))
        return out

    def _version_names(self, snap: Snapshot, prompt_id: str) -> list[str]:
        return snap.view.version_index().get(prompt_id, [])

    def _mark_active(self, snap: Snapshot, v: PromptVersion) -> PromptVersion:
        from dataclasses import replace

        for env in snap.settings.names:
            ptr = snap.view.pointer(env, v.prompt_id)
            if ptr is not None and ptr.version == v.version:
                return replace(v, is_active=True)
        return v

    @property
    def settings(self) -> Settings:
        """The registry settings of the current snapshot."""
        return self._current().settings

    def view(self) -> RegistryView:
        """A fresh view of the working tree (every call re-reads the files)."""
        return RegistryView(DirSource(self.root))

    # -- history ---------------------------------------------------------------------------------
    def history(self, prompt_id: str, environment: str | None = None) -> list[PromptDeployment]:
        """Deployment events of ``prompt_id`` (in ``environment``, or all), oldest first."""
        from registry import history

        validate_prompt_id(prompt_id)
        if environment is not None:
            validate_environment(environment)
            return history.history(self.root, prompt_id, environment, (environment,))
        try:
            configured = self._current().settings.names
        except RegistryError:
            # History is what one reads when the current state is broken.
            configured = Settings().names
        # Configured environments in promotion order, then any retired one history knows.
        from registry.gitio.log import environments_in_history

        found = environments_in_history(self.root, prompt_id)
        envs = tuple(dict.fromkeys([*configured, *sorted(found)]))
        return history.history(self.root, prompt_id, environment, envs)

    def active_at(
        self, prompt_id: str, environment: str, when: datetime | str
    ) -> PromptVersion | None:
        """The version that was active in ``environment`` at ``when``, as it was then."""
        from registry import history

        validate_prompt_id(prompt_id)
        validate_environment(environment)
        if isinstance(when, str):
            when = history.parse_rfc3339(when)
        events = history.history(self.root, prompt_id, environment, (environment,))
        ev = history.active_at(events, when)
        if ev is None or ev.version is None or ev.commit is None:
            return None
        src_view = RegistryView(_git_source(self.root, ev.commit))
        try:
            res = src_view.version_result(prompt_id, ev.version)
        finally:
            src_view.source.close()
        if not isinstance(res.record, PromptVersion):
            why = "; ".join(str(p) for p in res.problems) or "its file does not exist there"
            raise NotFoundError(
                f"{environment} pointed at {prompt_id} {ev.version} at {when.isoformat()}"
                f" (commit {ev.commit[:12]}), but that version cannot be read: {why}"
            )
        return replace(res.record, is_active=True)

    # -- writes (registry.writer, registry.deploy, registry.evals.record) ----------------------
    def register(self, version: PromptVersion, *, commit: bool = False) -> PromptVersion:
        """Write a new version file; raises AlreadyExistsError when it exists."""
        from registry import writer

        return writer.register(self.root, version, commit=commit)

    def deploy(
        self,
        prompt_id: str,
        version: str,
        environment: str,
        deployed_by: str | None = None,
        *,
        reason: str | None = None,
        commit: bool = False,
    ) -> PromptDeployment:
        """Point ``environment`` at ``version`` after checking its policy."""
        from registry import deploy

        return deploy.deploy(
            self.root, prompt_id, version, environment, deployed_by, reason=reason, commit=commit
        )

    def rollback(
        self,
        prompt_id: str,
        environment: str,
        rolled_back_by: str | None = None,
        *,
        to: str | None = None,
        reason: str | None = None,
        commit: bool = False,
    ) -> PromptDeployment:
        """Re-point ``environment`` at its previous version (or ``to``)."""
        from registry import deploy

        return deploy.rollback(
            self.root, prompt_id, environment, rolled_back_by, to=to, reason=reason, commit=commit
        )

    def evaluate(
        self,
        prompt_id: str,
        version: str,
        suite: str | None = None,
        *,
        record: bool = True,
        evaluated_by: str | None = None,
        commit: bool = False,
        progress: Any = None,
    ) -> EvalResult:
        """Run the evaluation suite; on pass (and ``record``) mark the version tested."""
        from registry.evals.record import evaluate

        return evaluate(
            self.root, prompt_id, version, suite, record=record, evaluated_by=evaluated_by,
            commit=commit, progress=progress,
        )  # fmt: skip


def _git_source(root: Path, commit: str) -> Any:
    from registry.sources import GitSource

    return GitSource(root, commit)
