"""Running a suite's cases in this process: render each case, call the target, judge the
assertions and score. Only the evaluation child (child.py) calls ``judge_suite``; everyone
else goes through ``registry.evals.run.run_suite``, which runs it in that child."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from registry.errors import TemplateError
from registry.evals.assertions import judge
from registry.evals.imports import Hook, describe_error, import_root, import_trusted, prepare_hooks
from registry.evals.results import AssertionResult, CaseResult, weighted_mean
from registry.evals.suite import Case, Suite
from registry.models import PromptVersion


def _judged_text(rendered: Any) -> str:
    if isinstance(rendered, str):
        return rendered
    return "\n\n".join(m["content"] for m in rendered)


def _case_arg(case: Case) -> dict[str, Any]:
    """What hooks receive as ``case``: its name and a copy of its vars."""
    return {"name": case.name, "vars": dict(case.vars)}


def _run_case(
    version: PromptVersion,
    case: Case,
    threshold: float,
    target: Hook | None,
    target_ref: str | None,
    hooks: Mapping[str, Hook],
    patterns: Mapping[str, re.Pattern[str]],
) -> CaseResult:
    error = None
    output = ""
    try:
        rendered = version.render(**case.vars)
    except TemplateError as exc:
        error = f"render failed: {exc}"
    else:
        if target is None:
            output = _judged_text(rendered)
        else:
            try:
                got = target(rendered, _case_arg(case))
            except (Exception, SystemExit) as exc:
                error = f"target {target_ref} raised {describe_error(exc)}"
            else:
                if isinstance(got, str):
                    output = got
                else:
                    error = (
                        f"target {target_ref} returned {type(got).__name__};"
                        " it must return the output text (str)"
                    )
    if error is not None:
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
    return CaseResult(case.name, score, passed, results, error)


def judge_suite(
    version: PromptVersion,
    suite: Suite,
    root: Path,
    trusted: Sequence[str],
    progress: Callable[[int, int], None],
) -> list[CaseResult]:
    """Every case's result, in suite order; hooks are resolved before any case runs (raises
    EvaluationError listing every hook that cannot be used)."""
    import_trusted(suite, trusted)
    results: list[CaseResult] = []
    with import_root(root):
        target, hooks, patterns = prepare_hooks(suite, root, trusted)
        total = len(suite.cases)
        progress(0, total)
        for done, case in enumerate(suite.cases, start=1):
            results.append(
                _run_case(version, case, suite.threshold, target, suite.target, hooks, patterns)
            )
            progress(done, total)
    return results
