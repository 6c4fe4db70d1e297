"""The review of a commit range as frozen records, and their JSON form (``review --format
json``; the README documents every field)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from registry.models import EnvironmentPolicy, Problem

FORMAT = 1  # the JSON document's ``format``: raised when a field changes meaning


@dataclass(frozen=True)
class PolicyGate:
    """A pointer move judged under one policy of its environment: the change's, or the base's
    where that differs (the check applies both). ``failed`` holds the codes ``judge`` reports;
    the other fields are what it judged."""

    of: str  # "change" or "base"
    policy: EnvironmentPolicy
    source_version: str | None  # what ``promote_from`` runs at HEAD
    returning: bool  # the environment ran the version before: promotion does not apply
    source_since: str | None  # since when ``promote_from`` runs it in the base's history
    soaked_seconds: int | None  # how long that is, at the time of the review
    failed: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        p = self.policy
        return {
            "of": self.of,
            "require_tested": p.require_tested,
            "min_score": p.min_score,
            "promote_from": p.promote_from,
            "min_soak_seconds": p.min_soak,
            "source_version": self.source_version,
            "returning": self.returning,
            "source_since": self.source_since,
            "soaked_seconds": self.soaked_seconds,
            "failed": list(self.failed),
        }


@dataclass(frozen=True)
class Gate:
    """The gate's verdict on one changed pointer: ``problems`` are the ones ``check --base``
    reports on the pointer's file, and it passes when none of them is an error."""

    tested: bool | None  # None when the pointer targets no loadable version
    score: float | None
    policies: tuple[PolicyGate, ...]
    problems: tuple[Problem, ...]

    @property
    def passed(self) -> bool:
        """Whether the check lets this pointer through."""
        return not any(p.is_error for p in self.problems)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "passed": self.passed,
            "tested": self.tested,
            "score": self.score,
            "policies": [g.to_dict() for g in self.policies],
            "problems": [p.to_dict() for p in self.problems],
        }


@dataclass(frozen=True)
class Move:
    """A pointer file the range adds, changes or deletes: from which version to which.
    ``action`` is the pointer's (``deploy``, ``rollback``, ``remove`` for a tombstone or a
    deleted file), None when HEAD's file cannot be read."""

    environment: str
    prompt_id: str
    path: str
    from_version: str | None
    to_version: str | None
    action: str | None
    deployed_by: str | None
    deployed_at: str | None
    reason: str | None
    deleted: bool
    gate: Gate

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "environment": self.environment,
            "prompt_id": self.prompt_id,
            "path": self.path,
            "from": self.from_version,
            "to": self.to_version,
            "action": self.action,
            "deployed_by": self.deployed_by,
            "deployed_at": self.deployed_at,
            "reason": self.reason,
            "deleted": self.deleted,
            "gate": self.gate.to_dict(),
        }


@dataclass(frozen=True)
class NewVersion:
    """A version file the range adds, against the version before it (SemVer order, same
    prompt; None for the first)."""

    prompt_id: str
    version: str
    path: str
    from_version: str | None
    description: str
    author: str
    kind: str  # "content" or "messages"
    tested: bool
    evaluation_score: float | None
    variables_added: tuple[str, ...]
    variables_dropped: tuple[str, ...]
    model_before: Any
    model_after: Any
    diff: str  # a unified diff of the template text ("" when it is the same)

    @property
    def model_changed(self) -> bool:
        """Whether the model settings differ from the previous version's."""
        return bool(self.model_before != self.model_after)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "prompt_id": self.prompt_id,
            "version": self.version,
            "path": self.path,
            "from": self.from_version,
            "description": self.description,
            "author": self.author,
            "kind": self.kind,
            "tested": self.tested,
            "evaluation_score": self.evaluation_score,
            "variables_added": list(self.variables_added),
            "variables_dropped": list(self.variables_dropped),
            "model": {"before": self.model_before, "after": self.model_after}
            if self.model_changed
            else None,
            "diff": self.diff,
        }


@dataclass(frozen=True)
class EvaluationChange:
    """An evaluation record the range adds or changes on a version the base already has."""

    prompt_id: str
    version: str
    path: str
    tested: bool
    evaluation_score: float | None
    tested_before: bool
    score_before: float | None
    evaluated_by: str | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "prompt_id": self.prompt_id,
            "version": self.version,
            "path": self.path,
            "tested": self.tested,
            "evaluation_score": self.evaluation_score,
            "before": {"tested": self.tested_before, "evaluation_score": self.score_before},
            "evaluated_by": self.evaluated_by,
        }


@dataclass(frozen=True)
class SuiteChange:
    """A suite file the range adds, changes or removes. Values of a side that is absent or
    not a valid suite are None; ``weakened`` says how (registry/check/weakened.py)."""

    prompt_id: str
    path: str
    status: str  # "added", "changed" or "removed"
    threshold: tuple[Any, Any]
    tolerance: tuple[Any, Any]
    cases_added: tuple[str, ...]
    cases_removed: tuple[str, ...]
    cases_changed: tuple[str, ...]
    weakened: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "prompt_id": self.prompt_id,
            "path": self.path,
            "status": self.status,
            "threshold": {"before": self.threshold[0], "after": self.threshold[1]},
            "tolerance": {"before": self.tolerance[0], "after": self.tolerance[1]},
            "cases_added": list(self.cases_added),
            "cases_removed": list(self.cases_removed),
            "cases_changed": list(self.cases_changed),
            "weakened": list(self.weakened),
        }


def policy_dict(p: EnvironmentPolicy | None) -> dict[str, Any] | None:
    """An environment's policy as JSON (None: not configured)."""
    if p is None:
        return None
    return {
        "require_tested": p.require_tested,
        "min_score": p.min_score,
        "promote_from": p.promote_from,
        "min_soak_seconds": p.min_soak,
    }


@dataclass(frozen=True)
class EnvironmentChange:
    """One environment whose policy ``promptreg.yaml`` changes; ``relaxed`` names how the
    change accepts what the base refused (registry/check/trust.py)."""

    name: str
    before: EnvironmentPolicy | None
    after: EnvironmentPolicy | None
    relaxed: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "environment": self.name,
            "before": policy_dict(self.before),
            "after": policy_dict(self.after),
            "relaxed": list(self.relaxed),
        }


@dataclass(frozen=True)
class PolicyChange:
    """What the range changes in ``promptreg.yaml``. ``broken`` when HEAD's file does not
    load (its problems are in the review's problems; nothing is compared)."""

    broken: bool
    environments: tuple[EnvironmentChange, ...]
    order: tuple[tuple[str, ...], tuple[str, ...]]
    trusted_modules: tuple[tuple[str, ...], tuple[str, ...]]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "broken": self.broken,
            "environments": [e.to_dict() for e in self.environments],
            "order": {"before": list(self.order[0]), "after": list(self.order[1])},
            "trusted_modules": {
                "before": list(self.trusted_modules[0]),
                "after": list(self.trusted_modules[1]),
            },
        }


@dataclass(frozen=True)
class Review:
    """Everything ``promptreg review`` tells about HEAD against ``base``."""

    base: str
    base_commit: str
    merge_base: str
    head_commit: str
    moves: tuple[Move, ...]
    versions: tuple[NewVersion, ...]
    evaluations: tuple[EvaluationChange, ...]
    suites: tuple[SuiteChange, ...]
    policy: PolicyChange | None
    other_files: tuple[str, ...]
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> int:
        """How many problems fail ``check --base``."""
        return sum(p.is_error for p in self.problems)

    @property
    def passed(self) -> bool:
        """Whether ``check --base`` passes."""
        return self.errors == 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``review --format json``."""
        return {
            "format": FORMAT,
            "base": self.base,
            "base_commit": self.base_commit,
            "merge_base": self.merge_base,
            "head_commit": self.head_commit,
            "passed": self.passed,
            "errors": self.errors,
            "warnings": len(self.problems) - self.errors,
            "moves": [m.to_dict() for m in self.moves],
            "versions": [v.to_dict() for v in self.versions],
            "evaluations": [e.to_dict() for e in self.evaluations],
            "suites": [s.to_dict() for s in self.suites],
            "policy": None if self.policy is None else self.policy.to_dict(),
            "other_files": list(self.other_files),
            "problems": [p.to_dict() for p in self.problems],
        }
