"""Run the real CLI entry point in-process (fast), capturing its output and exit code."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from registry.cli import main


@dataclass
class Result:
    """What one CLI run printed and returned."""

    code: int
    out: str
    err: str


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """``promptreg ARGS`` through ``registry.cli.main`` with its exit-code mapping."""
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err, captured.err
    return Result(code, captured.out, captured.err)
