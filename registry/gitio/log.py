"""The git side of deployment history: the first-parent log of pointer files, read with
one git log and one cat-file, as ``PointerCommit`` records."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.errors import GitError, LoadError, ShallowCloneError
from registry.gitio.catfile import CatFile
from registry.gitio.chain import Chain, ChainReader
from registry.gitio.envdirs import EnvironmentDirs
from registry.gitio.refs import resolve_head
from registry.gitio.repo import git_dirs
from registry.gitio.run import is_shallow, stream_git
from registry.ids import is_valid_version, validate_prompt_id
from registry.paths import pointer_path
from registry.yamlio.flat import load_flat
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
    if _is_shallow(root):
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
    flat = load_flat(blob)
    if flat is not None:
        return pointer_fields(flat), None
    try:
        return pointer_fields(load_yaml_bytes(blob, label).data), None
    except LoadError as exc:
        return None, str(exc)


# One commit of one pointer before its time is made monotonic: commit, committer time, zone,
# author, the pointer there, the error reading it.
_Row = tuple[str, int, str, str, PointerFields | None, str | None]


class _Collector:
    """Reads and parses the pointers of each batch of changes while git log keeps walking."""

    def __init__(self, cat: CatFile) -> None:
        self.cat = cat
        self.rows: dict[str, list[_Row]] = {}
        self._blobs: dict[str, bytes | None] = {}

    def add(self, changes: Sequence[_Change]) -> None:
        ids = {f.blob for c in changes for f in c.files if f.mode in _FILE_MODES}
        wanted = sorted(ids.difference(self._blobs))
        self._blobs.update(zip(wanted, self.cat.read_many(wanted), strict=True))
        for c in changes:
            for f in c.files:
                rows = self.rows.get(f.path)
                if rows is not None:
                    data, error = _parse_pointer(f, self._blobs.get(f.blob), c.commit)
                    rows.append((c.commit, c.committed_at, c.tz_offset, c.author, data, error))

    def walk(self, root: Path, rev: str, paths: Sequence[str]) -> None:
        """The commits of ``rev``'s first-parent chain that touched ``paths``."""
        for path in paths:
            self.rows.setdefault(path, [])
        batch: list[_Change] = []
        with closing(stream_git(root, *_log_args(rev, paths))) as chunks:
            for change in _parse_log(chunks):
                batch.append(change)
                if len(batch) >= _BATCH:
                    self.add(batch)
                    batch = []
        self.add(batch)

    def commits(self, path: str, chain: Chain) -> list[PointerCommit]:
        """The commits of ``path``, oldest first, their times made monotonic along ``chain``."""
        return [
            PointerCommit(commit, chain.time(commit, at), tz, author, data, error)
            for commit, at, tz, author, data, error in reversed(self.rows[path])
        ]


def _is_shallow(root: Path) -> bool:
    # git's own test: a "shallow" file in the common git dir; no process when .git is found.
    dirs = git_dirs(root)
    return (dirs[1] / "shallow").exists() if dirs is not None else is_shallow(root)


def _positions(found: Mapping[str, list[PointerCommit]], chain: Chain) -> dict[str, int]:
    return {c.commit: chain.place(c.commit) or 0 for commits in found.values() for c in commits}


def pointer_log(
    root: Path, rev: str, paths: Sequence[str], cat: CatFile | None
) -> tuple[dict[str, list[PointerCommit]], dict[str, int]]:
    """Per path, the commits that touched it (oldest first), and each commit's chain position.

    Commit times are made monotonic along the whole first-parent chain, not only over the
    commits that touched a pointer: a deploy after a commit with a clock ahead of it happened
    at least then. The chain's times come from one rev-list run alongside the log.
    """
    root = Path(root)
    if not _check_repository(root, rev):
        return {p: [] for p in paths}, {}
    chain = ChainReader(root, rev)
    with nullcontext(cat) if cat is not None else CatFile(root) as reader:
        collector = _Collector(reader)
        collector.walk(root, rev, paths)
    times = chain.result()
    found = {p: collector.commits(p, times) for p in paths}
    return found, _positions(found, times)


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
    chain = ChainReader(root, rev)
    dirs = EnvironmentDirs(root, rev, configured, resolve_head(root) if rev == "HEAD" else None)
    paths = {env: pointer_path(env, prompt_id) for env in dirs.known}
    with CatFile(root) as cat:
        collector = _Collector(cat)
        collector.walk(root, rev, list(paths.values()))
        times = chain.result()
        new = {env: pointer_path(env, prompt_id) for env in dirs.result(times)}
        if new:
            collector.walk(root, rev, list(new.values()))
    dirs.save(times)
    found = {env: collector.commits(path, times) for env, path in {**paths, **new}.items()}
    return found, _positions(found, times)


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
