"""History against its git floor: ``history --env`` against ``git log -p`` of the pointer, and
``history`` of every environment against ``git log -p`` of the prompt's pointer paths, in the
same interleaved rounds; the ratio of the medians is the figure."""

from __future__ import annotations

import json

from context import Bench, timed
from make_registry import ENVIRONMENTS, HOT_ENVIRONMENT, HOT_PROMPT
from report import Result

HOT_POINTER = f"deployments/{HOT_ENVIRONMENT}/{HOT_PROMPT}.yaml"
HOT_POINTERS = [f"deployments/{env}/{HOT_PROMPT}.yaml" for env in ENVIRONMENTS]
# What `history` remembers about environment folders (registry/gitio/envdirs.py).
REMEMBERED = ".git/promptreg/environments"
ENV_GOAL = 1.25  # issue 14, goal 6
ALL_GOAL = 1.5  # issue 14, goal 2


def measure_history(bench: Bench) -> list[Result]:
    """Both history figures, each with its floor and ratio, and the first history of a clone
    (nothing remembered) beside them."""
    forget = ["sh", "-c", f'rm -f {REMEMBERED} && exec "$@"', "sh"]
    runs = bench.sample(
        {
            "env": bench.promptreg("history", HOT_PROMPT, "--env", HOT_ENVIRONMENT),
            "git_env": ["git", "log", "-p", "--", HOT_POINTER],
            "all": bench.promptreg("history", HOT_PROMPT),
            "git_all": ["git", "log", "-p", "--", *HOT_POINTERS],
            "cold": [*forget, *bench.promptreg("history", HOT_PROMPT)],
            "start": bench.promptreg("--version"),
        }
    )
    env = timed("history", f"promptreg history {HOT_PROMPT} --env {HOT_ENVIRONMENT}", runs["env"])
    git_env = timed("history_git", "", runs["git_env"])
    every = timed("history_all", f"promptreg history {HOT_PROMPT} (every environment)", runs["all"])
    git_all = timed("history_all_git", "", runs["git_all"])
    cold = timed("history_all_cold", "  the same, nothing remembered (first run)", runs["cold"])
    start = timed("history_start", "promptreg --version (start-up, in both)", runs["start"])
    shown = ""
    if runs["git_env"] and runs["git_env"][-1].ok:
        commits = sum(
            1 for line in runs["git_env"][-1].stdout.splitlines() if line.startswith("commit ")
        )
        shown = f" ({commits:,} commits shown)"
    env.set_floor(git_env, f"git log -p -- <the pointer>{shown}", ENV_GOAL)
    every.set_floor(git_all, "git log -p -- <its 3 pointers>", ALL_GOAL)
    cold.set_floor(git_all, "git log -p -- <its 3 pointers>")
    if env.error is None:
        env.note, env.error = history_check(bench, "--env", HOT_ENVIRONMENT)
    if every.error is None:
        every.note, every.error = history_check(bench)
    return [env, every, cold, start]


def history_check(bench: Bench, *args: str) -> tuple[str, str | None]:
    """Does ``history --json`` list exactly the generated deployments, in order?"""
    out = bench.run(bench.promptreg("history", HOT_PROMPT, *args, "--json"))
    if not out.ok:
        return "", f"history --json: {out.problem()}"
    try:
        got = [(str(e["environment"]), str(e["version"])) for e in json.loads(out.stdout)]
    except (ValueError, TypeError, KeyError) as exc:
        return "", f"history --json unreadable: {exc}"
    expected = [(HOT_ENVIRONMENT, v) for v in bench.plan.hot_versions()]
    if got != expected:
        return (
            "",
            f"history lists {len(got):,} events, expected {len(expected):,} (or order differs)",
        )
    return f"{len(got):,} events, as generated", None
