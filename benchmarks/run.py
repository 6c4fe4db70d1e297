"""promptreg benchmark: the reference registry, side by side with git and GTO.

    python benchmarks/run.py [--quick] [--scale S | --scaling] [--with-gto] [--json PATH]

Builds the reference registry (1,001 prompts x 10 versions, 20,000 deployment commits,
1,000 of them hot_prompt to production) in a temporary directory with git fast-import,
measures each figure as a median of several runs beside its floor measured in the same
rounds (git log -p for history, the bare loading and validating for check, a dict for the
library), prints a table of figure, floor, ratio and goal and writes
benchmarks/results/<timestamp>.json. A measurement that fails is recorded as an error
with the reason, and the others still run.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from base_bench import measure_check_base
from bundle_bench import measure_bundle
from cli_bench import (
    measure_check_all,
    measure_import,
    measure_staged,
    measure_status,
)
from context import BENCH_DIR, Bench
from gto_bench import gto_version, measure_gto, side_by_side
from history_bench import measure_history
from library_bench import measure_first_call, measure_freshness, measure_warm
from make_registry import Shape, plan, write_promptreg
from report import (
    Result,
    RunReport,
    machine_header,
    markdown_table,
    run_header,
    run_table,
    scaling_table,
    write_json,
)
from serve_bench import measure_serving

Measure = Callable[[Bench], Result | list[Result]]

# (group for --only, label if the harness itself fails, measurement); check --base commits
# to the registry and puts it back as generated; freshness commits to it, so it runs last.
MEASUREMENTS: list[tuple[str, str, Measure]] = [
    ("history", "promptreg history hot_prompt (--env, every environment)", measure_history),
    ("status", "promptreg status --json", measure_status),
    ("check", "promptreg check --all", measure_check_all),
    ("staged", "promptreg check --staged", measure_staged),
    ("base", "promptreg check --base (100 files added)", measure_check_base),
    ("import", "import registry", measure_import),
    ("first", "first get_active", measure_first_call),
    ("warm", "warm get_active", measure_warm),
    ("bundle", "promptreg bundle", measure_bundle),
    ("serving", "get_active during a reload; memory", measure_serving),
    ("fresh", "freshness", measure_freshness),
]
GROUPS = [g for g, _, _ in MEASUREMENTS] + ["gto"]
SCALING = (1, 4, 16)
QUICK_SCALE = 0.1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--scale", type=float, help="history length multiplier (default 1)")
    p.add_argument("--scaling", action="store_true", help="run scales 1, 4, 16 and compare")
    p.add_argument("--quick", action="store_true", help="scale 0.1 and fewer repeats")
    p.add_argument("--repeat", type=int, help="timed runs per figure (default 5, quick 3)")
    p.add_argument("--warm-calls", type=int, help="get_active calls timed in-process")
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--markdown", action="store_true", help="also print each run as Markdown")
    p.add_argument("--with-gto", action="store_true", help="measure GTO (own venv)")
    p.add_argument("--gto-scale", type=float, help="scale of the GTO registry (default <= 1)")
    p.add_argument("--gto-repeat", type=int, help="runs of each gto command (default 3, quick 1)")
    p.add_argument("--python", help="interpreter with promptreg (default: the repo's .venv)")
    p.add_argument("--refresh-interval", type=float, help="PromptRegistry(refresh_interval=)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per command run")
    p.add_argument("--only", help=f"comma-separated groups: {','.join(GROUPS)}")
    p.add_argument("--keep", action="store_true", help="keep the generated registries")
    args = p.parse_args(argv)
    base = args.scale if args.scale is not None else (QUICK_SCALE if args.quick else 1.0)
    args.scales = [base * s for s in SCALING] if args.scaling else [base]
    args.repeat = args.repeat or (3 if args.quick else 5)
    args.warm_calls = args.warm_calls or (50_000 if args.quick else 200_000)
    args.gto_repeat = args.gto_repeat or (1 if args.quick else 3)
    args.python = args.python or default_python()
    args.only = set(args.only.split(",")) if args.only else set(GROUPS)
    if unknown := args.only - set(GROUPS):
        p.error(f"unknown --only group(s): {', '.join(sorted(unknown))}")
    return args


def default_python() -> str:
    venv = BENCH_DIR.parent / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def probe(argv: list[str]) -> str:
    """First line of a command's output, or a dash if it cannot run."""
    try:
        done = subprocess.run(
            argv, cwd=tempfile.gettempdir(), capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return "-"
    lines = done.stdout.strip().splitlines()
    return lines[0] if done.returncode == 0 and lines else "-"


def machine_info(args: argparse.Namespace) -> dict[str, Any]:
    version = "import importlib.metadata as m; print(m.version('promptreg-git'))"
    return {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "git": probe(["git", "--version"]).removeprefix("git version "),
        "python": probe([args.python, "-c", "import platform; print(platform.python_version())"]),
        "harness_python": platform.python_version(),
        "promptreg": probe([args.python, "-c", version]),
        "gto": gto_version() if args.with_gto else None,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": {
            "repeat": args.repeat,
            "warm_calls": args.warm_calls,
            "gto_repeat": args.gto_repeat,
            "refresh_interval": args.refresh_interval,
            "python": args.python,
        },
    }


def guarded(label: str, measure: Measure, bench: Bench) -> list[Result]:
    """Run one measurement; a harness failure becomes an error row, not a crash."""
    try:
        found = measure(bench)
    except Exception as exc:  # each measurement is independent of the others
        return [Result(label, label, "", error=f"harness: {type(exc).__name__}: {exc}")]
    return found if isinstance(found, list) else [found]


def run_scale(args: argparse.Namespace, scale: float, gto_done: set[float]) -> RunReport:
    """Build the registry at ``scale`` and take every selected measurement on it."""
    shape = Shape().scaled(scale)
    workdir = Path(tempfile.mkdtemp(prefix=f"promptreg-bench-x{scale:g}-"))
    try:
        say(f"scale {scale:g}: building the reference registry in {workdir}")
        history = plan(shape)
        built = write_promptreg(history, workdir / "registry")
        say(f"built {built.commits:,} commits in {built.seconds:.1f} s")
        bench = Bench(
            built.path,
            args.python,
            history,
            args.repeat,
            args.warm_calls,
            args.timeout,
            args.refresh_interval,
        )
        results: list[Result] = []
        for group, label, measure in MEASUREMENTS:
            if group in args.only:
                say(f"measuring {label}")
                results += guarded(label, measure, bench)
        report = RunReport(scale, asdict(shape), built.seconds, built.commits, results)
        if "gto" in args.only and args.with_gto:
            add_gto(args, report, workdir, gto_done)
        return report
    finally:
        if args.keep:
            say(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def add_gto(args: argparse.Namespace, report: RunReport, workdir: Path, done: set[float]) -> None:
    """GTO's figures, with the side-by-side ratios when they share the run's scale. Each GTO
    scale is measured once: a larger run whose GTO scale is capped adds no GTO rows."""
    gto_scale = args.gto_scale if args.gto_scale is not None else min(report.scale, 1.0)
    if gto_scale in done:
        return
    done.add(gto_scale)
    report.gto_scale = gto_scale
    say(f"measuring gto at scale {gto_scale:g} (slow: about a minute per run)")
    show, history = measure_gto(Shape().scaled(gto_scale), workdir, args.gto_repeat, args.timeout)
    for r in (show, history):
        r.label = f"{r.label} (GTO registry, scale {gto_scale:g})"
    report.results += [show, history]
    if gto_scale == report.scale:
        ours = report.by_key()
        report.results += [
            side_by_side(ours.get("status"), show, "  gto show / promptreg status"),
            side_by_side(ours.get("history"), history, "  gto history / promptreg history"),
        ]


def print_reports(machine: dict[str, Any], reports: list[RunReport], markdown: bool) -> None:
    print(machine_header(machine))
    for report in reports:
        print()
        print(run_header(report))
        print(run_table(report))
        if markdown:
            print()
            print(markdown_table(report))
    if len(reports) > 1:
        print()
        print("scaling: each figure against the history length")
        print(scaling_table(reports))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    machine = machine_info(args)
    gto_done: set[float] = set()
    reports = [run_scale(args, scale, gto_done) for scale in args.scales]
    print_reports(machine, reports, args.markdown)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    paths = [BENCH_DIR / "results" / f"{stamp}.json"] + ([args.json] if args.json else [])
    for path in paths:
        write_json(path, machine, reports)
    print(f"\nresults: {', '.join(str(p) for p in paths)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
