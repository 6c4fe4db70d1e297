"""Run one child process and report its wall time, exit status, output and peak memory."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LAUNCHER = Path(__file__).resolve().parent / "launcher.py"


@dataclass(frozen=True)
class Outcome:
    """What one run of a command did."""

    argv: tuple[str, ...]
    seconds: float
    rss_kib: int  # peak RSS of the command and the descendants it waited for
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def problem(self) -> str:
        """One line saying why the run failed."""
        if self.timed_out:
            return f"timed out after {self.seconds:.0f} s"
        line = stderr_summary(self.stderr) or stderr_summary(self.stdout)
        return f"exit {self.returncode}: {line}" if line else f"exit {self.returncode}"


def stderr_summary(text: str) -> str:
    """The most telling line of an error output: a traceback's last line, click's Error line,
    else the first line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    if any(line.startswith("Traceback (most recent call last)") for line in lines):
        return lines[-1][:200]
    for line in lines:
        if line.startswith("Error:"):
            return line[:200]
    return lines[0][:200]


def run(
    argv: Sequence[str],
    cwd: Path,
    timeout: float = 300.0,
    env: dict[str, str] | None = None,
) -> Outcome:
    """Run ``argv`` to completion through the launcher; never raises for a failing or
    missing program."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        report = Path(tmp) / "report.json"
        try:
            subprocess.run(
                launch(argv, report, timeout),
                cwd=cwd,
                stdout=out,
                stderr=err,
                env=env,
                timeout=timeout + 60,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Outcome(tuple(argv), timeout, 0, -9, "", "", timed_out=True)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        found = read_report(report)
        if found is None:
            return Outcome(tuple(argv), 0.0, 0, 1, stdout, f"the launcher failed: {stderr}")
        return Outcome(
            tuple(argv),
            float(found["seconds"]),
            int(found["rss_kib"]),
            int(found["returncode"]),
            stdout,
            str(found.get("error", stderr)),
            bool(found["timed_out"]),
        )


def launch(argv: Sequence[str], report: Path, timeout: float) -> list[str]:
    """``argv`` started by launcher.py, which writes its time and peak RSS to ``report``."""
    return [sys.executable, "-I", "-S", str(LAUNCHER), str(report), str(timeout), "--", *argv]


def read_report(report: Path) -> dict[str, Any] | None:
    """What the launcher found, or None if it wrote nothing."""
    try:
        found: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def git_env() -> dict[str, str]:
    """The environment for commands in a generated registry: a pinned git identity."""
    env = dict(os.environ)
    env.update(
        GIT_AUTHOR_NAME="promptreg bench",
        GIT_AUTHOR_EMAIL="bench@promptreg.invalid",
        GIT_COMMITTER_NAME="promptreg bench",
        GIT_COMMITTER_EMAIL="bench@promptreg.invalid",
    )
    return env


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in ``repo`` (setup steps, not timed), with ``env`` added to the pinned
    identity; raise with git's message on failure."""
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**git_env(), **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {stderr_summary(done.stderr)}")
    return done.stdout


def sample(
    commands: dict[str, list[str]],
    repeat: int,
    cwd: Path,
    timeout: float,
    env: dict[str, str] | None = None,
) -> dict[str, list[Outcome]]:
    """One discarded warm-up run of each command, then ``repeat`` rounds that interleave the
    commands so that a load change on the machine hits them alike. A command whose warm-up
    fails is not repeated (its failed run is kept); ``repeat`` 1 skips the warm-up."""
    outcomes: dict[str, list[Outcome]] = {}
    for name, argv in commands.items():
        warmup = run(argv, cwd, timeout, env) if repeat > 1 else None
        outcomes[name] = [warmup] if warmup is not None and not warmup.ok else []
    for _ in range(repeat):
        for name, argv in commands.items():
            if all(o.ok for o in outcomes[name]):
                outcomes[name].append(run(argv, cwd, timeout, env))
    return outcomes
