"""Judging one output against one assertion: a failing or misbehaving check scores 0 and
says why. An assertion passes at score 1, except that a ``python`` hook returning a number
passes when that number reaches the suite's threshold (always above 0), and an
``llm_rubric`` assertion scores and passes as the judge model says (registry.evals.rubric).

Each type is one small function of (assertion, output); ``judge`` picks it. The names follow
promptfoo's where it has one (README, "Assertions")."""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from registry.errors import EvaluationError
from registry.evals.imports import Hook, describe_error
from registry.evals.results import AssertionResult, CaseOutput
from registry.evals.suite import Assertion

if TYPE_CHECKING:
    from registry.evals.rubric import RubricJudge


def _short(text: str, limit: int = 60) -> str:
    shown = text if len(text) <= limit else text[: limit - 3] + "..."
    return repr(shown)


def _result(a: Assertion, ok: bool, why: str) -> AssertionResult:
    return AssertionResult(a.type, ok, 1.0 if ok else 0.0, "" if ok else why)


def _contains(a: Assertion, out: CaseOutput) -> AssertionResult:
    return _result(a, a.value in out.text, f"output does not contain {_short(a.value)}")


def _icontains(a: Assertion, out: CaseOutput) -> AssertionResult:
    found = a.value.casefold() in out.text.casefold()
    return _result(a, found, f"output does not contain {_short(a.value)} (ignoring case)")


def _not_contains(a: Assertion, out: CaseOutput) -> AssertionResult:
    at = out.text.find(a.value)
    return _result(a, at < 0, f"output contains {_short(a.value)} at character {at}")


def _starts_with(a: Assertion, out: CaseOutput) -> AssertionResult:
    return _result(
        a,
        out.text.startswith(a.value),
        f"output starts with {_short(out.text[: len(a.value)], 30)}, not {_short(a.value, 30)}",
    )


def _contains_any(a: Assertion, out: CaseOutput) -> AssertionResult:
    found = any(v in out.text for v in a.value)
    return _result(a, found, f"output contains none of {', '.join(map(_short, a.value))}")


def _contains_all(a: Assertion, out: CaseOutput) -> AssertionResult:
    missing = [v for v in a.value if v not in out.text]
    return _result(a, not missing, f"output does not contain {', '.join(map(_short, missing))}")


def _equals(a: Assertion, out: CaseOutput) -> AssertionResult:
    output, value = out.text, a.value
    if output == value:
        return _result(a, True, "")
    at = next(
        (i for i, (x, y) in enumerate(zip(output, value, strict=False)) if x != y),
        min(len(output), len(value)),
    )
    return _result(
        a,
        False,
        f"output differs from the expected text at character {at}:"
        f" got {_short(output[at:], 30)}, expected {_short(value[at:], 30)}",
    )


def _min_length(a: Assertion, out: CaseOutput) -> AssertionResult:
    n = len(out.text)
    return _result(a, n >= a.value, f"output has {n} characters, fewer than {a.value}")


def _max_length(a: Assertion, out: CaseOutput) -> AssertionResult:
    n = len(out.text)
    return _result(a, n <= a.value, f"output has {n} characters, more than {a.value}")


def _parsed(text: str) -> tuple[Any, str]:
    """The output as JSON, or (None, why not)."""
    try:
        return json.loads(text), ""
    except ValueError as exc:
        return None, f"output is not JSON: {exc}"
    except RecursionError:
        return None, "output is not JSON this parser can read: it nests too deeply"


def _is_json(a: Assertion, out: CaseOutput) -> AssertionResult:
    _, why = _parsed(out.text)
    return _result(a, not why, why)


def _json_schema(a: Assertion, out: CaseOutput) -> AssertionResult:
    doc, why = _parsed(out.text)
    if why:
        return _result(a, False, why)
    from jsonschema.exceptions import best_match

    try:
        error = best_match(_validator(json.dumps(a.value, sort_keys=True)).iter_errors(doc))
    except Exception as exc:  # a schema jsonschema cannot apply (check reports it first)
        return _result(a, False, f"the json_schema cannot be applied: {describe_error(exc)}")
    if error is None:
        return _result(a, True, "")
    where = "".join(f"[{p!r}]" for p in error.absolute_path) or "the output"
    return _result(a, False, f"output does not match the json_schema at {where}: {error.message}")


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> Any:
    """A validator of an inline schema (its ``$schema`` draft, else draft 7); its ``$ref``s
    resolve only inside the schema itself, never over the network."""
    from jsonschema import Draft7Validator
    from jsonschema.validators import validator_for
    from referencing import Registry

    schema = json.loads(schema_json)
    cls = validator_for(schema, default=Draft7Validator)
    return cls(schema, registry=Registry())


def _latency_ms(a: Assertion, out: CaseOutput) -> AssertionResult:
    if out.latency_ms is None:
        return _result(a, False, "no latency to judge: the suite has no target")
    took = out.latency_ms
    return _result(a, took <= a.value, f"the target took {took:.0f} ms, more than {a.value} ms")


_PLAIN: dict[str, Callable[[Assertion, CaseOutput], AssertionResult]] = {
    "contains": _contains,
    "icontains": _icontains,
    "not_contains": _not_contains,
    "starts_with": _starts_with,
    "contains_any": _contains_any,
    "contains_all": _contains_all,
    "equals": _equals,
    "min_length": _min_length,
    "max_length": _max_length,
    "is_json": _is_json,
    "json_schema": _json_schema,
    "latency_ms": _latency_ms,
}


def judge(
    a: Assertion,
    output: CaseOutput,
    variables: dict[str, Any],
    threshold: float,
    hooks: Mapping[str, Hook],
    patterns: Mapping[str, re.Pattern[str]],
    *,
    rubric: RubricJudge | None = None,
) -> AssertionResult:
    """Score one assertion; a failing or misbehaving check scores 0 and says why.
    ``rubric`` grades ``llm_rubric`` assertions."""
    plain = _PLAIN.get(a.type)
    if plain is not None:
        return plain(a, output)
    if a.type == "regex":
        found = patterns[a.value].search(output.text) is not None
        return _result(a, found, f"no match for regex {_short(a.value)}")
    if a.type == "python":
        return _judge_python(a, hooks[a.value], output.text, variables, threshold)
    if a.type == "llm_rubric":
        if rubric is None:  # model_clients refuses a suite with llm_rubric and no judge first
            raise EvaluationError("an llm_rubric assertion needs the suite's judge")
        return rubric.grade(a.value, output.text)
    raise EvaluationError(f"unknown assertion type {a.type!r}")  # prepare_hooks rejects it first


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
