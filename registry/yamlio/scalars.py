"""Implicit scalar resolution by the YAML 1.2 core schema: which plain scalars are null,
booleans or numbers, and a bounded cache of how the common ones resolve."""

from __future__ import annotations

import math
import re
from typing import Any

from registry.errors import YamlError

# The largest registry file read (load.py; here so that flat.py needs no YAML parser).
MAX_FILE_BYTES = 256 * 1024
# Python refuses to parse longer decimal strings; the same bound keeps a hostile number from
# costing big-int or float-parsing time.
_MAX_NUMBER_CHARS = 4300
# Every integer accepted prints in decimal within that limit (2**14000 has 4,215 digits).
_MAX_INT_BITS = 14_000


NULL = "null"
BOOL = "bool"
INT = "int"
FLOAT = "float"
MERGE = "merge"

# YAML 1.2.2, section 10.3.2 (core schema tag resolution). Everything else is text: no
# yes/no/on/off booleans, no sexagesimal or "_"-separated numbers, no timestamps (they stay
# strings so JSON Schema sees what the author wrote), no "=" value key.
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT_RE = re.compile(r"[-+]?[0-9]+")
_OCT_RE = re.compile(r"0o[0-7]+")
_HEX_RE = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT_RE = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INFS = {".inf", ".Inf", ".INF"}
_SPECIAL_FLOATS: dict[str, float] = {
    **{sign + word: -math.inf if sign == "-" else math.inf for word in _INFS for sign in "+-"},
    **{word: math.inf for word in _INFS},
    ".nan": math.nan,
    ".NaN": math.nan,
    ".NAN": math.nan,
}
# Only these first characters can start a scalar that is not text.
_NUMBER_STARTS = frozenset("-+.0123456789")

KIND_WORDS = {
    NULL: "null",
    BOOL: "a boolean",
    INT: "an integer",
    FLOAT: "a number",
}

# Words YAML 1.1 (PyYAML, older tools) reads as booleans and YAML 1.2 reads as text.
_YAML11_TRUE = frozenset({"yes", "on", "y"})
_YAML11_FALSE = frozenset({"no", "off", "n"})


def plain_kind(text: str) -> str | None:
    """What the plain scalar ``text`` is under the YAML 1.2 core schema: "null", "bool",
    "int", "float", or None for text."""
    if text in _NULLS:
        return NULL
    if text in _BOOLS:
        return BOOL
    if text[:1] not in _NUMBER_STARTS:
        return None
    if _INT_RE.fullmatch(text) or _OCT_RE.fullmatch(text) or _HEX_RE.fullmatch(text):
        return INT
    if text in _SPECIAL_FLOATS or _FLOAT_RE.fullmatch(text):
        return FLOAT
    return None


def boolean_hint(value: object) -> str | None:
    """What to write instead of ``value`` where a boolean is expected, when ``value`` is text
    meant as one (``yes``, ``off``, a quoted ``"true"``); None otherwise."""
    if not isinstance(value, str):
        return None
    word = value.strip().lower()
    if word in ("true", "false"):
        return f"write {word} without quotes"
    if word in _YAML11_TRUE or word in _YAML11_FALSE:
        meant = "true" if word in _YAML11_TRUE else "false"
        return f"write {meant}: only true and false are booleans (YAML 1.2), {value} is text"
    return None


def _number(kind: str, text: str) -> int | float:
    """The int or float of a plain scalar ``plain_kind`` resolved; ValueError when unreasonable."""
    if len(text) > _MAX_NUMBER_CHARS:
        raise ValueError(f"the number is {len(text)} characters long")
    if kind is FLOAT:
        special = _SPECIAL_FLOATS.get(text)
        return special if special is not None else float(text)
    if text.startswith("0o"):
        value = int(text[2:], 8)
    elif text.startswith("0x"):
        value = int(text[2:], 16)
    else:
        value = int(text, 10)
    # Hex and octal are not bounded by Python's decimal limit, but printing the value is:
    # 4,000 hex digits make an integer no message or JSON output could show.
    if value.bit_length() > _MAX_INT_BITS:
        raise ValueError("it has more than 4,200 decimal digits")
    return value


def _shorten(text: str) -> str:
    return repr(text) if len(text) <= 24 else repr(text[:24]) + "..."


# Registry files repeat the same short plain scalars (keys, true/false, null, small numbers)
# thousands of times; remembering how they resolve skips the regular expressions. Bounded so
# untrusted input cannot grow it without limit; only immutable values are stored.
PLAIN_CACHE: dict[str, tuple[str | None, Any]] = {}
_CACHE_MAX_ENTRIES = 4096
_CACHE_MAX_CHARS = 64


def resolve_plain(value: str, event: Any, path: str) -> tuple[str | None, Any]:
    """(kind, Python value) of a plain scalar by the YAML 1.2 core schema; kind None for text.

    ``<<`` is text too, but is marked so that, as a key, it is refused: YAML 1.1 tools would
    merge there."""
    kind = plain_kind(value)
    resolved: Any = value
    if kind is NULL:
        resolved = None
    elif kind is BOOL:
        resolved = _BOOLS[value]
    elif kind is INT or kind is FLOAT:
        try:
            resolved = _number(kind, value)
        except (ValueError, OverflowError) as exc:
            raise YamlError(
                f"the number {_shorten(value)} cannot be represented ({exc});"
                " quote it if it is meant as text",
                path,
                event.start_mark.line + 1,
                code="yaml-number",
            ) from None
    elif value == "<<":
        kind = MERGE
    entry = (kind, resolved)
    if len(value) <= _CACHE_MAX_CHARS and len(PLAIN_CACHE) < _CACHE_MAX_ENTRIES:
        PLAIN_CACHE[value] = entry
    return entry
