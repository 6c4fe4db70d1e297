"""The command-line measurements: status, check, and import time (history: history_bench)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from context import Bench, timed
from make_registry import Deployment, pointer_yaml
from procs import git
from report import Result


def measure_command(bench: Bench, key: str, args: list[str], goal: float) -> Result:
    """Wall time of one promptreg command that must succeed on the valid registry."""
    runs = bench.sample({key: bench.promptreg(*args)})[key]
    return timed(key, f"promptreg {' '.join(args)}", runs, goal)


def measure_check_all(bench: Bench) -> Result:
    return measure_command(bench, "check_all", ["check", "--all"], 3.0)


def measure_status(bench: Bench) -> Result:
    runs = bench.sample({"status": bench.promptreg("status", "--json")})["status"]
    result = timed("status", "promptreg status --json", runs, 1.0)
    if result.error is None:
        result.note = status_check(bench, runs[-1].stdout)
    return result


def status_check(bench: Bench, output: str) -> str:
    """How many active pointers ``status --json`` shows, against the generated ones."""
    try:
        rows = json.loads(output)
        shown = sum(1 for row in rows if row.get("version") is not None)
    except (ValueError, TypeError, AttributeError):
        return "status --json output unreadable"
    expected = len(bench.plan.final_active())
    if shown != expected:
        return f"{shown:,} active pointers shown, expected {expected:,}"
    return f"{shown:,} active pointers"


def measure_staged(bench: Bench) -> Result:
    """``check --staged`` with one pointer change staged, as the pre-commit hook runs it."""
    path = stage_one_deployment(bench)
    try:
        result = measure_command(bench, "check_staged", ["check", "--staged"], 0.5)
        result.note = f"staged: {path}"
        return result
    finally:
        git(bench.registry, "reset", "-q", "--hard", "HEAD")


def stage_one_deployment(bench: Bench) -> str:
    """Stage a valid move of one staging pointer to another existing version."""
    (pid, env), current = next(
        (key, v) for key, v in sorted(bench.plan.final_active().items()) if key[1] == "staging"
    )
    target = next(v for v in bench.plan.versions[pid] if v != current)
    d = Deployment(pid, env, target, current, "deploy", ("Bench Runner", "bench@example.com"))
    rel = f"deployments/{env}/{pid}.yaml"
    (Path(bench.registry) / rel).write_text(pointer_yaml(d, int(time.time())), encoding="utf-8")
    git(bench.registry, "add", rel)
    return rel


def measure_import(bench: Bench) -> Result:
    """``import registry`` in a fresh interpreter, less the interpreter's own start-up."""
    runs = bench.sample(
        {"import": [bench.python, "-c", "import registry"], "pass": [bench.python, "-c", "pass"]}
    )
    result = timed("import", "import registry (fresh process, less python -c pass)", runs["import"])
    start = timed("pass", "", runs["pass"])
    result.unit = "ms"
    if result.value is None or start.value is None:
        result.error = result.error or start.error
        return result
    result.samples = [(i - p) * 1e3 for i, p in zip(result.samples, start.samples, strict=False)]
    result.value = (result.value - start.value) * 1e3
    result.note = f"interpreter start-up {start.value * 1e3:.0f} ms"
    return result
