"""The first-parent chain of a commit, as the log of its pointers lists it
(``logstream.py``): each commit's place on the chain and its committer time made monotonic
from the root."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import cached_property


class Chain:
    """The commits from the root (place 0) to the tip, and the running maximum of their
    committer times. Commit ids are kept as bytes: a long chain is never decoded whole, and
    the index by id is built only when asked."""

    def __init__(self, newest_first: Sequence[bytes], high: list[int]) -> None:
        self._newest_first = newest_first
        self.high = high  # by place: the latest committer time at or before that commit

    @classmethod
    def from_log(cls, newest_first: Sequence[bytes], stamps: Sequence[int]) -> Chain:
        """The chain of commits listed newest first with their committer times."""
        return cls(newest_first, list(itertools.accumulate(reversed(stamps), max)))

    @property
    def tip(self) -> str | None:
        """The commit the chain ends at; None for an unborn branch."""
        return self._newest_first[0].decode("ascii") if self._newest_first else None

    @cached_property
    def places(self) -> dict[bytes, int]:
        """Commit id -> index from the root."""
        return dict(
            zip(self._newest_first, range(len(self._newest_first) - 1, -1, -1), strict=True)
        )

    def place(self, commit: str) -> int | None:
        """The commit's index from the root; None when it is not on the chain."""
        return self.places.get(commit.encode("ascii"))

    def place_of_index(self, index: int) -> int:
        """The place of the commit the log listed at ``index`` (0: the newest)."""
        return len(self._newest_first) - 1 - index

    def time_at(self, place: int | None, committed_at: int) -> int:
        """A commit's time made monotonic: never before a commit earlier on the chain."""
        return committed_at if place is None else max(committed_at, self.high[place])


EMPTY = Chain([], [])
