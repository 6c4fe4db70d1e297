"""One verdict per file: `promptreg check` and the runtime decode the same files the same way.

`check` applies the JSON Schemas with jsonschema; the runtime applies the same schema files
with `registry.schema.shapes` (no jsonschema) inside the decoders of `registry.decode`. The example
corpus in tests/example-files is the tie: every file of every kind goes through both and must
get the same verdict, and a refusal must name the file and a line in the same words.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from registry import PromptRegistry, ValidationError
from registry.decode import build_pointer, build_settings, build_version
from registry.errors import EvaluationError
from registry.evals.suite import load_suite, suite_problems
from registry.models import Problem
from registry.schema.files import KINDS
from registry.schema.shape_errors import iter_errors, kind_errors
from registry.schema.shapes import UnsupportedKeyword, compiled_schema, is_valid_kind
from registry.schema.validate import runtime_schema_errors, schema_errors
from registry.yamlio.load import Loaded, load_yaml_bytes
from tests.testing import (
    LENIENT_SETTINGS,
    ROOT,
    commit_all,
    pointer_yaml,
    version_yaml,
    write,
)

EXAMPLES = Path(__file__).resolve().parent / "example-files"
CORPUS = sorted([*EXAMPLES.glob("positive/*/*.yaml"), *EXAMPLES.glob("negative/*/*.yaml")])
EXPECT = "# expect: "
# Rules no file can break: the YAML loader refuses the file first, with its own message.
_TOP = {"type": "the top level is not a mapping"}
LOADER_OWNED: dict[str, dict[str, str]] = {
    "prompt-version": _TOP,
    "deployment": _TOP,
    "eval-suite": {
        **_TOP,
        "properties/cases/items/properties/vars/propertyNames/type": "a key is not text",
    },
    "settings": {**_TOP, "properties/environments/propertyNames/type": "a key is not text"},
}
# Schema-valid examples that promptreg refuses on a rule a schema cannot state; check and the
# runtime still agree on them (both refuse).
BEYOND_SCHEMA = {
    "positive/eval-suite/is-json-with-and-without-value": "is_json takes no value but null/true",
    "positive/eval-suite/target-base-url-with-credentials": "a key belongs in api_key_env",
    "positive/eval-suite/judge-base-url-with-query": "a base URL has no query",
    "positive/eval-suite/llm-rubric-without-judge": "llm_rubric needs the suite's judge",
    "positive/eval-suite/json-schema-invalid-inline-schema": "the inline schema is not a schema",
    "positive/eval-suite/latency-without-target": "latency_ms needs a target to time",
}
# The registry root the corpus suites' cases_file paths are relative to.
DATA_ROOT = EXAMPLES / "data-root"


def _name(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.parent.name}/{path.stem}"


def _load(path: Path) -> Loaded:
    return load_yaml_bytes(path.read_bytes(), str(path))


def _decode(kind: str, path: Path, loaded: Loaded, *, shape_checked: bool) -> list[Problem]:
    """The problems the decoder of ``kind`` finds in the file (no path expectations)."""
    display = str(path)
    if kind == "prompt-version":
        record: object
        record, problems = build_version(display, loaded, None, shape_checked=shape_checked)
    elif kind == "deployment":
        record, problems = build_pointer(display, loaded, None, shape_checked=shape_checked)
    else:
        record, problems = build_settings(display, loaded, shape_checked=shape_checked)
    assert (record is None) == any(p.code != "fingerprint" for p in problems), problems
    return problems


def check_says(kind: str, path: Path) -> list[str]:
    """What `promptreg check` reports: jsonschema first, then what a schema cannot see."""
    loaded = _load(path)
    errors = schema_errors(kind, loaded.data)
    if kind == "eval-suite" and not errors:
        errors = suite_problems(loaded.data)
    if kind == "eval-suite":  # load_suite words a problem without its code
        return sorted(f"{path}:{loaded.line_of(where)}: {message}" for where, message in errors)
    if errors:
        return sorted(str(Problem("schema", str(path), loaded.line_of(w), m)) for w, m in errors)
    return sorted(str(p) for p in _decode(kind, path, loaded, shape_checked=True))


def runtime_says(kind: str, path: Path) -> list[str]:
    """What the runtime reports: the decoder alone, as `get_active` and `eval` use it."""
    if kind == "eval-suite":
        from registry.evals.datafile import MAX_DATA_BYTES
        from registry.sources import DirSource

        try:
            load_suite(
                path, str(path), lambda rel: DirSource(DATA_ROOT).read_data(rel, MAX_DATA_BYTES)
            )
        except EvaluationError as exc:
            return sorted(str(exc).splitlines())
        return []
    return sorted(str(p) for p in _decode(kind, path, _load(path), shape_checked=False))


@pytest.mark.parametrize("path", CORPUS, ids=_name)
def test_check_and_runtime_give_the_same_verdict(path: Path) -> None:
    kind, sign = path.parent.name, path.parent.parent.name
    check, runtime = check_says(kind, path), runtime_says(kind, path)
    accepted = sign == "positive" and _name(path) not in BEYOND_SCHEMA
    assert (check == []) is (runtime == []) is accepted, (check, runtime)
    # Not only the verdict: the same problems, in the same words, at the same lines.
    assert runtime == check


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("negative/*/*.yaml")), ids=_name)
def test_a_runtime_refusal_names_the_file_the_line_and_the_rule(path: Path) -> None:
    expected = path.read_text(encoding="utf-8").splitlines()[0].removeprefix(EXPECT).strip()
    lines = runtime_says(path.parent.name, path)
    assert lines and all(line.startswith(f"{path}:") for line in lines), lines
    assert all(line.split(":", 2)[1].isdigit() for line in lines), lines
    assert any(expected in line for line in lines), (expected, lines)


def test_the_corpus_holds_every_kind_both_ways() -> None:
    kinds = {(p.parent.parent.name, p.parent.name) for p in CORPUS}
    assert kinds == {(sign, kind) for sign in ("positive", "negative") for kind in KINDS}


# --- every rule of every schema is broken by some negative example -------------------------


def _rules(schema: dict[str, Any], where: tuple[str | int, ...] = ()) -> Iterator[str]:
    """The schema path of every keyword that can refuse a document (``if`` conditions select
    a ``then``; they refuse nothing themselves)."""
    for key, value in schema.items():
        if key in ("properties",):
            for name, sub in value.items():
                yield from _rules(sub, (*where, key, name))
        elif key == "allOf":
            for i, sub in enumerate(value):
                yield from _rules(sub, (*where, key, i))
        elif key in ("items", "propertyNames", "then") or (
            key == "additionalProperties" and isinstance(value, dict)
        ):
            yield from _rules(value, (*where, key))
        elif key in ("if", "else") or key in ("$schema", "$id", "title", "description"):
            continue
        elif key != "patternErrorMessage":
            yield "/".join(map(str, (*where, key)))


def _broken(errors: Any) -> Iterator[str]:
    for error in errors:
        yield "/".join(map(str, error.absolute_schema_path))


@pytest.mark.parametrize("kind", KINDS)
def test_every_schema_rule_has_a_negative_example(kind: str) -> None:
    rules = set(_rules(compiled_schema(kind)))
    broken: set[str] = set()
    for path in sorted(EXAMPLES.glob(f"negative/{kind}/*.yaml")):
        broken.update(_broken(kind_errors(kind, _load(path).data)))
    assert rules - broken - set(LOADER_OWNED[kind]) == set()
    assert set(LOADER_OWNED[kind]) <= rules - broken


def test_the_loader_owned_rules_are_refused_by_the_loader() -> None:
    from registry.yamlio.load import YamlError

    for text in (b"- a list\n", b"environments:\n  2026: {}\n"):
        with pytest.raises(YamlError, match=r"^x\.yaml:\d+: "):
            load_yaml_bytes(text, "x.yaml")


# --- the interpreter agrees with jsonschema beyond the corpus ------------------------------

ODD_VALUES: list[Any] = [
    None, True, 0, -1, 2, 0.5, 1.5, math.nan, math.inf, "", " ", "x", "X Y", "1.0.0",
    "2026-11-20T10:00:00Z", "2026-13-01T00:00:00Z", "a" * 300, "a" * 2100, [], ["x"], [1],
    ["a", "a"], {}, {"k": "v"}, {"role": "user"},
]  # fmt: skip


def _mutations(data: Any, depth: int = 2) -> Iterator[Any]:
    """``data`` with one node replaced by an odd value, removed, or given an unknown sibling."""
    if depth == 0:
        return
    if isinstance(data, dict):
        yield {**data, "unexpected": 1}
        for key, value in data.items():
            yield {k: v for k, v in data.items() if k != key}
            for odd in ODD_VALUES:
                yield {**data, key: odd}
            for inner in _mutations(value, depth - 1):
                yield {**data, key: inner}
    elif isinstance(data, list) and data:
        yield data[:1] * 2
        for odd in ODD_VALUES:
            yield [odd, *data[1:]]
        for inner in _mutations(data[0], depth - 1):
            yield [inner, *data[1:]]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("positive/*/*.yaml")), ids=_name)
def test_interpreter_matches_jsonschema_on_mutations(path: Path) -> None:
    kind = path.parent.name
    data = _load(path).data
    count = 0
    for mutated in _mutations(data, depth=3):
        expected = schema_errors(kind, mutated)
        assert runtime_schema_errors(kind, mutated) == expected, mutated
        assert is_valid_kind(kind, mutated) is (expected == []), mutated
        count += 1
    assert count > 100


def test_a_schema_keyword_the_runtime_does_not_apply_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from registry.schema import shapes

    compiled_schema.cache_clear()
    monkeypatch.setattr(shapes, "installed_schema_text", lambda kind: '{"format": "date-time"}')
    try:
        with pytest.raises(UnsupportedKeyword, match="'format'"):
            compiled_schema("settings")
    finally:
        compiled_schema.cache_clear()


def test_if_then_applies_only_when_the_condition_holds() -> None:
    schema = {"if": {"properties": {"a": {"const": 1}}}, "then": {"required": ["b"]}}
    assert [e.validator for e in iter_errors(schema, {"a": 1})] == ["required"]
    assert list(iter_errors(schema, {"a": 2})) == []


# --- the two bugs, end to end through PromptRegistry ---------------------------------------


def _hello(repo: Path, *, settings: str = LENIENT_SETTINGS, version: str | None = None,
           pointer: str | None = None) -> None:  # fmt: skip
    write(repo, "promptreg.yaml", settings)
    write(repo, "prompts/hello/1.0.0.yaml", version or version_yaml("hello", "1.0.0", "Hi {q}\n"))
    write(repo, "deployments/production/hello.yaml",
          pointer or pointer_yaml("hello", "production", "1.0.0"))  # fmt: skip
    commit_all(repo, "registry")


def _refusal(repo: Path) -> str:
    with PromptRegistry(repo) as reg, pytest.raises(ValidationError) as info:
        reg.get_active("hello", "production")
    return str(info.value)


def test_get_active_refuses_a_deployed_at_without_a_time_zone(repo: Path) -> None:
    text = pointer_yaml("hello", "production", "1.0.0").replace("09:30:00Z", "09:30:00")
    _hello(repo, pointer=text)
    assert _refusal(repo).startswith("deployments/production/hello.yaml:7: schema deployed_at: ")


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ("description: Revision 1.0.0", 'description: ""', 3),
        ("author: Dana Reyes <dana@example.com>", 'author: "  "', 4),
        ('created_at: "2026-11-20T10:00:00Z"', 'created_at: "2026-11-20"', 5),
        ('created_at: "2026-11-20T10:00:00Z"', 'created_at: "2026-11-20T10:00:00"', 5),
    ],
    ids=["empty-description", "blank-author", "date-only", "no-zone"],
)
def test_get_active_refuses_a_version_the_schema_refuses(
    repo: Path, old: str, new: str, line: int
) -> None:
    text = version_yaml("hello", "1.0.0", "Hi {q}\n")
    assert old in text
    _hello(repo, version=text.replace(old, new))
    assert _refusal(repo).startswith(f"prompts/hello/1.0.0.yaml:{line}: schema ")


def test_a_null_environment_policy_is_refused_on_load(repo: Path) -> None:
    _hello(repo, settings="environments:\n  staging: {}\n  production:\n")
    with pytest.raises(ValidationError, match=r"^promptreg\.yaml:3: schema environments\."):
        PromptRegistry(repo).get_active("hello", "production")


def test_get_active_stays_without_jsonschema(repo: Path) -> None:
    _hello(repo)
    code = (
        "import sys\nfrom registry import PromptRegistry\n"
        f"reg = PromptRegistry({str(repo)!r})\n"
        "assert reg.get_active('hello', 'production').version == '1.0.0'\n"
        "assert 'jsonschema' not in sys.modules, 'the runtime imported jsonschema'\n"
        "assert 'registry.schema.shapes' in sys.modules, 'the runtime skipped the schema'\n"
        "assert 'registry.schema.validate' not in sys.modules, 'messages loaded for valid files'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
