"""The bundle measurements: building the production bundle, its size, and serving from it
(first and warm get_active, and a reload of a replaced file)."""

from __future__ import annotations

from pathlib import Path

from context import Bench, timed
from library_bench import worker_json, wrong_version
from make_registry import HOT_ENVIRONMENT
from report import Result

CONFIGMAP_LIMIT_KIB = 1024  # Kubernetes refuses a ConfigMap above 1 MiB
OLDER = "HEAD~100"  # the second bundle a reload alternates with
RELOAD_ROUNDS = 20


def measure_bundle(bench: Bench) -> list[Result]:
    """Build time and size of the production bundle, then the readers on it."""
    folder = bench.registry.parent / "bundles"
    folder.mkdir(exist_ok=True)
    out, older = folder / f"{HOT_ENVIRONMENT}.json", folder / "older.json"
    cmd = bench.promptreg("bundle", "--env", HOT_ENVIRONMENT, "-o", str(out))
    build = timed("bundle_build", f"promptreg bundle --env {HOT_ENVIRONMENT}", bench.sample(
        {"bundle": cmd})["bundle"])  # fmt: skip
    size = Result("bundle_size", "  bundle size", "KiB", goal=CONFIGMAP_LIMIT_KIB)
    if build.error is not None or not out.exists():
        size.error = build.error or "no bundle written"
        return [build, size]
    size.value = out.stat().st_size / 1024
    size.note = f"{out.stat().st_size:,} bytes; goal: the 1 MiB limit of a ConfigMap"
    made = bench.run(bench.promptreg("bundle", "--env", HOT_ENVIRONMENT, "--rev", OLDER,
                                     "-o", str(older)))  # fmt: skip
    results = [build, size, measure_first(bench, out), measure_warm(bench, out)]
    if not made.ok:
        reload = Result("bundle_reload", "  reload of a replaced bundle", "ms")
        reload.error = f"bundle of {OLDER}: {made.problem()}"
        return [*results, reload]
    return [*results, measure_reload(bench, out, older)]


def measure_first(bench: Bench, bundle: Path) -> Result:
    """PromptRegistry(bundle) and the first get_active, in a fresh process after the import."""
    result = Result("bundle_first", "  first get_active from the bundle", "ms", goal=50)
    for _ in range(bench.repeat):
        answer, problem = worker_json(bench, "first", path=str(bundle))
        if answer is None:
            result.error = problem
            return result
        result.samples.append(answer["first_ms"])
        result.rss_mib = max(result.rss_mib or 0, answer["rss_kib"] / 1024)
        result.error = result.error or wrong_version(bench, answer["version"])
    result.value = sorted(result.samples)[len(result.samples) // 2]
    result.note = "reads, verifies (sha256, schema) and decodes every prompt"
    return result


def measure_warm(bench: Bench, bundle: Path) -> Result:
    """Per-call time of get_active from a loaded bundle."""
    result = Result("bundle_warm", "  warm get_active from the bundle", "us", goal=2.0)
    answer, problem = worker_json(bench, "warm", path=str(bundle), calls=bench.warm_calls,
                                  batch=1_000)  # fmt: skip
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
        f"{answer['calls']:,} calls; loop overhead {answer['loop_ns']:.0f} ns/call included"
    )
    return result


def measure_reload(bench: Bench, bundle: Path, older: Path) -> Result:
    """reload() after the bundle file was replaced by another one: the whole verification."""
    result = Result("bundle_reload", "  reload of a replaced bundle", "ms")
    answer, problem = worker_json(bench, "reload", path=str(bundle), other=str(older),
                                  rounds=RELOAD_ROUNDS)  # fmt: skip
    if answer is None:
        result.error = problem
        return result
    result.samples = answer["reload_ms"]
    result.value = sorted(result.samples)[len(result.samples) // 2]
    result.rss_mib = answer["rss_kib"] / 1024
    result.error = wrong_version(bench, answer["version"])
    result.note = (
        f"{RELOAD_ROUNDS} replacements alternating HEAD and {OLDER}, max"
        f" {max(result.samples):.1f} ms; a reader sees the change at its next refresh"
        " (default every 0.5 s)"
    )
    return result
