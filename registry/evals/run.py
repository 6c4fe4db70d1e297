"""Running an evaluation suite: judge each case and score a prompt version.

Each case renders the version with the case's ``vars``. The judged output is the rendered
text itself (for chat prompts: the message contents joined with a blank line, ``"\\n\\n"``),
or, when the suite names a ``target``, the string that ``target(rendered, case)`` returns
(``case`` is ``{"name", "vars"}``), or with ``target: {provider: openai, ...}`` the answer of
an OpenAI-compatible endpoint to the rendered prompt, sent with the version's ``model:``
block (registry.evals.outputs and registry.evals.providers). A failed request fails its
case; an ``llm_rubric`` assertion asks the suite's ``judge:`` model (registry.evals.rubric).

The score is the weighted mean of every assertion of every case (weight 1 unless given, so
with default weights it is the plain mean), rounded to 6 decimals so float noise never
decides the gate; the suite passes when ``score >= threshold`` (a threshold is above 0). A
case whose render or target fails scores 0 on all of its assertions. The per-assertion and
per-case ``passed`` flags are for reports only: an assertion passes at score 1, except that a
``python`` hook returning a number passes when that number reaches the suite's threshold; a
case passes when all of its assertions do and it scored above 0.

Containment: ``target`` and ``python`` hooks may name only the registry's own ``.py`` files
and the modules of ``trusted_modules`` (containment.py), and they run in a child process
(child.py) that hands back its verdict over a pipe; the scores are summed up here, in the
parent. A child that exits without a verdict, crashes or outlives the suite's ``timeout``
fails the evaluation. Hooks are still code from the registry checkout: the child keeps a
crashing or exiting hook from passing, not a hostile one from lying about its own verdict.
``regex`` patterns are searched as written, with no limit on backtracking: a pathological
pattern is the suite author's bug (the timeout ends it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from registry.errors import EvaluationError
from registry.evals.results import AssertionResult, CaseResult, EvalResult, weighted_mean
from registry.evals.suite import DEFAULT_JOBS, Suite
from registry.models import PromptVersion

__all__ = ["AssertionResult", "CaseResult", "EvalResult", "run_suite", "trusted_modules_of"]

_SCORE_DIGITS = 6


def trusted_modules_of(root: Path) -> tuple[str, ...]:
    """``trusted_modules`` of the registry's own ``promptreg.yaml`` (none when it is absent
    or broken). ``check --base`` passes the base branch's list instead."""
    from registry.sources import DirSource
    from registry.view import RegistryView

    return RegistryView(DirSource(root)).settings().trusted_modules


def _scored(case: CaseResult, weights: list[float]) -> CaseResult:
    """The case's score and flag from its assertion scores, as the parent computes them."""
    score = weighted_mean([(w, a.score) for w, a in zip(weights, case.assertions, strict=True)])
    passed = case.error is None and score > 0 and all(a.passed for a in case.assertions)
    return CaseResult(
        case.name, score, passed, case.assertions, case.error, case.latency_ms, case.seconds
    )


def run_suite(
    version: PromptVersion,
    suite: Suite,
    root: Path,
    progress: Callable[[int, int], None] | None = None,
    *,
    trusted_modules: Sequence[str] | None = None,
    cache: bool = True,
    jobs: int = DEFAULT_JOBS,
) -> EvalResult:
    """Run ``suite`` against ``version`` in a child process; hooks are imported from
    ``root`` (the registry checkout) or from ``trusted_modules`` (default: the list in
    ``root``'s promptreg.yaml) and resolved before any case runs; ``progress(done, total)``
    is called after each case. Model answers come from the response cache when it holds
    them, unless ``cache`` is False (the cache is then neither read nor written).
    ``jobs`` cases run at a time (threads in the child).

    Raises EvaluationError when the suite is for another prompt, a hook is refused or cannot
    be imported, or the child gives no verdict (it exits, crashes or times out).
    """
    if suite.prompt_id != version.prompt_id:
        raise EvaluationError(
            f"{suite.path}: the suite is for prompt {suite.prompt_id!r}, not {version.prompt_id!r}"
        )
    if not suite.threshold > 0:
        raise EvaluationError(
            f"{suite.path}: threshold {suite.threshold} would pass a suite whose every"
            " assertion fails; use a threshold above 0"
        )
    from registry.evals.child import run_in_child

    trusted = tuple(trusted_modules_of(root) if trusted_modules is None else trusted_modules)
    if jobs < 1:
        raise EvaluationError(f"jobs must be at least 1, not {jobs}")
    raw = run_in_child(
        version, suite, root, trusted, progress or (lambda done, total: None), jobs, cache=cache
    )
    results = [
        _scored(r, [a.weight for a in c.assertions]) for r, c in zip(raw, suite.cases, strict=True)
    ]
    pairs = [
        (a.weight, r.score)
        for c, res in zip(suite.cases, results, strict=True)
        for a, r in zip(c.assertions, res.assertions, strict=True)
    ]
    score = round(weighted_mean(pairs), _SCORE_DIGITS) if pairs else 0.0
    return EvalResult(
        prompt_id=version.prompt_id,
        version=version.version,
        suite=suite.path,
        score=score,
        threshold=suite.threshold,
        # A case that could not be run (its target failed, its render failed) was not judged:
        # the evaluation does not pass, whatever the other cases score.
        passed=bool(pairs) and score >= suite.threshold and not any(r.error for r in results),
        cases=tuple(results),
    )
