"""The JSON Schemas of ``schemas/`` applied without jsonschema, for the runtime's hot path.

Why this module exists: ``promptreg check`` validates every file with jsonschema, while
``import registry`` must stay light (applications that only call ``get_active`` do not pay for
jsonschema, and a test asserts it is never imported). The runtime used to re-state the schema
by hand in ``records.py`` and the two copies drifted: files that ``check`` refuses decoded
without complaint. Instead of a second hand-written copy, the runtime reads the *same* schema
files and applies them with the small interpreter below, so each shape rule is written once, in
the schema. It covers exactly the Draft 7 keywords the schemas use; a schema that uses any
other keyword is refused when compiled (``UnsupportedKeyword``), so a schema change cannot
silently weaken the runtime. The errors carry the attributes of jsonschema's
``ValidationError`` that ``schemas.py`` turns into messages, so the runtime and ``check`` say
the same words; ``tests/test_decode_agreement.py`` holds the two validators to the same
verdict and message on the example-file corpus and on mutations of it.

Cost: a schema is read and its patterns compiled once per process and kind, about a
millisecond; validating one file is a walk over its few fields.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from registry.schemafiles import installed_schema_text

__all__ = ["ShapeError", "UnsupportedKeyword", "is_valid", "iter_errors", "kind_errors"]

JsonPath = tuple[str | int, ...]

# Keywords that only annotate; they never refuse a document.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "title", "description", "patternErrorMessage", "default", "examples"}
)
# Keywords handled by the subschema that holds them (``then``/``else`` by ``if``).
_KEYWORDS = frozenset(
    {
        "type", "enum", "const", "pattern", "maxLength", "minLength", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "required", "properties", "additionalProperties",
        "propertyNames", "minProperties", "items", "minItems", "uniqueItems", "oneOf", "anyOf",
        "allOf", "if", "then", "else",
    }
)  # fmt: skip


class UnsupportedKeyword(ValueError):
    """A schema uses a keyword this interpreter does not apply."""


@dataclass(frozen=True)
class ShapeError:
    """One broken rule, with the attribute names of jsonschema's ``ValidationError``."""

    validator: str
    validator_value: Any
    instance: Any
    schema: dict[str, Any]
    absolute_path: JsonPath
    absolute_schema_path: tuple[str | int, ...]
    context: tuple[ShapeError, ...] = field(default=())

    @property
    def message(self) -> str:
        return f"{self.instance!r} breaks the {self.validator!r} rule ({self.validator_value!r})"


def kind_errors(kind: str, data: Any) -> list[ShapeError]:
    """Every broken rule of ``data`` against the schema of ``kind`` (one of schemafiles.KINDS)."""
    return list(iter_errors(compiled_schema(kind), data))


@cache
def compiled_schema(kind: str) -> dict[str, Any]:
    """The schema of ``kind``, checked to use only supported keywords, its patterns compiled."""
    schema: dict[str, Any] = json.loads(installed_schema_text(kind))
    _check_keywords(schema, "#")
    return schema


def _check_keywords(schema: Any, where: str) -> None:
    if not isinstance(schema, dict):
        return
    for key, sub in schema.items():
        if key in _ANNOTATIONS:
            continue
        if key not in _KEYWORDS:
            raise UnsupportedKeyword(f"{where}: the runtime does not apply the keyword {key!r}")
        if key == "pattern":
            _regex(sub)
        elif key in ("properties",):
            for name, prop in sub.items():
                _check_keywords(prop, f"{where}/{key}/{name}")
        elif key in ("oneOf", "anyOf", "allOf"):
            for i, branch in enumerate(sub):
                _check_keywords(branch, f"{where}/{key}/{i}")
        elif isinstance(sub, dict):
            _check_keywords(sub, f"{where}/{key}")


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def is_valid(schema: dict[str, Any], instance: Any) -> bool:
    """Whether ``instance`` breaks no rule of ``schema``."""
    return next(iter_errors(schema, instance), None) is None


def iter_errors(
    schema: dict[str, Any],
    instance: Any,
    path: JsonPath = (),
    schema_path: tuple[str | int, ...] = (),
) -> Iterator[ShapeError]:
    """The broken rules of ``instance``, in the order jsonschema's Draft 7 finds them."""
    for keyword, value in schema.items():
        check = _CHECKS.get(keyword)
        if check is not None:
            yield from check(value, instance, schema, path, (*schema_path, keyword))


def _error(
    keyword: str,
    value: Any,
    instance: Any,
    schema: dict[str, Any],
    path: JsonPath,
    schema_path: tuple[str | int, ...],
    context: Sequence[ShapeError] = (),
) -> ShapeError:
    return ShapeError(keyword, value, instance, schema, path, schema_path, tuple(context))


def _is_number(value: Any) -> bool:
    # As schemas.py's type checker: YAML has .nan and .inf, JSON has neither.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def _is_type(value: Any, name: str) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if name == "number":
        return _is_number(value)
    if name == "integer":
        return _is_number(value) and (isinstance(value, int) or float(value).is_integer())
    raise UnsupportedKeyword(f"unknown type {name!r}")


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1, and containers compare element by element."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return bool(a == b)


SchemaPath = tuple[str | int, ...]
# (keyword value, instance, the schema holding the keyword, path, schema path) -> errors
Check = Callable[[Any, Any, dict[str, Any], JsonPath, SchemaPath], Iterator[ShapeError]]


def _type(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    names = [value] if isinstance(value, str) else value
    if not any(_is_type(instance, name) for name in names):
        yield _error("type", value, instance, schema, path, sp)


def _enum(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if not any(_equal(instance, option) for option in value):
        yield _error("enum", value, instance, schema, path, sp)


def _const(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if not _equal(instance, value):
        yield _error("const", value, instance, schema, path, sp)


def _pattern(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if isinstance(instance, str) and _regex(value).search(instance) is None:
        yield _error("pattern", value, instance, schema, path, sp)


def _max_length(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if isinstance(instance, str) and len(instance) > value:
        yield _error("maxLength", value, instance, schema, path, sp)


def _min_length(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if isinstance(instance, str) and len(instance) < value:
        yield _error("minLength", value, instance, schema, path, sp)


def _minimum(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if _is_number(instance) and instance < value:
        yield _error("minimum", value, instance, schema, path, sp)


def _maximum(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if _is_number(instance) and instance > value:
        yield _error("maximum", value, instance, schema, path, sp)


def _exclusive_minimum(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if _is_number(instance) and instance <= value:
        yield _error("exclusiveMinimum", value, instance, schema, path, sp)


def _exclusive_maximum(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if _is_number(instance) and instance >= value:
        yield _error("exclusiveMaximum", value, instance, schema, path, sp)


def _required(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if isinstance(instance, dict) and any(name not in instance for name in value):
        yield _error("required", value, instance, schema, path, sp)


def _properties(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if not isinstance(instance, dict):
        return
    for name, sub in value.items():
        if name in instance:
            yield from iter_errors(sub, instance[name], (*path, name), (*sp, name))


def _additional(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if not isinstance(instance, dict):
        return
    known = schema.get("properties", {})
    extras = [key for key in instance if key not in known]
    if value is False:
        if extras:
            yield _error("additionalProperties", value, instance, schema, path, sp)
    elif isinstance(value, dict):
        for key in extras:
            yield from iter_errors(value, instance[key], (*path, key), sp)


def _property_names(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if isinstance(instance, dict):
        for key in instance:
            yield from iter_errors(value, key, path, sp)


def _min_properties(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if isinstance(instance, dict) and len(instance) < value:
        yield _error("minProperties", value, instance, schema, path, sp)


def _items(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if isinstance(instance, list) and isinstance(value, dict):
        for i, item in enumerate(instance):
            yield from iter_errors(value, item, (*path, i), sp)


def _min_items(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if isinstance(instance, list) and len(instance) < value:
        yield _error("minItems", value, instance, schema, path, sp)


def _unique_items(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if not (value and isinstance(instance, list)):
        return
    for i, item in enumerate(instance):
        if any(_equal(item, other) for other in instance[:i]):
            yield _error("uniqueItems", value, instance, schema, path, sp)
            return


def _branch_errors(
    branches: Any, instance: Any, path: JsonPath, sp: SchemaPath
) -> list[list[ShapeError]]:
    return [list(iter_errors(b, instance, path, (*sp, i))) for i, b in enumerate(branches)]


def _one_of(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    results = _branch_errors(value, instance, path, sp)
    if sum(1 for errors in results if not errors) != 1:
        context = [e for errors in results for e in errors]
        yield _error("oneOf", value, instance, schema, path, sp, context)


def _any_of(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    results = _branch_errors(value, instance, path, sp)
    if all(results):
        context = [e for errors in results for e in errors]
        yield _error("anyOf", value, instance, schema, path, sp, context)


def _all_of(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    for i, branch in enumerate(value):
        yield from iter_errors(branch, instance, path, (*sp, i))


def _if(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    parent = sp[:-1]
    if is_valid(value, instance):
        if "then" in schema:
            yield from iter_errors(schema["then"], instance, path, (*parent, "then"))
    elif "else" in schema:
        yield from iter_errors(schema["else"], instance, path, (*parent, "else"))


_CHECKS: dict[str, Check] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "maxLength": _max_length,
    "minLength": _min_length,
    "minimum": _minimum,
    "maximum": _maximum,
    "exclusiveMinimum": _exclusive_minimum,
    "exclusiveMaximum": _exclusive_maximum,
    "required": _required,
    "properties": _properties,
    "additionalProperties": _additional,
    "propertyNames": _property_names,
    "minProperties": _min_properties,
    "items": _items,
    "minItems": _min_items,
    "uniqueItems": _unique_items,
    "oneOf": _one_of,
    "anyOf": _any_of,
    "allOf": _all_of,
    "if": _if,
}
