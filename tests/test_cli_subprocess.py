"""The thin layer of real interpreter runs: most CLI tests run ``registry.cli.main``
in-process, so these prove that the installed entry point exits with the documented codes and
writes problems, not tracebacks, to stderr."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.testing import ROOT, run_cli

EXAMPLE = ("prompts", "deployments", "evals", "promptreg.yaml")


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain-directory copy of this repository's example registry."""
    dest = tmp_path_factory.mktemp("example")
    for name in EXAMPLE:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name)
        else:
            shutil.copy(src, dest / name)
    return dest


@pytest.mark.parametrize(
    ("args", "code"),
    [
        pytest.param(("--version",), 0, id="version"),
        pytest.param(("list",), 0, id="list"),
        pytest.param(("status", "--json"), 0, id="status"),
        pytest.param(("show", "hr_query_system_prompt"), 0, id="show"),
        pytest.param(("check", "--all"), 0, id="check"),
        pytest.param(("show", "no_such_prompt"), 1, id="refused"),
        pytest.param(("active", "hr_query_system_prompt", "--env", "Bad Env"), 2, id="usage"),
        pytest.param(("no-such-command",), 2, id="unknown-command"),
    ],
)
def test_the_real_entry_point_exits_as_documented(
    example: Path, args: tuple[str, ...], code: int
) -> None:
    r = run_cli("-C", str(example), *args, real=True)
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    if code == 1:
        assert r.stderr.startswith("promptreg: "), r.stderr
    if code == 2:
        assert "Usage:" in r.stderr or "Error:" in r.stderr, r.stderr


def test_in_process_and_subprocess_runs_agree(example: Path) -> None:
    """The fast in-process runner prints and returns exactly what the real command does."""
    for args in (("status",), ("check", "--all", "--json"), ("show", "nope")):
        real = run_cli("-C", str(example), *args, real=True)
        fast = run_cli("-C", str(example), *args)
        assert (fast.returncode, fast.stdout, fast.stderr) == (
            real.returncode,
            real.stdout,
            real.stderr,
        ), args
