"""Tables fit the terminal they are printed on, and are never wrapped when piped."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from registry.cli_common import fit_widths
from tests.testing import LENIENT_SETTINGS, commit_all, pointer_yaml, run_cli, version_yaml, write

REASON = "Roll back because the new wording confused the benefits team during review"


@pytest.fixture
def registry(repo: Path) -> Path:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    write(repo, "deployments/production/greet.yaml",
          pointer_yaml("greet", "production", "1.0.0", reason=REASON))  # fmt: skip
    commit_all(repo, "deploy")
    return repo


def _on_a_terminal(columns: int, *args: str) -> str:
    """Run the CLI with its standard output on a pseudo-terminal ``columns`` wide."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "LINES": "40"}
    try:
        proc = subprocess.Popen([sys.executable, "-m", "registry", *args], stdout=follower,
                                stderr=subprocess.PIPE, env=env)  # fmt: skip
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the follower side closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        os.close(leader)
        if proc.stderr is not None:
            proc.stderr.close()
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_history_fits_a_narrow_terminal_without_breaking_words(registry: Path) -> None:
    out = _on_a_terminal(120, "-C", str(registry), "history", "greet")
    lines = out.rstrip("\n").split("\n")
    assert len(lines) > 2, out  # the row wrapped onto more lines
    assert all(len(ln) <= 120 for ln in lines), out
    reason_at = lines[0].index("REASON")
    words = " ".join(ln[reason_at:].strip() for ln in lines[1:])
    assert words == REASON, out  # every word whole, in order, in its column


def test_piped_output_is_never_wrapped(registry: Path) -> None:
    r = run_cli("-C", str(registry), "history", "greet")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and REASON in lines[1] and len(lines[1]) > 120


def test_a_wide_terminal_leaves_the_table_alone(registry: Path) -> None:
    piped = run_cli("-C", str(registry), "history", "greet").stdout
    assert _on_a_terminal(300, "-C", str(registry), "history", "greet") == piped


def test_fit_widths_narrows_the_widest_column_first() -> None:
    assert fit_widths([10, 40, 5], [4, 6, 5], 40) == [10, 21, 5]
    assert fit_widths([10, 40], [4, 6], 100) == [10, 40]
    # Never below the least width (a header or a word): it may still overflow.
    assert fit_widths([12, 12], [12, 10], 10) == [12, 10]
