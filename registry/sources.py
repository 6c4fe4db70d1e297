"""Sources of registry files: a directory (working tree or image), a git commit, or the index.

Every source answers the same two questions: which files are there (with their kind, so
symlinks and other non-regular files are seen), and what one file parses to, through the one
hardened loader. Nothing here follows a symlink.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from registry.errors import NotFoundError
from registry.paths import MANAGED_DIRS, SETTINGS, classify
from registry.yamlio.files import load_yaml_file, read_regular_file
from registry.yamlio.load import Loaded, YamlError, load_yaml_bytes, too_large

if TYPE_CHECKING:
    from registry.gitio.catfile import CatFile
    from registry.gitio.run import TreeEntry

FILE, SYMLINK, OTHER = "file", "symlink", "other"
_FULL_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True)
class Entry:
    """A path under a managed folder and what kind of file it is."""

    path: str
    kind: str  # FILE, SYMLINK or OTHER (FIFO, socket, device, gitlink, ...)


class Source(Protocol):
    """Where registry files are read from."""

    label: str

    def entries(self) -> list[Entry]:
        """Every file under prompts/, deployments/, evals/ and the settings file."""
        ...

    def load(self, path: str) -> Loaded | None:
        """The parsed file at ``path``, None when absent; raises LoadError when unreadable."""
        ...

    def read_data(self, path: str, limit: int) -> bytes | None:
        """The bytes of the regular file at ``path`` (a data file, not parsed), None when
        absent; raises LoadError when unreadable, not a regular file or over ``limit``."""
        ...

    def close(self) -> None:
        """Release what the source holds open (a git process); reading again reopens it."""
        ...


def _names_a_file(path: str) -> bool:
    """Whether ``path`` is where a version, pointer or suite file belongs."""
    c = classify(path)
    return c is not None and c[0] in ("version", "pointer", "suite")


class DirSource:
    """Files of a directory: a git working tree or a plain folder with no ``.git``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.label = "working tree"
        self._real_dirs: set[str] = set()  # folders under root seen to be no symlink

    def _walk(self, top: str) -> Iterator[Entry]:
        # Iterative, so a pull request with thousands of nested folders cannot exhaust the stack.
        pending = [top]
        while pending:
            rel = pending.pop()
            try:
                it = os.scandir(self.root / rel)
            except FileNotFoundError:
                continue
            except NotADirectoryError:
                yield Entry(rel, OTHER)
                continue
            with it:
                for de in it:
                    child = f"{rel}/{de.name}"
                    if de.is_symlink():
                        yield Entry(child, SYMLINK)
                    elif de.is_dir(follow_symlinks=False):
                        if _names_a_file(child):
                            yield Entry(child, OTHER)  # a folder where a file belongs
                        else:
                            pending.append(child)
                    elif de.is_file(follow_symlinks=False):
                        yield Entry(child, FILE)
                    else:
                        yield Entry(child, OTHER)

    def entries(self) -> list[Entry]:
        out: list[Entry] = []
        for top in MANAGED_DIRS:
            p = self.root / top
            if p.is_symlink():
                out.append(Entry(top, SYMLINK))
            elif p.exists():
                out.extend(self._walk(top))
        s = self.root / SETTINGS
        if s.is_symlink():
            out.append(Entry(SETTINGS, SYMLINK))
        elif s.exists():
            out.append(Entry(SETTINGS, FILE if s.is_file() else OTHER))
        out.sort(key=lambda e: e.path)
        return out

    def load(self, path: str) -> Loaded | None:
        # The folders are checked here; the file itself by the hardened read (lstat, then
        # O_NOFOLLOW). Only when that refuses is the path looked at again, so a symlink or a
        # vanished file is reported as before, with one lstat fewer per file.
        full = self._no_symlink(path, folders_only=True)
        if full is None:
            return None
        try:
            return load_yaml_file(full, display_path=path)
        except YamlError:
            if self._no_symlink(path) is None:
                return None
            raise

    def read_data(self, path: str, limit: int) -> bytes | None:
        full = self._no_symlink(path)
        return None if full is None else read_regular_file(full, path, limit)

    def _no_symlink(self, path: str, folders_only: bool = False) -> str | None:
        """``path`` under the root, None when absent. Refuse a symlink anywhere along the
        path: a pull request must not make promptreg read a file outside the registry. A
        folder found to be a real one is not looked at again (a check reads every file of
        a few thousand folders); a source lives as long as its view, one reading of the tree."""
        parts = path.split("/")
        root = os.fspath(self.root)
        checked = self._real_dirs
        for i, part in enumerate(parts):
            rel = "/".join(parts[: i + 1]) if i else part
            last = i == len(parts) - 1
            if last and folders_only:
                break
            if not last and rel in checked:
                continue
            try:
                st = os.lstat(f"{root}/{rel}")
            except FileNotFoundError:
                return None
            except NotADirectoryError:
                return None
            if stat.S_ISLNK(st.st_mode):
                raise YamlError(
                    "is a symbolic link; promptreg reads regular files only",
                    rel,
                    code="symlink",
                )
            if not last and stat.S_ISDIR(st.st_mode):
                checked.add(rel)
        return f"{root}/{path}"

    def close(self) -> None:
        """Nothing to release."""


def _parsed(path: str) -> bool:
    """Whether ``path`` is a version, pointer or settings file (read and parsed whole)."""
    c = classify(path)
    return c is not None and c[0] in ("version", "pointer", "settings")


def _kind_of_mode(mode: str) -> str:
    if mode in ("100644", "100755"):
        return FILE
    if mode == "120000":
        return SYMLINK
    return OTHER


class GitSource:
    """Files of one git commit (or the index), read through one persistent cat-file."""

    def __init__(
        self,
        root: Path,
        rev: str | None,
        cat: CatFile | None = None,
        pathspecs: tuple[str, ...] = (),
    ) -> None:
        """``pathspecs`` (the index only): list just the files they match (git pathspecs);
        the source then holds only those, as if the others were absent."""
        from registry.gitio.catfile import CatFile
        from registry.gitio.run import rev_parse

        self.root = root
        if rev is None:
            self.commit: str | None = None
            self.label = "index"
        elif _FULL_ID.fullmatch(rev):
            self.commit = rev
            self.label = f"commit {rev[:12]}"
        else:
            commit = rev_parse(root, rev)
            if commit is None:
                raise NotFoundError(f"git revision {rev!r} not found in {root}")
            self.commit = commit
            self.label = f"commit {commit[:12]}"
        self._cat = cat or CatFile(root)
        self._own_cat = cat is None
        self._entries: dict[str, TreeEntry] | None = None
        self._fetched: dict[str, bytes] = {}
        self.pathspecs = pathspecs if rev is None else ()

    def widen(self) -> None:
        """List every file from now on (drop the pathspecs and what was listed with them)."""
        if self.pathspecs:
            self.pathspecs = ()
            self._entries = None

    @property
    def cat(self) -> CatFile:
        """The cat-file process, for another source of the same repository to share."""
        return self._cat

    def _tree(self) -> dict[str, TreeEntry]:
        if self._entries is None:
            from registry.gitio.run import ls_index, ls_tree

            wanted = (*MANAGED_DIRS, SETTINGS)
            if self.commit is None:
                listed = [
                    e
                    for e in ls_index(self.root, self.pathspecs)
                    if e.path == SETTINGS or e.path.split("/", 1)[0] in MANAGED_DIRS
                ]
            else:
                listed = ls_tree(self.root, self.commit, wanted)
            self._entries = {e.path: e for e in listed}
        return self._entries

    def entries(self) -> list[Entry]:
        return sorted(
            (Entry(e.path, _kind_of_mode(e.mode)) for e in self._tree().values()),
            key=lambda e: e.path,
        )

    def load(self, path: str) -> Loaded | None:
        data = self._blob(path)
        return None if data is None else load_yaml_bytes(data, path)

    def read_data(self, path: str, limit: int) -> bytes | None:
        self._tree()  # by the listing, so a symlink's mode is seen, never its target read
        data = self._blob(path)
        if data is not None and len(data) > limit:
            raise too_large(len(data), path, limit)
        return data

    def prefetch(self, paths: list[str]) -> None:
        """Read the regular files among ``paths`` ahead of load(), pipelined through the one
        cat-file (one round trip per chunk, not per file); each is handed out once. Only version,
        pointer and settings files: a data file is read when asked for, under its limit."""
        tree = self._tree()
        entries = [
            e
            for p in paths
            if (e := tree.get(p)) is not None and _kind_of_mode(e.mode) == FILE and _parsed(p)
        ]
        blobs = self._cat.read_many([e.sha for e in entries])
        for e, data in zip(entries, blobs, strict=True):
            if data is not None:
                self._fetched[e.path] = data

    def _blob(self, path: str) -> bytes | None:
        fetched = self._fetched.pop(path, None)
        if fetched is not None:
            return fetched
        if self._entries is not None or self.commit is None:
            e = self._tree().get(path)
            if e is None:
                return None
            if _kind_of_mode(e.mode) != FILE:
                raise YamlError(
                    f"is not a regular file (git mode {e.mode}); store a regular file",
                    path,
                    code="not-regular",
                )
            data = self._cat.read(e.sha)
        else:
            data = self._cat.read(f"{self.commit}:{path}")
        return data

    def close(self) -> None:
        """Stop the cat-file process when this source owns it."""
        if self._own_cat:
            self._cat.close()
