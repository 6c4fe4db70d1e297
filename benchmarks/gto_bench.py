"""The peer, side by side: GTO on the equivalent registry, in its own opt-in virtualenv.

GTO is never a promptreg dependency: ``--with-gto`` installs it into benchmarks/.gto-venv.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from context import BENCH_DIR, timed
from make_registry import HOT_PROMPT, Shape, gto_name, plan, write_gto
from procs import git_env, run, sample, stderr_summary
from report import Result

GTO_VENV = BENCH_DIR / ".gto-venv"
# Measured once on the reference shape before this benchmark existed, for comparison only.
EARLIER = {"gto_show": 29.7, "gto_history": 16.3}


def gto_executable() -> Path:
    return GTO_VENV / "bin" / "gto"


def ensure_gto() -> str | None:
    """Create the GTO virtualenv when it is missing; why that failed, if it did."""
    if gto_executable().exists():
        return None
    steps = [
        [sys.executable, "-m", "venv", str(GTO_VENV)],
        [str(GTO_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "gto"],
    ]
    for argv in steps:
        print(f"[gto] {' '.join(argv)}", file=sys.stderr, flush=True)
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return f"installing gto failed: {stderr_summary(done.stderr)}"
    return None


def gto_version() -> str:
    done = run([str(gto_executable()), "--version"], cwd=BENCH_DIR, timeout=60)
    return done.stdout.strip().split()[-1] if done.ok and done.stdout.strip() else "unknown"


def measure_gto(shape: Shape, workdir: Path, repeat: int, timeout: float) -> list[Result]:
    """``gto show`` and ``gto history hot-prompt`` on the GTO registry of ``shape``."""
    show = Result("gto_show", "gto show", "s")
    history = Result("gto_history", f"gto history {gto_name(HOT_PROMPT)}", "s")
    problem = ensure_gto()
    if problem:
        show.error = history.error = problem
        return [show, history]
    built = write_gto(plan(shape), workdir / "gto-registry")
    gto = str(gto_executable())
    runs = sample(
        {"show": [gto, "show"], "history": [gto, "history", gto_name(HOT_PROMPT)]},
        repeat,
        built.path,
        timeout,
        git_env(),
    )
    results = [
        timed("gto_show", "gto show", runs["show"]),
        timed("gto_history", f"gto history {gto_name(HOT_PROMPT)}", runs["history"]),
    ]
    for r in results:
        runs_text = f"{len(r.samples)} run{'s' if len(r.samples) != 1 else ''}"
        r.note = (
            f"gto {gto_version()}, {built.commits:,} commits + {built.tags:,} tags "
            f"(built in {built.seconds:.0f} s), {runs_text}; measured earlier at scale 1: "
            f"{EARLIER[r.key]} s"
        )
    return results


def side_by_side(ours: Result | None, peer: Result, label: str) -> Result:
    """How many times longer the peer takes than promptreg for the same question."""
    result = Result(f"{peer.key}_vs", label, "x")
    if ours is None or ours.value is None or peer.value is None:
        result.error = "needs both timings"
    else:
        result.value = peer.value / ours.value
    return result
