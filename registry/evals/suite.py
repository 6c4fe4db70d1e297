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
    timeout: float = DEFAULT_TIMEOUT


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


def _semantic_problems(data: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """What the JSON Schema cannot see: regexes that do not compile, is_json values that
    would be silently ignored, and duplicate case names (results are reported by name)."""
    from registry.schema.validate import format_path

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
    return Suite(
        path=display_path,
        prompt_id=data["prompt_id"],
        threshold=float(data["threshold"]),
        target=target,
        cases=tuple(cases),
        target_line=loaded.line_of(("target",)) if target is not None else None,
        tolerance=float(data.get("tolerance", 0)),
        timeout=float(data.get("timeout", DEFAULT_TIMEOUT)),
    )
