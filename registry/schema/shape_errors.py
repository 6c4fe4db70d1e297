"""Why a file breaks its JSON Schema: the schema walked again, for a file ``shapes.py``
refused, as errors with the attribute names of jsonschema's ``ValidationError`` (the ones
``wording.py`` turns into messages). Loaded only when the runtime meets a broken file."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from registry.schema.shapes import (
    compiled_schema,
    is_number,
    is_type,
    is_valid_kind,
    json_equal,
    regex,
)
from registry.schema.unique import duplicates

__all__ = ["ShapeError", "is_valid", "iter_errors", "kind_errors"]

JsonPath = tuple[str | int, ...]


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
    """Every broken rule of ``data`` against the schema of ``kind`` (one of schemafiles.KINDS).

    A valid file, the common case, costs one call of the compiled predicate; the errors are
    collected by walking the schema only for a file that fails it."""
    if is_valid_kind(kind, data):
        return []
    return list(iter_errors(compiled_schema(kind), data))


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


SchemaPath = tuple[str | int, ...]
# (keyword value, instance, the schema holding the keyword, path, schema path) -> errors
Check = Callable[[Any, Any, dict[str, Any], JsonPath, SchemaPath], Iterator[ShapeError]]


def _type(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    names = [value] if isinstance(value, str) else value
    if not any(is_type(instance, name) for name in names):
        yield _error("type", value, instance, schema, path, sp)


def _enum(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if not any(json_equal(instance, option) for option in value):
        yield _error("enum", value, instance, schema, path, sp)


def _const(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if not json_equal(instance, value):
        yield _error("const", value, instance, schema, path, sp)


def _pattern(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if isinstance(instance, str) and regex(value).search(instance) is None:
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
    if is_number(instance) and instance < value:
        yield _error("minimum", value, instance, schema, path, sp)


def _maximum(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if is_number(instance) and instance > value:
        yield _error("maximum", value, instance, schema, path, sp)


def _exclusive_minimum(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if is_number(instance) and instance <= value:
        yield _error("exclusiveMinimum", value, instance, schema, path, sp)


def _exclusive_maximum(
    value: Any, instance: Any, schema: dict[str, Any], path: JsonPath, sp: SchemaPath
) -> Iterator[ShapeError]:
    if is_number(instance) and instance >= value:
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
    if value and isinstance(instance, list) and duplicates(instance):
        yield _error("uniqueItems", value, instance, schema, path, sp)


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
