"""The pre-commit hook's path imports only what it needs: ``check --staged`` and ``--version``
run in a real interpreter, which then reports the modules they imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.testing import (
    LENIENT_SETTINGS,
    commit_all,
    git,
    pointer_yaml,
    run_cli,
    version_yaml,
    write,
)

# Run promptreg, then print (to stdout, after the command's own output) what was imported.
RUNNER = (
    "import json, sys\n"
    "from registry.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print('MODULES=' + json.dumps(sorted(sys.modules)))\n"
    "raise SystemExit(code)\n"
)

# The evaluation engine, GitPython, the review and bundle packages, the other command
# families, the --base range code and the library's serving (PromptRegistry, snapshots):
# none of them is needed to check the index.
NOT_NEEDED = (
    "git",
    "httpx",
    "rfc8785",
    "registry.evals.run",
    "registry.evals.child",
    "registry.evals.cases",
    "registry.evals.outputs",
    "registry.gitio.commit",
    "registry.review",
    "registry.bundle",
    "registry.cli.bundle",
    "registry.cli.review",
    "registry.cli.write",
    "registry.cli.history",
    "registry.cli.new",
    "registry.cli.read",
    "registry.cli.render",
    "registry.cli.init",
    "registry.check.base_range",
    "registry.check.verify",
    "registry.check.rerun",
    "registry.registry",
    "registry.serving",
    "registry.snapshot",
    "registry.refresh",
)


def imported(repo: Path, *args: str) -> set[str]:
    """The modules a real ``promptreg ARGS`` run in ``repo`` has imported (it must succeed)."""
    r = subprocess.run(
        [sys.executable, "-c", RUNNER, *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, (r.stdout, r.stderr)
    line = next(x for x in r.stdout.splitlines() if x.startswith("MODULES="))
    return set(json.loads(line.removeprefix("MODULES=")))


@pytest.fixture
def staged_pointer(repo: Path) -> Path:
    """A registry with one committed version and one staged deployment pointer."""
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    commit_all(repo, "greet 1.0.0")
    write(repo, "deployments/production/greet.yaml", pointer_yaml("greet", "production", "1.0.0"))
    git(repo, "add", "-A")
    return repo


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("check", "--staged"), id="check-staged"),
        pytest.param(("-C", ".", "check", "--staged"), id="dash-c-before"),
        pytest.param(("check", "-C", ".", "--staged"), id="dash-c-after"),
        pytest.param(("--version",), id="version"),
    ],
)
def test_the_hook_path_imports_only_what_it_needs(
    staged_pointer: Path, args: tuple[str, ...]
) -> None:
    modules = imported(staged_pointer, *args)
    unwanted = sorted(
        m for m in modules for name in NOT_NEEDED if m == name or m.startswith(name + ".")
    )
    assert unwanted == []
    if "check" in args:
        assert "registry.check.run" in modules  # the command did run


def test_help_still_lists_every_command_with_its_help(staged_pointer: Path) -> None:
    r = run_cli("--help", cwd=staged_pointer, real=True)
    assert r.returncode == 0, r.stderr
    for line in ("check     Validate the registry", "deploy    Point an environment at"):
        assert line in r.stdout, r.stdout


# One pointer's history reads the pointer log: no settings, no snapshot or serving machinery,
# no YAML parser for pointers the flat path reads, no other command family.
HISTORY_NOT_NEEDED = (
    "git",
    "httpx",
    "yaml",
    "registry.yamlio.load",
    "registry.registry",
    "registry.serving",
    "registry.snapshot",
    "registry.sources",
    "registry.view",
    "registry.decode",
    "registry.policy",
    "registry.check",
    "registry.evals",
    "registry.review",
    "registry.bundle",
    "registry.cli.check",
    "registry.cli.write",
    "registry.cli.read",
)


def test_history_of_one_environment_imports_only_the_pointer_log(staged_pointer: Path) -> None:
    commit_all(staged_pointer, "deploy greet 1.0.0")
    modules = imported(staged_pointer, "history", "greet", "--env", "production")
    unwanted = sorted(
        m for m in modules for name in HISTORY_NOT_NEEDED if m == name or m.startswith(name + ".")
    )
    assert unwanted == []
    assert {"registry.gitio.logstream", "registry.yamlio.flat"} <= modules  # it did read


def test_history_of_one_environment_outside_git_is_refused(tmp_path: Path) -> None:
    write(
        tmp_path, "deployments/production/greet.yaml", pointer_yaml("greet", "production", "1.0.0")
    )
    r = run_cli("-C", str(tmp_path), "history", "greet", "--env", "production")
    assert r.returncode == 1, r.stdout
    assert "is not a git work tree" in r.stderr and "Traceback" not in r.stderr
