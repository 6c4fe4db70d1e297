"""The one hardened YAML loader of promptreg.

Every file promptreg reads arrives through pull requests, so the loader trusts nothing: it walks
the parser's event stream itself (never the composer, whose C version recurses and can crash the
process on deep nesting) and refuses every YAML feature a registry file has no use for.
"""

from __future__ import annotations

import errno
import math
import os
import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)

from registry.errors import YamlError

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "Loaded",
    "YamlError",
    "boolean_hint",
    "load_yaml_bytes",
    "load_yaml_file",
    "plain_kind",
]

MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 32  # nesting of mappings/sequences; the top-level mapping is depth 1

# Python refuses to parse longer decimal strings; the same bound keeps a hostile number from
# costing big-int or float-parsing time.
_MAX_NUMBER_CHARS = 4300

# The C parser is several times faster; only its events are used, never its composer.
_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Loaded:
    """A loaded file: its top-level mapping and the 1-based line of every node by its path."""

    data: dict[str, Any]
    lines: dict[PathKey, int]
    # Line where the text of each string value starts (after the key line for `|` / `>`).
    text_lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, path: Sequence[str | int]) -> int:
        """Line of the longest known prefix of ``path``; the top mapping's line if none is known."""
        lines = self.lines
        key = tuple(path)
        while key:
            line = lines.get(key)
            if line is not None:
                return line
            key = key[:-1]
        return lines.get((), 1)


# --- implicit scalar resolution: the YAML 1.2 core schema ------------------------------------

_NULL = "null"
_BOOL = "bool"
_INT = "int"
_FLOAT = "float"
_MERGE = "merge"

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

_KIND_WORDS = {
    _NULL: "null",
    _BOOL: "a boolean",
    _INT: "an integer",
    _FLOAT: "a number",
}

# Words YAML 1.1 (PyYAML, older tools) reads as booleans and YAML 1.2 reads as text.
_YAML11_TRUE = frozenset({"yes", "on", "y"})
_YAML11_FALSE = frozenset({"no", "off", "n"})


def plain_kind(text: str) -> str | None:
    """What the plain scalar ``text`` is under the YAML 1.2 core schema: "null", "bool",
    "int", "float", or None for text."""
    if text in _NULLS:
        return _NULL
    if text in _BOOLS:
        return _BOOL
    if text[:1] not in _NUMBER_STARTS:
        return None
    if _INT_RE.fullmatch(text) or _OCT_RE.fullmatch(text) or _HEX_RE.fullmatch(text):
        return _INT
    if text in _SPECIAL_FLOATS or _FLOAT_RE.fullmatch(text):
        return _FLOAT
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
    if kind is _FLOAT:
        special = _SPECIAL_FLOATS.get(text)
        return special if special is not None else float(text)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


_TOP_WORDS: dict[type, str] = {
    type(None): "null value",
    bool: "boolean",
    int: "number",
    float: "number",
    str: "string",
}


def _shorten(text: str) -> str:
    return repr(text) if len(text) <= 24 else repr(text[:24]) + "..."


# Registry files repeat the same short plain scalars (keys, true/false, null, small numbers)
# thousands of times; remembering how they resolve skips the regular expressions. Bounded so
# untrusted input cannot grow it without limit; only immutable values are stored.
_PLAIN_CACHE: dict[str, tuple[str | None, Any]] = {}
_CACHE_MAX_ENTRIES = 4096
_CACHE_MAX_CHARS = 64


def _resolve_plain(value: str, event: Any, path: str) -> tuple[str | None, Any]:
    """(kind, Python value) of a plain scalar by the YAML 1.2 core schema; kind None for text.

    ``<<`` is text too, but is marked so that, as a key, it is refused: YAML 1.1 tools would
    merge there."""
    kind = plain_kind(value)
    resolved: Any = value
    if kind is _NULL:
        resolved = None
    elif kind is _BOOL:
        resolved = _BOOLS[value]
    elif kind is _INT or kind is _FLOAT:
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
        kind = _MERGE
    entry = (kind, resolved)
    if len(value) <= _CACHE_MAX_CHARS and len(_PLAIN_CACHE) < _CACHE_MAX_ENTRIES:
        _PLAIN_CACHE[value] = entry
    return entry


def _tag_text(tag: str) -> str:
    if tag.startswith("tag:yaml.org,2002:"):
        return "!!" + tag[len("tag:yaml.org,2002:") :]
    return tag


# --- the event walk -------------------------------------------------------------------------


def _walk(get_event: Callable[[], Any], path: str) -> Loaded:
    """Build the top-level mapping from parser events in one pass, refusing forbidden features."""
    # Aliases for the hot loop.
    scalar_event = ScalarEvent
    mapping_start = MappingStartEvent
    sequence_start = SequenceStartEvent
    cache_get = _PLAIN_CACHE.get
    max_depth = MAX_DEPTH

    lines: dict[PathKey, int] = {}
    text_lines: dict[PathKey, int] = {}
    # Enclosing collections: (container, its path, whether it is a mapping).
    stack: list[tuple[Any, PathKey, bool]] = []
    container: Any = None
    cpath: PathKey = ()
    is_map = False
    key: str | None = None  # the key waiting for its value; None when a key comes next
    data: dict[str, Any] | None = None
    documents = 0
    document_line = 1

    while True:
        event = get_event()
        cls = event.__class__

        if cls is scalar_event:
            if event.anchor is not None or event.tag is not None:
                _refuse_node_property(event, path)
            value: Any = event.value
            kind: str | None = None
            if event.implicit[0]:  # plain scalar: resolve it by the YAML 1.2 core schema
                cached = cache_get(value)
                if cached is None:
                    cached = _resolve_plain(value, event, path)
                kind, resolved = cached
            else:
                resolved = value
            if key is not None:  # the value of a mapping entry
                container[key] = resolved
                style = event.style
                text_lines[(*cpath, key)] = event.start_mark.line + (
                    2 if style == "|" or style == ">" else 1
                )
                key = None
            elif is_map:  # a mapping key
                if kind is not None:
                    _refuse_key(value, kind, path, event.start_mark.line + 1)
                kpath = (*cpath, value)
                if value in container:
                    raise YamlError(
                        f"duplicate key {value!r} (first on line {lines[kpath]});"
                        " keep only one of them",
                        path,
                        event.start_mark.line + 1,
                        code="yaml-duplicate-key",
                    )
                lines[kpath] = event.start_mark.line + 1
                key = value
            elif container is not None:  # a sequence item
                lines[(*cpath, len(container))] = event.start_mark.line + 1
                container.append(resolved)
            elif value == "" and kind is _NULL:
                raise YamlError(
                    "the document is empty; write the file's fields as a mapping (key: value)",
                    path,
                    document_line,
                    code="yaml-empty",
                )
            else:
                _refuse_top(
                    _TOP_WORDS.get(type(resolved), "scalar"), path, event.start_mark.line + 1
                )

        elif cls is mapping_start or cls is sequence_start:
            if event.anchor is not None or event.tag is not None:
                _refuse_node_property(event, path)
            line = event.start_mark.line + 1
            if len(stack) >= max_depth:
                raise YamlError(
                    f"nesting is deeper than {max_depth} levels; flatten the structure",
                    path,
                    line,
                    code="yaml-too-deep",
                )
            new: Any = {} if cls is mapping_start else []
            if is_map:
                if key is None:
                    raise YamlError(
                        "a mapping or sequence is used as a key; keys must be plain text",
                        path,
                        line,
                        code="yaml-key-type",
                    )
                container[key] = new
                npath: PathKey = (*cpath, key)
                key = None
            elif container is not None:
                npath = (*cpath, len(container))
                lines[npath] = line
                container.append(new)
            elif cls is mapping_start:
                npath = ()
                lines[npath] = line
                data = new
            else:
                _refuse_top("list", path, line)
            stack.append((container, cpath, is_map))
            container = new
            cpath = npath
            is_map = cls is mapping_start

        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            container, cpath, is_map = stack.pop()

        elif cls is AliasEvent:
            raise YamlError(
                f"alias *{event.anchor} is not allowed; write the value out in full",
                path,
                event.start_mark.line + 1,
                code="yaml-alias",
            )

        elif cls is DocumentStartEvent:
            documents += 1
            document_line = event.start_mark.line + 1
            if documents > 1:
                raise YamlError(
                    "more than one YAML document ('---'); keep one document per file",
                    path,
                    event.start_mark.line + 1,
                    code="yaml-multi-doc",
                )

        elif cls is StreamEndEvent:
            if data is None:
                raise YamlError(
                    "the file is empty; write the file's fields as a mapping (key: value)",
                    path,
                    1,
                    code="yaml-empty",
                )
            return Loaded(data, lines, text_lines)

        elif cls is not DocumentEndEvent and cls is not StreamStartEvent:
            raise YamlError(f"unexpected YAML event {cls.__name__}", path, code="yaml-syntax")


def _refuse_node_property(event: Any, path: str) -> NoReturn:
    line = event.start_mark.line + 1
    if event.anchor is not None:
        raise YamlError(
            f"anchor &{event.anchor} is not allowed (anchors and aliases are refused);"
            " write the value out in full",
            path,
            line,
            code="yaml-alias",
        )
    raise YamlError(
        f"explicit tag {_tag_text(event.tag)} is not allowed; remove it"
        " (quote the value if it is meant as text)",
        path,
        line,
        code="yaml-tag",
    )


def _refuse_key(value: str, kind: str, path: str, line: int) -> NoReturn:
    if kind is _MERGE:
        raise YamlError(
            "merge key '<<' is not allowed; write the keys out in full",
            path,
            line,
            code="yaml-merge-key",
        )
    if value == "":
        raise YamlError(
            "empty key; give the key a name",
            path,
            line,
            code="yaml-key-type",
        )
    raise YamlError(
        f"key {value} would be read as {_KIND_WORDS[kind]}, not text;"
        f' quote it ("{value}": ...) if it is meant as a key',
        path,
        line,
        code="yaml-key-type",
    )


def _refuse_top(what: str, path: str, line: int) -> NoReturn:
    raise YamlError(
        f"the top level is a {what}, not a mapping; write the file's fields as key: value pairs",
        path,
        line,
        code="yaml-not-mapping",
    )


# --- public loading API ---------------------------------------------------------------------


def _too_large(size: int, path: str) -> YamlError:
    return YamlError(
        f"file is {size} bytes, over the limit of {MAX_FILE_BYTES} bytes"
        f" ({MAX_FILE_BYTES // 1024} KiB); make it smaller",
        path,
        code="yaml-too-large",
    )


def load_yaml_bytes(data: bytes, path: str) -> Loaded:
    """Load one untrusted YAML mapping from ``data``; ``path`` is used only in messages."""
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(len(data), path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(
            f"invalid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
            path,
            data.count(b"\n", 0, exc.start) + 1,
            code="yaml-encoding",
        ) from None
    # libyaml reads the validated bytes directly; the pure-Python reader wants text.
    source: bytes | str = text if issubclass(_LOADER, yaml.reader.Reader) else data
    try:
        loader = _LOADER(source)
        try:
            return _walk(loader.get_event, path)
        finally:
            loader.dispose()
    except YamlError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        if "nesting depth" in problem:
            # libyaml's own limit (1000) can trip before the first event of a deeply nested
            # flow collection reaches the walk.
            raise YamlError(
                f"nesting is deeper than {MAX_DEPTH} levels; flatten the structure",
                path,
                line,
                code="yaml-too-deep",
            ) from None
        if exc.context and exc.problem:
            problem = f"{problem} ({exc.context})"
        raise YamlError(
            f"YAML syntax error: {problem}; fix the YAML at this line",
            path,
            line,
            code="yaml-syntax",
        ) from None
    except yaml.reader.ReaderError as exc:
        # libyaml reports a byte offset into the bytes, the Python reader a character offset.
        newline: Any = b"\n" if isinstance(source, bytes) else "\n"
        char = exc.character
        shown = f"#x{char:04x}" if isinstance(char, int) else repr(char)
        raise YamlError(
            f"character {shown} is not allowed in YAML ({exc.reason}); remove it",
            path,
            source.count(newline, 0, exc.position) + 1,
            code="yaml-encoding",
        ) from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError, MemoryError) as exc:
        raise YamlError(
            f"cannot parse the YAML ({type(exc).__name__}: {exc}); fix the file",
            path,
            code="yaml-syntax",
        ) from None


_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def _file_kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _not_regular(mode: int, path: str) -> YamlError:
    return YamlError(
        f"is {_file_kind(mode)}, not a regular file; promptreg reads only regular files",
        path,
        code="yaml-not-regular",
    )


def load_yaml_file(path: str | os.PathLike[str], display_path: str | None = None) -> Loaded:
    """Load one untrusted YAML mapping from a regular file, checking its size before reading."""
    shown = display_path if display_path is not None else os.fspath(path)
    try:
        # lstat first so a FIFO or device is never even opened; fstat again after opening
        # in case the path was swapped in between.
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(st.st_mode, shown)
        if st.st_size > MAX_FILE_BYTES:
            raise _too_large(st.st_size, shown)
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _not_regular(stat.S_IFLNK, shown) from None
            raise
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise _not_regular(st.st_mode, shown)
            if st.st_size > MAX_FILE_BYTES:
                raise _too_large(st.st_size, shown)
            chunks = []
            remaining = MAX_FILE_BYTES + 1  # a file that grew after fstat is still caught
            while remaining > 0:
                chunk = os.read(fd, remaining)
                if not chunk:
                    break
                chunks.append(chunk)
                remaining -= len(chunk)
        finally:
            os.close(fd)
    except OSError as exc:
        raise YamlError(
            f"cannot read the file ({exc.strerror or exc}); check that it exists and is readable",
            shown,
            code="yaml-io",
        ) from None
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    return load_yaml_bytes(data, shown)
