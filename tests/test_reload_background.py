"""Stale-while-revalidate: a reload runs on a background thread and no request waits for it.

A reload is held open through the build seam (``_build_hook``, called on the reloading thread
before the build and before each entry it verifies): while it is held, requests must keep
answering from the current snapshot. That is shown by structure, not by timing: a request
that waited for the reload would never return.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry import PromptRegistry, RegistryError
from tests.testing import (
    LENIENT_SETTINGS,
    commit_all,
    fresh,
    git,
    init_repo,
    pointer_yaml,
    version_yaml,
    write,
)

PROMPTS = [f"p{i:03d}" for i in range(100)]
HOLD = 30.0  # seconds a held reload waits before the test is declared hung


def _children() -> int:
    total = 0
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            total += len((task / "children").read_text().split())
    return total


def _deploy_all(repo: Path, version: str) -> None:
    for pid in PROMPTS:
        write(repo, f"prompts/{pid}/{version}.yaml", version_yaml(pid, version))
        write(repo, f"deployments/production/{pid}.yaml", pointer_yaml(pid, "production", version))


@pytest.fixture
def pulled(tmp_path: Path) -> tuple[Path, Path]:
    """An upstream with every pointer at 1.0.0 and an application clone of it."""
    upstream = init_repo(tmp_path / "upstream")
    write(upstream, "promptreg.yaml", LENIENT_SETTINGS)
    _deploy_all(upstream, "1.0.0")
    commit_all(upstream, "every prompt at 1.0.0")
    app = tmp_path / "app"
    git(tmp_path, "clone", "-q", str(upstream), str(app))
    return upstream, app


class Held:
    """A build seam that holds the reload until released, and says when it is held."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.gate = threading.Event()

    def __call__(self) -> None:
        self.entered.set()
        assert self.gate.wait(HOLD), "the held reload was never released"


@contextlib.contextmanager
def held_reload(reg: PromptRegistry) -> Iterator[Held]:
    held = Held()
    reg._build_hook = held
    try:
        yield held
    finally:
        held.gate.set()


def _versions(reg: PromptRegistry) -> set[str]:
    out = set()
    for pid in PROMPTS:
        v = reg.get_active(pid, "production")
        assert v is not None
        out.add(v.version)
    return out


def test_requests_answer_from_the_current_snapshot_while_a_pull_is_loaded(
    pulled: tuple[Path, Path],
) -> None:
    upstream, app = pulled
    _deploy_all(upstream, "1.1.0")
    commit_all(upstream, "every pointer moves to 1.1.0")
    with PromptRegistry(app, refresh_interval=0.0) as reg:
        assert _versions(reg) == {"1.0.0"}
        old = reg.snapshot_id
        git(app, "pull", "-q", "--ff-only")
        with held_reload(reg) as held:
            reg.get_active(PROMPTS[0], "production")  # notices the pull, starts the reload
            assert held.entered.wait(HOLD), "no reload started on the background thread"
            seen: list[set[str]] = []
            slowest: list[float] = []

            def reader() -> None:
                worst = 0.0
                for _ in range(20):
                    start = time.perf_counter()
                    seen.append(_versions(reg))
                    worst = max(worst, (time.perf_counter() - start) / len(PROMPTS))
                slowest.append(worst)

            readers = [threading.Thread(target=reader, daemon=True) for _ in range(4)]
            for t in readers:
                t.start()
            for t in readers:
                t.join(HOLD)
            # Every reader finished while the reload was still held: none waited for it.
            assert not any(t.is_alive() for t in readers)
            assert held.gate.is_set() is False and reg.snapshot_id == old
            assert seen and all(s == {"1.0.0"} for s in seen)
        print(f"slowest get_active while the reload was held: {max(slowest) * 1e6:.0f} us")
        deadline = time.monotonic() + HOLD
        while _versions(reg) != {"1.1.0"} and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _versions(reg) == {"1.1.0"} and reg.snapshot_id != old
        assert reg.last_error is None


def test_close_during_a_reload_stops_it_and_swaps_nothing(pulled: tuple[Path, Path]) -> None:
    upstream, app = pulled
    before = _children()
    reg = PromptRegistry(app, refresh_interval=0.0)
    assert _versions(reg) == {"1.0.0"}
    _deploy_all(upstream, "1.1.0")
    commit_all(upstream, "every pointer moves to 1.1.0")
    git(app, "pull", "-q", "--ff-only")
    with held_reload(reg) as held:
        reg.get_active(PROMPTS[0], "production")
        assert held.entered.wait(HOLD)
        closing = threading.Thread(target=reg.close, daemon=True)
        closing.start()
        held.gate.set()  # the reload goes on, sees the close at its next entry, gives up
        closing.join(HOLD)
        assert not closing.is_alive()
    assert reg._refresher.join(0)  # no reload running
    assert reg.snapshot_id is None and _children() == before
    with pytest.raises(RegistryError, match="closed"):
        reg.get_active(PROMPTS[0], "production")
    with pytest.raises(RegistryError, match="closed"):
        reg.reload()
    assert _children() == before  # nothing restarted a git process after close


def test_a_forked_child_inherits_no_reload_in_progress(pulled: tuple[Path, Path]) -> None:
    upstream, app = pulled
    with PromptRegistry(app, refresh_interval=0.0) as reg:
        assert _versions(reg) == {"1.0.0"}
        _deploy_all(upstream, "1.1.0")
        commit_all(upstream, "every pointer moves to 1.1.0")
        git(app, "pull", "-q", "--ff-only")
        with held_reload(reg) as held:
            reg.get_active(PROMPTS[0], "production")
            assert held.entered.wait(HOLD)
            pid = os.fork()
            if pid == 0:  # the child: no reload thread, a free lock, reloads on its own
                code = 1
                try:
                    reg._build_hook = None
                    alone = threading.active_count() == 1
                    code = 0 if alone and _versions(fresh(reg)) == {"1.1.0"} else 2
                finally:
                    os._exit(code)
            _, status = os.waitpid(pid, 0)
            assert os.WEXITSTATUS(status) == 0
            assert reg.get_active(PROMPTS[0], "production").version == "1.0.0"  # type: ignore[union-attr]
        assert _versions(fresh(reg)) == {"1.1.0"}


def test_a_broken_pull_loaded_in_the_background_keeps_the_last_good_snapshot(
    pulled: tuple[Path, Path],
) -> None:
    upstream, app = pulled
    with PromptRegistry(app, refresh_interval=0.0) as reg:
        assert _versions(reg) == {"1.0.0"}
        good = reg.snapshot_id
        _deploy_all(upstream, "1.1.0")
        write(upstream, f"deployments/production/{PROMPTS[-1]}.yaml", "version: [\n")
        commit_all(upstream, "every pointer moves, one is broken")
        git(app, "pull", "-q", "--ff-only")
        assert _versions(fresh(reg)) == {"1.0.0"} and reg.snapshot_id == good
        assert reg.last_error is not None and f"{PROMPTS[-1]}.yaml" in reg.last_error


def test_no_thread_before_a_change_is_looked_for(pulled: tuple[Path, Path]) -> None:
    """Importing and the first load start no thread (the first load is the caller's)."""
    _, app = pulled
    code = (
        "import threading, registry;"
        "assert threading.active_count() == 1;"
        f"reg = registry.PromptRegistry({str(app)!r}, refresh_interval=3600);"
        f"assert reg.get_active({PROMPTS[0]!r}, 'production') is not None;"
        "assert threading.active_count() == 1, threading.enumerate()"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
