"""Immutable registry snapshots for the application's hot path.

A snapshot is one consistent registry state: one git commit where a ``.git`` exists (so a
checkout in progress can never mix two commits), else the files of a plain directory. Entries
are loaded on first use and cached; the snapshot itself is never changed by a reload, which
builds a new snapshot and swaps it in whole.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from registry.errors import (
    EnvironmentNotConfiguredError,
    NotFoundError,
    PolicyError,
    RegistryError,
    ValidationError,
)
from registry.ids import validate_environment, validate_prompt_id
from registry.models import PromptVersion, Settings
from registry.paths import DEPLOYMENTS, SETTINGS, classify
from registry.policy import Candidate, judge
from registry.sources import DirSource, GitSource
from registry.view import FileResult, RegistryView
from registry.yamlio.load import Loaded

if TYPE_CHECKING:
    from registry.gitio.catfile import CatFile


class ServedView(RegistryView):
    """A view for serving: a good version or pointer file keeps its record and drops the
    parsed document and its line maps, which only a problem's message needs."""

    def _build(self, path: str, loaded: Loaded, kind: str, schema_kind: str) -> FileResult[Any]:
        res = super()._build(path, loaded, kind, schema_kind)
        if kind in ("version", "pointer") and res.record is not None and not res.problems:
            res.loaded = None
        return res


class Snapshot:
    """One registry state; ``active()`` answers from a per-snapshot cache."""

    def __init__(self, view: RegistryView, ident: str, token: object) -> None:
        self.view = view
        self.ident = ident
        self.base_token = token
        # Plain directories: each file read, with its stat taken just before the read.
        self.watched: dict[str, tuple[int, int, int] | None] = {}
        self._root = view.source.root if isinstance(view.source, DirSource) else None
        self._active: dict[tuple[str, str], PromptVersion | None] = {}
        self._lock = threading.Lock()
        res = view.settings_result()
        if res.problems:
            raise ValidationError("; ".join(str(p) for p in res.problems), list(res.problems))
        assert isinstance(res.record, Settings)
        self.settings: Settings = res.record
        # A plain directory can change under the reader, so what it held is noted once: the
        # settings file if it was read, and the pointers listed after that.
        self.present: frozenset[str] = frozenset()
        if self._root is not None:
            found = [SETTINGS] if res.loaded is not None else []
            self.present = frozenset(found + _pointer_files(self._root))

    @property
    def token(self) -> object:
        """What the state looked like when read; compared with ``dir_token`` / ``head_state``."""
        if self._root is None or not self.watched:
            return self.base_token
        base = self.base_token
        assert isinstance(base, tuple)
        return (base[0], base[1] + tuple(sorted(self.watched.items())))

    @token.setter
    def token(self, value: object) -> None:
        self.base_token = value

    def _watch(self, path: str) -> None:
        if self._root is not None and path not in self.watched:
            self.watched[path] = _stat(self._root / path)

    def reset_lock(self) -> None:
        """A fresh lock (after fork(), where another thread may have held this one)."""
        self._lock = threading.Lock()

    @property
    def warm_keys(self) -> list[tuple[str, str]]:
        """Keys that have been asked for, to pre-load and verify in a successor."""
        return list(self._active)

    def active(self, prompt_id: str, environment: str) -> PromptVersion | None:
        """The version active in ``environment``; cached after the first call."""
        key = (prompt_id, environment)
        # A hit raises nothing, so the warm path is one dict lookup (try costs nothing in 3.11).
        try:
            return self._active[key]
        except KeyError:
            pass
        with self._lock:
            try:
                return self._active[key]
            except KeyError:
                resolved = self._resolve(prompt_id, environment)
                self._active[key] = resolved
                return resolved

    def verify(self, prompt_id: str, environment: str) -> None:
        """Resolve without caching or watching; raises what ``active`` would."""
        self._resolve(prompt_id, environment, watch=False)

    def _resolve(
        self, prompt_id: str, environment: str, watch: bool = True
    ) -> PromptVersion | None:
        validate_prompt_id(prompt_id)
        validate_environment(environment)
        policy = self.settings.get(environment)
        if policy is None:
            raise EnvironmentNotConfiguredError(
                f"environment {environment!r} is not configured;"
                f" configured: {', '.join(self.settings.names)}"
            )
        if watch:
            self._watch(f"{DEPLOYMENTS}/{environment}/{prompt_id}.yaml")
        res = self.view.pointer_result(environment, prompt_id)
        if res.problems:
            raise ValidationError(str(res.problems[0]), list(res.problems))
        ptr = res.record
        if ptr is None and res.loaded is None and self._root is not None:
            path = f"{DEPLOYMENTS}/{environment}/{prompt_id}.yaml"
            if path in self.present:
                raise NotFoundError(
                    f"{path} disappeared while the registry folder was read (a sync in progress?)"
                )
        if ptr is None or ptr.version is None:
            return None
        ver = ptr.version
        if watch:
            self._watch(f"prompts/{prompt_id}/{ver}.yaml")
        vres = self.view.version_result(prompt_id, ver)
        if vres.problems:
            raise ValidationError(str(vres.problems[0]), list(vres.problems))
        v = vres.record
        if not isinstance(v, PromptVersion):
            raise NotFoundError(
                f"{DEPLOYMENTS}/{environment}/{prompt_id}.yaml points at {prompt_id} {ver},"
                f" which does not exist ({self.ident})"
            )
        # The runtime cannot tell how the pointer got here, so promotion is not judged.
        refused = judge(Candidate(v, environment, policy, promotion=None))
        if refused:
            raise PolicyError(
                f"{refused[0].path}: " + "; ".join(p.message for p in refused) + f" ({self.ident})"
            )
        return replace(v, is_active=True)

    def close(self) -> None:
        """Release the source."""
        close = getattr(self.view.source, "close", None)
        if close is not None:
            close()


def _pointer_files(root: Path) -> list[str]:
    """The pointer files of a plain directory: deployments/ only, so the first read does not
    walk every version of a large registry."""
    out: list[str] = []
    try:
        with os.scandir(root / DEPLOYMENTS) as envs:
            folders = [e.name for e in envs if e.is_dir(follow_symlinks=False)]
        for env in folders:
            with os.scandir(root / DEPLOYMENTS / env) as files:
                for f in files:
                    rel = f"{DEPLOYMENTS}/{env}/{f.name}"
                    c = classify(rel)
                    if c is not None and c[0] == "pointer" and f.is_file(follow_symlinks=False):
                        out.append(rel)
    except OSError:
        pass  # a folder that vanished while listed: what was found so far
    return out


def vanished(prev: Snapshot, snap: Snapshot) -> list[str]:
    """The settings file and pointers ``prev`` had that a plain directory's ``snap`` lacks.

    A commit says what it removes; a folder does not, and a sync job that swaps or deletes
    files looks exactly like a removal while it runs. A pointer of an environment the new
    settings file no longer configures is a retirement, not a vanishing."""
    if snap._root is None:
        return []  # read from a commit: what is gone, that commit removed
    gone = set(prev.present - snap.present)
    if SETTINGS in snap.present:
        names = set(snap.settings.names)
        gone = {p for p in gone if p == SETTINGS or p.split("/")[1] in names}
    return sorted(gone)


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def dir_token(root: Path, snap: Snapshot | None) -> tuple[object, ...]:
    """What a plain directory looks like now: the settings and environment folders (a file
    replaced, added or removed changes its folder), and every file the snapshot has read."""
    paths = [SETTINGS]
    try:
        with os.scandir(root / DEPLOYMENTS) as it:
            paths += sorted(f"{DEPLOYMENTS}/{e.name}" for e in it)
    except OSError:
        pass
    base = tuple((p, _stat(root / p)) for p in paths)
    if snap is None:
        return base
    return base + tuple((p, _stat(root / p)) for p in sorted(snap.watched))


def build_snapshot(
    root: Path,
    git: bool,
    cat: CatFile | None,
    prev: Snapshot | None,
    step: Callable[[], None] | None = None,
) -> Snapshot:
    """A new snapshot of ``root``; raises RegistryError when it does not load or when any
    entry the previous snapshot served fails to resolve in it. ``step`` is called before the
    build and before each entry verified, and may raise to abandon the build."""
    if step is not None:
        step()
    if git:
        from registry.gitio.refs import head_state, resolve_head

        token: object = head_state(root)
        commit = resolve_head(root)
        if commit is None:
            raise NotFoundError(f"{root}: the git repository has no commit yet")
        view = ServedView(GitSource(root, commit, cat=cat))
        ident = commit
    else:
        token = dir_token(root, None)
        view = ServedView(DirSource(root))
        ident = "files"
    snap = Snapshot(view, ident, token)
    if prev is not None:
        gone = vanished(prev, snap)
        if gone:
            raise NotFoundError(
                f"update rejected: {', '.join(gone)} disappeared from {root} without a commit"
                " removing them (a sync in progress?);"
                " to remove a deployment from a folder without git, write a tombstone"
                " pointer (version: null) or restart the application"
            )
        warm = set(prev.warm_keys)
        for pid, env in _keys_to_verify(root, git, prev, snap):
            if step is not None:
                step()
            try:
                # What the application asked for is loaded ahead; the rest is only verified,
                # so the change detection of a plain directory keeps watching few files.
                if (pid, env) in warm:
                    snap.active(pid, env)
                else:
                    snap.verify(pid, env)
            except EnvironmentNotConfiguredError:
                continue  # a retired environment: nothing is served there any more
            except RegistryError as exc:
                if (pid, env) not in warm and _was_broken(prev, pid, env):
                    continue  # broken before this update too: not what this update breaks
                raise type(exc)(f"update rejected: {exc}") from None
    return snap


def _was_broken(prev: Snapshot, prompt_id: str, environment: str) -> bool:
    try:
        prev.verify(prompt_id, environment)
    except RegistryError:
        return True
    return False


def _keys_to_verify(root: Path, git: bool, prev: Snapshot, snap: Snapshot) -> list[tuple[str, str]]:
    """What must resolve before a new snapshot replaces ``prev``: what was served, and every
    pointer the update may have changed (all of them when the settings or the source changed,
    or without git to say what changed)."""
    keys = dict.fromkeys(prev.warm_keys)
    changed: list[str] | None = None
    if git and prev.ident != "files" and prev.view.source.__class__ is snap.view.source.__class__:
        from registry.gitio.run import diff_names

        try:
            changed = [p for _, p, _ in diff_names(root, prev.ident, snap.ident)]
        except RegistryError:
            changed = None  # the old commit is gone (a forced update): verify everything
    if changed is None or SETTINGS in changed:
        for env, pid in snap.view.pointer_index():
            keys[(pid, env)] = None
        return list(keys)
    names = snap.settings.names
    for path in changed:
        c = classify(path)
        if c is not None and c[0] == "pointer":
            keys[(c[1][1], c[1][0])] = None
        elif c is not None and c[0] == "version":
            # A re-evaluated or edited version: every environment that may run it.
            for env in names:
                keys[(c[1][0], env)] = None
    return list(keys)
