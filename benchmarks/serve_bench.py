"""Serving under a reload, and memory, on the reference registry (issue 14, goals 1 and 7).

    python benchmarks/serve_bench.py [--python PY ...] [--registry PATH] [--repeat N]

For each interpreter (default: this repo's .venv; pass another checkout's to compare):

- reload: a reader process serves every (prompt, environment) pair, then HEAD moves to a
  commit that moves every pointer (a ``git pull`` of the whole registry); four threads keep
  calling get_active over all pairs (one call, then 1 ms of other work, like a request) and
  record the slowest call until the new commit is served, and 0.2 s after.
- memory: RSS of a process that has served every pair (and of its cat-file process), next
  to the floor: the same records read through one cat-file into plain dicts, same run.

Nothing is imported from promptreg in this driver; each figure is a fresh interpreter.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from make_registry import Shape, plan, write_promptreg  # noqa: E402

if TYPE_CHECKING:
    from context import Bench
    from report import Result

WORKER = r"""
import gc, json, os, subprocess, sys, threading, time
args = json.loads(sys.argv[1])
root = args["path"]

def rss_kib(pid="self"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def children():
    out = []
    for task in os.listdir("/proc/self/task"):
        try:
            out += open(f"/proc/self/task/{task}/children").read().split()
        except OSError:
            pass
    return out

def pairs(reg):
    # every pointer of the snapshot: (prompt, environment)
    snap = reg._current()
    return [(pid, env) for env, pid in snap.view.pointer_index()]

if args["mode"] == "memory":
    import registry
    reg = registry.PromptRegistry(root, refresh_interval=3600)
    keys = pairs(reg)
    served = [reg.get_active(p, e) for p, e in keys]
    gc.collect()
    kids = children()
    print(json.dumps({"pairs": len(keys), "rss_kib": rss_kib(),
                      "catfile_kib": sum(rss_kib(k) for k in kids), "served": len(served)}))
elif args["mode"] == "floor":
    import registry, yaml  # the same modules loaded as the served process
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    ls = subprocess.run(["git", "-C", root, "ls-tree", "-r", "--name-only", "HEAD", "deployments"],
                        capture_output=True, text=True, check=True).stdout.split()
    cat = subprocess.Popen(["git", "-C", root, "cat-file", "--batch"], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE)
    def read(spec):
        cat.stdin.write(spec.encode() + b"\n"); cat.stdin.flush()
        size = int(cat.stdout.readline().split()[2]); body = cat.stdout.read(size + 1)
        return yaml.load(body[:-1], Loader=loader)
    records = {}
    for path in ls:
        env, name = path.split("/")[1:]
        ptr = read(f"HEAD:{path}")
        if ptr.get("version") is None:
            continue
        records[(name[:-5], env)] = read(f"HEAD:prompts/{name[:-5]}/{ptr['version']}.yaml")
    cat.stdin.close(); cat.wait()
    gc.collect()
    print(json.dumps({"pairs": len(records), "rss_kib": rss_kib()}))
else:  # reload
    import registry
    reg = registry.PromptRegistry(root, refresh_interval=args["interval"])
    keys = pairs(reg)
    for p, e in keys:
        reg.get_active(p, e)
    old = reg.snapshot_id
    warm = []
    for _ in range(3):
        t = time.perf_counter()
        for p, e in keys:
            reg.get_active(p, e)
        warm.append((time.perf_counter() - t) / len(keys))
    stop = threading.Event()
    worst = []
    def reader(offset):
        w = 0.0
        n = 0
        while not stop.is_set():
            p, e = keys[(offset + n) % len(keys)]
            t = time.perf_counter()
            reg.get_active(p, e)
            w = max(w, time.perf_counter() - t)
            n += 1
            time.sleep(0.001)  # the rest of the request: other threads run meanwhile
        worst.append((w, n))
    threads = [threading.Thread(target=reader, args=(i * 997,)) for i in range(4)]
    for t in threads:
        t.start()
    # The same readers for 3 s with nothing reloading: how long this machine stalls anyway.
    time.sleep(3.0)
    stop.set()
    for t in threads:
        t.join()
    idle = max(w for w, _ in worst) * 1e3
    stop.clear()
    worst.clear()
    threads = [threading.Thread(target=reader, args=(i * 997,)) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    subprocess.run(["git", "-C", root, "checkout", "-q", args["moved"]], check=True)
    moved_at = time.monotonic()
    while reg.snapshot_id == old and time.monotonic() - moved_at < 60:
        time.sleep(0.001)
    served_after = time.monotonic() - moved_at
    time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join()
    subprocess.run(["git", "-C", root, "checkout", "-q", "main"], check=True)
    print(json.dumps({"pairs": len(keys), "max_ms": max(w for w, _ in worst) * 1e3, "idle_max_ms": idle,
                      "calls": sum(n for _, n in worst), "served_after_s": served_after,
                      "warm_us": min(warm) * 1e6, "last_error": reg.last_error,
                      "swapped": reg.snapshot_id != old}))
"""


def run_worker(python: str, **args: object) -> dict[str, object]:
    out = subprocess.run(
        [python, "-c", WORKER, json.dumps(args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=BENCH,  # not a checkout: `-c` puts the working folder first on sys.path
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr else "failed")
    answer: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return answer


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def moved_branch(repo: Path) -> str:
    """A branch ``moved`` whose one commit moves every pointer to another version."""
    if git(repo, "branch", "--list", "moved").strip():
        return "moved"
    git(repo, "checkout", "-q", "-b", "moved")
    for pointer in sorted((repo / "deployments").glob("*/*.yaml")):
        text = pointer.read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        for i, line in enumerate(lines):
            if line.startswith("version:"):
                current = line.split(":", 1)[1].strip().strip("'\"")
                pid = pointer.stem
                versions = sorted(p.stem for p in (repo / "prompts" / pid).glob("*.yaml"))
                other = next(v for v in versions if v != current)
                lines[i] = f'version: "{other}"\n'
        pointer.write_text("".join(lines), encoding="utf-8")
    git(repo, "commit", "-q", "-a", "-m", "Move every pointer")
    git(repo, "checkout", "-q", "main")
    return "moved"


def number(answer: dict[str, object], key: str) -> float:
    return float(str(answer[key]))


def measure_serving(bench: Bench) -> list[Result]:
    """For run.py: the slowest get_active during a full-pointer reload, and memory."""
    from report import Result

    reload = Result("reload_max", "slowest get_active during a full reload", "ms", goal=10.0)
    rss = Result("serve_rss", "RSS after serving every pair", "MiB")
    try:
        moved = moved_branch(bench.registry)
        runs = [
            run_worker(
                bench.python,
                mode="reload",
                path=str(bench.registry),
                moved=moved,
                interval=bench.refresh_interval or 0.5,
            )
            for _ in range(bench.repeat)
        ]
        reload.samples = [number(r, "max_ms") for r in runs]
        reload.value = median(reload.samples)
        reload.floor_label = "a warm call (the same process, before the reload)"
        reload.floor_unit = "us"
        reload.floor_samples = [number(r, "warm_us") for r in runs]
        reload.floor = median(reload.floor_samples)
        idle = max(number(r, "idle_max_ms") for r in runs)
        took = median(number(r, "served_after_s") for r in runs)
        reload.note = (
            f"{runs[0]['pairs']} pointers moved; new commit served after {took:.2f} s;"
            f" the same readers with no reload: max {idle:.2f} ms"
        )
        served, floors = [], []
        for _ in range(bench.repeat):  # interleaved: a load change hits both alike
            served.append(run_worker(bench.python, mode="memory", path=str(bench.registry)))
            floors.append(run_worker(bench.python, mode="floor", path=str(bench.registry)))
        rss.samples = [number(m, "rss_kib") / 1024 for m in served]
        rss.value = median(rss.samples)
        rss.floor_label = "the same records read through one cat-file into plain dicts"
        rss.ratio_goal = 2.0
        rss.floor_samples = [number(f, "rss_kib") / 1024 for f in floors]
        rss.floor = median(rss.floor_samples)
        cat = median(number(m, "catfile_kib") / 1024 for m in served)
        rss.note = f"plus git cat-file {cat:.1f} MiB; {served[0]['pairs']} pairs"
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        reload.error = rss.error = str(exc)
    return [reload, rss]


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--python", action="append", help="interpreter(s) to measure")
    p.add_argument("--registry", type=Path, help="an existing reference registry")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--interval", type=float, default=0.5)
    args = p.parse_args()
    pythons = args.python or [str(BENCH.parent / ".venv/bin/python")]
    with tempfile.TemporaryDirectory() as tmp:
        repo = args.registry
        if repo is None:
            repo = Path(tmp) / "registry"
            write_promptreg(plan(Shape()), repo)
        moved = moved_branch(repo)
        for py in pythons:
            print(f"== {py}")
            for _ in range(args.repeat):
                r = run_worker(
                    py, mode="reload", path=str(repo), moved=moved, interval=args.interval
                )
                print("reload", json.dumps(r))
            for _ in range(args.repeat):
                m = run_worker(py, mode="memory", path=str(repo))
                f = run_worker(py, mode="floor", path=str(repo))
                ratio = float(str(m["rss_kib"])) / float(str(f["rss_kib"]))
                print("memory", json.dumps(m), "floor", json.dumps(f), f"ratio {ratio:.2f}")
            time.sleep(0.1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
