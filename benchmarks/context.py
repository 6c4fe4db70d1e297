"""What every measurement needs: the generated registry, the interpreter, the run settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from make_registry import HOT_ENVIRONMENT, HOT_PROMPT, Plan
from procs import Outcome, git_env, median, run, sample
from report import Result

BENCH_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Bench:
    """One generated registry and how to measure it."""

    registry: Path
    python: str  # an interpreter that has promptreg installed
    plan: Plan
    repeat: int
    warm_calls: int
    timeout: float
    refresh_interval: float | None

    def promptreg(self, *args: str) -> list[str]:
        """The promptreg CLI on the benchmark registry."""
        return [self.python, "-m", "registry", "-C", str(self.registry), *args]

    def worker(self, mode: str, args: str) -> list[str]:
        """A reader process of workers.py in a fresh interpreter."""
        return [self.python, str(BENCH_DIR / "workers.py"), mode, args]

    def hot_active(self) -> str:
        """The production version of hot_prompt at the tip of the generated history."""
        return self.plan.final_active()[HOT_PROMPT, HOT_ENVIRONMENT]

    def run(self, argv: Sequence[str]) -> Outcome:
        return run(argv, cwd=self.registry, timeout=self.timeout, env=git_env())

    def sample(self, commands: dict[str, list[str]]) -> dict[str, list[Outcome]]:
        """Warm-up, then ``repeat`` interleaved timed runs of each command."""
        return sample(commands, self.repeat, self.registry, self.timeout, git_env())


def timed(key: str, label: str, outcomes: Sequence[Outcome], goal: float | None = None) -> Result:
    """A wall-time result in seconds from runs of one command; an error if any run failed."""
    result = Result(key, label, "s", goal=goal)
    if outcomes:
        result.rss_mib = max(o.rss_kib for o in outcomes) / 1024
    failed = next((o for o in outcomes if not o.ok), None)
    if failed is not None:
        result.error = failed.problem()
        return result
    result.samples = [o.seconds for o in outcomes]
    result.value = median(result.samples)
    return result
