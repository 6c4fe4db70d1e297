"""A fast path for the flat files promptreg writes (a pointer: ``key: scalar`` lines and
full-line comments), read without the YAML parser; anything else is left to ``load.py``.

``load_flat`` answers only when the text is in a strict subset whose meaning is certain (the
same mapping ``load_yaml_bytes`` would return); otherwise it returns None and the caller loads
the file with the hardened loader, which also gives every error its message.
"""

from __future__ import annotations

import re
from typing import Any

from registry.yamlio.scalars import BOOL, MAX_FILE_BYTES, NULL, plain_kind

# One entry: a plain key, then nothing (null), a double-quoted string without escapes, a
# single-quoted string without quotes inside, or a plain scalar that cannot start with an
# indicator and holds neither ":" nor "#" (so it is neither a nested key nor a comment).
# Printable ASCII only: no tab, no carriage return (a line break to YAML), no trailing space.
_ENTRY = (
    r"([A-Za-z_][A-Za-z0-9_]*):"
    r"( \"[ !#-\[\]-~]*\"| '[ -&(-~]*'| [A-Za-z0-9_.()<=~$^+;/](?:[ !\"$-9;-~]*[!\"$-9;-~])?)?"
)
# A full-line comment or an empty line, whose text cannot matter.
_SKIP = r"(?:#[ -~]*)?"
_DOCUMENT = re.compile(rf"(?:(?:{_SKIP}|{_ENTRY})(?:\n|\Z))*", re.ASCII)
_ENTRIES = re.compile(rf"^{_ENTRY}$", re.ASCII | re.MULTILINE)
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_UNSURE = object()


def load_flat(data: bytes) -> dict[str, Any] | None:
    """The mapping of a flat file, or None when it is not one this fast path is sure about."""
    if len(data) > MAX_FILE_BYTES or not data.isascii():
        return None
    text = data.decode("ascii")
    if _DOCUMENT.fullmatch(text) is None:
        return None
    out: dict[str, Any] = {}
    for key, raw in _ENTRIES.findall(text):
        if key in out or plain_kind(key) is not None:
            return None  # the loader's duplicate-key and non-text-key errors
        value = _value(raw)
        if value is _UNSURE:
            return None
        out[key] = value
    return out or None


def _value(raw: str) -> Any:
    """The value after ``key:`` (its leading space included)."""
    if not raw:
        return None  # "key:" with nothing after it
    if raw[1] == '"' or raw[1] == "'":
        return raw[2:-1]
    plain = raw[1:]
    kind = plain_kind(plain)
    if kind is None:
        return plain
    if kind is NULL:
        return None
    if kind is BOOL:
        return _BOOLS[plain]
    return _UNSURE  # numbers: left to the loader and its limits
