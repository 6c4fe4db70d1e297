"""check's fast "is it valid" path: the JSON Schemas compiled by fastjsonschema.

``schema_errors`` (validate.py) asks ``surely_valid`` first and returns [] when it says yes;
any other answer sends the document to jsonschema, which decides and words every problem.
So this path may refuse a valid document (it only costs time) but must never accept one
jsonschema refuses. Where the two libraries differ, the difference is closed here:

- non-finite numbers: jsonschema runs with a type checker that refuses NaN and infinities as
  numbers (validate.py); fastjsonschema takes them. A document holding one (YAML ``.nan``,
  ``.inf``, ``1e999``) is never accepted here: ``_plain`` walks it first (under a
  microsecond for a version file) and also turns away any value that is not exactly one of
  JSON's (a tuple passes fastjsonschema as an array, not jsonschema).
- the schemas are the ones the runtime applies (``shapes.compiled_schema``): local refs
  inlined, only the Draft 7 keywords promptreg uses, nothing fetched from anywhere; formats
  are off and defaults are never written into the document, as with jsonschema.
- anything fastjsonschema raises, not just its validation error, means "ask jsonschema".

``enum``/``const`` (bool is not 1), ``uniqueItems`` (1 equals 1.0, True is not 1), integer
(1.0 is one) and ``pattern`` (fastjsonschema reads ``$`` as ``\\Z``; each of our patterns
ends in ``$(?!\\n)``, the same thing) agree with jsonschema as fastjsonschema 2.22 compiles
them; tests/test_fast_schema.py holds the two to one verdict on the example corpus and on
thousands of mutations of it.

Cost: compiling the four schemas takes tens of milliseconds, once per process (``warm`` does
it before check forks its workers); a valid version file then costs a few microseconds.
fastjsonschema is imported here only, and only by ``check``: never by ``import registry``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

_isfinite = math.isfinite


@cache
def _compiled(kind: str) -> Callable[[Any], Any]:
    import fastjsonschema

    from registry.schema.shapes import compiled_schema

    # A copy: fastjsonschema keeps the definition, and the runtime's cached schema is shared.
    schema = json.loads(json.dumps(compiled_schema(kind)))
    schema.pop("$id", None)  # a name, not an address to resolve against
    compiled: Callable[[Any], Any] = fastjsonschema.compile(
        schema, use_default=False, use_formats=False
    )
    return compiled


def warm(kinds: Iterable[str]) -> None:
    """Compile the validators of ``kinds`` now (before forking, so workers share them)."""
    for kind in kinds:
        _compiled(kind)


def surely_valid(kind: str, data: Any) -> bool:
    """True only when ``data`` is valid against the schema of ``kind``; False: ask jsonschema."""
    if not _plain(data):
        return False
    try:
        _compiled(kind)(data)
    except Exception:  # every failure of the fast path means "ask jsonschema"
        return False
    return True


def _plain(value: Any) -> bool:
    """Whether ``value`` holds only JSON's values (exact types: dict with text keys, list, str,
    int, bool, None) and finite floats."""
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return True
    if t is float:
        return _isfinite(value)
    if t is dict:
        return all(
            type(key) is str and (type(item) is str or _plain(item)) for key, item in value.items()
        )
    if t is list:
        return all(type(item) is str or _plain(item) for item in value)
    return False
