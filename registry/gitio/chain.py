"""The first-parent chain of a commit, read by one ``git rev-list`` in a thread: each commit's
place on the chain and its committer time made monotonic from the root."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from pathlib import Path

from registry.gitio.refs import resolve_head
from registry.gitio.run import run_git


@dataclass(frozen=True)
class Chain:
    """The commits from the root (place 0) to the tip, and the running maximum of their
    committer times. Commit ids are kept as bytes: a long chain is never decoded whole."""

    places: dict[bytes, int]  # commit id -> index from the root
    high: list[int]  # by index: the latest committer time at or before that commit
    tip: str | None  # the commit the chain ends at; None for an unborn branch

    def place(self, commit: str) -> int | None:
        """The commit's index from the root; None when it is not on the chain."""
        return self.places.get(commit.encode("ascii"))

    def time(self, commit: str, committed_at: int) -> int:
        """The commit's time made monotonic: never before a commit earlier on the chain."""
        index = self.place(commit)
        return committed_at if index is None else max(committed_at, self.high[index])


def parse_chain(out: bytes) -> Chain:
    """A Chain from ``rev-list --first-parent --timestamp`` output (newest first)."""
    fields = out.split()
    stamps = list(map(int, fields[-2::-2]))  # oldest first
    commits = fields[-1::-2]
    high = list(itertools.accumulate(stamps, max))
    tip = commits[-1].decode("ascii") if commits else None
    return Chain(dict(zip(commits, range(len(commits)), strict=True)), high, tip)


class ChainReader:
    """``git rev-list --first-parent --timestamp`` of ``rev``, run and parsed in a thread while
    the caller reads the log."""

    def __init__(self, root: Path, rev: str) -> None:
        self._chain = Chain({}, [], None)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(root, rev), daemon=True)
        self._thread.start()

    def _run(self, root: Path, rev: str) -> None:
        try:
            if rev != "HEAD" or resolve_head(root) is not None:
                out = run_git(
                    root, "rev-list", "--first-parent", "--timestamp", "--end-of-options", rev
                )
                self._chain = parse_chain(out)
        except BaseException as exc:  # re-raised in the caller's thread
            self._error = exc

    def result(self) -> Chain:
        """The chain, once rev-list is done (its error, if it failed)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._chain
