"""The JSON Schemas of promptreg's file kinds: loading, cached validators, friendly messages.

The schemas in ``schemas/`` are the one source of truth for the shape of every file.
``schema_errors`` applies them with jsonschema (``promptreg check``); ``runtime_schema_errors``
applies the same files without it, with ``shapes.py`` and ``shape_errors.py`` (the runtime).
Both errors are worded here, so a file gets the same message from either. jsonschema is
imported lazily here and nowhere else, so ``import registry`` stays light for applications
that only call ``get_active``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from registry.decode import TIME_FIELDS, date_problem
from registry.schema.files import KINDS, installed_schema_text
from registry.schema.unique import duplicates
from registry.yamlio.scalars import boolean_hint

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

__all__ = ["KINDS", "format_path", "load_schema", "runtime_schema_errors", "schema_errors"]

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


class _Error(Protocol):
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


def load_schema(kind: str) -> dict[str, Any]:
    """A fresh copy of the JSON Schema of ``kind`` (one of KINDS)."""
    schema: dict[str, Any] = json.loads(installed_schema_text(kind))
    return schema


def _is_finite_number(checker: object, instance: object) -> bool:
    # YAML has .nan and .inf, JSON has neither; NaN would slip past minimum/maximum.
    if isinstance(instance, bool) or not isinstance(instance, int | float):
        return False
    return not isinstance(instance, float) or math.isfinite(instance)


@cache
def _validator_class() -> type[Validator]:
    from jsonschema import Draft7Validator, validators

    checker = Draft7Validator.TYPE_CHECKER.redefine("number", _is_finite_number)
    # The stubs leave extend() untyped; give it the signature it has.
    extend: Callable[..., type[Validator]] = validators.extend
    return extend(Draft7Validator, validators={"uniqueItems": _unique_items}, type_checker=checker)


def _unique_items(
    validator: object, unique: object, instance: object, schema: object
) -> Iterator[ValidationError]:
    # jsonschema compares every pair of items: one file with a list of 36,000 items would
    # stall the hook for minutes. One pass over a set finds the same duplicates.
    from jsonschema.exceptions import ValidationError

    if unique and isinstance(instance, list) and duplicates(instance):
        yield ValidationError(f"{instance!r} has non-unique elements")


@cache
def _validator(kind: str) -> Validator:
    return _validator_class()(load_schema(kind))


def schema_errors(kind: str, data: Any) -> list[SchemaProblem]:
    """Every distinct schema problem of ``data`` as (JSON path, message); [] when valid.

    The path leads to the offending node (for an unknown field, the field itself; for a
    missing one, the mapping that lacks it). Each message names its field, so it reads on its
    own after ``file:line:``.
    """
    validator = _validator(kind)
    if validator.is_valid(data):
        return []
    return _problems(validator.iter_errors(data))


def runtime_schema_errors(kind: str, data: Any) -> list[SchemaProblem]:
    """As ``schema_errors``, without jsonschema: the runtime's shape check (see shapes.py)."""
    from registry.schema.shape_errors import kind_errors

    return _problems(kind_errors(kind, data))


def _problems(errors: Iterable[_Error]) -> list[SchemaProblem]:
    found: dict[SchemaProblem, None] = {}
    for error in errors:
        for problem in _explain(error):
            found.setdefault(problem)
    return sorted(found, key=_sort_key)


def format_path(path: JsonPath) -> str:
    """A JSON path as people read it: ``cases[0].assert[1].value``; ``""`` for the root."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _at(path: JsonPath, text: str) -> str:
    return f"{format_path(path)}: {text}" if path else text


def _sort_key(problem: SchemaProblem) -> tuple[tuple[tuple[int, str | int], ...], str]:
    path, message = problem
    return tuple((0, p) if isinstance(p, int) else (1, str(p)) for p in path), message


def _key(value: Any) -> str | int:
    return value if isinstance(value, str | int) else str(value)


def _explain(error: _Error) -> Iterator[SchemaProblem]:
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
        # A "then" branch requires a field only for one value of "type" (eval assertions).
        why = f" (needed for type {_show(instance.get('type'))})" if "then" in schema_path else ""
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
    path: JsonPath, value: Any, instance: Any, error: _Error
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
        yield from _explain(best)


def _best_match(error: _Error) -> _Error | None:
    """The most relevant error of a failed oneOf/anyOf branch; a ShapeError's context
    is searched without jsonschema (the shallowest error first)."""
    from registry.schema.shape_errors import ShapeError

    if isinstance(error, ShapeError):
        return min(error.context, key=lambda e: len(e.absolute_path), default=None)
    from jsonschema.exceptions import best_match

    best: _Error | None = best_match(error.context or ())
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
