"""``promptreg check --base`` of a pull request adding 100 version files, against its floor.

The range is made on the benchmark registry for the measurement: one commit on top of HEAD
adds a patch version of 100 prompts; the base is the commit before. ``check --base BASE`` is
timed interleaved with its floor (a fresh interpreter that loads and schema-validates only the
changed files through one ``git cat-file``, base_check.py's FLOOR) and with the same loading
of every file of HEAD. Then the registry is put back as generated (the commit dropped), so the
measurements after this one see the same registry.
"""

from __future__ import annotations

import time

from base_check import FLOOR
from context import Bench, timed
from make_registry import HOT_PROMPT, version_yaml
from procs import git
from report import Result, fmt

CHANGED = 100
BASE_RATIO_GOAL = 3.0  # issue 14, goal 3


def patch_after(version: str) -> str:
    """The next patch version: 2.4.0 -> 2.4.1."""
    major, minor, patch = version.split(".")
    return f"{major}.{minor}.{int(patch) + 1}"


def add_versions(bench: Bench, count: int = CHANGED) -> list[str]:
    """Commit a new patch version of ``count`` prompts; the paths added. The commit is dated
    after HEAD, as a pull request's commit is: the generated history of a large scale runs
    past today, and a commit older than its parent makes git's date-ordered walks (the
    fork point's merge-base) read the whole history, at 16x a second of git's own time."""
    head_time = int(git(bench.registry, "log", "-1", "--format=%ct", "HEAD").strip())
    when = max(int(time.time()), head_time + 60)
    paths = []
    for pid in [p for p in bench.plan.prompt_ids if p != HOT_PROMPT][:count]:
        version = patch_after(bench.plan.versions[pid][-1])
        rel = f"prompts/{pid}/{version}.yaml"
        text = version_yaml(pid, version, bench.plan.authors[pid], when)
        (bench.registry / rel).write_text(text, encoding="utf-8")
        paths.append(rel)
    git(bench.registry, "add", "--", *paths)
    dated = {"GIT_AUTHOR_DATE": f"@{when} +0000", "GIT_COMMITTER_DATE": f"@{when} +0000"}
    git(bench.registry, "commit", "-q", "-m", f"Add a patch version of {count} prompts", env=dated)
    return paths


def measure_check_base(bench: Bench) -> Result:
    """check --base of the 100-file range, its floor and the whole-head load, same rounds."""
    base = git(bench.registry, "rev-parse", "HEAD").strip()
    try:
        paths = add_versions(bench)
        runs = bench.sample(
            {
                "base": bench.promptreg("check", "--base", base),
                "floor": [bench.python, "-c", FLOOR, base],
                "head": [bench.python, "-c", FLOOR, "--all"],
            }
        )
    finally:
        git(bench.registry, "reset", "-q", "--hard", base)
        git(bench.registry, "clean", "-q", "-f", "-d", "--", "prompts")
    label = f"promptreg check --base HEAD~1 ({len(paths)} files added)"
    result = timed("check_base", label, runs["base"])
    floor = timed("check_base_floor", "", runs["floor"])
    result.set_floor(
        floor,
        f"a fresh interpreter loading and validating only the {len(paths)} changed files",
        BASE_RATIO_GOAL,
    )
    head = timed("check_base_head", "", runs["head"])
    if head.value is not None:
        ratio = f" ({fmt(result.value / head.value)}x)" if result.value is not None else ""
        result.note = f"the same for every file of HEAD: {fmt(head.value)} s{ratio}"
    else:
        result.note = f"the same for every file of HEAD: {head.error}"
    return result
