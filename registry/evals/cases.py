"""Running a suite's cases in this process: produce each case's output (outputs.py: render,
then the target), judge the assertions and score. Only the evaluation child (child.py) calls
``judge_suite``; everyone else goes through ``registry.evals.run.run_suite``, which runs it in
that child.

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
from typing import TYPE_CHECKING

from registry.errors import CaseError
from registry.evals.assertions import judge
from registry.evals.imports import Hook, import_root, import_trusted, prepare_hooks
from registry.evals.outputs import Producer, case_arg, model_clients
from registry.evals.results import AssertionResult, CaseOutput, CaseResult, weighted_mean
from registry.evals.suite import DEFAULT_JOBS, Case, Suite
from registry.models import PromptVersion

if TYPE_CHECKING:
    from registry.evals.rubric import RubricJudge


def _run_case(
    producer: Producer,
    case: Case,
    threshold: float,
    hooks: Mapping[str, Hook],
    patterns: Mapping[str, re.Pattern[str]],
    rubric: RubricJudge | None = None,
) -> CaseResult:
    started = time.perf_counter()
    error = None
    output, latency_ms = "", None
    try:
        output, latency_ms = producer.produce_output(case)
    except CaseError as exc:
        error = str(exc)
    if error is not None:
        results = tuple(
            AssertionResult(a.type, False, 0.0, "not run: the case failed") for a in case.assertions
        )
    else:
        results = tuple(
            judge(
                a,
                CaseOutput(output, latency_ms),
                case_arg(case),
                threshold,
                hooks,
                patterns,
                rubric=rubric,
            )
            for a in case.assertions
        )
    score = weighted_mean(
        [(a.weight, r.score) for a, r in zip(case.assertions, results, strict=True)]
    )
    passed = error is None and all(r.passed for r in results)
    seconds = round(time.perf_counter() - started, 6)
    return CaseResult(case.name, score, passed, results, error, latency_ms, seconds)


def judge_suite(
    version: PromptVersion,
    suite: Suite,
    root: Path,
    trusted: Sequence[str],
    progress: Callable[[int, int], None],
    jobs: int = DEFAULT_JOBS,
    *,
    cache: bool = True,
) -> list[CaseResult]:
    """Every case's result, in suite order, ``jobs`` cases at a time; hooks are resolved and
    model clients opened before any case runs (raises EvaluationError listing every hook that
    cannot be used, or naming the target or judge that cannot be called). ``cache=False``
    bypasses the response cache. ``progress(done, total)`` is called once per finished case,
    from one thread at a time."""
    import_trusted(suite, trusted)
    with import_root(root):
        target, hooks, patterns = prepare_hooks(suite, root, trusted)
        with model_clients(version, suite, cache=cache) as (client, rubric):
            producer = Producer(version, target, suite.target, client)
            total = len(suite.cases)
            progress(0, total)
            lock = threading.Lock()
            done = 0

            def one(case: Case) -> CaseResult:
                nonlocal done
                result = _run_case(producer, case, suite.threshold, hooks, patterns, rubric)
                with lock:
                    done += 1
                    progress(done, total)
                return result

            if jobs <= 1 or total <= 1:
                return [one(case) for case in suite.cases]
            with ThreadPoolExecutor(
                max_workers=min(jobs, total), thread_name_prefix="case"
            ) as pool:
                return list(pool.map(one, suite.cases))
