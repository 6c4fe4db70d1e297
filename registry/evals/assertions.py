"""Judging one output against one assertion: a failing or misbehaving check scores 0 and
says why. An assertion passes at score 1, except that a ``python`` hook returning a number
passes when that number reaches the suite's threshold (always above 0), and an
``llm_rubric`` assertion scores and passes as the judge model says (registry.evals.rubric)."""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from registry.errors import EvaluationError
from registry.evals.imports import Hook, describe_error
from registry.evals.results import AssertionResult
from registry.evals.suite import Assertion

if TYPE_CHECKING:
    from registry.evals.rubric import RubricJudge


def _short(text: str, limit: int = 60) -> str:
    shown = text if len(text) <= limit else text[: limit - 3] + "..."
    return repr(shown)


def judge(
    a: Assertion,
    output: str,
    variables: dict[str, Any],
    threshold: float,
    hooks: Mapping[str, Hook],
    patterns: Mapping[str, re.Pattern[str]],
    *,
    latency_ms: float | None = None,
    rubric: RubricJudge | None = None,
) -> AssertionResult:
    """Score one assertion; a failing or misbehaving check scores 0 and says why.
    ``latency_ms`` is how long the target took to answer (None without a target);
    ``rubric`` grades ``llm_rubric`` assertions."""

    def result(ok: bool, why: str) -> AssertionResult:
        return AssertionResult(a.type, ok, 1.0 if ok else 0.0, "" if ok else why)

    kind, value = a.type, a.value
    if kind == "contains":
        return result(value in output, f"output does not contain {_short(value)}")
    if kind == "not_contains":
        at = output.find(value)
        return result(at < 0, f"output contains {_short(value)} at character {at}")
    if kind == "equals":
        if output == value:
            return result(True, "")
        at = next(
            (i for i, (x, y) in enumerate(zip(output, value, strict=False)) if x != y),
            min(len(output), len(value)),
        )
        return result(
            False,
            f"output differs from the expected text at character {at}:"
            f" got {_short(output[at:], 30)}, expected {_short(value[at:], 30)}",
        )
    if kind == "regex":
        return result(
            patterns[value].search(output) is not None, f"no match for regex {_short(value)}"
        )
    if kind == "min_length":
        return result(
            len(output) >= value, f"output has {len(output)} characters, fewer than {value}"
        )
    if kind == "max_length":
        return result(
            len(output) <= value, f"output has {len(output)} characters, more than {value}"
        )
    if kind == "is_json":
        try:
            json.loads(output)
        except ValueError as exc:
            parsed, why = False, f"output is not JSON: {exc}"
        else:
            parsed, why = True, ""
        return result(parsed, why)
    if kind == "python":
        return _judge_python(a, hooks[value], output, variables, threshold)
    if kind == "llm_rubric":
        if rubric is None:  # model_clients refuses a suite with llm_rubric and no judge first
            raise EvaluationError("an llm_rubric assertion needs the suite's judge")
        return rubric.grade(value, output)
    raise EvaluationError(f"unknown assertion type {kind!r}")  # prepare_hooks rejects it first


def _judge_python(
    a: Assertion, fn: Hook, output: str, variables: dict[str, Any], threshold: float
) -> AssertionResult:
    """A bool passes or fails; a number in 0..1 is the score and passes at the threshold."""
    try:
        got = fn(output, variables)
    except (Exception, SystemExit) as exc:
        return AssertionResult(a.type, False, 0.0, f"{a.value} raised {describe_error(exc)}")
    if isinstance(got, bool):
        return AssertionResult(
            a.type, got, 1.0 if got else 0.0, "" if got else f"{a.value} returned False"
        )
    if isinstance(got, numbers.Real):
        score = float(got)
        if math.isfinite(score) and 0 <= score <= 1:
            ok = score >= threshold
            return AssertionResult(a.type, ok, score, "" if ok else f"{a.value} scored {score}")
    shown = repr(got)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return AssertionResult(
        a.type,
        False,
        0.0,
        f"{a.value} returned {shown}; it must return a bool or a number in 0..1",
    )
