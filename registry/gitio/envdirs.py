"""Which environment folders ``deployments/`` ever held on a first-parent chain, so that a
history of every environment includes retired ones, read cheaply.

A git pathspec cannot both find folders it does not name and stay cheap: any wildcard makes git
read every entry of every changed environment folder (five times the cost of the literal
pointer paths). So the folders are found by one log of ``deployments/`` without the folders
already known, whose diffs git never opens, and remembered in the git dir with the chain tips
they cover (``promptreg/environments``): the next history reads only the commits since. The
remembered names may be more than one chain holds (a superset costs nothing: a pointer path
that never existed has no events); deleting the file is always safe.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from registry.errors import GitError
from registry.gitio.chain import Chain
from registry.gitio.repo import git_dirs, read_bytes
from registry.gitio.run import run_git
from registry.ids import is_valid_id
from registry.paths import DEPLOYMENTS

CACHE_FILE = ("promptreg", "environments")
_HEADER = b"promptreg environments 1\n"
_MAX_TIPS = 16
_TIP_RE = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
# The scan spells its pathspec magic itself; a user's GIT_*_PATHSPECS must not change it.
_PATHSPEC_ENV = {
    "GIT_LITERAL_PATHSPECS": "0",
    "GIT_GLOB_PATHSPECS": "0",
    "GIT_NOGLOB_PATHSPECS": "0",
    "GIT_ICASE_PATHSPECS": "0",
}


def _cache_path(root: Path) -> Path | None:
    dirs = git_dirs(root)
    return None if dirs is None else dirs[1].joinpath(*CACHE_FILE)


def read_seen(root: Path) -> tuple[list[str], set[str]]:
    """(tips, names) remembered for ``root``: every folder name on the first-parent chain of
    each tip is among the names. Nothing when the file is missing or not understood."""
    path = _cache_path(root)
    data = read_bytes(path) if path is not None else None
    if data is None or not data.startswith(_HEADER):
        return [], set()
    tips: list[str] = []
    names: set[str] = set()
    for line in data[len(_HEADER) :].decode("ascii", "replace").splitlines():
        kind, _, value = line.partition(" ")
        if kind == "tip" and _TIP_RE.fullmatch(value):
            tips.append(value)
        elif kind == "env" and is_valid_id(value):
            names.add(value)
        else:
            return [], set()
    return tips, names


def write_seen(root: Path, tips: list[str], names: Iterable[str]) -> None:
    """Remember ``names`` as covering the chains of ``tips``; quietly nothing when the git dir
    cannot be written (a read-only checkout still reads history, only slower)."""
    path = _cache_path(root)
    if path is None:
        return
    text = _HEADER + "".join(
        [*(f"tip {t}\n" for t in tips[-_MAX_TIPS:]), *(f"env {n}\n" for n in sorted(names))]
    ).encode("ascii")
    with contextlib.suppress(OSError):
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".environments.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def scan_names(root: Path, rev: str, since: str | None, known: Iterable[str]) -> set[str]:
    """Environment folder names in the first-parent diffs of the commits after ``since`` (all,
    when None) up to ``rev``, besides ``known`` (whose folders git does not open)."""
    excluded = [f":(exclude){DEPLOYMENTS}/{name}" for name in sorted(known)]
    out = run_git(
        root,
        *("-c", "log.follow=false", "-c", "log.showSignature=false", "log", "--first-parent"),
        *("--diff-merges=first-parent", "--root", "--no-renames", "--format=", "--name-only"),
        *("-z", "--end-of-options", rev if since is None else f"{since}..{rev}"),
        *("--", f"{DEPLOYMENTS}/", *excluded),
        env=_PATHSPEC_ENV,
    )
    found: set[str] = set()
    for path in out.split(b"\0"):
        parts = path.strip(b"\n").split(b"/")
        if len(parts) >= 3:
            name = parts[1].decode("utf-8", "replace")
            if is_valid_id(name):
                found.add(name)
    return found


class EnvironmentDirs:
    """The environment folders of one first-parent chain: those remembered (and ``configured``)
    at once, those new since the remembered tip after ``result``; ``save`` remembers them."""

    def __init__(self, root: Path, rev: str, configured: Iterable[str], tip: str | None) -> None:
        self.root = Path(root)
        self.rev = rev
        self._tips, seen = read_seen(self.root)
        self.known = sorted(seen.union(configured))
        self._new: set[str] = set()
        self._since = self._tips[-1] if self._tips else None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._lost = False
        self._scanned = self._since is None or self._since != tip
        if self._scanned:
            # Started at once, alongside the pointer log; checked against the chain after.
            self._thread = threading.Thread(target=self._scan, daemon=True)
            self._thread.start()

    def _scan(self) -> None:
        try:
            self._new = scan_names(self.root, self.rev, self._since, self.known)
        except GitError:
            if self._since is None:
                raise
            self._lost = True  # the remembered tip is gone (a pruned branch): read it all
        except BaseException as exc:  # re-raised in the caller's thread
            self._error = exc

    def result(self, chain: Chain) -> list[str]:
        """The folder names not in ``known`` that the chain's history holds."""
        if self._thread is not None:
            self._thread.join()
            if self._error is not None:
                raise self._error
        if self._since is not None and (self._lost or chain.place(self._since) is None):
            # The remembered tip is not on this chain (another branch, rewritten history):
            # read from the latest remembered tip that is, else the whole chain.
            on_chain = {t: i for t in self._tips if (i := chain.place(t)) is not None}
            self._since = max(on_chain, key=on_chain.__getitem__) if on_chain else None
            self._new = scan_names(self.root, self.rev, self._since, self.known)
        return sorted(self._new.difference(self.known))

    def save(self, chain: Chain) -> None:
        """Remember the chain's tip as covered, with every name the scan left out or found."""
        if chain.tip is None or not self._scanned:
            return
        tips = [t for t in self._tips if t != chain.tip] + [chain.tip]
        write_seen(self.root, tips, self._new.union(self.known))
