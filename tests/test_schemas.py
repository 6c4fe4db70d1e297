"""The JSON Schemas: the example corpus, the shape of the schemas themselves, and the messages."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from registry.ids import is_valid_id, is_valid_version
from registry.schema.files import DOCUMENT_KINDS, schema_id
from registry.schema.validate import KINDS, format_path, load_schema, schema_errors
from registry.yamlio.load import load_yaml_bytes

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "schemas"
EXAMPLES = Path(__file__).resolve().parent / "example-files"
EXPECT = "# expect: "


def _corpus(sign: str) -> list[Path]:
    return sorted(EXAMPLES.glob(f"{sign}/*/*.yaml"))


def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def _load(path: Path) -> Any:
    # The registry's own loader: timestamps stay strings, as promptreg check sees them.
    return load_yaml_bytes(path.read_bytes(), str(path)).data


def _messages(kind: str, data: Any) -> list[str]:
    return [message for _, message in schema_errors(kind, data)]


# --- the corpus -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", _corpus("positive"), ids=_name)
def test_positive_example_is_valid(path: Path) -> None:
    assert schema_errors(path.parent.name, _load(path)) == []


@pytest.mark.parametrize("path", _corpus("negative"), ids=_name)
def test_negative_example_fails_with_expected_message(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(EXPECT), f"{path} must start with '{EXPECT}<part of the message>'"
    expected = first[len(EXPECT) :].strip()
    messages = _messages(path.parent.name, _load(path))
    assert messages, f"{path} is valid but should not be"
    assert any(expected in m for m in messages), f"{expected!r} not in {messages}"


@pytest.mark.parametrize("sign", ["positive", "negative"])
def test_corpus_covers_every_kind(sign: str) -> None:
    folders = {p.name for p in (EXAMPLES / sign).iterdir() if p.is_dir()}
    assert folders == set(KINDS)
    least = 4 if sign == "positive" else 10
    for kind in KINDS:
        assert len(list((EXAMPLES / sign / kind).glob("*.yaml"))) >= least, kind


# --- the schemas themselves -----------------------------------------------------------------


def _subschemas(schema: dict[str, Any], where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema nested in ``schema`` with its JSON pointer; ``if`` conditions excluded."""
    yield where, schema
    for key in ("items", "additionalProperties", "propertyNames", "then", "else", "not"):
        sub = schema.get(key)
        if isinstance(sub, dict):
            yield from _subschemas(sub, f"{where}/{key}")
    for key in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(schema.get(key, [])):
            yield from _subschemas(sub, f"{where}/{key}/{i}")
    for name, sub in schema.get("properties", {}).items():
        yield from _subschemas(sub, f"{where}/properties/{name}")


def _is_object_schema(schema: dict[str, Any]) -> bool:
    types = schema.get("type")
    return types == "object" or (isinstance(types, list) and "object" in types)


def test_schema_files_are_exactly_the_kinds() -> None:
    on_disk = {p.name for p in SCHEMA_DIR.glob("*.json")}
    assert on_disk == {f"{kind}.schema.json" for kind in (*KINDS, *DOCUMENT_KINDS)}


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_valid_draft7(kind: str) -> None:
    schema = load_schema(kind)
    Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["$id"] == schema_id(kind)
    assert schema["title"]
    assert schema["description"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_property_has_a_description(kind: str) -> None:
    missing = []
    for where, schema in _subschemas(load_schema(kind)):
        subs = dict(schema.get("properties", {}))
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                subs[key] = schema[key]
        missing += [f"{where}/{k}" for k, sub in subs.items() if not sub.get("description")]
    assert missing == []


@pytest.mark.parametrize("kind", KINDS)
def test_every_object_is_closed(kind: str) -> None:
    """additionalProperties false, or a typed mapping with propertyNames; model is free-form,
    and so is an inline JSON Schema (json_schema's value, an object or a boolean)."""
    open_objects = []
    for where, schema in _subschemas(load_schema(kind)):
        if not _is_object_schema(schema) or where.endswith("/properties/model"):
            continue
        if schema.get("type") == ["object", "boolean"]:
            continue
        extra = schema.get("additionalProperties")
        if extra is False or (isinstance(extra, dict) and "propertyNames" in schema):
            continue
        open_objects.append(where)
    assert open_objects == []


def test_schema_files_are_formatted() -> None:
    for path in SCHEMA_DIR.glob("*.json"):
        text = path.read_text(encoding="utf-8")
        assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n", path


def test_load_schema_returns_a_fresh_copy() -> None:
    load_schema("settings")["title"] = "changed"
    assert load_schema("settings")["title"] != "changed"


def test_load_schema_refuses_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown schema kind 'prompt'"):
        load_schema("prompt")
    with pytest.raises(ValueError, match="unknown schema kind"):
        schema_errors("prompt", {})


def test_import_registry_stays_light() -> None:
    code = (
        "import sys, registry, registry.schema.validate\n"
        "assert 'jsonschema' not in sys.modules, 'jsonschema imported eagerly'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# --- the schemas agree with the identifier grammar ------------------------------------------

VERSIONS = [
    "0.0.0", "1.2.3", "10.20.30", "1.0.0-rc.1", "1.0.0-alpha.beta.0", "1.0.0-0a", "1.0.0-x-y",
    "1.0.0-" + "a" * 122, "1.0.0-" + "a" * 123,
    "01.0.0", "1.01.0", "1.0", "1", "v1.0.0", "1.0.0+build", "1.0.0-rc.01", "1.0.0-", "1.0.0-rc..1",
    "1.0.0\n", " 1.0.0", "1.0.0 ", "1.0.0-é", "\uff11.0.0", "",
]  # fmt: skip
IDS = [
    "a", "a1", "0", "hr_query", "a-b_c", "a" * 64,
    "a" * 65, "A", "a__b", "a-_b", "_a", "a_", "a.b", "é", "a\n", "\uff41", "", "a b",
]  # fmt: skip
POINTER = {
    "prompt_id": "p",
    "environment": "production",
    "version": "1.0.0",
    "previous_version": None,
    "action": "deploy",
    "deployed_by": "Dana",
    "deployed_at": "2026-11-21T09:30:00Z",
}


@pytest.mark.parametrize("version", VERSIONS)
def test_version_pattern_matches_ids(version: str) -> None:
    for field in ("version", "previous_version"):
        errors = schema_errors("deployment", {**POINTER, field: version})
        assert (errors == []) is is_valid_version(version), (field, errors)


@pytest.mark.parametrize("name", IDS)
def test_id_pattern_matches_ids(name: str) -> None:
    for field in ("prompt_id", "environment"):
        errors = schema_errors("deployment", {**POINTER, field: name})
        assert (errors == []) is is_valid_id(name), (field, errors)
    settings_errors = schema_errors("settings", {"environments": {name: {}}})
    assert (settings_errors == []) is is_valid_id(name), settings_errors


# --- messages -------------------------------------------------------------------------------


def test_each_problem_once_with_its_path() -> None:
    data = {
        "prompt_id": "Bad Id",
        "version": 1.1,
        "description": "x",
        "created_at": "2026-11-20T10:00:00Z",
        "content": "a",
        "messages": [{"role": "bot", "content": "b", "nme": "c"}],
        "tested": "yes",
        "colour": "blue",
    }
    errors = schema_errors("prompt-version", data)
    paths = [path for path, _ in errors]
    assert paths == [
        (),
        (),
        ("colour",),
        ("messages", 0, "nme"),
        ("messages", 0, "role"),
        ("prompt_id",),
        ("tested",),
        ("version",),
    ]
    assert len(set(errors)) == len(errors)
    messages = dict(errors)
    assert messages[("version",)].startswith("version: 1.1 is not a string; versions must be")
    assert messages[("messages", 0, "nme")].startswith('messages[0]: unknown field "nme"')
    assert 'missing required field "author"' in [m for p, m in errors if p == ()]
    assert "give exactly one of content or messages, not both" in [m for p, m in errors if p == ()]


def test_valid_data_has_no_errors() -> None:
    assert schema_errors("deployment", POINTER) == []


@pytest.mark.parametrize("kind", KINDS)
def test_document_that_is_not_a_mapping(kind: str) -> None:
    assert schema_errors(kind, ["a"]) == [((), "expected a mapping, got a list")]
    assert schema_errors(kind, None) == [((), "expected a mapping, got null")]


def test_key_that_is_not_a_string() -> None:
    errors = schema_errors("settings", {"environments": {2026: {}}})
    assert errors == [(("environments", 2026), "environments: key 2026 is not a string; quote it")]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_refused(value: float) -> None:
    suite = {"prompt_id": "p", "threshold": value, "cases": [{"name": "n", "assert": []}]}
    messages = _messages("eval-suite", suite)
    assert any(m.startswith("threshold: ") and "finite number" in m for m in messages), messages


def test_assertion_value_follows_its_type() -> None:
    def case(*asserts: dict[str, Any]) -> dict[str, Any]:
        return {"prompt_id": "p", "threshold": 1, "cases": [{"name": "n", "assert": list(asserts)}]}

    ok = case(
        {"type": "contains", "value": "x"},
        {"type": "equals", "value": ""},
        {"type": "min_length", "value": 0},
        {"type": "is_json"},
        {"type": "python", "value": "pkg.mod:check"},
    )
    assert schema_errors("eval-suite", ok) == []
    bad = case({"type": "regex", "value": 3}, {"type": "max_length", "value": True})
    assert _messages("eval-suite", bad) == [
        "cases[0].assert[0].value: expected a string, got 3",
        "cases[0].assert[1].value: expected a whole number, got true",
    ]


@pytest.mark.parametrize(
    ("path", "text"),
    [((), ""), (("a",), "a"), (("cases", 0, "assert", 1, "value"), "cases[0].assert[1].value")],
)
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    assert format_path(path) == text


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("positive/prompt-version/*.yaml")), ids=_name)
def test_runtime_decoder_accepts_every_positive_version(path: Path) -> None:
    # The schema and the decoder the runtime uses (without the schema) must agree.
    from registry.decode import build_version

    record, problems = build_version(path.name, load_yaml_bytes(path.read_bytes(), path.name), None)
    # A fingerprint is a registry-level fact the schema cannot see; everything else agrees.
    assert [p for p in problems if p.code != "fingerprint"] == [] and record is not None
    if "tested" not in _load(path):
        assert (record.tested, record.evaluation_score, record.evaluation) == (False, None, None)


@pytest.mark.parametrize("name", ["content-empty", "message-content-blank"], ids=lambda n: str(n))
def test_runtime_decoder_refuses_an_empty_template_as_the_schema_does(name: str) -> None:
    from registry.decode import build_version

    path = EXAMPLES / "negative/prompt-version" / f"{name}.yaml"
    record, problems = build_version(path.name, load_yaml_bytes(path.read_bytes(), path.name), None)
    assert record is None and len(problems) == 1, problems
    assert problems[0].message.endswith(
        "the template is empty or only spaces; write the prompt text"
    )
    ((where, message),) = schema_errors("prompt-version", _load(path))
    assert problems[0].line == load_yaml_bytes(path.read_bytes(), path.name).line_of(where)
    assert message.endswith(problems[0].message)


def test_the_schemas_are_found_as_plain_files() -> None:
    """The first load reads the shipped schemas as files (registry/schema_files in a wheel,
    schemas/ in a checkout) rather than through importlib.resources."""
    from registry.schema import files

    assert any(
        (folder / "prompt-version.schema.json").is_file()
        for folder in (files._PACKAGE_DIR, files._SOURCE_DIR)
    )
