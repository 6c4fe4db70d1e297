"""Evaluation benchmark: a 200-case suite against a local chat-completions server that
answers each request in 50 ms, with eval's default --jobs.

    python benchmarks/eval_bench.py [--cases N] [--delay S] [--jobs N] [--repeat N]
                                    [--target hook|openai] [--json PATH]

The server is tests/fake_openai.py's FakeOpenAI on 127.0.0.1 with every reply delayed.
``--target openai`` (the default) is the built-in model target, ``target: {provider: openai,
base_url: ...}``, with an empty response cache for every run (so every case is a request);
the cached re-run is reported too. ``--target hook`` evaluates through a ``module:function``
hook in the registry that sends each case with promptreg's own client. Each run is a real
``promptreg eval --no-record --json`` process, timed from start to exit; the suite must pass
and the server must see exactly one request per case. Goal: under 3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_openai import FakeOpenAI, Reply  # noqa: E402

GOAL_S = 3.0
HOOK = """\
import os

from registry.evals.providers.config import OpenAIConfig
from registry.evals.providers.openai import OpenAIClient

_client = OpenAIClient(OpenAIConfig(base_url=os.environ["BENCH_BASE_URL"]), cache=None)


def answer(rendered, case):
    return _client.complete({"name": "bench-model"}, rendered, what="bench 1.0.0").text
"""


def write_registry(root: Path, cases: int, target: str, base_url: str) -> None:
    """A registry with one prompt and a suite of ``cases`` cases read from a JSONL file."""
    files = {
        "promptreg.yaml": "environments:\n  production: {require_tested: false}\n",
        "prompts/bench/1.0.0.yaml": (
            'prompt_id: bench\nversion: "1.0.0"\ndescription: Benchmark prompt\n'
            'author: Bench <bench@example.com>\ncreated_at: "2026-12-01T00:00:00Z"\n'
            "content: |\n  Answer the question: {query}\nvariables: [query]\n"
            "model: {name: bench-model, temperature: 0}\ntested: false\n"
        ),
        "bench_model.py": HOOK,
        "evals/data/bench.jsonl": "".join(
            json.dumps({"name": f"case {i}", "vars": {"query": f"question {i}"}}) + "\n"
            for i in range(cases)
        ),
    }
    suite_target = (
        '"bench_model:answer"'
        if target == "hook"
        else f"{{provider: openai, base_url: {base_url}}}"
    )
    files["evals/bench.yaml"] = (
        f"prompt_id: bench\nthreshold: 1.0\ntarget: {suite_target}\n"
        "cases_file: evals/data/bench.jsonl\n"
        "default_assert:\n  - {type: contains, value: 'echo: Answer the question'}\n"
        "  - {type: latency_ms, value: 5000}\n"
    )
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def one_run(root: Path, jobs: int | None, env: dict[str, str]) -> tuple[float, dict[str, object]]:
    cmd = [sys.executable, "-m", "registry", "-C", str(root), "eval", "bench", "1.0.0"]
    cmd += ["--no-record", "--json"] + ([] if jobs is None else ["--jobs", str(jobs)])
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    took = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"eval failed (exit {proc.returncode}): {proc.stderr.strip()[:2000]}")
    return took, json.loads(proc.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds per reply")
    parser.add_argument("--jobs", type=int, default=None, help="default: eval's default")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--target", choices=["hook", "openai"], default="openai")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    times = []
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as server:
        root = Path(tmp)
        write_registry(root, args.cases, args.target, server.url)
        env = {**os.environ, "BENCH_BASE_URL": server.url, "PYTHONPATH": str(ROOT)}
        env.pop("CI", None)
        for i in range(args.repeat):
            env["PROMPTREG_CACHE_DIR"] = str(root / f"cache-{i}")  # empty: every case asks
            server.script(*[Reply(delay=args.delay)] * args.cases)
            seen = len(server.requests)
            took, res = one_run(root, args.jobs, env)
            if not res["passed"] or len(server.requests) - seen != args.cases:
                raise SystemExit(f"the run did not pass with one request per case: {res}")
            times.append(took)
        seen = len(server.requests)
        cached, res = one_run(root, args.jobs, env)  # the last run's cache holds every answer
        cached_requests = len(server.requests) - seen
    from registry.evals.suite import DEFAULT_JOBS

    jobs = args.jobs or DEFAULT_JOBS
    floor = args.cases * args.delay / jobs
    median = statistics.median(times)
    report = {
        "cases": args.cases, "delay_s": args.delay, "jobs": jobs, "target": args.target,
        "runs_s": [round(t, 3) for t in times], "median_s": round(median, 3),
        "floor_s": round(floor, 3), "goal_s": GOAL_S, "cores": os.cpu_count(),
        "cached_run_s": round(cached, 3), "cached_run_requests": cached_requests,
    }  # fmt: skip
    print(
        f"{args.cases} cases, {args.delay * 1000:.0f} ms per reply, --jobs {jobs}"
        f" ({args.target} target): median {median:.2f} s over {len(times)} runs"
        f" ({', '.join(f'{t:.2f}' for t in times)}); waiting alone takes {floor:.2f} s;"
        f" goal under {GOAL_S:.0f} s: {'met' if median < GOAL_S else 'MISSED'};"
        f" a re-run from the cache: {cached:.2f} s with {cached_requests} requests"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0 if median < GOAL_S else 1


if __name__ == "__main__":
    sys.exit(main())
