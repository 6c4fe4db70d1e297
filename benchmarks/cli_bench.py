"""The command-line measurements: status, check --all and --staged with their floors, and
import time (history: history_bench; check --base: base_bench)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from context import Bench, timed
from make_registry import Deployment, pointer_yaml
from procs import git
from report import Result
from staged_imports import FLOOR as STAGED_FLOOR  # CSafeLoader + jsonschema, one file
from staged_imports import SCHEMA as DEPLOYMENT_SCHEMA

ALL_RATIO_GOAL = 1.5  # issue 14, goal 4
STAGED_RATIO_GOAL = 2.0  # issue 14, goal 5
ALL_FLOOR = "CSafeLoader + a compiled validator on 2 processes"


def check_all_floor(bench: Bench) -> tuple[list[str] | None, str]:
    """The command of check --all's floor from benchmarks/check_floor.py, or why there is
    none (the module is optional: without it the figure is measured without its floor)."""
    try:
        from check_floor import check_all_floor_cmd  # type: ignore[import-not-found]
    except ImportError as exc:
        missing = getattr(exc, "name", None) == "check_floor"
        why = "benchmarks/check_floor.py absent" if missing else f"{type(exc).__name__}: {exc}"
        return None, f"not available: {why}"
    try:
        return list(check_all_floor_cmd(bench.registry)), ""
    except Exception as exc:  # an optional helper's failure must not lose check --all
        return None, f"check_floor.py: {type(exc).__name__}: {exc}"


def measure_check_all(bench: Bench) -> Result:
    """check --all, interleaved with its floor when benchmarks/check_floor.py provides one."""
    floor_cmd, why = check_all_floor(bench)
    commands = {"check_all": bench.promptreg("check", "--all")}
    if floor_cmd is not None:
        commands["floor"] = floor_cmd
    runs = bench.sample(commands)
    result = timed("check_all", "promptreg check --all", runs["check_all"], 3.0)
    if floor_cmd is None:
        result.floor_label, result.floor_error = ALL_FLOOR, why
        result.ratio_goal = ALL_RATIO_GOAL
    else:
        result.set_floor(timed("check_all_floor", "", runs["floor"]), ALL_FLOOR, ALL_RATIO_GOAL)
    return result


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
        runs = bench.sample(
            {
                "staged": bench.promptreg("check", "--staged"),
                "floor": [bench.python, "-c", STAGED_FLOOR, path, str(DEPLOYMENT_SCHEMA)],
            }
        )
        result = timed("check_staged", "promptreg check --staged", runs["staged"], 0.5)
        floor = timed("check_staged_floor", "", runs["floor"])
        label = (
            "a fresh interpreter loading the one file (CSafeLoader) and validating it (jsonschema)"
        )
        result.set_floor(floor, label, STAGED_RATIO_GOAL)
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
