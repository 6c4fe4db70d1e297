"""Running a suite's cases in this process: produce each case's output (outputs.py: render,
then the target), judge the assertions and score. Only the evaluation child (child.py) calls
``judge_suite``; everyone else goes through ``registry.evals.run.run_suite``, which runs it in
that child."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from registry.errors import CaseError
from registry.evals.assertions import judge
from registry.evals.imports import Hook, import_root, import_trusted, prepare_hooks
from registry.evals.outputs import Producer, case_arg, model_clients
from registry.evals.results import AssertionResult, CaseResult, weighted_mean
from registry.evals.suite import Case, Suite
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
                output,
                case_arg(case),
                threshold,
                hooks,
                patterns,
                latency_ms=latency_ms,
                rubric=rubric,
            )
            for a in case.assertions
        )
    score = weighted_mean(
        [(a.weight, r.score) for a, r in zip(case.assertions, results, strict=True)]
    )
    passed = error is None and all(r.passed for r in results)
    return CaseResult(case.name, score, passed, results, error, latency_ms)


def judge_suite(
    version: PromptVersion,
    suite: Suite,
    root: Path,
    trusted: Sequence[str],
    progress: Callable[[int, int], None],
    *,
    cache: bool = True,
) -> list[CaseResult]:
    """Every case's result, in suite order; hooks are resolved and model clients opened
    before any case runs (raises EvaluationError listing every hook that cannot be used, or
    naming the target or judge that cannot be called). ``cache=False`` bypasses the
    response cache."""
    import_trusted(suite, trusted)
    results: list[CaseResult] = []
    with import_root(root):
        target, hooks, patterns = prepare_hooks(suite, root, trusted)
        with model_clients(version, suite, cache=cache) as (client, rubric):
            producer = Producer(version, target, suite.target, client)
            total = len(suite.cases)
            progress(0, total)
            for done, case in enumerate(suite.cases, start=1):
                results.append(_run_case(producer, case, suite.threshold, hooks, patterns, rubric))
                progress(done, total)
    return results
