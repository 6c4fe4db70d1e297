"""Running an evaluation suite: judge each case and score a prompt version.

Each case renders the version with the case's ``vars``. The judged output is the rendered
text itself (for chat prompts: the message contents joined with a blank line, ``"\\n\\n"``),
or, when the suite names a ``target``, the string that ``target(rendered, case)`` returns
(``case`` is ``{"name", "vars"}``);
that hook is where a team calls its model.

The score is the weighted mean of every assertion of every case (weight 1 unless given, so
with default weights it is the plain mean), rounded to 6 decimals so float noise never
decides the gate; the suite passes when ``score >= threshold``. A case whose render or
target fails scores 0 on all of its assertions. The per-assertion and per-case ``passed``
flags are for reports only: an assertion passes at score 1, except that a ``python`` hook
returning a number passes when that number reaches the suite's threshold; a case passes
when all of its assertions do.

Trust: ``target`` and ``python`` assertions import and run code from the registry checkout
(its root is put on ``sys.path`` for the run), exactly like a test suite does. Run
``promptreg eval`` only on branches whose code you trust. ``regex`` patterns are searched
as written, with no limit on backtracking: a pathological pattern is the suite author's bug.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.errors import EvaluationError, TemplateError
from registry.evals.imports import (
    Hook,
    describe_error,
    import_root,
    prepare_hooks,
)
from registry.evals.suite import Assertion, Case, Suite
from registry.models import PromptVersion

_SCORE_DIGITS = 6


@dataclass(frozen=True)
class AssertionResult:
    """The outcome of one assertion; ``message`` says why it failed (empty when it passed)."""

    type: str
    passed: bool
    score: float
    message: str

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping for ``eval --json``."""
        return {
            "type": self.type,
            "passed": self.passed,
            "score": self.score,
            "message": self.message,
        }


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case; ``error`` is a render or target failure (all assertions 0)."""

    name: str
    score: float
    passed: bool
    assertions: tuple[AssertionResult, ...]
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping for ``eval --json``."""
        return {
            "name": self.name,
            "score": self.score,
            "passed": self.passed,
            "error": self.error,
            "assertions": [a.to_dict() for a in self.assertions],
        }


@dataclass(frozen=True)
class EvalResult:
    """The outcome of running a suite against one prompt version."""

    prompt_id: str
    version: str
    suite: str
    score: float
    threshold: float
    passed: bool
    cases: tuple[CaseResult, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``eval --json``."""
        return {
            "prompt_id": self.prompt_id,
            "version": self.version,
            "score": self.score,
            "threshold": self.threshold,
            "passed": self.passed,
            "suite": self.suite,
            "cases": [c.to_dict() for c in self.cases],
        }


# --- judging -----------------------------------------------------------------------------


def _short(text: str, limit: int = 60) -> str:
    shown = text if len(text) <= limit else text[: limit - 3] + "..."
    return repr(shown)


def _judge(
    a: Assertion,
    output: str,
    variables: dict[str, Any],
    threshold: float,
    hooks: Mapping[str, Hook],
    patterns: Mapping[str, re.Pattern[str]],
) -> AssertionResult:
    """Score one assertion; a failing or misbehaving check scores 0 and says why."""

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


def _judged_text(rendered: Any) -> str:
    if isinstance(rendered, str):
        return rendered
    return "\n\n".join(m["content"] for m in rendered)


def _weighted_mean(pairs: list[tuple[float, float]]) -> float:
    total = math.fsum(w for w, _ in pairs)
    if total <= 0:
        return math.fsum(s for _, s in pairs) / len(pairs) if pairs else 0.0
    return math.fsum(w * s for w, s in pairs) / total


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
            _judge(a, output, _case_arg(case), threshold, hooks, patterns) for a in case.assertions
        )
    score = _weighted_mean(
        [(a.weight, r.score) for a, r in zip(case.assertions, results, strict=True)]
    )
    passed = error is None and all(r.passed for r in results)
    return CaseResult(case.name, score, passed, results, error)


def run_suite(
    version: PromptVersion,
    suite: Suite,
    root: Path,
    progress: Callable[[int, int], None] | None = None,
) -> EvalResult:
    """Run ``suite`` against ``version``; hooks are imported from ``root`` (the registry
    checkout) and resolved before any case runs. Not thread-safe: it edits ``sys.path``.

    Raises EvaluationError when the suite is for another prompt or a hook cannot be imported.
    """
    if suite.prompt_id != version.prompt_id:
        raise EvaluationError(
            f"{suite.path}: the suite is for prompt {suite.prompt_id!r}, not {version.prompt_id!r}"
        )
    results: list[CaseResult] = []
    pairs: list[tuple[float, float]] = []
    with import_root(root):
        target, hooks, patterns = prepare_hooks(suite)
        total = len(suite.cases)
        for done, case in enumerate(suite.cases, start=1):
            result = _run_case(
                version, case, suite.threshold, target, suite.target, hooks, patterns
            )
            results.append(result)
            pairs.extend(
                (a.weight, r.score) for a, r in zip(case.assertions, result.assertions, strict=True)
            )
            if progress is not None:
                progress(done, total)
    score = round(_weighted_mean(pairs), _SCORE_DIGITS) if pairs else 0.0
    return EvalResult(
        prompt_id=version.prompt_id,
        version=version.version,
        suite=suite.path,
        score=score,
        threshold=suite.threshold,
        passed=bool(pairs) and score >= suite.threshold,
        cases=tuple(results),
    )
