"""Running an evaluation suite: resolve its hooks, judge each case, score a prompt version.

Each case renders the version with the case's ``vars``. The judged output is the rendered
text itself (for chat prompts: the message contents joined with a blank line, ``"\\n\\n"``),
or, when the suite names a ``target``, the string that ``target(rendered, vars)`` returns;
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

import importlib
import json
import math
import numbers
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.errors import EvaluationError, TemplateError
from registry.models import PromptVersion
from registry.suites import Assertion, Case, Suite

ASSERTION_TYPES = (
    "contains",
    "not_contains",
    "equals",
    "regex",
    "min_length",
    "max_length",
    "is_json",
    "python",
)
_TEXT_TYPES = ("contains", "not_contains", "equals", "regex")
_LENGTH_TYPES = ("min_length", "max_length")
_REF_RE = re.compile(
    r"(?P<module>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
    r":(?P<function>[A-Za-z_][A-Za-z0-9_]*)",
    re.ASCII,
)
_SCORE_DIGITS = 6

Hook = Callable[..., Any]


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


# --- resolving hooks ---------------------------------------------------------------------


def _from_root(module: object, name: str, root: Path) -> bool:
    """True when ``module`` was found through ``root`` itself (``root/<top>.py`` or
    ``root/<top>/``), not through a package installed somewhere below it, such as a venv."""
    top = name.partition(".")[0]
    places = [getattr(module, "__file__", None), *getattr(module, "__path__", [])]
    for place in places:
        if not isinstance(place, str):
            continue
        try:
            first = Path(place).resolve().relative_to(root).parts[0]
        except (OSError, ValueError, IndexError):
            continue
        if first == top or first.startswith(top + "."):
            return True
    return False


@contextmanager
def _import_root(root: Path) -> Iterator[None]:
    """Make ``root`` importable for the run, then put ``sys.path`` back as it was.

    Modules imported from ``root`` are dropped from ``sys.modules`` afterwards, so the next
    run (another checkout, an edited hook) imports them afresh. Bytecode is not written, so
    evaluating never leaves ``__pycache__`` folders in the checkout.
    """
    resolved = root.resolve()
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    saved_bytecode = sys.dont_write_bytecode
    sys.path.insert(0, str(resolved))
    sys.dont_write_bytecode = True
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path[:] = saved_path
        sys.dont_write_bytecode = saved_bytecode
        for name in set(sys.modules) - saved_modules:
            if _from_root(sys.modules.get(name), name, resolved):
                del sys.modules[name]


def _resolve(ref: str) -> Hook:
    """Import ``module:function``; raises ValueError with a readable reason."""
    m = _REF_RE.fullmatch(ref)
    if m is None:
        raise ValueError("must look like 'module:function'")
    module_name, function = m.group("module"), m.group("function")
    try:
        module = importlib.import_module(module_name)
    except (Exception, SystemExit) as exc:
        raise ValueError(f"cannot import {module_name!r}: {_describe(exc)}") from None
    if not hasattr(module, function):
        raise ValueError(f"module {module_name!r} has no attribute {function!r}")
    fn: Hook = getattr(module, function)
    if not callable(fn):
        raise ValueError(f"{ref} is not callable")
    return fn


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _where(suite: Suite, line: int | None) -> str:
    return suite.path if line is None else f"{suite.path}:{line}"


def _prepare(suite: Suite) -> tuple[Hook | None, dict[str, Hook], dict[str, re.Pattern[str]]]:
    """Resolve every hook and compile every regex once, before any case runs; a suite built
    by hand (not by load_suite) gets its assertion values checked here too."""
    problems: list[str] = []
    target = None
    if suite.target is not None:
        try:
            target = _resolve(suite.target)
        except ValueError as exc:
            problems.append(f"{_where(suite, suite.target_line)}: target {suite.target!r}: {exc}")
    hooks: dict[str, Hook] = {}
    patterns: dict[str, re.Pattern[str]] = {}
    for case in suite.cases:
        for a in case.assertions:
            where = _where(suite, a.line)
            if a.type not in ASSERTION_TYPES:
                problems.append(f"{where}: unknown assertion type {a.type!r}")
            elif a.type in _TEXT_TYPES and not isinstance(a.value, str):
                problems.append(f"{where}: a {a.type} assertion needs a string value")
            elif a.type in _LENGTH_TYPES and (
                isinstance(a.value, bool) or not isinstance(a.value, int)
            ):
                problems.append(f"{where}: a {a.type} assertion needs a whole number")
            elif a.type == "python" and a.value not in hooks:
                try:
                    hooks[a.value] = _resolve(str(a.value))
                except ValueError as exc:
                    problems.append(f"{where}: python assertion {a.value!r}: {exc}")
            elif a.type == "regex" and a.value not in patterns:
                try:
                    patterns[a.value] = re.compile(a.value)
                except re.error as exc:
                    problems.append(f"{where}: regex {a.value!r} does not compile: {exc}")
    if problems:
        raise EvaluationError("\n".join(dict.fromkeys(problems)))
    return target, hooks, patterns


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
    raise EvaluationError(f"unknown assertion type {kind!r}")  # _prepare rejects it first


def _judge_python(
    a: Assertion, fn: Hook, output: str, variables: dict[str, Any], threshold: float
) -> AssertionResult:
    """A bool passes or fails; a number in 0..1 is the score and passes at the threshold."""
    try:
        got = fn(output, variables)
    except (Exception, SystemExit) as exc:
        return AssertionResult(a.type, False, 0.0, f"{a.value} raised {_describe(exc)}")
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
                error = f"target {target_ref} raised {_describe(exc)}"
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
    with _import_root(root):
        target, hooks, patterns = _prepare(suite)
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
