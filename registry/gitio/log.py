"""The git side of deployment history: the first-parent log of pointer files, read with
one git log and one cat-file, as ``PointerCommit`` records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import closing, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.errors import GitError, LoadError, ShallowCloneError
from registry.gitio.catfile import CatFile
from registry.gitio.chain import Chain
from registry.gitio.envdirs import EnvironmentDirs
from registry.gitio.logstream import LOG_ENV, Change, File, LogStream, log_args
from registry.gitio.refs import resolve_head
from registry.gitio.repo import git_dirs
from registry.gitio.run import is_shallow, stream_git
from registry.ids import is_valid_version, validate_prompt_id
from registry.paths import pointer_path
from registry.yamlio.flat import load_flat


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
_BATCH = 256
# The log's pipe: room for git to run ahead of the parser by this much (a --sparse log writes
# about 90 bytes per commit of the chain).
_PIPE = 1 << 20
_FILE_MODES = ("100644", "100755")


def _check_repository(root: Path, rev: str) -> bool:
    """Refuse a bad rev or a shallow clone; False when there is no history to read."""
    if rev.startswith("-") or not rev:
        raise GitError(f"invalid git revision {rev!r}: give a branch, tag or commit id")
    if _is_shallow(root):
        raise ShallowCloneError(
            f"{root} is a shallow clone; history would be incomplete: run"
            " `git fetch --unshallow` (in CI: fetch-depth: 0)"
        )
    return not (rev == "HEAD" and resolve_head(root) is None)  # an unborn branch


def _parse_pointer(
    f: File, blob: bytes | None, commit: str
) -> tuple[PointerFields | None, str | None]:
    label = f"{f.path} at commit {commit[:12]}"
    if f.mode == _DELETED_MODE:
        return None, None
    if f.mode not in _FILE_MODES:
        return None, f"{label}: is not a regular file (git mode {f.mode})"
    if blob is None:
        return None, f"{label}: blob {f.blob} is missing from the repository"
    flat = load_flat(blob)
    if flat is not None:
        return pointer_fields(flat), None
    from registry.yamlio.load import load_yaml_bytes  # the YAML parser, only when needed

    try:
        return pointer_fields(load_yaml_bytes(blob, label).data), None
    except LoadError as exc:
        return None, str(exc)


# One commit of one pointer before its time is made monotonic: commit, its index in a chain
# log (None: another log), committer time, zone, author, the pointer there, the error.
_Row = tuple[str, int | None, int, str, str, PointerFields | None, str | None]


class _Collector:
    """Reads and parses the pointers of each batch of changes while git log keeps walking."""

    def __init__(self, cat: CatFile) -> None:
        self.cat = cat
        self.rows: dict[str, list[_Row]] = {}
        self._blobs: dict[str, bytes | None] = {}

    def add(self, changes: Sequence[Change], chain: bool) -> None:
        rows = self.rows
        ids = {f.blob for c in changes for f in c.files if f.mode in _FILE_MODES and f.path in rows}
        wanted = sorted(ids.difference(self._blobs))
        self._blobs.update(zip(wanted, self.cat.read_many(wanted), strict=True))
        for c in changes:
            index = c.index if chain else None
            for f in c.files:
                found = rows.get(f.path)
                if found is not None:
                    data, error = _parse_pointer(f, self._blobs.get(f.blob), c.commit)
                    found.append(
                        (c.commit, index, c.committed_at, c.tz_offset, c.author, data, error)
                    )

    def walk(self, root: Path, rev: str, paths: Sequence[str], chain: bool) -> Chain:
        """The commits of ``rev``'s first-parent chain that touched ``paths``; with ``chain``,
        the log lists the whole chain, returned (else the chain of the commits found)."""
        for path in paths:
            self.rows.setdefault(path, [])
        stream = LogStream()
        batch: list[Change] = []
        with closing(
            stream_git(root, *log_args(rev, paths, chain), env=LOG_ENV, pipe_bytes=_PIPE)
        ) as chunks:
            for chunk in chunks:
                batch += stream.feed(chunk)
                if len(batch) >= _BATCH:
                    self.add(batch, chain)
                    batch = []
        self.add([*batch, *stream.finish()], chain)
        return stream.chain()

    def found(
        self, paths: Mapping[str, str], chain: Chain
    ) -> tuple[dict[str, list[PointerCommit]], dict[str, int]]:
        """Per key of ``paths``, the commits of its path, oldest first, their times made
        monotonic along ``chain``; and each commit's place on the chain."""
        found: dict[str, list[PointerCommit]] = {}
        positions: dict[str, int] = {}
        for key, path in paths.items():
            commits = found[key] = []
            for commit, index, at, tz, author, data, error in reversed(self.rows[path]):
                place = chain.place(commit) if index is None else chain.place_of_index(index)
                positions[commit] = place or 0
                commits.append(
                    PointerCommit(commit, chain.time_at(place, at), tz, author, data, error)
                )
        return found, positions


def _is_shallow(root: Path) -> bool:
    # git's own test: a "shallow" file in the common git dir; no process when .git is found.
    dirs = git_dirs(root)
    return (dirs[1] / "shallow").exists() if dirs is not None else is_shallow(root)


def pointer_log(
    root: Path, rev: str, paths: Sequence[str], cat: CatFile | None
) -> tuple[dict[str, list[PointerCommit]], dict[str, int]]:
    """Per path, the commits that touched it (oldest first), and each commit's chain position.

    Commit times are made monotonic along the whole first-parent chain, not only over the
    commits that touched a pointer: a deploy after a commit with a clock ahead of it happened
    at least then. The chain's times come from the same log, which lists every commit.
    """
    root = Path(root)
    if not _check_repository(root, rev):
        return {p: [] for p in paths}, {}
    with nullcontext(cat) if cat is not None else CatFile(root) as reader:
        collector = _Collector(reader)
        chain = collector.walk(root, rev, paths, chain=True)
    return collector.found({p: p for p in paths}, chain)


def pointer_log_everywhere(
    root: Path, rev: str, prompt_id: str, configured: Sequence[str]
) -> tuple[dict[str, list[PointerCommit]], dict[str, int]]:
    """Per environment that is ``configured`` or ever held the pointer of ``prompt_id`` on the
    first-parent chain (a retired one), its commits as ``pointer_log`` gives them.

    The folders already known (``envdirs``) are walked at once, alongside the scan for new
    ones since they were last looked for; a new folder is walked after, on its own.
    """
    root = Path(root)
    validate_prompt_id(prompt_id)
    if not _check_repository(root, rev):
        return {env: [] for env in configured}, {}
    dirs = EnvironmentDirs(root, rev, configured, resolve_head(root) if rev == "HEAD" else None)
    paths = {env: pointer_path(env, prompt_id) for env in dirs.known}
    with CatFile(root) as cat:
        collector = _Collector(cat)
        chain = collector.walk(root, rev, list(paths.values()), chain=True)
        new = {env: pointer_path(env, prompt_id) for env in dirs.result(chain)}
        if new:
            collector.walk(root, rev, list(new.values()), chain=False)
    dirs.save(chain)
    return collector.found({**paths, **new}, chain)


def pointer_commits(
    root: Path, prompt_id: str, environment: str, rev: str = "HEAD", cat: CatFile | None = None
) -> list[PointerCommit]:
    """The first-parent commits of ``rev`` that touched the pointer, oldest first."""
    path = pointer_path(environment, prompt_id)
    return pointer_log(Path(root), rev, [path], cat)[0][path]


def environments_in_history(
    root: Path, prompt_id: str, rev: str = "HEAD", configured: Sequence[str] = ()
) -> list[str]:
    """Every environment folder that ever held a pointer of ``prompt_id`` on the first-parent
    chain, retired environments included, sorted. Naming the ``configured`` ones spares
    reading their folders whole the first time."""
    found, _ = pointer_log_everywhere(Path(root), rev, prompt_id, configured)
    return sorted(env for env, commits in found.items() if commits)
