"""Evaluation suites: load and validate ``evals/<prompt_id>.yaml`` into frozen records."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from registry.errors import EvaluationError, LoadError

if TYPE_CHECKING:
    from registry.evals.datafile import Row

DEFAULT_TIMEOUT = 60.0
# Cases run at a time (eval --jobs): enough to hide a model server's latency, few enough for
# a local server's parallel slots and a hosted API's rate limits (README, "Evaluation").
DEFAULT_JOBS = 8


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

    # The data file the cases after the suite's own come from (registry-relative), if any.
    cases_file: str | None = None


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


def json_schema_problem(schema: Any) -> str | None:
    """Why ``schema`` is not a valid JSON Schema of its draft (``$schema``, else draft 7)."""
    from jsonschema import Draft7Validator
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for

    try:
        validator_for(schema, default=Draft7Validator).check_schema(schema)
    except SchemaError as exc:
        where = "".join(f"[{p!r}]" for p in exc.absolute_path)
        return f"json_schema value{where} is not a valid JSON Schema: {exc.message}"
    return None


def assertion_problems(item: Mapping[str, Any]) -> list[str]:
    """What the schema cannot see in one schema-valid assertion: a regex that does not
    compile, an is_json value that would be ignored, an inline JSON Schema that is invalid."""
    value = item.get("value")
    why: str | None = None
    if item["type"] == "regex":
        why = regex_problem(str(value))
    elif item["type"] == "is_json" and value is not None and value is not True:
        why = f"is_json takes no value (got {value!r})"
    elif item["type"] == "json_schema":
        why = json_schema_problem(value)
    return [] if why is None else [why]


def _assertion_lists(data: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], list[Any]]]:
    for i, case in enumerate(data.get("cases") or []):
        yield ("cases", i, "assert"), case.get("assert") or []
    yield ("default_assert",), data.get("default_assert") or []


def _semantic_problems(data: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """What the JSON Schema cannot see: assertion values (assertion_problems), latency_ms
    without a target, an llm_rubric assertion without a judge, a case without assertions,
    duplicate case names (results are reported by name) and an unusable target or judge
    mapping."""
    from registry.schema.validate import format_path

    yield from _endpoint_problems(data)
    seen: set[str] = set()
    for i, case in enumerate(data.get("cases") or []):
        where: tuple[str | int, ...] = ("cases", i, "name")
        if case["name"] in seen:
            yield where, f"{format_path(where)}: duplicate case name {case['name']!r}; rename it"
        seen.add(case["name"])
        if not case.get("assert") and not data.get("default_assert"):
            where = ("cases", i)
            yield (
                where,
                f"{format_path(where)}: the case has no assertions; add assert or default_assert",
            )
    for base, items in _assertion_lists(data):
        for j, item in enumerate(items):
            where = (*base, j, "value")
            for why in assertion_problems(item):
                yield where, f"{format_path(where)}: {why}"
            if item["type"] == "latency_ms" and data.get("target") is None:
                where = (*base, j, "type")
                yield (
                    where,
                    (
                        f"{format_path(where)}: latency_ms needs a target to time; without one the"
                        " rendered prompt is judged"
                    ),
                )
            elif item["type"] == "llm_rubric" and data.get("judge") is None:
                where = (*base, j)
                yield (
                    where,
                    f"{format_path(where)}: an llm_rubric assertion needs the suite's judge"
                    " model; add judge: {provider: openai, model: ...} to the suite",
                )


def suite_problems(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems of a schema-valid suite that the schema cannot see (used by ``check``)."""
    return list(_semantic_problems(data))


def file_case_problems(
    data: dict[str, Any], rows: Sequence[Row], display: str
) -> list[tuple[int, str]]:
    """Problems of the rows of a valid suite's ``cases_file`` (``display``) that depend on the
    suite: a name an earlier case already has, a row without assertions and no default."""
    names = {c["name"] for c in data.get("cases") or []}
    out: list[tuple[int, str]] = []
    for row in rows:
        if row.name in names:
            out.append((row.line, f"duplicate case name {row.name!r}; rename it"))
        names.add(row.name)
        if not row.assertions and not data.get("default_assert"):
            out.append(
                (
                    row.line,
                    "the case has no assertions; add assert to it or default_assert to the suite",
                )
            )
    return out


def file_cases(
    data: dict[str, Any], read: Callable[[str], bytes | None] | None
) -> tuple[list[Row], list[str]]:
    """The rows of a valid suite's ``cases_file`` read with ``read(path)`` (None: absent), and
    every problem as ``path:line: message``; no cases_file: nothing."""
    from registry.evals.datafile import parse_rows

    rel = data.get("cases_file")
    if rel is None:
        return [], []
    if read is None:
        return [], [f"{rel}: cannot read the cases_file without the registry root"]
    try:
        raw = read(rel)
    except LoadError as exc:
        return [], [str(exc)]
    if raw is None:
        return [], [f"{rel}: the cases_file does not exist; create it or remove cases_file"]
    rows, problems = parse_rows(raw, rel)
    problems += file_case_problems(data, rows, rel)
    return rows, [f"{rel}:{n}: {m}" for n, m in sorted(problems)]


def load_suite(
    path: Path, display_path: str, read: Callable[[str], bytes | None] | None = None
) -> Suite:
    """Load and validate a suite file and its ``cases_file`` (read with ``read(path)``, a
    registry-relative path; see sources.DirSource.read_data); raises EvaluationError listing
    every problem as ``path:line: message``, one per line."""
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
    rows, problems = file_cases(data, read)
    if problems:
        raise EvaluationError("\n".join(problems))

    def assertion(item: dict[str, Any], line: int | None) -> Assertion:
        return Assertion(
            type=item["type"],
            value=item.get("value"),
            weight=float(item.get("weight", 1)),
            description=item.get("description"),
            line=line,
        )

    defaults = tuple(
        assertion(item, loaded.line_of(("default_assert", j)))
        for j, item in enumerate(data.get("default_assert") or [])
    )
    cases = []
    for i, raw in enumerate(data.get("cases") or []):
        own = tuple(
            assertion(item, loaded.line_of(("cases", i, "assert", j)))
            for j, item in enumerate(raw.get("assert") or [])
        )
        cases.append(
            Case(
                name=raw["name"],
                vars=MappingProxyType(dict(raw.get("vars") or {})),
                assertions=own + defaults,
                line=loaded.line_of(("cases", i)),
            )
        )
    for row in rows:
        own = tuple(assertion(item, None) for item in row.assertions)
        cases.append(Case(row.name, MappingProxyType(row.vars), own + defaults, row.line))
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
        cases_file=data.get("cases_file"),
    )
