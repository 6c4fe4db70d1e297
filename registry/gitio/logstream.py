"""The first-parent log of pointer paths as one stream, parsed while git writes it.

With ``chain=True`` the log lists every commit of the first-parent chain (``--sparse``), the
raw diff entries of the requested paths under the commits that changed them: one walk gives
the chain's times (made monotonic from the root, ``chain.py``) and the pointer changes, where
a separate ``rev-list`` would walk the chain a second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from registry.errors import GitError
from registry.gitio.chain import Chain

# A raw diff entry (":srcmode dstmode srcblob dstblob status"); the first of a commit comes
# after the line break that ends the commit's header.
_RAW = (b"\n:", b":")
_FIRST_ENTRY = b"\n:"
_FIRST = b"\0" + _FIRST_ENTRY  # where a commit's entries start, in the stream
# git flushes its output after every commit into a pipe (once per commit of a --sparse log):
# buffered, it writes a few kilobytes at a time, and the reader wakes up as often.
LOG_ENV = {"GIT_FLUSH": "0"}


@dataclass(frozen=True)
class File:
    """A pointer path as one commit left it: mode and blob id ("000000" mode when deleted)."""

    path: str
    mode: str
    blob: str


@dataclass(frozen=True)
class Change:
    """One first-parent commit and the requested pointer files it changed; ``index`` is its
    place in the log (0: the newest commit)."""

    commit: str
    index: int
    committed_at: int
    tz_offset: str
    author: str
    files: tuple[File, ...]


def log_args(rev: str, paths: Sequence[str], chain: bool) -> list[str]:
    """``git log`` of the first-parent commits of ``rev`` that changed ``paths`` (every commit
    of the chain with ``chain``), each with ``%H NUL %cd NUL author NUL`` and its raw diff
    entries of ``paths``: ``:srcmode dstmode srcblob dstblob status NUL path NUL``."""
    return [
        # A user's config must not turn on --follow or signature output.
        *("-c", "log.follow=false", "-c", "log.showSignature=false", "--literal-pathspecs"),
        "log",
        "--first-parent",
        # Every commit of the first-parent chain, the diff shown where the paths changed.
        *(("--sparse", "--full-history") if chain else ()),
        # A merge counts by its diff against the first parent: a merged pull request
        # deploys when it lands, at the merge commit.
        "--diff-merges=first-parent",
        # Blob ids straight from the diff spare cat-file a tree walk per commit; --root
        # because a pointer created in the first commit is an event too. Without paths, only
        # the chain: no diff at all.
        "--raw" if paths else "--no-patch",
        *("--root", "--no-abbrev", "--no-renames", "--no-color", "-z"),
        *("--encoding=UTF-8", "--date=raw", "--format=%H%x00%cd%x00%an <%ae>"),
        *("--end-of-options", rev, "--", *paths),
    ]


def _unexpected(near: bytes) -> GitError:
    return GitError(f"unexpected git log output near {near[:80]!r}")


def _change(header: Sequence[bytes], index: int, files: list[File]) -> Change:
    commit, date, author = header
    seconds, _, tz = date.decode("ascii", "replace").partition(" ")
    if not seconds.lstrip("-").isdigit():
        raise _unexpected(commit)
    return Change(
        commit.decode("ascii"),
        index,
        int(seconds),
        tz,
        author.decode("utf-8", "replace"),
        tuple(files),
    )


def _file(raw: bytes, path: bytes) -> File:
    fields = raw.lstrip(b"\n")[1:].decode("ascii").split(" ")
    if len(fields) != 5:
        raise _unexpected(raw)
    return File(path.decode("utf-8", "replace"), fields[1], fields[3])


def _firsts(pending: list[bytes], buf: bytes, n: int) -> list[int]:
    """The indices, in ``pending`` and then the tokens of ``buf``, of the tokens a commit's
    entries start with (below ``n``: the tokens complete so far), found by a byte search."""
    found = [k for k, t in enumerate(pending) if t.startswith(_FIRST_ENTRY)]
    index = len(pending)
    if buf.startswith(_FIRST_ENTRY):
        found.append(index)
    seen = 0
    at = buf.find(_FIRST)
    while at >= 0:
        index += buf.count(b"\0", seen, at + 1)
        seen = at + 1
        if index < n:
            found.append(index)
        at = buf.find(_FIRST, seen)
    return found


class LogStream:
    """The parser of one ``log_args`` stream: ``feed`` each chunk as it arrives, ``finish`` at
    the end; each returns the changes complete so far. Every commit listed is kept (its id
    and date, cheaply) for ``chain``."""

    def __init__(self) -> None:
        self._ids: list[bytes] = []  # newest first
        self._dates: list[bytes] = []  # b"<seconds> <zone>", newest first
        self._pending: list[bytes] = []  # the tokens of a commit not yet complete
        self._rest = b""  # the start of a token not yet complete

    def feed(self, chunk: bytes) -> list[Change]:
        buf = self._rest + chunk
        tokens = buf.split(b"\0")
        self._rest = tokens.pop()
        pending = self._pending
        firsts = _firsts(pending, buf, len(pending) + len(tokens))
        if pending:
            tokens = pending + tokens
        if not firsts:
            return self._plain(tokens, 0, final=False)  # most chunks: no entry at all
        return self._scan(tokens, firsts, final=False)

    def finish(self) -> list[Change]:
        rest = self._rest.lstrip(b"\n")
        self._rest = b""
        tokens = [*self._pending, *([rest] if rest else [])]
        changes = self._scan(tokens, _firsts(tokens, b"", len(tokens)), final=True)
        if self._pending:
            raise _unexpected(self._pending[0])
        return changes

    def _plain(self, tokens: list[bytes], i: int, final: bool) -> list[Change]:
        """Commits without entries from ``tokens[i]`` on, in bulk; the last one waits for the
        token after it (entries may follow) unless ``final``."""
        end = i + (len(tokens) - i - (not final)) // 3 * 3
        self._ids += tokens[i:end:3]
        self._dates += tokens[i + 1 : end : 3]
        self._pending = tokens[end:]
        return []

    def _scan(self, tokens: list[bytes], firsts: list[int], final: bool) -> list[Change]:
        changes: list[Change] = []
        ids, dates = self._ids, self._dates
        n = len(tokens)
        i = 0
        for first in firsts:
            head = first - 3  # the commit whose entries start there
            if head < i or (head - i) % 3:
                raise _unexpected(tokens[first])
            ids += tokens[i:head:3]
            dates += tokens[i + 1 : head : 3]
            i = head
            files: list[File] = []
            j = first
            while j + 1 < n and tokens[j].startswith(_RAW):
                files.append(_file(tokens[j], tokens[j + 1]))
                j += 2
            if j < n and tokens[j].startswith(_RAW):
                break  # an entry whose path has not arrived (an error when final)
            if j >= n and not final:
                break  # its entries may go on in the next chunk
            changes.append(_change(tokens[head : head + 3], len(ids), files))
            ids.append(tokens[head])
            dates.append(tokens[head + 1])
            i = j
        else:
            self._plain(tokens, i, final)
            return changes
        self._pending = tokens[i:]
        return changes

    def chain(self) -> Chain:
        """The chain of the commits listed (the whole first-parent chain of a ``chain`` log)."""
        parts = b" ".join(self._dates).split(b" ") if self._dates else []
        try:
            if len(parts) != 2 * len(self._dates):
                raise ValueError
            stamps = list(map(int, parts[::2]))
        except ValueError:
            raise GitError("unexpected git log output: a commit date is not a raw date") from None
        return Chain.from_log(self._ids, stamps)


def parse(chunks: Iterable[bytes]) -> tuple[list[Change], Chain]:
    """Every change of a whole stream, and its chain."""
    stream = LogStream()
    changes = [c for chunk in chunks for c in stream.feed(chunk)]
    changes += stream.finish()
    return changes, stream.chain()
