"""``promptreg check --base REF`` against its floor, in the same run.

Run from a registry's git repository where ``REF..HEAD`` changes the files to judge (say 100
new version files): ``python benchmarks/base_check.py REF [PROMPTREG ...]``. Prints, for each
``promptreg`` executable given (default: the one next to this interpreter), the median of 5
interleaved wall times of ``check --base REF`` after a warm-up, beside two floors: a fresh
interpreter that loads and schema-validates only the changed files through one pipelined
``git cat-file --batch``, and one that does the same for every file of HEAD (what judging the
whole final state costs before any rule). ``make bench`` measures the same figure on a range
it makes (base_bench.py, with this FLOOR); this script takes any range and several builds."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

FLOOR = """
import sys
from pathlib import Path
from registry.gitio.run import diff_names
from registry.sources import GitSource
from registry.view import RegistryView
view = RegistryView(GitSource(Path("."), "HEAD"), schema=True)
if sys.argv[1] == "--all":
    paths = [e.path for e in view.entries() if e.kind == "file"]
else:
    paths = [p for _, p, _ in diff_names(Path("."), sys.argv[1], "HEAD")]
view.source.prefetch(paths)
for p in paths:
    view.result_for(p)
view.source.close()
"""


def main(argv: list[str]) -> int:
    ref, tools = argv[0], argv[1:] or [str(Path(sys.executable).parent / "promptreg")]
    cmds = {f"check --base ({tool})": [tool, "check", "--base", ref] for tool in tools}
    cmds["floor: load+validate the changed files"] = [sys.executable, "-c", FLOOR, ref]
    cmds["the whole head through one cat-file"] = [sys.executable, "-c", FLOOR, "--all"]
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(6):
        for name, cmd in cmds.items():
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v[1:]) * 1000 for k, v in times.items()}
    floor = med["floor: load+validate the changed files"]
    for name, ms in med.items():
        print(f"{name}: {ms:,.0f} ms ({ms / floor:.1f}x the floor)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
