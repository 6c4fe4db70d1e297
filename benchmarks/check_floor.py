"""The floor of ``promptreg check --all`` (issue 14): CSafeLoader and compiled validators on 2
processes, and check --all measured beside it.

The floor is a fresh interpreter that lists every managed file of the registry (prompts/,
deployments/, evals/ and promptreg.yaml), compiles the shipped JSON Schemas with
fastjsonschema, and reads, parses (``yaml.load`` with ``yaml.CSafeLoader``) and validates
every file, the files split over 2 processes (the parent and one forked child). It imports
nothing of promptreg. ``check_all_floor_cmd`` is the command line to time, for other bench code.

    python benchmarks/check_floor.py REGISTRY [--repeat 5]

prints the median wall time of the floor and of ``promptreg check --all`` over ``--repeat``
interleaved runs after a warm-up (benchmarks/procs.py ``sample``), and their ratio.
"""

from __future__ import annotations

import os
import sys

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
SCHEMAS_DIR = os.path.join(os.path.dirname(BENCH_DIR), "schemas")
# Managed folder -> the schema of its files; promptreg.yaml is "settings".
FOLDERS = {"prompts": "prompt-version", "deployments": "deployment"}


def check_all_floor_cmd(registry_path: str | os.PathLike[str]) -> list[str]:
    """The floor of ``check --all`` on ``registry_path``, as a command line to time."""
    return [
        sys.executable,
        os.path.join(BENCH_DIR, "check_floor.py"),
        "--floor",
        str(registry_path),
    ]


def _managed(root: str) -> list[tuple[str, str]]:
    """(path, schema kind) of every managed file, as check --all lists them."""
    out: list[tuple[str, str]] = []
    for folder, kind in FOLDERS.items():
        top = os.path.join(root, folder)
        if not os.path.isdir(top):
            continue
        for sub in os.scandir(top):
            if sub.is_dir(follow_symlinks=False):
                out += [(f.path, kind) for f in os.scandir(sub.path) if f.name.endswith(".yaml")]
    evals = os.path.join(root, "evals")
    if os.path.isdir(evals):
        out += [(f.path, "eval-suite") for f in os.scandir(evals) if f.name.endswith(".yaml")]
    settings = os.path.join(root, "promptreg.yaml")
    if os.path.isfile(settings):
        out.append((settings, "settings"))
    return out


def floor(root: str) -> int:
    """Read, parse and validate every managed file on 2 processes; 1 if any file is invalid."""
    import json

    import fastjsonschema
    import yaml

    files = _managed(root)
    validators = {}
    for kind in sorted({kind for _, kind in files}):
        with open(os.path.join(SCHEMAS_DIR, f"{kind}.schema.json"), encoding="utf-8") as f:
            schema = json.load(f)
        validators[kind] = fastjsonschema.compile(schema, use_default=False, use_formats=False)

    def work(part: list[tuple[str, str]]) -> int:
        bad = 0
        for path, kind in part:
            with open(path, "rb") as f:
                data = yaml.load(f.read(), Loader=yaml.CSafeLoader)
            try:
                validators[kind](data)
            except fastjsonschema.JsonSchemaException:
                bad += 1
        return bad

    pid = os.fork()
    if pid == 0:
        os._exit(1 if work(files[1::2]) else 0)
    bad = work(files[0::2])
    _, status = os.waitpid(pid, 0)
    return 1 if bad or status else 0


def main(argv: list[str]) -> int:
    import argparse
    import statistics
    from pathlib import Path

    sys.path.insert(0, BENCH_DIR)
    from procs import git_env, sample

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("registry")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    root = os.path.abspath(args.registry)
    check = [sys.executable, "-m", "registry", "-C", root, "check", "--all"]
    runs = sample(
        {"floor": check_all_floor_cmd(root), "check --all": check},
        args.repeat,
        Path(root),
        600.0,
        git_env(),
    )
    medians: dict[str, float] = {}
    for name, outcomes in runs.items():
        failed = [o for o in outcomes if not o.ok]
        if failed:
            print(f"{name}: failed: {failed[0].problem()}", file=sys.stderr)
            return 1
        medians[name] = statistics.median(o.seconds for o in outcomes)
        shown = ", ".join(f"{o.seconds * 1000:.0f}" for o in outcomes)
        print(f"{name:12} median {medians[name] * 1000:7.0f} ms  (runs: {shown})")
    print(f"ratio        {medians['check --all'] / medians['floor']:.2f}x (goal: at most 1.5x)")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--floor"]:
        sys.exit(floor(sys.argv[2]))
    sys.exit(main(sys.argv[1:]))
