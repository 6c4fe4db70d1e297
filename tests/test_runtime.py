"""The application's hot path: snapshots from one commit, hot reload, last good snapshot."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
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


def _registry(repo: Path, version: str = "1.0.0", text: str | None = None) -> None:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    content = text or f"Prompt {version}: {{query}}\n"
    write(repo, f"prompts/hello/{version}.yaml", version_yaml("hello", version, content))
    write(repo, "deployments/production/hello.yaml", pointer_yaml("hello", "production", version))


def _children() -> int:
    total = 0
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            total += len((task / "children").read_text().split())
    return total


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def two_commits(tmp_path: Path) -> tuple[Path, str, str]:
    """A repo whose branches a and b each hold a different pointer and prompt; the other
    branch's version file does not exist, so a read mixing the two commits fails."""
    repo = init_repo(tmp_path / "app")
    _registry(repo, "1.0.0")
    commit_all(repo, "a")
    git(repo, "branch", "a")
    git(repo, "rm", "-q", "prompts/hello/1.0.0.yaml")
    _registry(repo, "2.0.0")
    commit_all(repo, "b")
    git(repo, "branch", "b")
    git(repo, "checkout", "-q", "a")
    return repo, "1.0.0", "2.0.0"


def test_get_active_serves_the_pointer_target(repo: Path) -> None:
    _registry(repo)
    commit_all(repo, "init")
    with PromptRegistry(repo) as reg:
        v = reg.get_active("hello", "production")
        assert v is not None and v.version == "1.0.0" and v.is_active
        assert v.render(query="hi") == "Prompt 1.0.0: hi\n"
        assert reg.get_active("hello", "staging") is None
        assert reg.snapshot_id == git(repo, "rev-parse", "HEAD").strip()


def test_reads_the_commit_not_uncommitted_edits(repo: Path) -> None:
    _registry(repo)
    commit_all(repo, "init")
    write(repo, "deployments/production/hello.yaml", "this: [is broken\n")
    with PromptRegistry(repo) as reg:
        v = reg.get_active("hello", "production")
        assert v is not None and v.version == "1.0.0"


def test_checkout_flips_are_never_torn(two_commits: tuple[Path, str, str]) -> None:
    repo, va, vb = two_commits
    flipper = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            "end = time.monotonic() + 6\n"
            "i = 0\n"
            "while time.monotonic() < end:\n"
            "    subprocess.run(['git', 'checkout', '-q', 'ab'[i % 2]], cwd=sys.argv[1], check=True)\n"
            "    i += 1\n",
            str(repo),
        ]
    )
    seen: set[str] = set()
    errors: list[str] = []
    reads = 0
    try:
        with PromptRegistry(repo, refresh_interval=0.0) as reg:
            while flipper.poll() is None:
                try:
                    v = reg.get_active("hello", "production")
                except RegistryError as exc:
                    errors.append(str(exc))
                    continue
                assert v is not None
                assert v.content == f"Prompt {v.version}: {{query}}\n"
                seen.add(v.version)
                reads += 1
                if reg.last_error:
                    errors.append(reg.last_error)
    finally:
        flipper.wait(timeout=30)
    assert flipper.returncode == 0
    assert errors == []
    assert seen == {va, vb}, f"{reads} reads saw only {seen}"


def test_new_deployment_is_served_within_two_seconds(repo: Path) -> None:
    _registry(repo)
    commit_all(repo, "init")
    with PromptRegistry(repo, refresh_interval=0.2) as reg:
        first = reg.get_active("hello", "production")
        assert first is not None and first.version == "1.0.0"
        _registry(repo, "1.1.0")
        commit_all(repo, "deploy 1.1.0")
        start = time.monotonic()
        while time.monotonic() - start < 5:
            v = reg.get_active("hello", "production")
            if v is not None and v.version == "1.1.0":
                break
            time.sleep(0.01)
        waited = time.monotonic() - start
        assert v is not None and v.version == "1.1.0"
        assert waited < 2.0


def test_broken_update_keeps_the_last_good_snapshot(repo: Path) -> None:
    _registry(repo)
    good = commit_all(repo, "init")
    with PromptRegistry(repo, refresh_interval=0.0) as reg:
        assert fresh(reg).get_active("hello", "production").version == "1.0.0"  # type: ignore[union-attr]
        write(repo, "deployments/production/hello.yaml", "prompt_id: hello\nversion: [\n")
        commit_all(repo, "broken pointer")
        v = fresh(reg).get_active("hello", "production")
        assert v is not None and v.version == "1.0.0"
        assert reg.last_error is not None and "deployments/production/hello.yaml" in reg.last_error
        assert reg.snapshot_id == good
        # A pointer to a missing version is refused the same way.
        write(
            repo, "deployments/production/hello.yaml", pointer_yaml("hello", "production", "9.9.9")
        )
        commit_all(repo, "pointer to nothing")
        assert fresh(reg).get_active("hello", "production").version == "1.0.0"  # type: ignore[union-attr]
        assert reg.last_error is not None and "9.9.9" in reg.last_error
        # A fixed state is picked up and clears the error.
        _registry(repo, "1.2.0")
        fixed = commit_all(repo, "fix")
        assert fresh(reg).get_active("hello", "production").version == "1.2.0"  # type: ignore[union-attr]
        assert reg.last_error is None and reg.snapshot_id == fixed


def test_untested_version_is_refused_where_tests_are_required(repo: Path) -> None:
    _registry(repo)
    commit_all(repo, "init")
    with PromptRegistry(repo, refresh_interval=0.0) as reg:
        assert fresh(reg).get_active("hello", "production") is not None
        write(repo, "promptreg.yaml", "environments:\n  production: {require_tested: true}\n")
        commit_all(repo, "strict production")
        assert fresh(reg).get_active("hello", "production").version == "1.0.0"  # type: ignore[union-attr]
        assert reg.last_error is not None and "evaluation" in reg.last_error
    # A fresh process has no last good snapshot: it refuses loudly.
    with PromptRegistry(repo) as reg, pytest.raises(RegistryError, match="evaluation"):
        fresh(reg).get_active("hello", "production")


def test_plain_directory_without_git(tmp_path: Path) -> None:
    root = tmp_path / "image"
    _registry(root)
    with PromptRegistry(root, refresh_interval=0.0) as reg:
        assert fresh(reg).get_active("hello", "production").version == "1.0.0"  # type: ignore[union-attr]
        assert reg.snapshot_id == "files"
        _registry(root, "1.1.0")
        assert fresh(reg).get_active("hello", "production").version == "1.1.0"  # type: ignore[union-attr]
        write(root, "deployments/production/hello.yaml", "{{{ broken")
        assert fresh(reg).get_active("hello", "production").version == "1.1.0"  # type: ignore[union-attr]
        assert reg.last_error is not None and "hello.yaml" in reg.last_error


def test_eight_threads_read_at_once(repo: Path) -> None:
    _registry(repo)
    commit_all(repo, "init")
    errors: list[BaseException] = []
    with PromptRegistry(repo, refresh_interval=0.0) as reg:

        def reader() -> None:
            try:
                for _ in range(2000):
                    v = reg.get_active("hello", "production")
                    assert v is not None and v.version == "1.0.0"
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=reader) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []


def test_warm_reads_spawn_no_process(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _registry(repo)
    commit_all(repo, "init")
    with PromptRegistry(repo, refresh_interval=3600) as reg:
        assert reg.get_active("hello", "production") is not None
        spawned: list[object] = []
        real = subprocess.Popen.__init__

        def spy(self: subprocess.Popen[bytes], *a: object, **kw: object) -> None:
            spawned.append(a[0] if a else kw.get("args"))
            real(self, *a, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(subprocess.Popen, "__init__", spy)
        for _ in range(100_000):
            reg.get_active("hello", "production")
        assert spawned == []


def test_reload_loop_does_not_grow_processes_or_files(repo: Path) -> None:
    _registry(repo)
    commit_all(repo, "init")
    with PromptRegistry(repo, refresh_interval=0.0) as reg:
        fresh(reg).get_active("hello", "production")
        base_children, base_fds = _children(), _fds()
        for i in range(40):
            _registry(repo, f"1.{i + 1}.0")
            commit_all(repo, f"deploy {i}")
            v = fresh(reg).get_active("hello", "production")
            assert v is not None and v.version == f"1.{i + 1}.0"
        assert _children() <= base_children
        assert _fds() <= base_fds
    assert _children() < base_children or base_children == 0


def test_close_stops_the_reader(repo: Path) -> None:
    _registry(repo)
    commit_all(repo, "init")
    before = _children()
    reg = PromptRegistry(repo)
    reg.get_active("hello", "production")
    assert _children() == before + 1  # one persistent `git cat-file --batch`
    reg.close()
    assert _children() == before
    with pytest.raises(RegistryError, match="closed"):
        reg.get_active("hello", "production")


def test_first_read_does_not_parse_every_version(repo: Path) -> None:
    _registry(repo)
    for i in range(50):
        write(repo, f"prompts/other/1.{i}.0.yaml", "not: [valid\n")
    commit_all(repo, "init")
    # Broken files of other prompts do not stand between an application and its prompt.
    with PromptRegistry(repo) as reg:
        assert reg.get_active("hello", "production").version == "1.0.0"  # type: ignore[union-attr]


def test_import_stays_light() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import sys, registry; print(sorted(m for m in sys.modules"
         " if m.split('.')[0] in ('git', 'jsonschema', 'click')))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "[]"


def test_invalid_arguments_are_refused(repo: Path) -> None:
    _registry(repo)
    commit_all(repo, "init")
    with PromptRegistry(repo) as reg:
        with pytest.raises(RegistryError, match="invalid prompt id"):
            reg.get_active("../etc/passwd", "production")
        with pytest.raises(RegistryError, match="not configured"):
            reg.get_active("hello", "qa")


def test_a_swapped_symlink_is_followed(tmp_path: Path) -> None:
    """A sync job that checks out a new worktree and swaps a `current` link (git-sync)."""
    origin = init_repo(tmp_path / "origin")
    _registry(origin)
    first = commit_all(origin, "1.0.0")
    _registry(origin, "1.1.0")
    second = commit_all(origin, "1.1.0")
    git(origin, "worktree", "add", "-q", "--detach", str(tmp_path / "wt1"), first)
    current = tmp_path / "current"
    current.symlink_to(tmp_path / "wt1")
    with PromptRegistry(current, refresh_interval=0.0) as reg:
        assert fresh(reg).get_active("hello", "production").version == "1.0.0"  # type: ignore[union-attr]
        git(origin, "worktree", "add", "-q", "--detach", str(tmp_path / "wt2"), second)
        (tmp_path / "next").symlink_to(tmp_path / "wt2")
        os.replace(tmp_path / "next", current)
        git(origin, "worktree", "remove", "--force", str(tmp_path / "wt1"))
        assert fresh(reg).get_active("hello", "production").version == "1.1.0"  # type: ignore[union-attr]
        assert reg.last_error is None and reg.snapshot_id == second


def test_a_swapped_symlink_is_followed_without_git(tmp_path: Path) -> None:
    _registry(tmp_path / "r1")
    _registry(tmp_path / "r2", "2.0.0")
    current = tmp_path / "current"
    current.symlink_to(tmp_path / "r1")
    with PromptRegistry(current, refresh_interval=0.0) as reg:
        assert fresh(reg).get_active("hello", "production").version == "1.0.0"  # type: ignore[union-attr]
        (tmp_path / "next").symlink_to(tmp_path / "r2")
        os.replace(tmp_path / "next", current)
        assert fresh(reg).get_active("hello", "production").version == "2.0.0"  # type: ignore[union-attr]


def test_an_update_breaking_a_prompt_not_yet_served_is_refused(repo: Path) -> None:
    _registry(repo)
    write(repo, "prompts/other/1.0.0.yaml", version_yaml("other", "1.0.0"))
    write(repo, "deployments/production/other.yaml", pointer_yaml("other", "production", "1.0.0"))
    good = commit_all(repo, "two prompts")
    with PromptRegistry(repo, refresh_interval=0.0) as reg:
        assert fresh(reg).get_active("hello", "production") is not None  # only hello is warm
        write(
            repo, "deployments/production/other.yaml", pointer_yaml("other", "production", "9.9.9")
        )
        commit_all(repo, "other points at nothing")
        assert fresh(reg).get_active("hello", "production") is not None
        assert reg.snapshot_id == good
        assert reg.last_error is not None and "9.9.9" in reg.last_error
        assert fresh(reg).get_active("other", "production").version == "1.0.0"  # type: ignore[union-attr]


def test_an_update_failing_in_an_unexpected_way_keeps_the_last_good_snapshot(repo: Path) -> None:
    _registry(repo)
    good = commit_all(repo, "init")
    with PromptRegistry(repo, refresh_interval=0.0) as reg:
        assert fresh(reg).get_active("hello", "production") is not None
        text = version_yaml("hello", "1.1.0").replace(
            "tested: false\n", "tested: false\nevaluation_score: 1" + "0" * 400 + "\n"
        )
        write(repo, "prompts/hello/1.1.0.yaml", text)
        write(
            repo, "deployments/production/hello.yaml", pointer_yaml("hello", "production", "1.1.0")
        )
        commit_all(repo, "a score no float can hold")
        for _ in range(5):
            assert fresh(reg).get_active("hello", "production").version == "1.0.0"  # type: ignore[union-attr]
        assert reg.snapshot_id == good and reg.last_error is not None


def test_retiring_an_environment_does_not_freeze_updates(repo: Path) -> None:
    _registry(repo)
    write(repo, "promptreg.yaml", LENIENT_SETTINGS + "  canary: {require_tested: false}\n")
    write(repo, "deployments/canary/hello.yaml", pointer_yaml("hello", "canary", "1.0.0"))
    commit_all(repo, "with canary")
    with PromptRegistry(repo, refresh_interval=0.0) as reg:
        assert fresh(reg).get_active("hello", "canary") is not None
        assert fresh(reg).get_active("hello", "production") is not None
        git(repo, "rm", "-q", "-r", "deployments/canary")
        write(repo, "promptreg.yaml", LENIENT_SETTINGS)
        commit_all(repo, "retire canary")
        _registry(repo, "1.1.0")
        commit_all(repo, "deploy 1.1.0")
        assert fresh(reg).get_active("hello", "production").version == "1.1.0"  # type: ignore[union-attr]
        assert reg.last_error is None
        with pytest.raises(RegistryError, match="not configured"):
            fresh(reg).get_active("hello", "canary")


def test_fork_while_another_thread_holds_the_reload_lock(repo: Path) -> None:
    _registry(repo)
    commit_all(repo, "init")
    with PromptRegistry(repo, refresh_interval=0.0) as reg:
        assert fresh(reg).get_active("hello", "production") is not None
        with reg._refresher.lock:  # as if a reload thread were running at fork()
            pid = os.fork()
            if pid == 0:  # the child: must reload and serve on its own
                code = 1
                try:
                    _registry(repo, "1.1.0")
                    commit_all(repo, "deploy in the child")
                    v = fresh(reg).get_active("hello", "production")
                    code = 0 if v is not None and v.version == "1.1.0" else 2
                finally:
                    os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 0


def test_plain_directory_is_not_reloaded_without_a_change(tmp_path: Path) -> None:
    root = tmp_path / "image"
    _registry(root)
    with PromptRegistry(root, refresh_interval=0.0) as reg:
        assert fresh(reg).get_active("hello", "production") is not None
        assert reg.reload() is False
        # An in-place edit (no rename, so no folder change) of a file that was read is seen.
        _registry(root, "1.1.0")
        pointer = root / "deployments/production/hello.yaml"
        with open(pointer, "r+", encoding="utf-8") as f:
            text = f.read()
            f.seek(0)
            f.write(text)
            f.truncate()
        assert fresh(reg).get_active("hello", "production").version == "1.1.0"  # type: ignore[union-attr]
        assert reg.reload() is False
