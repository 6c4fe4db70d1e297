"""The wording of every schema error: one message per problem, naming its field, made from
jsonschema's errors (``check``) and from ``shape_errors.py``'s (the runtime) alike, so a file
gets the same words from either."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any, Protocol

from registry.decode import TIME_FIELDS, date_problem
from registry.schema.unique import duplicates
from registry.yamlio.scalars import boolean_hint

JsonPath = tuple[str | int, ...]
SchemaProblem = tuple[JsonPath, str]

_TYPE_WORDS = {
    "string": "a string",
    "object": "a mapping",
    "array": "a list",
    "boolean": "true or false",
    "number": "a number",
    "integer": "a whole number",
    "null": "null",
}
_VERSION_FIELDS = ("version", "previous_version")


class SchemaErrorLike(Protocol):
    """What a message is made from: jsonschema's ValidationError or a shape_errors.ShapeError."""

    @property
    def validator(self) -> Any: ...
    @property
    def validator_value(self) -> Any: ...
    @property
    def instance(self) -> Any: ...
    @property
    def schema(self) -> Any: ...
    @property
    def absolute_path(self) -> Any: ...
    @property
    def absolute_schema_path(self) -> Any: ...
    @property
    def context(self) -> Any: ...
    @property
    def message(self) -> str: ...


_ENUM_NOUNS = {"type": "assertion type"}


def format_path(path: JsonPath) -> str:
    """A JSON path as people read it: ``cases[0].assert[1].value``; ``""`` for the root."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _at(path: JsonPath, text: str) -> str:
    return f"{format_path(path)}: {text}" if path else text


def _key(value: Any) -> str | int:
    return value if isinstance(value, str | int) else str(value)


def explain(error: SchemaErrorLike) -> Iterator[SchemaProblem]:
    path: JsonPath = tuple(error.absolute_path)
    keyword = str(error.validator)
    value: Any = error.validator_value
    instance: Any = error.instance
    schema: Any = error.schema
    schema_path = error.absolute_schema_path
    if len(schema_path) >= 2 and schema_path[-2] == "propertyNames":
        # propertyNames errors sit on the mapping; point at the offending key instead.
        if keyword == "type":
            text = f"key {_show(instance)} is not a string; quote it"
        else:
            text = "key " + _simple_message(keyword, value, instance, schema, ())
        yield (*path, _key(instance)), _at(path, text)
    elif keyword == "required":
        # A "then" branch requires a field only for one value of a field that selects it:
        # an eval assertion's "type", a pointer's "action".
        why = _needed_for(instance) if "then" in schema_path else ""
        for name in value:
            if isinstance(instance, dict) and name not in instance:
                yield path, _at(path, f'missing required field "{name}"{why}')
    elif keyword == "additionalProperties" and value is False and isinstance(instance, dict):
        yield from _unknown_fields(path, instance, schema)
    elif keyword in ("oneOf", "anyOf"):
        yield from _alternatives(path, value, instance, error)
    else:
        yield path, _at(path, _simple_message(keyword, value, instance, schema, path))


def _unknown_fields(
    path: JsonPath, instance: dict[Any, Any], schema: Any
) -> Iterator[SchemaProblem]:
    import difflib

    allowed = list(schema.get("properties", {}))
    for key in instance:
        if key in allowed:
            continue
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f'did you mean "{close[0]}"?' if close else f"allowed: {', '.join(allowed)}"
        yield (*path, _key(key)), _at(path, f"unknown field {_show(key)}; {hint}")


def _alternatives(
    path: JsonPath, value: Any, instance: Any, error: SchemaErrorLike
) -> Iterator[SchemaProblem]:
    names = [b["required"][0] for b in value if set(b) == {"required"} and len(b["required"]) == 1]
    if len(names) == len(value):
        if not isinstance(instance, dict):
            return  # "required" ignores non-mappings; the type error says it all
        given = [n for n in names if n in instance]
        choice = " or ".join(names)
        if given:
            yield path, _at(path, f"give exactly one of {choice}, not both")
        else:
            yield path, _at(path, f"missing {choice}: give exactly one of them")
        return
    best = _best_match(error)
    if best is None:
        yield path, _at(path, error.message)
    else:
        yield from explain(best)


def _best_match(error: SchemaErrorLike) -> SchemaErrorLike | None:
    """The most relevant error of a failed oneOf/anyOf branch; a ShapeError's context
    is searched without jsonschema (the shallowest error first)."""
    from registry.schema.shape_errors import ShapeError

    if isinstance(error, ShapeError):
        return min(error.context, key=lambda e: len(e.absolute_path), default=None)
    from jsonschema.exceptions import best_match

    best: SchemaErrorLike | None = best_match(error.context or ())
    return best


def _simple_message(keyword: str, value: Any, instance: Any, schema: Any, path: JsonPath) -> str:
    field = path[-1] if path else None
    if keyword == "type":
        expected = [value] if isinstance(value, str) else list(value)
        if field in _VERSION_FIELDS and _is_plain_number(instance):
            why = (
                " (unquoted, YAML reads 1.10 as the number 1.1)" if type(instance) is float else ""
            )
            return (
                f'{instance!r} is not a string; versions must be quoted strings like "1.0.0"{why}'
            )
        if path == ("version",) and _is_tombstone_branch(schema):
            return _tombstone_version(instance)
        if "number" in expected and isinstance(instance, float) and not math.isfinite(instance):
            return f"{_show(instance)} is not allowed; use a finite number{_range(schema)}"
        words = _either([_TYPE_WORDS.get(t, t) for t in expected])
        hint = boolean_hint(instance) if "boolean" in expected else None
        return f"expected {words}, got {_show(instance)}" + (f"; {hint}" if hint else "")
    if keyword == "enum":
        noun = _ENUM_NOUNS.get(str(field), str(field).replace("_", " ")) if field else "value"
        if isinstance(field, int):
            noun = "value"
        return f"unknown {noun} {_show(instance)}; use one of: {', '.join(map(str, value))}"
    if keyword == "pattern":
        hint = schema.get("patternErrorMessage") or f"it must match {value}"
        if field in TIME_FIELDS:  # the pattern bounds months and hours; say which is wrong
            hint = date_problem(instance) or hint
        return f"{_show(instance)} is not valid: {hint}"
    if keyword in ("minimum", "maximum"):
        return f"{_show(instance)} is out of range; use {_number_word(schema)}{_range(schema)}"
    if keyword == "exclusiveMinimum":
        return f"{_show(instance)} is out of range; use {_number_word(schema)} greater than {value}"
    if keyword == "minLength":
        return "must not be empty" if value == 1 else f"too short; use at least {value} characters"
    if keyword == "maxLength":
        return f"too long ({len(instance)} characters); use at most {value}"
    if keyword == "minItems":
        return "must not be empty; give at least one item"
    if keyword == "minProperties":
        return "must not be empty; give at least one entry"
    if keyword == "uniqueItems":
        return f"has duplicates ({', '.join(map(_show, duplicates(instance)[:5]))}); list each once"
    return f"{_show(instance)} breaks the {keyword!r} rule ({value!r})"


def _is_tombstone_branch(schema: Any) -> bool:
    """A pointer's ``version`` as its ``action`` selects it (deployment.schema.json then /
    else): a bare type, where the version field itself also has its pattern."""
    return schema.get("type") in ("null", "string") and "pattern" not in schema


def _needed_for(instance: Any) -> str:
    for selector in ("type", "action"):
        if isinstance(instance, dict) and selector in instance:
            return f" (needed for {selector} {_show(instance[selector])})"
    return ""


def _tombstone_version(instance: Any) -> str:
    """A pointer's version against its action: only a tombstone names none."""
    if instance is None:
        return (
            "null means nothing is active, which only a tombstone says (action: remove, written"
            ' by `promptreg undeploy`); otherwise give a quoted version like "1.0.0"'
        )
    return (
        f"{_show(instance)} cannot be given in a tombstone (action: remove), which records that"
        " nothing is active; write version: null, or deploy the version instead"
    )


def _either(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _number_word(schema: Any) -> str:
    return "a whole number" if schema.get("type") == "integer" else "a number"


def _range(schema: Any) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f" from {low} to {high}"
    if low is not None:
        return f" of at least {low}"
    if high is not None:
        return f" of at most {high}"
    return ""


def _is_plain_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return json.dumps(shown, ensure_ascii=False)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    shown = repr(value)
    return shown if len(shown) <= 60 else f"{shown[:24]}... ({len(shown)} digits)"
