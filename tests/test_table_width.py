"""Tables fit the terminal they are printed on, and are never wrapped when piped."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from registry.cli.output import fit_widths, table
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


def test_history_fits_an_80_column_terminal(repo: Path) -> None:
    """Long ``Name <email>`` values, a pointer committed by someone else and a long reason."""
    by = "Dana Reyes-Montgomery <dana.reyes-montgomery@people.example.com>"
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    write(repo, "prompts/greet/1.2.0-rc.1.yaml", version_yaml("greet", "1.2.0-rc.1"))
    for env in ("development", "production"):
        write(repo, f"deployments/{env}/greet.yaml", pointer_yaml("greet", env, "1.0.0", by=by))
    commit_all(repo, "deploy", date="2026-11-25T13:16:57Z")
    write(repo, "deployments/production/greet.yaml",
          pointer_yaml("greet", "production", "1.2.0-rc.1", "1.0.0", action="rollback", by=by,
                       reason=REASON))  # fmt: skip
    commit_all(repo, "hand edit", date="2026-11-26T08:05:00Z")
    out = _on_a_terminal(80, "-C", str(repo), "history", "greet", "--env", "production")
    lines = out.rstrip("\n").split("\n")
    assert max(len(ln) for ln in lines) <= 80, out
    assert lines[0].split()[:2] == ["WHEN", "VERSION"], out  # --env names the environment
    assert lines[1].startswith("2026-11-25T13:16Z "), out  # the time stays whole
    assert "T13:16:57Z" not in out, out
    # Every environment: wider than 80, but times, environments and versions stay whole and
    # no column is cut below a readable width.
    every = _on_a_terminal(80, "-C", str(repo), "history", "greet")
    assert "ENVIRONMENT" in every and "1.2.0-rc.1" in every and "development" in every, every
    assert all(len(ln) <= 100 for ln in every.splitlines()), every
    commit = run_cli("-C", str(repo), "history", "greet", "--json")
    events = json.loads(commit.stdout)
    assert events[0]["commit"][:8] in out and events[0]["commit"][:12] not in out, out
    assert "@" not in out, out  # names only: the emails stay in --json
    assert all("@" in e["deployed_by"] and "@" in e["committed_by"] for e in events)
    # Piped: every value in full, one line per event.
    piped = run_cli("-C", str(repo), "history", "greet").stdout.splitlines()
    assert len(piped) == 4 and all(by in ln for ln in piped[1:]), piped
    assert "2026-11-25T13:16:57Z" in piped[1] and events[0]["commit"][:12] in piped[1]


def test_a_table_breaks_a_long_word_only_when_nothing_else_fits(
    capsys: pytest.CaptureFixture[str],
) -> None:
    table(["A", "B"], [("x" * 30, "short words here")], width=20)
    lines = capsys.readouterr().out.splitlines()
    assert max(len(ln) for ln in lines) <= 20, lines
    assert "".join(ln.split()[0] for ln in lines[1:] if ln.startswith("x")) == "x" * 30
    # The breakable columns give way first: the time stays whole, the token is cut.
    row = [("2026-11-25", "a-very-long-token-here")]
    table(["WHEN", "NOTE"], row, width=22, breakable=["NOTE"])
    kept = capsys.readouterr().out.splitlines()
    assert max(len(ln) for ln in kept) <= 22 and kept[1].startswith("2026-11-25 "), kept
    # ... but never below a readable width: the line grows instead.
    table(["WHEN", "NOTE"], row, width=12, breakable=["NOTE"])
    narrow = capsys.readouterr().out.splitlines()
    assert narrow[1].startswith("2026-11-25  a-very-l"), narrow
    table(["WHEN", "NOTE"], row, width=20)
    assert not capsys.readouterr().out.splitlines()[1].startswith("2026-11-25 ")
