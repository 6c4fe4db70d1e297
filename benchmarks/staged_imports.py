"""What ``promptreg check --staged`` imports and how long it takes, against its floor.

Run from a git repository with one staged pointer: ``python benchmarks/staged_imports.py
deployments/ENV/ID.yaml``. Prints medians of 10 wall times of ``check --staged``,
``--version`` and the floor (a fresh interpreter that loads the one file with CSafeLoader and
validates it with jsonschema), all in the same run, and the ``-X importtime`` cumulative time
of ``registry.cli``. ``make bench`` measures check --staged against the same floor
(cli_bench.py); this script adds --version and the import time."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "deployment.schema.json"
FLOOR = (
    "import json, sys, yaml, jsonschema\n"
    "doc = yaml.load(open(sys.argv[1], 'rb'), Loader=yaml.CSafeLoader)\n"
    "jsonschema.Draft7Validator(json.load(open(sys.argv[2]))).validate(doc)\n"
)


def wall(cmd: list[str], runs: int = 10) -> float:
    """Median wall time of ``cmd`` in ms (each run must succeed)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def import_cli_us(cmd: list[str], runs: int = 5) -> float:
    """Median ``-X importtime`` cumulative microseconds of ``registry.cli``."""
    found = []
    for _ in range(runs):
        err = subprocess.run(cmd, check=True, capture_output=True, text=True).stderr
        for line in err.splitlines():
            if line.rstrip().endswith("| registry.cli"):
                found.append(int(line.split("|")[1]))
    return statistics.median(found)


def main(staged: str) -> None:
    py = sys.executable
    staged_cmd = [py, "-m", "registry", "check", "--staged"]
    floor = wall([py, "-c", FLOOR, staged, str(SCHEMA)])
    check = wall(staged_cmd)
    version = wall([py, "-m", "registry", "--version"])
    cli_us = import_cli_us([py, "-X", "importtime", *staged_cmd[1:]])
    print(f"check --staged {check:.0f} ms, --version {version:.0f} ms, floor {floor:.0f} ms")
    print(f"ratio to the floor {check / floor:.2f}x; registry.cli import {cli_us / 1e3:.0f} ms")


if __name__ == "__main__":
    main(sys.argv[1])
