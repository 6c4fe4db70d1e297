"""Stale-while-revalidate for the hot path: a reload runs on a short-lived daemon thread
while every request keeps answering from what is being served, one reload at a time.

No thread exists until a request finds its refresh interval over, and none outlives the
reload it runs: nothing is started on import, nothing polls, and a forked child (which never
inherits the parent's threads) starts with a free lock and no reload in progress.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable

log = logging.getLogger("promptreg")

_LIVE: weakref.WeakSet[Refresher] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    # The reload thread did not survive fork(), and the lock it held stays held forever.
    for refresher in list(_LIVE):
        refresher.lock = threading.Lock()
        refresher._thread = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class Refresher:
    """One reload at a time: ``lock`` is held while one runs, on a background thread
    (``start``) or on the caller's (``run``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lock = threading.Lock()
        self._thread: threading.Thread | None = None
        _LIVE.add(self)

    def run(self, reload: Callable[[], bool]) -> bool:
        """Run ``reload`` now on this thread, after any reload in progress; its answer."""
        with self.lock:
            return reload()

    def start(self, reload: Callable[[], object]) -> bool:
        """Run ``reload`` on a new daemon thread unless one is running; whether it started."""
        if not self.lock.acquire(blocking=False):
            return False  # a reload is in progress: it will see this change or the next check
        try:
            thread = threading.Thread(
                target=self._background, args=(reload,), name=self.name, daemon=True
            )
            self._thread = thread
            thread.start()
        except BaseException:
            self._thread = None
            self.lock.release()
            raise
        return True

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the reload in progress, if any; False when it is still running."""
        if self._thread is threading.current_thread():
            return True  # asked from inside the reload (it is the one to give up)
        if not self.lock.acquire(timeout=-1 if timeout is None else timeout):
            return False
        self.lock.release()
        return True

    def _background(self, reload: Callable[[], object]) -> None:
        try:
            reload()
        except Exception:
            # reload() keeps the last good state and records what went wrong; what escapes it
            # is a bug in promptreg, reported without taking the application down.
            log.exception("promptreg: background reload failed")
        finally:
            self._thread = None
            self.lock.release()
