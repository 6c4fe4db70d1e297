"""The JSON Schemas of ``schemas/`` applied without jsonschema, for the runtime's hot path.

``promptreg check`` validates every file with jsonschema, while ``import registry`` must stay
light: applications that only call ``get_active`` do not pay for jsonschema, and a test
asserts the runtime never imports it. The runtime used to restate the schemas by hand in
``decode.py``, and the two copies drifted: files that ``check`` refuses decoded without
complaint. The choices were: tighten the hand-written copy (still two statements of every
rule, kept equal only by tests); compile the schemas with jsonschema or a code generator on
the hot path (imports jsonschema, or adds a dependency and a build step); or read the *same*
schema files at runtime and apply them with a small interpreter. This module is the last:
each shape rule is written once, in the schema, and ``decode.py`` adds only what a schema
cannot say. The interpreter covers exactly the Draft 7 keywords the schemas use; a schema
with any other keyword is refused when compiled (``UnsupportedKeyword``), so a schema change
cannot silently weaken the runtime.

A valid file costs one call of the predicate each schema is compiled into here. Only a refused
file is walked again, by ``shape_errors.py``, whose errors carry the attributes of
jsonschema's ``ValidationError`` that ``wording.py`` words: the runtime and ``check`` give the
same message at the same line. ``tests/test_decode_agreement.py`` holds the two validators to
that on the whole example-file corpus and on mutations of it.

Cost: each schema is read, parsed and compiled once per process, on first use (about a
millisecond for the three the runtime reads); a valid pointer then costs a few microseconds.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from registry.errors import UnsupportedKeyword
from registry.schema.files import installed_schema_text
from registry.schema.unique import duplicates

__all__ = [
    "UnsupportedKeyword",
    "compiled_schema",
    "is_number",
    "is_type",
    "is_valid_kind",
    "json_equal",
    "predicate",
    "regex",
]


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


def is_valid_kind(kind: str, data: Any) -> bool:
    """Whether ``data`` breaks no rule of the schema of ``kind`` (one of schemafiles.KINDS)."""
    return _kind_predicate(kind)(data)


@cache
def _kind_predicate(kind: str) -> Predicate:
    return predicate(compiled_schema(kind))


@cache
def compiled_schema(kind: str) -> dict[str, Any]:
    """The schema of ``kind``, checked to use only supported keywords (cached)."""
    schema: dict[str, Any] = json.loads(installed_schema_text(kind))
    schema = _inlined(schema, schema, 0)
    _check_keywords(schema, "#")
    return schema


def _inlined(node: Any, root: dict[str, Any], depth: int) -> Any:
    """``node`` with each local ``{"$ref": "#/..."}`` replaced by the subschema it points to.
    jsonschema leaves ``$ref`` out of an error's schema path, so errors found in the inlined
    copy carry the same paths as jsonschema's. Only local refs without cycles are supported;
    annotations beside a ``$ref`` are dropped, as Draft 7 ignores them."""
    if depth > 32:
        raise UnsupportedKeyword("$ref nests too deeply (a cycle?); the runtime inlines refs")
    if isinstance(node, list):
        return [_inlined(item, root, depth) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        # Draft 7 ignores a $ref's siblings; only annotations (a description) may stand there.
        if not set(node) - {"$ref"} <= _ANNOTATIONS or not ref.startswith("#/"):
            raise UnsupportedKeyword(f"the runtime inlines only a local $ref, not {ref!r}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return _inlined(target, root, depth + 1)
    return {key: _inlined(value, root, depth) for key, value in node.items()}


# --- the fast path: a schema compiled into one predicate ----------------------------------

Predicate = Callable[[Any], bool]


def _all(tests: list[Predicate]) -> Predicate:
    if len(tests) == 1:
        return tests[0]

    return lambda value: all(one(value) for one in tests)


_STRING_RULES = frozenset({"type", "maxLength", "minLength", "pattern"})


def predicate(schema: dict[str, Any]) -> Predicate:
    """Whether a value breaks no rule of ``schema``, as one function built once; it agrees
    with ``iter_errors`` yielding nothing (tests/test_decode_agreement.py checks it)."""
    if schema.get("type") in ("string", ["string", "null"]) and _STRING_RULES.issuperset(
        key for key in schema if key not in _ANNOTATIONS
    ):
        return _string_test(schema)
    tests = [_predicate_of(key, value, schema) for key, value in schema.items()]
    kept = [t for t in tests if t is not None]
    return _all(kept) if kept else lambda value: True


def _string_test(schema: dict[str, Any]) -> Predicate:
    """The usual field, a string with a length and a pattern, in one function (the hot path)."""
    nullable = schema["type"] != "string"
    longest = schema.get("maxLength", math.inf)
    shortest = schema.get("minLength", 0)
    search = regex(schema["pattern"]).search if "pattern" in schema else None

    def test(x: Any) -> bool:
        if not isinstance(x, str):
            return nullable and x is None
        return shortest <= len(x) <= longest and (search is None or search(x) is not None)

    return test


_SIMPLE_TYPES: dict[str, type] = {
    "string": str, "object": dict, "array": list, "boolean": bool, "null": type(None),
}  # fmt: skip


def _types_test(value: Any) -> Predicate:
    names = [value] if isinstance(value, str) else list(value)
    if all(name in _SIMPLE_TYPES for name in names):
        types = tuple(_SIMPLE_TYPES[name] for name in names)
        return lambda x: isinstance(x, types)
    return lambda x: any(is_type(x, name) for name in names)


def _predicate_of(key: str, value: Any, schema: dict[str, Any]) -> Predicate | None:
    """The test of one keyword, or None for an annotation or a keyword ``if`` applies."""
    if key == "type":
        return _types_test(value)
    if key == "enum":
        return lambda x: any(json_equal(x, option) for option in value)
    if key == "const":
        return lambda x: json_equal(x, value)
    if key == "pattern":
        search = regex(value).search
        return lambda x: not isinstance(x, str) or search(x) is not None
    if key == "maxLength":
        return lambda x: not isinstance(x, str) or len(x) <= value
    if key == "minLength":
        return lambda x: not isinstance(x, str) or len(x) >= value
    if key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        within = _BOUNDS[key]
        return lambda x: not is_number(x) or within(x, value)
    if key == "required":
        return lambda x: not isinstance(x, dict) or all(name in x for name in value)
    if key == "properties":
        return _properties_test(value)
    if key == "additionalProperties":
        return _additional_test(value, schema.get("properties", {}))
    if key == "propertyNames":
        names = predicate(value)
        return lambda x: not isinstance(x, dict) or all(names(k) for k in x)
    if key == "minProperties":
        return lambda x: not isinstance(x, dict) or len(x) >= value
    if key == "items":
        item = predicate(value)
        return lambda x: not isinstance(x, list) or all(item(i) for i in x)
    if key == "minItems":
        return lambda x: not isinstance(x, list) or len(x) >= value
    if key == "uniqueItems":
        return None if not value else _unique_test
    if key in ("oneOf", "anyOf", "allOf"):
        return _combined_test(key, [predicate(branch) for branch in value])
    if key == "if":
        return _if_test(predicate(value), schema)
    return None


_BOUNDS: dict[str, Callable[[Any, Any], bool]] = {
    "minimum": lambda x, bound: x >= bound,
    "maximum": lambda x, bound: x <= bound,
    "exclusiveMinimum": lambda x, bound: x > bound,
    "exclusiveMaximum": lambda x, bound: x < bound,
}


def _properties_test(value: dict[str, Any]) -> Predicate:
    props = [(name, predicate(sub)) for name, sub in value.items()]

    def test(x: Any) -> bool:
        if isinstance(x, dict):
            for name, ok in props:
                if name in x and not ok(x[name]):
                    return False
        return True

    return test


def _additional_test(value: Any, known: dict[str, Any]) -> Predicate | None:
    names = frozenset(known)
    if value is False:
        return lambda x: not isinstance(x, dict) or x.keys() <= names
    if isinstance(value, dict):
        extra = predicate(value)
        return lambda x: (
            not isinstance(x, dict) or all(key in names or extra(item) for key, item in x.items())
        )
    return None


def _unique_test(x: Any) -> bool:
    return not isinstance(x, list) or not duplicates(x)


def _combined_test(key: str, branches: list[Predicate]) -> Predicate:
    if key == "allOf":
        return _all(branches) if branches else lambda x: True
    if key == "anyOf":
        return lambda x: any(branch(x) for branch in branches)
    return lambda x: sum(1 for branch in branches if branch(x)) == 1


def _if_test(condition: Predicate, schema: dict[str, Any]) -> Predicate:
    then = predicate(schema["then"]) if "then" in schema else None
    otherwise = predicate(schema["else"]) if "else" in schema else None

    def test(x: Any) -> bool:
        branch = then if condition(x) else otherwise
        return branch is None or branch(x)

    return test


def _check_keywords(schema: Any, where: str) -> None:
    if not isinstance(schema, dict):
        return
    for key, sub in schema.items():
        if key in _ANNOTATIONS:
            continue
        if key not in _KEYWORDS:
            raise UnsupportedKeyword(f"{where}: the runtime does not apply the keyword {key!r}")
        if key == "properties":
            for name, prop in sub.items():
                _check_keywords(prop, f"{where}/{key}/{name}")
        elif key in ("oneOf", "anyOf", "allOf"):
            for i, branch in enumerate(sub):
                _check_keywords(branch, f"{where}/{key}/{i}")
        elif isinstance(sub, dict):
            _check_keywords(sub, f"{where}/{key}")


@cache
def regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def is_number(value: Any) -> bool:
    # As validate.py's type checker: YAML has .nan and .inf, JSON has neither.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def is_type(value: Any, name: str) -> bool:
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
        return is_number(value)
    if name == "integer":
        return is_number(value) and (isinstance(value, int) or float(value).is_integer())
    raise UnsupportedKeyword(f"unknown type {name!r}")


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1, and containers compare element by element."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return bool(a == b)
