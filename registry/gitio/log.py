"""The git side of deployment history: the first-parent log of pointer files, read with
one git log and one cat-file, as ``PointerCommit`` records."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from registry.errors import GitError, LoadError, ShallowCloneError
from registry.gitio.catfile import CatFile
from registry.gitio.refs import resolve_head
from registry.gitio.run import is_shallow, run_git, stream_git
from registry.ids import is_valid_id, is_valid_version, validate_prompt_id
from registry.paths import pointer_path
from registry.yamlio.load import load_yaml_bytes


@dataclass(frozen=True)
class PointerCommit:
    """One first-parent commit that touched a pointer file."""

    commit: str
    committed_at: int  # committer unix time
    tz_offset: str  # "+0100" as in git, for display
    author: str  # "Name <email>"
    pointer: PointerFields | None  # the pointer at that commit; None when deleted there
    error: str | None = None  # set when the pointer at that commit could not be parsed


@dataclass(frozen=True)
class PointerFields:
    """What history reads from a pointer at one commit; a field that is absent, empty or of
    the wrong type is None (a pointer whose ``version`` is None is as unreadable as bad YAML,
    unless it is a tombstone: ``version: null`` with ``action: remove``)."""

    version: str | None
    deployed_by: str | None = None
    action: str | None = None
    reason: str | None = None
    is_tombstone: bool = False


def pointer_fields(data: Mapping[str, Any]) -> PointerFields:
    """The fields history reads from one loaded pointer mapping."""
    version = data.get("version")
    return PointerFields(
        version=version if is_valid_version(version) else None,
        deployed_by=_text(data.get("deployed_by")),
        action=_text(data.get("action")),
        reason=_text(data.get("reason")),
        is_tombstone=version is None and "version" in data and data.get("action") == "remove",
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


# -- reading git -----------------------------------------------------------------------------


_DELETED_MODE = "000000"
# Changes parsed before their pointers are read; git log keeps walking meanwhile.
_BATCH = 64
_FILE_MODES = ("100644", "100755")


@dataclass(frozen=True)
class _File:
    """A pointer path as one commit left it: mode and blob id ("000000" mode when deleted)."""

    path: str
    mode: str
    blob: str


@dataclass(frozen=True)
class _Change:
    """One first-parent commit and the requested pointer files it changed."""

    commit: str
    committed_at: int
    tz_offset: str
    author: str
    files: tuple[_File, ...]


def _tokens(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """NUL-separated tokens of a byte stream, as they complete."""
    rest = b""
    for chunk in chunks:
        *done, rest = (rest + chunk).split(b"\0")
        for token in done:
            token = token.lstrip(b"\n")
            if token:
                yield token
    if rest.strip(b"\n"):
        yield rest.lstrip(b"\n")


def _parse_log(chunks: Iterable[bytes]) -> Iterator[_Change]:
    """Changes from records of ``%H NUL %cd NUL author NUL``, each followed by its raw diff
    entries ``:srcmode dstmode srcblob dstblob status NUL path NUL``; in log order."""
    row: tuple[str, int, str, str, list[_File]] | None = None
    tokens = _tokens(chunks)
    for token in tokens:
        if token.startswith(b":") and row is not None:
            _, mode, _, blob, _ = token[1:].decode("ascii").split(" ")
            row[4].append(_File(next(tokens, b"").decode("utf-8", "replace"), mode, blob))
            continue
        if row is not None:
            yield _Change(*row[:4], tuple(row[4]))
        date, author = next(tokens, b""), next(tokens, b"")
        seconds, _, tz = date.decode("ascii", "replace").partition(" ")
        if not seconds.lstrip("-").isdigit():
            raise GitError(f"unexpected git log output near {token[:80]!r}")
        row = (token.decode("ascii"), int(seconds), tz, author.decode("utf-8", "replace"), [])
    if row is not None:
        yield _Change(*row[:4], tuple(row[4]))


def _log_args(rev: str, paths: Sequence[str]) -> list[str]:
    return [
        # A user's config must not turn on --follow or signature output.
        *("-c", "log.follow=false", "-c", "log.showSignature=false", "--literal-pathspecs"),
        "log",
        "--first-parent",
        # A merge counts by its diff against the first parent: a merged pull request
        # deploys when it lands, at the merge commit.
        "--diff-merges=first-parent",
        # Blob ids straight from the diff spare cat-file a tree walk per commit; --root
        # because a pointer created in the first commit is an event too.
        *("--raw", "--root", "--no-abbrev", "--no-renames", "--no-color", "-z"),
        *("--encoding=UTF-8", "--date=raw", "--format=%H%x00%cd%x00%an <%ae>"),
        *("--end-of-options", rev, "--", *paths),
    ]


def _check_repository(root: Path, rev: str) -> bool:
    """Refuse a bad rev or a shallow clone; False when there is no history to read."""
    if rev.startswith("-") or not rev:
        raise GitError(f"invalid git revision {rev!r}: give a branch, tag or commit id")
    if is_shallow(root):
        raise ShallowCloneError(
            f"{root} is a shallow clone; history would be incomplete: run"
            " `git fetch --unshallow` (in CI: fetch-depth: 0)"
        )
    return not (rev == "HEAD" and resolve_head(root) is None)  # an unborn branch


def _parse_pointer(
    f: _File, blob: bytes | None, commit: str
) -> tuple[PointerFields | None, str | None]:
    label = f"{f.path} at commit {commit[:12]}"
    if f.mode == _DELETED_MODE:
        return None, None
    if f.mode not in _FILE_MODES:
        return None, f"{label}: is not a regular file (git mode {f.mode})"
    if blob is None:
        return None, f"{label}: blob {f.blob} is missing from the repository"
    try:
        return pointer_fields(load_yaml_bytes(blob, label).data), None
    except LoadError as exc:
        return None, str(exc)


class _Collector:
    """Reads and parses the pointers of each batch of changes while git log keeps walking."""

    def __init__(self, paths: Sequence[str], cat: CatFile) -> None:
        self.cat = cat
        self.found: dict[str, list[PointerCommit]] = {p: [] for p in paths}
        self.order: list[str] = []
        self._blobs: dict[str, bytes | None] = {}

    def add(self, changes: Sequence[_Change]) -> None:
        ids = {f.blob for c in changes for f in c.files if f.mode in _FILE_MODES}
        wanted = sorted(ids.difference(self._blobs))
        self._blobs.update(zip(wanted, self.cat.read_many(wanted), strict=True))
        for c in changes:
            self.order.append(c.commit)
            for f in c.files:
                if f.path in self.found:
                    data, error = _parse_pointer(f, self._blobs.get(f.blob), c.commit)
                    self.found[f.path].append(
                        PointerCommit(c.commit, c.committed_at, c.tz_offset, c.author, data, error)
                    )


def _collect(root: Path, rev: str, paths: Sequence[str], cat: CatFile) -> _Collector:
    collector = _Collector(paths, cat)
    if not _check_repository(root, rev):
        return collector
    batch: list[_Change] = []
    with closing(stream_git(root, *_log_args(rev, paths))) as chunks:
        for change in _parse_log(chunks):
            batch.append(change)
            if len(batch) >= _BATCH:
                collector.add(batch)
                batch = []
    collector.add(batch)
    return collector


class _ChainTimes:
    """``git rev-list --first-parent --timestamp`` in a thread: each commit's running maximum
    committer time from the root of the chain."""

    def __init__(self, root: Path, rev: str) -> None:
        self._out: bytes = b""
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(root, rev), daemon=True)
        self._thread.start()

    def _run(self, root: Path, rev: str) -> None:
        try:
            if resolve_head(root) is not None or rev != "HEAD":
                self._out = run_git(
                    root, "rev-list", "--first-parent", "--timestamp", "--end-of-options", rev
                )
        except BaseException as exc:  # re-raised in the caller's thread
            self._error = exc

    def result(self) -> dict[str, int]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        out: dict[str, int] = {}
        high = 0
        for line in reversed(self._out.split(b"\n")):
            if not line:
                continue
            seconds, commit = line.split(b" ", 1)
            high = max(high, int(seconds))
            out[commit.decode("ascii")] = high
        return out


def pointer_log(
    root: Path, rev: str, paths: Sequence[str], cat: CatFile | None
) -> tuple[dict[str, list[PointerCommit]], dict[str, int]]:
    """Per path, the commits that touched it (oldest first), and each commit's chain position.

    Commit times are made monotonic along the whole first-parent chain, not only over the
    commits that touched a pointer: a deploy after a commit with a clock ahead of it happened
    at least then. The chain's times come from one rev-list run alongside the log.
    """
    chain = _ChainTimes(root, rev)
    with nullcontext(cat) if cat is not None else CatFile(root) as reader:
        collected = _collect(root, rev, paths, reader)
    monotonic = chain.result()
    for path, commits in collected.found.items():
        commits.reverse()  # git log lists newest first
        collected.found[path] = [
            replace(c, committed_at=max(c.committed_at, monotonic.get(c.commit, 0)))
            for c in commits
        ]
    order = collected.order
    return collected.found, {commit: len(order) - i for i, commit in enumerate(order)}


def pointer_commits(
    root: Path, prompt_id: str, environment: str, rev: str = "HEAD", cat: CatFile | None = None
) -> list[PointerCommit]:
    """The first-parent commits of ``rev`` that touched the pointer, oldest first."""
    path = pointer_path(environment, prompt_id)
    return pointer_log(Path(root), rev, [path], cat)[0][path]


def environments_in_history(root: Path, prompt_id: str, rev: str = "HEAD") -> list[str]:
    """Every environment folder that ever held a pointer of ``prompt_id`` on the first-parent
    chain, retired environments included (for a history of all environments)."""
    validate_prompt_id(prompt_id)
    if not _check_repository(root, rev):
        return []
    out = run_git(
        root,
        *("-c", "log.follow=false", "log", "--first-parent", "--format=", "--name-only", "-z"),
        *("--no-renames", "--end-of-options", rev, "--", f":(glob)deployments/*/{prompt_id}.yaml"),
    )
    found: dict[str, None] = {}
    for path in out.decode("utf-8", "replace").split("\0"):
        parts = path.strip().split("/")
        if len(parts) == 3 and is_valid_id(parts[1]):
            found.setdefault(parts[1], None)
    return list(found)
