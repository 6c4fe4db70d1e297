"""Uniqueness of JSON values in one pass (``uniqueItems``), for jsonschema and the runtime."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any


def json_key(value: Any) -> Hashable:
    """A hashable key equal for JSON-equal values (``json_equal``), so uniqueness is one pass
    over a set: comparing every pair stalls on a list of tens of thousands of items."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("number", value)  # 1 and 1.0 are one JSON number, as json_equal has it
    if isinstance(value, list):
        return ("list", tuple(json_key(v) for v in value))
    if isinstance(value, dict):
        return ("map", frozenset((k, json_key(v)) for k, v in value.items()))
    return (type(value).__name__, value)


def duplicates(items: list[Any]) -> list[Any]:
    """The items that occur more than once (JSON equality), each once, in order."""
    seen: set[Hashable] = set()
    reported: set[Hashable] = set()
    out: list[Any] = []
    for item in items:
        key = json_key(item)
        if key in seen and key not in reported:
            reported.add(key)
            out.append(item)
        seen.add(key)
    return out
