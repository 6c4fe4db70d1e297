"""Evaluation suites: load and validate ``evals/<prompt_id>.yaml`` into frozen records."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from registry.errors import EvaluationError, LoadError

DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Assertion:
    """One check of a case's output; ``line`` is where it sits in the suite file."""

    type: str
    value: Any
    weight: float = 1.0
    description: str | None = None
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Case:
    """One set of template variables and the assertions its output must satisfy."""

    name: str
    vars: Mapping[str, Any] = field(hash=False)
    assertions: tuple[Assertion, ...]
    line: int


@dataclass(frozen=True)
class Endpoint:
    """A ``provider: openai`` mapping of a suite's ``target:`` or ``judge:``, as written (the
    defaults from the environment are resolved when the run starts, by
    ``registry.evals.providers.config.decode_config``); ``line`` is where it sits."""

    provider: str
    base_url: str | None = None
    api_key_env: str | None = None
    model: str | None = None
    line: int | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, str]:
        """The mapping as written (absent keys left out), for ``decode_config``."""
        keys = ("provider", "base_url", "api_key_env", "model")
        return {k: v for k in keys if (v := getattr(self, k)) is not None}


def _endpoint(raw: Any, line: int | None) -> Endpoint | None:
    if not isinstance(raw, Mapping):
        return None
    return Endpoint(
        raw["provider"], raw.get("base_url"), raw.get("api_key_env"), raw.get("model"), line
    )


@dataclass(frozen=True)
class Suite:
    """A loaded, validated evaluation suite; ``path`` is how messages name the file."""

    path: str
    prompt_id: str
    threshold: float
    target: str | None
    cases: tuple[Case, ...]
    target_line: int | None = field(default=None, compare=False)
    # How far a CI re-run's score may differ from the recorded one (check --verify-evaluations).
    tolerance: float = 0.0
    # Seconds each case (and the import of the hooks) may take; see registry.evals.child.
    # With a model target or judge: seconds each request may wait (retries come on top).
    timeout: float = DEFAULT_TIMEOUT
    # ``target: {provider: openai, ...}``: the model answers (``target`` is then None).
    model_target: Endpoint | None = None
    # ``judge: {provider: openai, model: ...}``: the model grading ``llm_rubric`` assertions.
    judge: Endpoint | None = None

    @property
    def uses_rubric(self) -> bool:
        """Whether a case has an ``llm_rubric`` assertion (the judge is then called)."""
        return any(a.type == "llm_rubric" for c in self.cases for a in c.assertions)

    @property
    def calls_models(self) -> bool:
        """Whether a run sends model requests (a model target or an llm_rubric judge)."""
        return self.model_target is not None or (self.judge is not None and self.uses_rubric)


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` does not compile, or None. Python's regex parser recurses once per
    nested group, so a pattern nested a thousand deep raises RecursionError, not re.error."""
    shown = (
        repr(pattern) if len(pattern) <= 80 else f"{pattern[:60]!r}... ({len(pattern)} characters)"
    )
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"regex {shown} does not compile: {exc}"
    except (RecursionError, OverflowError, MemoryError):
        return f"regex {shown} is nested too deeply or repeats too often to compile; simplify it"
    return None


def _endpoint_problems(data: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """A target or judge mapping the schema admits but no request could use (a base URL
    with credentials or a query); pure, the environment is read only when a run starts."""
    from registry.evals.providers.config import config_problems

    if isinstance(data.get("target"), Mapping):
        yield from config_problems(data["target"], "target")
    if isinstance(data.get("judge"), Mapping):
        yield from config_problems(data["judge"], "judge")


def _semantic_problems(data: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """What the JSON Schema cannot see: regexes that do not compile, is_json values that
    would be silently ignored, duplicate case names (results are reported by name), an
    unusable target or judge mapping and an llm_rubric assertion without a judge."""
    from registry.schema.validate import format_path

    yield from _endpoint_problems(data)
    seen: set[str] = set()
    for i, case in enumerate(data["cases"]):
        if case["name"] in seen:
            where: tuple[str | int, ...] = ("cases", i, "name")
            yield where, f"{format_path(where)}: duplicate case name {case['name']!r}; rename it"
        seen.add(case["name"])
        for j, item in enumerate(case["assert"]):
            where = ("cases", i, "assert", j, "value")
            value = item.get("value")
            if item["type"] == "regex":
                why = regex_problem(value)
                if why is not None:
                    yield where, f"{format_path(where)}: {why}"
            elif item["type"] == "is_json" and value is not None and value is not True:
                yield where, f"{format_path(where)}: is_json takes no value (got {value!r})"
            elif item["type"] == "llm_rubric" and data.get("judge") is None:
                at: tuple[str | int, ...] = ("cases", i, "assert", j)
                yield (
                    at,
                    f"{format_path(at)}: an llm_rubric assertion needs the suite's judge"
                    " model; add judge: {provider: openai, model: ...} to the suite",
                )


def suite_problems(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems of a schema-valid suite that the schema cannot see (used by ``check``)."""
    return list(_semantic_problems(data))


def load_suite(path: Path, display_path: str) -> Suite:
    """Load and validate a suite file; raises EvaluationError listing every problem as
    ``path:line: message``, one per line."""
    from registry.schema.validate import schema_errors
    from registry.yamlio.files import load_yaml_file

    try:
        loaded = load_yaml_file(path, display_path)
    except LoadError as exc:
        raise EvaluationError(str(exc)) from None

    def report(problems: list[tuple[tuple[str | int, ...], str]]) -> None:
        # Schema messages already lead with the field path; list problems in file order.
        found = sorted((loaded.line_of(where), message) for where, message in problems)
        if found:
            raise EvaluationError("\n".join(f"{display_path}:{n}: {m}" for n, m in found))

    report(schema_errors("eval-suite", loaded.data))
    data = loaded.data
    report(list(_semantic_problems(data)))
    cases = []
    for i, raw in enumerate(data["cases"]):
        assertions = tuple(
            Assertion(
                type=item["type"],
                value=item.get("value"),
                weight=float(item.get("weight", 1)),
                description=item.get("description"),
                line=loaded.line_of(("cases", i, "assert", j)),
            )
            for j, item in enumerate(raw["assert"])
        )
        cases.append(
            Case(
                name=raw["name"],
                vars=MappingProxyType(dict(raw.get("vars") or {})),
                assertions=assertions,
                line=loaded.line_of(("cases", i)),
            )
        )
    target = data.get("target")
    target_line = loaded.line_of(("target",)) if target is not None else None
    return Suite(
        path=display_path,
        prompt_id=data["prompt_id"],
        threshold=float(data["threshold"]),
        target=target if isinstance(target, str) else None,
        cases=tuple(cases),
        target_line=target_line,
        tolerance=float(data.get("tolerance", 0)),
        timeout=float(data.get("timeout", DEFAULT_TIMEOUT)),
        model_target=_endpoint(target, target_line),
        judge=_endpoint(data.get("judge"), loaded.line_of(("judge",))),
    )
