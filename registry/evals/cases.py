"""Running a suite's cases in this process: render each case, call the target, judge the
assertions and score. Only the evaluation child (child.py) calls ``judge_suite``; everyone
else goes through ``registry.evals.run.run_suite``, which runs it in that child.

Cases run concurrently on a pool of ``jobs`` threads (``eval --jobs``): the time goes into
waiting for the target (a model server), so threads overlap the waits. Results keep the
suite's order whatever order the cases finish in; hooks must be thread-safe when jobs > 1."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from registry.errors import TemplateError
from registry.evals.assertions import judge
from registry.evals.imports import Hook, describe_error, import_root, import_trusted, prepare_hooks
from registry.evals.results import AssertionResult, CaseOutput, CaseResult, weighted_mean
from registry.evals.suite import DEFAULT_JOBS, Case, Suite
from registry.models import PromptVersion


def _judged_text(rendered: Any) -> str:
    if isinstance(rendered, str):
        return rendered
    return "\n\n".join(m["content"] for m in rendered)


def _case_arg(case: Case) -> dict[str, Any]:
    """What hooks receive as ``case``: its name and a copy of its vars."""
    return {"name": case.name, "vars": dict(case.vars)}


def _hook_output(
    target: Hook, target_ref: str | None, rendered: Any, case: Case
) -> tuple[CaseOutput | None, str | None]:
    """The target hook's answer with the call's wall time, or (None, why it failed)."""
    started = time.perf_counter()
    try:
        got = target(rendered, _case_arg(case))
    except (Exception, SystemExit) as exc:
        return None, f"target {target_ref} raised {describe_error(exc)}"
    took = (time.perf_counter() - started) * 1000
    if not isinstance(got, str):
        return None, (
            f"target {target_ref} returned {type(got).__name__};"
            " it must return the output text (str)"
        )
    return CaseOutput(got, took), None


def _case_output(
    version: PromptVersion, case: Case, target: Hook | None, target_ref: str | None
) -> tuple[CaseOutput | None, str | None]:
    """What the case's assertions judge, or (None, why the case failed)."""
    try:
        rendered = version.render(**case.vars)
    except TemplateError as exc:
        return None, f"render failed: {exc}"
    if target is None:
        return CaseOutput(_judged_text(rendered)), None
    return _hook_output(target, target_ref, rendered, case)


def _run_case(
    version: PromptVersion,
    case: Case,
    threshold: float,
    target: Hook | None,
    target_ref: str | None,
    hooks: Mapping[str, Hook],
    patterns: Mapping[str, re.Pattern[str]],
) -> CaseResult:
    started = time.perf_counter()
    output, error = _case_output(version, case, target, target_ref)
    if output is None:
        results = tuple(
            AssertionResult(a.type, False, 0.0, "not run: the case failed") for a in case.assertions
        )
    else:
        results = tuple(
            judge(a, output, _case_arg(case), threshold, hooks, patterns) for a in case.assertions
        )
    score = weighted_mean(
        [(a.weight, r.score) for a, r in zip(case.assertions, results, strict=True)]
    )
    passed = error is None and all(r.passed for r in results)
    seconds = round(time.perf_counter() - started, 6)
    return CaseResult(case.name, score, passed, results, error, seconds)


def judge_suite(
    version: PromptVersion,
    suite: Suite,
    root: Path,
    trusted: Sequence[str],
    progress: Callable[[int, int], None],
    jobs: int = DEFAULT_JOBS,
) -> list[CaseResult]:
    """Every case's result, in suite order, ``jobs`` cases at a time; hooks are resolved
    before any case runs (raises EvaluationError listing every hook that cannot be used).
    ``progress(done, total)`` is called once per finished case, from one thread at a time."""
    import_trusted(suite, trusted)
    with import_root(root):
        target, hooks, patterns = prepare_hooks(suite, root, trusted)
        total = len(suite.cases)
        progress(0, total)
        lock = threading.Lock()
        done = 0

        def one(case: Case) -> CaseResult:
            nonlocal done
            result = _run_case(
                version, case, suite.threshold, target, suite.target, hooks, patterns
            )
            with lock:
                done += 1
                progress(done, total)
            return result

        if jobs <= 1 or total <= 1:
            return [one(case) for case in suite.cases]
        with ThreadPoolExecutor(max_workers=min(jobs, total), thread_name_prefix="case") as pool:
            return list(pool.map(one, suite.cases))
