"""The ``promptreg-check`` hook through the real pre-commit framework and real ``git commit``s.

A snapshot of this repository (tracked and untracked-not-ignored files, so uncommitted work is
what gets tested) becomes the hook repository; pre-commit builds its environment once per test
session under a private PRE_COMMIT_HOME (pip installs promptreg from the snapshot, which needs
the package index). Every registry repository points its ``.pre-commit-config.yaml`` at that
snapshot and commit, so they all share the one environment.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.testing import (
    LENIENT_SETTINGS,
    ROOT,
    git,
    init_repo,
    pointer_yaml,
    run_cli,
    version_yaml,
    write,
)

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
PID = "hr"
V1 = f"prompts/{PID}/1.0.0.yaml"
PROD = f"deployments/production/{PID}.yaml"
SUITE = f"""\
prompt_id: {PID}
threshold: 0.5
cases:
  - name: keeps the context
    vars: {{context: "Leave policy, section 4.2", query: "How many days?"}}
    assert:
      - {{type: contains, value: "section 4.2"}}
      - {{type: contains, value: "How many days?"}}
"""
GITCONFIG = (
    "[user]\n\tname = Test User\n\temail = test@example.com\n"
    "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
)


@dataclass(frozen=True)
class HookEnv:
    """The shared hook environment: where pre-commit keeps it and the config that uses it."""

    home: Path  # PRE_COMMIT_HOME
    config: str  # a .pre-commit-config.yaml using promptreg-check from the snapshot
    build_seconds: float


def _session_env(base: Path) -> dict[str, str]:
    """Like the per-test identity fixture, for the session: a private HOME and git config."""
    home = base / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(GITCONFIG)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    # A private HOME hides the developer's pip settings (an index mirror, a proxy): keep them.
    user_pip = [
        Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "pip" / "pip.conf",
        Path.home() / ".pip" / "pip.conf",
    ]
    found = next((p for p in user_pip if p.is_file()), None)
    if found is not None and "PIP_CONFIG_FILE" not in env:
        env["PIP_CONFIG_FILE"] = str(found)
    env.update(
        HOME=str(home),
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        PRE_COMMIT_HOME=str(base / "pre-commit-home"),
    )
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=900
    )


# What an unpacked sdist holds beside the sources: not part of the hook repository.
_NOT_SOURCE = {".venv", "build", "dist", "__pycache__", ".pytest_cache", ".mypy_cache",
               ".ruff_cache"}  # fmt: skip


def _source_files(env: dict[str, str]) -> bytes:
    """NUL-separated paths of ROOT's files: git's tracked and untracked-not-ignored files, or,
    outside a git checkout (an unpacked sdist), every file but build products."""
    if (ROOT / ".git").exists():
        return subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"],
            cwd=ROOT, env=env, capture_output=True, check=True,
        ).stdout  # fmt: skip
    found = []
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d not in _NOT_SOURCE and not d.endswith(".egg-info")]
        found += [os.fsencode(Path(dirpath, f).relative_to(ROOT)) for f in filenames]
    return b"\0".join(found)


def _snapshot(dest: Path, env: dict[str, str]) -> str:
    """Copy ROOT's tracked and untracked-not-ignored files into a new repository at ``dest``;
    return its commit id."""
    dest.mkdir()
    for raw in sorted(set(_source_files(env).split(b"\0"))):
        if not raw:
            continue
        rel = os.fsdecode(raw)
        src = ROOT / rel
        if not os.path.lexists(src) or (src.is_dir() and not src.is_symlink()):
            continue  # deleted in the working tree, or a submodule
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target, follow_symlinks=False)
    for args in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", "commit", "-q", "--no-verify", "-m", "snapshot of the promptreg working tree"],
    ):
        subprocess.run(args, cwd=dest, env=env, check=True, capture_output=True)
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=dest, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture(scope="session")
def hook_env(tmp_path_factory: pytest.TempPathFactory) -> HookEnv:
    """Build the hook environment once per session; fail (never skip) when it cannot be built."""
    base = tmp_path_factory.mktemp("hook")
    env = _session_env(base)
    assert PRE_COMMIT.is_file(), f"{PRE_COMMIT} is missing: install the test extras"
    hook_repo = base / "promptreg"
    rev = _snapshot(hook_repo, env)
    config = (
        f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks:\n      - id: promptreg-check\n"
    )
    warm = base / "warm"
    warm.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=warm, env=env, check=True)
    (warm / ".pre-commit-config.yaml").write_text(config)
    started = time.monotonic()
    proc = _run([str(PRE_COMMIT), "install-hooks"], warm, env)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        log = Path(env["PRE_COMMIT_HOME"]) / "pre-commit.log"
        detail = log.read_text(errors="replace") if log.is_file() else ""
        pytest.fail(
            "pre-commit could not build the promptreg-check environment (it pip-installs"
            f" promptreg, which needs the package index):\n{proc.stdout}\n{proc.stderr}\n{detail}",
            pytrace=False,
        )
    return HookEnv(Path(env["PRE_COMMIT_HOME"]), config, elapsed)


def _environments(home: Path) -> list[Path]:
    return sorted(home.glob("repo*/py_env-*"))


@pytest.fixture
def registry(tmp_path: Path, hook_env: HookEnv, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A registry repository with the hook installed by ``pre-commit install``."""
    monkeypatch.setenv("PRE_COMMIT_HOME", str(hook_env.home))
    repo = init_repo(tmp_path / "registry")
    write(repo, ".pre-commit-config.yaml", hook_env.config)
    proc = subprocess.run(
        [str(PRE_COMMIT), "install", "--hook-type", "pre-commit", "--hook-type", "pre-merge-commit"],
        cwd=repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return repo


@dataclass(frozen=True)
class Commit:
    """What ``git commit`` did: its exit code, everything it printed, HEAD before and after."""

    code: int
    output: str
    before: str | None
    after: str | None

    @property
    def landed(self) -> bool:
        return self.after != self.before


def _head(repo: Path) -> str | None:
    proc = subprocess.run(["git", "rev-parse", "-q", "--verify", "HEAD"], cwd=repo,
                          capture_output=True, text=True, check=False)  # fmt: skip
    return proc.stdout.strip() or None


def commit(repo: Path, message: str, *args: str) -> Commit:
    """``git commit -m message *args`` through the installed hook."""
    before = _head(repo)
    proc = subprocess.run(
        ["git", "commit", "-m", message, *args],
        cwd=repo, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert "Installing environment" not in output, "the hook environment was built again"
    return Commit(proc.returncode, output, before, _head(repo))


def _released(repo: Path, settings: str | None = None) -> Commit:
    """The first commit: the config, an untested 1.0.0 (and settings); the hook passes."""
    if settings is not None:
        write(repo, "promptreg.yaml", settings)
    write(repo, V1, version_yaml(PID, "1.0.0"))
    git(repo, "add", "-A")
    first = commit(repo, "release 1.0.0")
    assert first.code == 0 and first.landed, first.output
    assert "promptreg check" in first.output and "Passed" in first.output, first.output
    return first


def test_hook_blocks_an_untested_version_in_production(registry: Path, hook_env: HookEnv) -> None:
    _released(registry)
    write(registry, PROD, pointer_yaml(PID, "production", "1.0.0"))
    git(registry, "add", PROD)
    c = commit(registry, "deploy untested 1.0.0")
    assert c.code != 0 and not c.landed, c.output
    assert "Failed" in c.output and "promptreg-check" in c.output
    assert f"{PROD}:3: untested" in c.output
    assert git(registry, "diff", "--cached", "--name-only").split() == [PROD]  # still staged
    assert len(_environments(hook_env.home)) == 1


def test_hook_accepts_a_tested_version(registry: Path, hook_env: HookEnv) -> None:
    _released(registry)
    write(registry, f"evals/{PID}.yaml", SUITE)
    proc = run_cli("-C", str(registry), "eval", PID, "1.0.0")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    git(registry, "add", "-A")
    c = commit(registry, "evaluate 1.0.0")  # only evaluation fields of a released version
    assert c.code == 0 and c.landed, c.output
    proc = run_cli("-C", str(registry), "deploy", PID, "1.0.0", "--env", "production")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    git(registry, "add", PROD)
    c = commit(registry, "deploy 1.0.0")
    assert c.code == 0 and c.landed, c.output
    assert "Passed" in c.output
    assert git(registry, "show", "--name-only", "--format=", "HEAD").split() == [PROD]
    assert len(_environments(hook_env.home)) == 1


def test_hook_blocks_deleting_a_released_version(registry: Path) -> None:
    _released(registry)
    git(registry, "rm", "-q", V1)
    # Deletion only: pre-commit has no file name to pass; the hook must run all the same.
    c = commit(registry, "delete 1.0.0")
    assert c.code != 0 and not c.landed, c.output
    assert f"{V1}: deleted-version" in c.output


def test_hook_blocks_a_pointer_to_a_version_only_on_disk(registry: Path) -> None:
    _released(registry, LENIENT_SETTINGS)  # untested is allowed: only the missing file counts
    write(registry, f"prompts/{PID}/1.1.0.yaml", version_yaml(PID, "1.1.0"))  # never added
    write(registry, PROD, pointer_yaml(PID, "production", "1.1.0"))
    git(registry, "add", PROD)
    c = commit(registry, "deploy 1.1.0")
    assert c.code != 0 and not c.landed, c.output
    assert f"{PROD}:3: missing-version" in c.output
    git(registry, "add", f"prompts/{PID}/1.1.0.yaml")
    c = commit(registry, "add and deploy 1.1.0")
    assert c.code == 0 and c.landed, c.output


def test_hook_ignores_a_bad_unstaged_edit(registry: Path) -> None:
    _released(registry)
    write(registry, PROD, pointer_yaml(PID, "production", "1.0.0"))  # untested, unstaged
    write(registry, "README.md", "notes\n")
    git(registry, "add", "README.md")
    c = commit(registry, "docs")
    assert c.code == 0 and c.landed, c.output
    assert (registry / PROD).is_file()  # pre-commit put the unstaged file back


def test_hook_checks_what_commit_all_records(registry: Path) -> None:
    _released(registry, LENIENT_SETTINGS)
    (registry / V1).unlink()  # not staged: `commit -a` records the deletion
    c = commit(registry, "drop 1.0.0", "-a")
    assert c.code != 0 and not c.landed, c.output
    assert f"{V1}: deleted-version" in c.output


def test_no_verify_skips_the_hook_and_check_base_catches_it(registry: Path) -> None:
    first = _released(registry)
    write(registry, PROD, pointer_yaml(PID, "production", "1.0.0"))
    git(registry, "add", PROD)
    c = commit(registry, "deploy untested 1.0.0", "--no-verify")
    assert c.code == 0 and c.landed, c.output
    assert "promptreg check" not in c.output
    assert first.after is not None
    proc = run_cli("-C", str(registry), "check", "--base", first.after)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"{PROD}:3: untested" in proc.stderr


def test_merge_hook_blocks_a_merge_that_brings_an_untested_version(registry: Path) -> None:
    _released(registry)
    git(registry, "checkout", "-q", "-b", "feature")
    write(registry, PROD, pointer_yaml(PID, "production", "1.0.0"))
    git(registry, "add", PROD)
    assert commit(registry, "deploy untested", "--no-verify").landed
    git(registry, "checkout", "-q", "main")
    write(registry, "README.md", "notes\n")
    git(registry, "add", "README.md")
    assert commit(registry, "main moves on").landed
    before = _head(registry)
    proc = subprocess.run(
        ["git", "merge", "--no-ff", "-m", "Merge feature", "feature"],
        cwd=registry, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert f"{PROD}:3: untested" in proc.stdout + proc.stderr
    assert _head(registry) == before
    git(registry, "merge", "--abort")


def test_hook_passes_a_mustache_warning_and_blocks_a_breaking_minor(registry: Path) -> None:
    _released(registry, LENIENT_SETTINGS)
    v11 = f"prompts/{PID}/1.1.0.yaml"
    write(registry, v11, version_yaml(PID, "1.1.0", content="Hi {{name}}: {context} {query}\n"))
    git(registry, "add", v11)
    c = commit(registry, "1.1.0 with a literal {{name}}")
    assert c.code == 0 and c.landed, c.output  # a warning (pre-commit shows a passing hook's
    assert "Passed" in c.output, c.output  # output only with verbose: true)
    v12 = f"prompts/{PID}/1.2.0.yaml"
    write(registry, v12, version_yaml(PID, "1.2.0", content="{context} {query} {tone}\n"))
    git(registry, "add", v12)
    c = commit(registry, "1.2.0 adds a placeholder")
    assert c.code != 0 and not c.landed, c.output
    assert f"{v12}:6: breaking-variables" in c.output, c.output


def test_one_environment_per_session(hook_env: HookEnv) -> None:
    envs = _environments(hook_env.home)
    assert len(envs) == 1, envs
    print(f"hook environment built in {hook_env.build_seconds:.1f}s")


# -- `pre-commit run --all-files`: the whole registry state ----------------------------------------


def _run_all_files(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PRE_COMMIT), "run", "--all-files", "--color", "never"],
        cwd=repo, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


def _untested_pointer_at_head(repo: Path) -> None:
    """A released untested 1.0.0, then (skipping the hook) a production pointer to it."""
    _released(repo)
    write(repo, PROD, pointer_yaml(PID, "production", "1.0.0"))
    git(repo, "add", PROD)
    assert commit(repo, "deploy untested 1.0.0", "--no-verify").landed


def test_all_files_fails_on_an_untested_pointer_at_head(registry: Path) -> None:
    _untested_pointer_at_head(registry)
    write(registry, "README.md", "notes\n")  # a later commit that changes no registry file
    git(registry, "add", "README.md")
    assert commit(registry, "docs").landed  # a commit checks only what it changes
    proc = _run_all_files(registry)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"{PROD}:3: untested" in proc.stdout


def test_all_files_passes_on_a_clean_registry(registry: Path) -> None:
    _released(registry)
    proc = _run_all_files(registry)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout


# -- the hook `promptreg init` writes: offline, the promptreg installed here -----------------------


@pytest.fixture
def local_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``promptreg init``-ed repository with its own hook installed by a plain
    ``pre-commit install``; pre-commit finds ``promptreg`` on PATH, as on a developer's machine.
    No package index is used: pip is pointed at an address that does not answer."""
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    repo = init_repo(tmp_path / "registry")
    proc = run_cli("init", str(repo))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = subprocess.run([str(PRE_COMMIT), "install"], cwd=repo, capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for hook in ("pre-commit", "pre-merge-commit"):  # default_install_hook_types
        assert (repo / ".git" / "hooks" / hook).is_file(), proc.stdout
    git(repo, "add", "-A")
    first = commit(repo, "start the registry")
    assert first.code == 0 and first.landed, first.output
    assert "promptreg check" in first.output and "Passed" in first.output
    return repo


def test_local_hook_blocks_and_accepts(local_registry: Path) -> None:
    repo = local_registry
    write(repo, V1, version_yaml(PID, "1.0.0"))
    git(repo, "add", V1)
    assert commit(repo, "release 1.0.0").landed
    write(repo, PROD, pointer_yaml(PID, "production", "1.0.0"))
    git(repo, "add", PROD)
    c = commit(repo, "deploy untested 1.0.0")
    assert c.code != 0 and not c.landed, c.output
    assert f"{PROD}:3: untested" in c.output
    git(repo, "rm", "-q", "--cached", PROD)
    git(repo, "rm", "-q", V1)  # a deletion only: no file name to pass, the hook runs anyway
    c = commit(repo, "delete 1.0.0")
    assert c.code != 0 and not c.landed, c.output
    assert f"{V1}: deleted-version" in c.output


def test_local_hook_all_files_checks_the_whole_registry(local_registry: Path) -> None:
    repo = local_registry
    assert _run_all_files(repo).returncode == 0
    _untested_pointer_at_head(repo)
    proc = _run_all_files(repo)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"{PROD}:3: untested" in proc.stdout


def test_local_hook_checks_a_merge(local_registry: Path) -> None:
    repo = local_registry
    _released(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, PROD, pointer_yaml(PID, "production", "1.0.0"))
    git(repo, "add", PROD)
    assert commit(repo, "deploy untested", "--no-verify").landed
    git(repo, "checkout", "-q", "main")
    write(repo, "README.md", "notes\n")
    git(repo, "add", "README.md")
    assert commit(repo, "main moves on").landed
    before = _head(repo)
    proc = subprocess.run(
        ["git", "merge", "--no-ff", "-m", "Merge feature", "feature"],
        cwd=repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert f"{PROD}:3: untested" in proc.stdout + proc.stderr
    assert _head(repo) == before
    git(repo, "merge", "--abort")


def test_hook_manifest_matches_the_local_hook() -> None:
    """The published hook and the one init writes run the same check on the same files."""
    import yaml

    from registry.scaffold.skeleton import PRE_COMMIT_TEXT

    (published,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    config = yaml.safe_load(PRE_COMMIT_TEXT)
    assert config["default_install_hook_types"] == ["pre-commit", "pre-merge-commit"]
    ((local,),) = [r["hooks"] for r in config["repos"] if r["repo"] == "local"]
    assert local["language"] == "system" and published["language"] == "python"
    assert published["minimum_pre_commit_version"] == "3.2.0"
    same = ("id", "entry", "files", "types", "always_run", "require_serial", "stages")
    assert {k: local[k] for k in same} == {k: published[k] for k in same}
    assert "pass_filenames" not in local and "pass_filenames" not in published


def test_all_files_split_into_several_runs_still_checks_everything(local_registry: Path) -> None:
    """pre-commit passes at most 128 KiB of file names to one run; a longer list is split,
    and every run checks its own files in full."""
    repo = local_registry
    name = "x" * 200
    for i in range(800):  # about 170 KB of names: at least two runs
        write(repo, f"evals/fixtures/{i:04d}-{name}.txt", "")
    git(repo, "add", "-A")
    assert commit(repo, "suite fixtures").landed
    _untested_pointer_at_head(repo)
    proc = _run_all_files(repo)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"{PROD}:3: untested" in proc.stdout
    summaries = re.findall(r"^(?:ok: .*|\d+ problem\(s\) found)$", proc.stdout, re.M)
    assert len(summaries) >= 2, proc.stdout  # pre-commit did split the names
