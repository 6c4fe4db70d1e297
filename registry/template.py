"""Strict ``{name}`` templates: parsed once, rendered once, never re-formatted.

Only plain identifiers are placeholders. ``{{`` and ``}}`` are literal braces. Attribute
access, indexing, conversions, format specs, positional fields and unbalanced braces are
syntax errors, so a template from a pull request can never reach into Python objects the way
``str.format`` would let it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from registry.errors import TemplateError
from registry.errors import TemplateSyntaxError as TemplateSyntaxError  # re-exported

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_TOKEN_RE = re.compile(r"\{\{|\}\}|\{|\}")
ALLOWED_TYPES = (str, int, float, bool)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


_LITERAL_BRACES = "literal braces are written {{ and }}"


def _field_error(text: str, start: int, inner: str) -> TemplateSyntaxError:
    shown = inner if len(inner) <= 40 else inner[:37] + "..."
    # What comes before any ':', '!', '.' or '[' is the would-be name: "a" in {a:>9}.
    name = re.split(r"[:!.\[]", inner, maxsplit=1)[0]
    if inner == "" or name.isdigit():
        why = "positional fields are not allowed; name the placeholder, e.g. {query}"
    elif _IDENT_RE.fullmatch(inner.strip()) is not None:
        # "{ x }": a placeholder has no spaces; doubled braces are literal text, not a variable.
        bare = inner.strip()
        why = (
            f"a placeholder has no spaces inside its braces: write {{{bare}}} for the variable"
            f" {bare}, or {{{{{inner}}}}} for the literal text {{{inner}}}"
        )
    elif _IDENT_RE.fullmatch(name) is None:
        # Not a name at all: text such as a JSON example {"a": 1} meant literally.
        why = f"a placeholder is a plain name like {{query}}; {_LITERAL_BRACES}"
        if len(inner) <= 40:
            why += f" (write {{{{{inner}}}}} for the text {{{inner}}})"
    elif "!" in inner:
        why = "conversions (!r, !s, !a) are not allowed"
    elif ":" in inner:
        why = f"format specs are not allowed; format the value before rendering ({_LITERAL_BRACES})"
    elif "." in inner or "[" in inner:
        why = "attribute access and indexing are not allowed; pass the value itself"
    else:
        why = "a placeholder must be a plain identifier (letters, digits, '_')"
    return TemplateSyntaxError(
        f"invalid placeholder {{{shown}}} at line {_line_of(text, start)}: {why}",
        start,
        _line_of(text, start),
    )


def parse(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split ``text`` into literal chunks and field names (``len(chunks) == len(fields) + 1``)."""
    chunks: list[str] = []
    fields: list[str] = []
    buf: list[str] = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN_RE.search(text, pos)
        if m is None:
            buf.append(text[pos:])
            break
        buf.append(text[pos : m.start()])
        tok = m.group()
        if tok == "{{":
            buf.append("{")
            pos = m.end()
        elif tok == "}}":
            buf.append("}")
            pos = m.end()
        elif tok == "}":
            raise TemplateSyntaxError(
                f"unbalanced '}}' at line {_line_of(text, m.start())}: write '}}}}' for a"
                " literal brace",
                m.start(),
                _line_of(text, m.start()),
            )
        else:
            close = text.find("}", m.end())
            if close == -1:
                raise TemplateSyntaxError(
                    f"unbalanced '{{' at line {_line_of(text, m.start())}: close the"
                    f" placeholder; {_LITERAL_BRACES}",
                    m.start(),
                    _line_of(text, m.start()),
                )
            inner = text[m.end() : close]
            nested = inner.find("{")
            if nested != -1:
                # "{name, and {other}": the first brace was never closed.
                raise TemplateSyntaxError(
                    f"unbalanced '{{' at line {_line_of(text, m.start())}: close the"
                    f" placeholder; {_LITERAL_BRACES}",
                    m.start(),
                    _line_of(text, m.start()),
                )
            if _IDENT_RE.fullmatch(inner) is None:
                raise _field_error(text, m.start(), inner)
            chunks.append("".join(buf))
            buf = []
            fields.append(inner)
            pos = close + 1
    chunks.append("".join(buf))
    return tuple(chunks), tuple(fields)


class Template:
    """A parsed template; ``fields`` lists placeholder names in order (repeats kept)."""

    __slots__ = ("_chunks", "fields", "text")

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise TemplateError(f"a template must be a string, got {type(text).__name__}")
        self.text = text
        self._chunks, self.fields = parse(text)

    def render(self, values: Mapping[str, Any]) -> str:
        """Substitute every placeholder once; values are inserted verbatim, never re-parsed."""
        chunks = self._chunks
        out = [chunks[0]]
        for i, name in enumerate(self.fields):
            try:
                value = values[name]
            except KeyError:
                raise TemplateError(f"missing variable {name!r}") from None
            if not isinstance(value, ALLOWED_TYPES):
                raise TemplateError(
                    f"variable {name!r} must be str, int, float or bool, got {type(value).__name__}"
                )
            out.append(value if isinstance(value, str) else str(value))
            out.append(chunks[i + 1])
        return "".join(out)


_MUSTACHE_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}", re.ASCII)


def mustache_placeholders(text: str) -> tuple[tuple[str, int], ...]:
    """``{{name}}`` spots of a valid template, as (text, 1-based line): the placeholder style of
    Mustache and Jinja, which renders here as the literal text ``{name}``. Scanned like
    ``parse`` so that ``{{{name}}}`` (a placeholder in literal braces) is not one."""
    if "{{" not in text:
        return ()  # most templates: one scan in C instead of a loop over every brace
    found: list[tuple[str, int]] = []
    pos = 0
    while (m := _TOKEN_RE.search(text, pos)) is not None:
        tok = m.group()
        if tok == "{{" and (hit := _MUSTACHE_RE.match(text, m.start())) is not None:
            found.append((hit.group(), _line_of(text, m.start())))
            pos = hit.end()
        elif tok == "{":
            close = text.find("}", m.end())
            pos = m.end() if close == -1 else close + 1
        else:
            pos = m.end()
    return tuple(found)
