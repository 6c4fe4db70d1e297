"""The library measurements: first and warm get_active, and how fast a deployment is served."""

from __future__ import annotations

import json
import queue
import random
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from context import Bench
from make_registry import HOT_ENVIRONMENT, HOT_PROMPT, Deployment, pointer_yaml
from procs import git, git_env, launch, median, read_report, stderr_summary
from report import Result

WARM_BATCH = 1_000
POLL_INTERVAL = 0.01
SERVE_TIMEOUT = 10.0  # seconds a reader may take to serve a new deployment before it is an error
START_TIMEOUT = 60.0


def reader_args(bench: Bench, **extra: Any) -> str:
    args = {
        "path": str(bench.registry),
        "prompt": HOT_PROMPT,
        "env": HOT_ENVIRONMENT,
        "refresh_interval": bench.refresh_interval,
        **extra,
    }
    return json.dumps(args)


def worker_json(bench: Bench, mode: str, **extra: Any) -> tuple[dict[str, Any] | None, str]:
    """Run one reader process; its JSON answer (with its peak RSS), or why there is none."""
    out = bench.run(bench.worker(mode, reader_args(bench, **extra)))
    if not out.ok:
        return None, out.problem()
    try:
        answer: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None, f"unreadable worker output: {out.stdout[:100]!r}"
    answer["rss_kib"] = out.rss_kib
    return answer, ""


def wrong_version(bench: Bench, served: object) -> str | None:
    expected = bench.hot_active()
    return None if served == expected else f"served {served}, expected {expected}"


def measure_first_call(bench: Bench) -> Result:
    """Opening the registry and the first get_active after ``import registry``."""
    result = Result("first_call", "first get_active after import (fresh process)", "ms", goal=50)
    imports = []
    for _ in range(bench.repeat):
        answer, problem = worker_json(bench, "first")
        if answer is None:
            result.error = problem
            return result
        result.samples.append(answer["first_ms"])
        imports.append(answer["import_ms"])
        result.rss_mib = max(result.rss_mib or 0, answer["rss_kib"] / 1024)
        result.error = result.error or wrong_version(bench, answer["version"])
    result.value = median(result.samples)
    result.note = f"includes PromptRegistry(); import in-process {median(imports):.0f} ms"
    return result


def measure_warm(bench: Bench) -> Result:
    """Per-call time of get_active once loaded, median over batches, in one process."""
    result = Result("warm_call", "warm get_active (per call)", "us", goal=2.0)
    answer, problem = worker_json(bench, "warm", calls=bench.warm_calls, batch=WARM_BATCH)
    if answer is None:
        result.error = problem
        return result
    result.value = answer["per_call_ns"] / 1e3
    result.floor_label = "a dict lookup of the same (prompt, env), same loop"
    result.floor_unit = "us"
    result.floor = answer["dict_ns"] / 1e3
    result.rss_mib = answer["rss_kib"] / 1024
    result.error = wrong_version(bench, answer["version"])
    result.note = (
        f"{answer['calls']:,} calls in batches of {WARM_BATCH:,}; "
        f"loop overhead {answer['loop_ns']:.0f} ns/call included"
    )
    return result


@dataclass
class Reader:
    """A polling reader process, the lines it has printed, and where its launcher reports."""

    proc: subprocess.Popen[str]
    lines: queue.Queue[str | None]
    stderr: IO[str]
    report: Path

    def expect(self, match: Callable[[list[str]], bool], timeout: float) -> list[str] | None:
        """The first printed line (split) that ``match`` accepts, or None on timeout or exit."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                return None
            if match(line.split()):
                return line.split()
        return None

    def why_not(self) -> str:
        """The reader's own error if it has exited, else an empty string."""
        try:
            self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return ""
        self.stderr.seek(0)
        return stderr_summary(self.stderr.read()) or f"reader exited {self.proc.returncode}"

    def stop(self) -> int:
        """Close the reader; its peak RSS in KiB (0 if unknown)."""
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        found = read_report(self.report)
        return int(found["rss_kib"]) if found else 0


def start_reader(bench: Bench, stderr: IO[str], report: Path) -> Reader:
    argv = bench.worker("poll", reader_args(bench, interval=POLL_INTERVAL))
    proc = subprocess.Popen(
        launch(argv, report, timeout=24 * 3600),
        cwd=bench.registry,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=git_env(),
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return Reader(proc, lines, stderr, report)


def deploy_commit(bench: Bench, current: str) -> str:
    """Commit a new production deployment of hot_prompt; the version it deploys."""
    new = next(v for v in bench.plan.versions[HOT_PROMPT] if v != current)
    d = Deployment(HOT_PROMPT, HOT_ENVIRONMENT, new, current, "deploy", ("Bench", "b@example.com"))
    rel = f"deployments/{HOT_ENVIRONMENT}/{HOT_PROMPT}.yaml"
    (bench.registry / rel).write_text(pointer_yaml(d, int(time.time())), encoding="utf-8")
    git(bench.registry, "commit", "-q", "-m", f"Deploy {HOT_PROMPT} {new}", "--", rel)
    return new


def freshness_events(bench: Bench, current: str) -> list[tuple[str, Callable[[], str]]]:
    """One cycle: a deploy commit, a checkout of the commit before it, back to main.
    Each step returns the version the reader must then serve."""
    state = {"old": current, "new": current}

    def deploy() -> str:
        state["old"], state["new"] = state["new"], deploy_commit(bench, state["new"])
        return state["new"]

    def back() -> str:
        git(bench.registry, "checkout", "-q", "--detach", "HEAD~1")
        return state["old"]

    def forth() -> str:
        git(bench.registry, "checkout", "-q", "main")
        return state["new"]

    return [("commit", deploy), ("checkout HEAD~1", back), ("checkout main", forth)]


def measure_freshness(bench: Bench) -> Result:
    """Seconds from a deploy commit or checkout until a polling reader serves the change."""
    result = Result("freshness", "deployment served after commit/checkout", "s", goal=1.0)
    result.about = True
    with tempfile.TemporaryFile("w+") as stderr, tempfile.TemporaryDirectory() as tmp:
        reader = start_reader(bench, stderr, Path(tmp) / "report.json")
        try:
            result.error = follow_changes(bench, reader, result.samples)
        finally:
            result.rss_mib = (reader.stop() / 1024) or None
            git(bench.registry, "checkout", "-q", "main")
    result.value = median(result.samples)
    if result.samples:
        result.note = (
            f"{len(result.samples)} changes at random moments, max {max(result.samples):.2f} s;"
            f" long-running reader polling every {POLL_INTERVAL * 1e3:.0f} ms"
        )
    return result


def seen_line(version: str) -> Callable[[list[str]], bool]:
    """Matches the reader's line saying it now serves ``version``."""
    return lambda words: words[:2] == ["seen", version]


def follow_changes(bench: Bench, reader: Reader, delays: list[float]) -> str | None:
    """Make the changes and record each delay; why it stopped early, if it did."""
    ready = reader.expect(lambda w: w[:1] == ["ready"], START_TIMEOUT)
    if ready is None:
        return reader.why_not() or f"reader not ready within {START_TIMEOUT:.0f} s"
    if wrong := wrong_version(bench, ready[1]):
        return wrong
    events = freshness_events(bench, ready[1])
    # Changes land at a random moment of the reader's refresh cycle, as real deployments do;
    # made right after the previous change was seen, every one would wait a full interval.
    rng = random.Random(7)
    interval = bench.refresh_interval if bench.refresh_interval is not None else 0.5
    for _ in range(max(1, bench.repeat)):
        for name, change in events:
            time.sleep(rng.uniform(0, interval))
            expected = change()
            done = time.monotonic_ns()
            seen = reader.expect(seen_line(expected), SERVE_TIMEOUT)
            if seen is None:
                problem = reader.why_not() or f"not served within {SERVE_TIMEOUT:.0f} s"
                return f"after {name} ({expected}): {problem}"
            delays.append((int(seen[2]) - done) / 1e9)
    return None
