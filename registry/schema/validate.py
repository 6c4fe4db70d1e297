"""The JSON Schemas of promptreg's file kinds: loading, cached validators, the problem list.

The schemas in ``schemas/`` are the one source of truth for the shape of every file.
``schema_errors`` applies them with jsonschema (``promptreg check``), after a compiled fast
path that only ever says "valid" (``fast.py``); ``runtime_schema_errors``
applies the same files without it, with ``shapes.py`` and ``shape_errors.py`` (the runtime).
Both errors are worded by ``wording.py``, so a file gets the same message from either.
jsonschema is imported lazily, here and in ``wording.py`` only, so ``import registry`` stays
light for applications that only call ``get_active``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from registry.schema.files import KINDS, installed_schema_text
from registry.schema.unique import duplicates
from registry.schema.wording import (
    SchemaErrorLike,
    SchemaProblem,
    explain,
    format_path,
)

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

__all__ = [
    "KINDS",
    "case_row_errors",
    "format_path",
    "load_schema",
    "runtime_schema_errors",
    "schema_errors",
]


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
    from registry.schema.fast import surely_valid

    if surely_valid(kind, data):
        return []  # jsonschema is imported only when some file is refused
    validator = _validator(kind)
    if validator.is_valid(data):
        return []
    return _problems(validator.iter_errors(data))


def warm_validators(kinds: Iterable[str]) -> None:
    """Compile the fast validators of ``kinds`` now, e.g. before forking workers."""
    from registry.schema.fast import warm

    warm(kinds)


@cache
def _row_validator() -> Validator:
    case = dict(load_schema("eval-suite")["properties"]["cases"]["items"])
    case["required"] = []  # a row's name is optional: it defaults to file:line
    return _validator_class()(case)


def case_row_errors(data: Any) -> list[SchemaProblem]:
    """Schema problems of one row of a ``cases_file``: a suite case whose name is optional;
    paths are relative to the row."""
    validator = _row_validator()
    if validator.is_valid(data):
        return []
    return _problems(validator.iter_errors(data))


def runtime_schema_errors(kind: str, data: Any) -> list[SchemaProblem]:
    """As ``schema_errors``, without jsonschema: the runtime's shape check (see shapes.py)."""
    from registry.schema.shape_errors import kind_errors

    return _problems(kind_errors(kind, data))


def _problems(errors: Iterable[SchemaErrorLike]) -> list[SchemaProblem]:
    found: dict[SchemaProblem, None] = {}
    for error in errors:
        for problem in explain(error):
            found.setdefault(problem)
    return sorted(found, key=_sort_key)


def _sort_key(problem: SchemaProblem) -> tuple[tuple[tuple[int, str | int], ...], str]:
    path, message = problem
    return tuple((0, p) if isinstance(p, int) else (1, str(p)) for p in path), message
