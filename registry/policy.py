"""Whether a version may be active in an environment: the one place that decides it.

``check``, ``deploy`` / ``rollback``, ``render`` / ``active``, ``status`` and the runtime all
ask ``judge``; none of them filters its answer. A score counts only for a tested version (its
evaluation fingerprint matches the content and model), so an untested version never meets a
``min_score``, whatever its file says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from registry.models import EnvironmentPolicy, Problem, PromptVersion
from registry.paths import pointer_path

if TYPE_CHECKING:
    from registry.view import RegistryView


def _never() -> bool:
    return False


@dataclass(frozen=True)
class Promotion:
    """A move of the pointer, which ``promote_from`` judges: what the source environment runs
    now (None: nothing) and whether the environment ran the version before. A return to such a
    version (a rollback, a revert) never waits for the source; ``ran_before`` is asked only
    when the source does not run the version, since answering it may read git history."""

    source_version: str | None
    ran_before: Callable[[], bool] = _never


@dataclass(frozen=True)
class Candidate:
    """A version proposed to be active in an environment, under that environment's policy.

    ``promotion`` is None where promotion is not judged: a state that is already in place
    (``promote_from`` is a rule about a change, so a version promoted earlier stays valid), or
    a caller that cannot know how the pointer got there (the runtime)."""

    version: PromptVersion
    environment: str
    policy: EnvironmentPolicy
    promotion: Promotion | None


def pointer_move(
    view: RegistryView,
    policy: EnvironmentPolicy,
    prompt_id: str,
    ran_before: Callable[[], bool] = _never,
) -> Promotion:
    """The promotion input of a pointer move of ``prompt_id``, read from ``view``."""
    source = None if policy.promote_from is None else view.pointer(policy.promote_from, prompt_id)
    return Promotion(None if source is None else source.version, ran_before)


def judge(candidate: Candidate, line: int | None = None) -> list[Problem]:
    """Every way ``candidate`` breaks its environment's policy (empty: it may be active). The
    problems name the pointer file (at ``line`` when given), the prompt, version and
    environment."""
    path = pointer_path(candidate.environment, candidate.version.prompt_id)
    found = ((code, rule(candidate)) for code, rule in _RULES)
    return [Problem(code, path, line, message) for code, message in found if message]


def _label(v: PromptVersion) -> str:
    return f"{v.prompt_id} {v.version}"


def _untested(c: Candidate) -> str | None:
    v, env = c.version, c.environment
    if not c.policy.require_tested or v.is_tested:
        return None
    return (
        f"{_label(v)} has not passed evaluation tests; {env} requires a tested version:"
        f" run `promptreg eval {v.prompt_id} {v.version}`"
    )


def _below_score(c: Candidate) -> str | None:
    v, least = c.version, c.policy.min_score
    if least is None:
        return None
    score = v.evaluation_score
    required = f"{c.environment} requires a tested score of at least {least}"
    if not v.is_tested:
        if score is None:
            return f"{_label(v)} scored nothing; {required}"
        return (
            f"{_label(v)} is not tested, so its evaluation_score {score} does not count;"
            f" {required}: run `promptreg eval {v.prompt_id} {v.version}`"
        )
    if score is None:
        return f"{_label(v)} has no evaluation_score; {required}"
    if score < least:
        return f"{_label(v)} scored {score}; {required}"
    return None


def _not_promoted(c: Candidate) -> str | None:
    v, source = c.version, c.policy.promote_from
    if source is None or c.promotion is None:
        return None
    runs = c.promotion.source_version
    if runs == v.version or c.promotion.ran_before():
        return None
    return (
        f"{_label(v)} must be active in {source} before {c.environment}"
        f" ({source} runs {'nothing' if runs is None else runs}); deploy it to {source} first"
    )


# (stable code, rule): each rule returns what is wrong, or None. Order is the report order.
_RULES: tuple[tuple[str, Callable[[Candidate], str | None]], ...] = (
    ("untested", _untested),
    ("min-score", _below_score),
    ("not-promoted", _not_promoted),
)
