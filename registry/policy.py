"""Whether a version may be active in an environment: the one place that decides it.

``check``, ``deploy`` / ``rollback``, ``render`` / ``active``, ``status`` and the runtime all
ask ``judge``; none of them filters its answer. A score counts only for a tested version (its
evaluation fingerprint matches the content and model), so an untested version never meets a
``min_score``, whatever its file says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from registry.durations import format_duration
from registry.models import EnvironmentPolicy, Problem, PromptVersion
from registry.paths import pointer_path

if TYPE_CHECKING:
    from registry.view import RegistryView


def _never() -> bool:
    return False


def _nowhere() -> datetime | None:
    return None


@dataclass(frozen=True)
class Promotion:
    """A move of the pointer, which ``promote_from`` and ``min_soak`` judge: what the source
    environment runs now (None: nothing), whether the environment ran the version before, and
    since when the source has run it in trusted history (None: it does not there), measured
    against ``now`` (None: the current time). A return to a version the environment ran (a
    rollback, a revert) never waits for the source. ``ran_before`` and ``source_since`` are
    asked only when needed, since answering them may read git history."""

    source_version: str | None
    ran_before: Callable[[], bool] = _never
    source_since: Callable[[], datetime | None] = _nowhere
    now: datetime | None = None


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


class Evidence(Protocol):
    """What trusted git history shows about environments (``registry.history.Evidence``)."""

    now: datetime

    def ran(self, environment: str, prompt_id: str, version: str) -> bool:
        """Whether ``environment`` ran the version."""
        ...

    def since(self, environment: str, prompt_id: str, version: str) -> datetime | None:
        """Since when ``environment`` has run the version without a break (None: it does not)."""
        ...


def pointer_move(
    view: RegistryView,
    policy: EnvironmentPolicy,
    prompt_id: str,
    version: str,
    evidence: Evidence | None,
) -> Promotion:
    """The promotion input of a move of ``prompt_id``'s pointer to ``version``: the source
    pointer read from ``view``, the rest from ``evidence`` (None: no history, so the version
    never ran anywhere)."""
    src = policy.promote_from
    source = None if src is None else view.pointer(src, prompt_id)
    runs = None if source is None else source.version
    if evidence is None:
        return Promotion(runs)
    env = policy.name
    return Promotion(
        runs,
        lambda: evidence.ran(env, prompt_id, version),
        lambda: None if src is None else evidence.since(src, prompt_id, version),
        evidence.now,
    )


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


def soak_wait(c: Candidate) -> str | None:
    """How long the version still has to run in the ``promote_from`` environment before it may
    move to ``c``'s ("active in staging for 20m; production needs 1h: 40m left"); None when
    ``min_soak`` does not apply to the move or is met. A version the source does not run is
    ``not-promoted``'s to report; a return to a version the environment ran never waits."""
    need, source, move = c.policy.min_soak, c.policy.promote_from, c.promotion
    if need is None or source is None or move is None:
        return None
    if move.source_version != c.version.version or move.ran_before():
        return None
    needs = f"{c.environment} needs {format_duration(need)}"
    since = move.source_since()
    if since is None:
        return (
            f"not active in {source} in committed git history; {needs} there:"
            f" commit (or merge) its deployment to {source} and wait"
        )
    active = ((move.now or datetime.now(UTC)) - since).total_seconds()
    if active >= need:
        return None
    return (
        f"active in {source} for {format_duration(active)}; {needs}:"
        f" {format_duration(need - active, round_up=True)} left"
    )


def _not_soaked(c: Candidate) -> str | None:
    wait = soak_wait(c)
    return None if wait is None else f"{_label(c.version)} is {wait}"


# (stable code, rule): each rule returns what is wrong, or None. Order is the report order.
_RULES: tuple[tuple[str, Callable[[Candidate], str | None]], ...] = (
    ("untested", _untested),
    ("min-score", _below_score),
    ("not-promoted", _not_promoted),
    ("min-soak", _not_soaked),
)
