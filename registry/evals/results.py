"""What an evaluation produces: per-assertion, per-case and whole-suite results, and their
plain-JSON form, which is also how the evaluation child hands its verdict over the pipe."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CaseOutput:
    """What a case produced for its assertions: the text and, when a target answered, how long
    it took (ms): the hook call's wall time, or the model's completion latency."""

    text: str
    latency_ms: float | None = None


@dataclass(frozen=True)
class AssertionResult:
    """The outcome of one assertion; ``message`` says why it failed (empty when it passed;
    an ``llm_rubric`` assertion carries the judge's reason either way)."""

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
    """The outcome of one case; ``error`` is a render or target failure (all assertions 0);
    ``latency_ms`` how long the target took to answer (None without a target)."""

    name: str
    score: float
    passed: bool
    assertions: tuple[AssertionResult, ...]
    error: str | None
    latency_ms: float | None = None
    # Wall time of the case in the evaluation child (render, target, assertions), for reports.
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping for ``eval --json``; ``latency_ms`` only when a target answered."""
        out: dict[str, Any] = {
            "name": self.name,
            "score": self.score,
            "passed": self.passed,
            "error": self.error,
            "assertions": [a.to_dict() for a in self.assertions],
        }
        if self.latency_ms is not None:
            out["latency_ms"] = self.latency_ms
        return out


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


def weighted_mean(pairs: list[tuple[float, float]]) -> float:
    total = math.fsum(w for w, _ in pairs)
    if total <= 0:
        return math.fsum(s for _, s in pairs) / len(pairs) if pairs else 0.0
    return math.fsum(w * s for w, s in pairs) / total


def _field(raw: Any, name: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(raw, dict) or name not in raw:
        raise ValueError(f"missing {name!r}")
    value = raw[name]
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise ValueError(f"{name!r} is not a number")
    if not isinstance(value, kind):
        raise ValueError(f"{name!r} has the wrong type")
    return value


def assertion_from_dict(raw: Any) -> AssertionResult:
    """An AssertionResult from its ``to_dict`` form; raises ValueError when malformed."""
    score = float(_field(raw, "score", (int, float)))
    if not (math.isfinite(score) and 0 <= score <= 1):
        raise ValueError("'score' is out of range")
    return AssertionResult(
        _field(raw, "type", str), _field(raw, "passed", bool), score, _field(raw, "message", str)
    )


def case_from_dict(raw: Any) -> CaseResult:
    """A CaseResult from its ``to_dict`` form; raises ValueError when malformed."""
    error = raw.get("error") if isinstance(raw, dict) else None
    if error is not None and not isinstance(error, str):
        raise ValueError("'error' has the wrong type")
    latency = raw.get("latency_ms") if isinstance(raw, dict) else None
    if latency is not None:
        latency = float(_field(raw, "latency_ms", (int, float)))
        if not (math.isfinite(latency) and latency >= 0):
            raise ValueError("'latency_ms' is out of range")
    has_seconds = isinstance(raw, dict) and "seconds" in raw
    seconds = float(_field(raw, "seconds", (int, float))) if has_seconds else 0.0
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ValueError("'seconds' is out of range")
    return CaseResult(
        _field(raw, "name", str),
        float(_field(raw, "score", (int, float))),
        _field(raw, "passed", bool),
        tuple(assertion_from_dict(a) for a in _field(raw, "assertions", list)),
        error,
        latency,
        seconds,
    )
