"""The one hardened YAML loader of promptreg.

Every file promptreg reads arrives through pull requests, so the loader trusts nothing: it walks
the parser's event stream itself (never the composer, whose C version recurses and can crash the
process on deep nesting) and refuses every YAML feature a registry file has no use for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

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
from registry.yamlio.refusals import (
    UNPRINTABLE,
    refuse_key,
    refuse_node_property,
    refuse_top,
    refuse_unprintable,
)
from registry.yamlio.scalars import MAX_FILE_BYTES, NULL, PLAIN_CACHE, resolve_plain

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "Loaded", "YamlError", "load_yaml_bytes"]

MAX_DEPTH = 32  # nesting of mappings/sequences; the top-level mapping is depth 1

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


_TOP_WORDS: dict[type, str] = {
    type(None): "null value",
    bool: "boolean",
    int: "number",
    float: "number",
    str: "string",
}


# --- the event walk -------------------------------------------------------------------------


def _walk(get_event: Callable[[], Any], path: str) -> Loaded:
    """Build the top-level mapping from parser events in one pass, refusing forbidden features."""
    # Aliases for the hot loop.
    scalar_event = ScalarEvent
    mapping_start = MappingStartEvent
    sequence_start = SequenceStartEvent
    cache_get = PLAIN_CACHE.get
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
                refuse_node_property(event, path)
            value: Any = event.value
            kind: str | None = None
            if event.implicit[0]:  # plain scalar: resolve it by the YAML 1.2 core schema
                cached = cache_get(value)
                if cached is None:
                    cached = resolve_plain(value, event, path)
                kind, resolved = cached
            else:
                resolved = value
                if event.style == '"' and UNPRINTABLE.search(value):
                    refuse_unprintable(value, path, event.start_mark.line + 1)
            if key is not None:  # the value of a mapping entry
                container[key] = resolved
                style = event.style
                text_lines[(*cpath, key)] = event.start_mark.line + (
                    2 if style == "|" or style == ">" else 1
                )
                key = None
            elif is_map:  # a mapping key
                if kind is not None:
                    refuse_key(value, kind, path, event.start_mark.line + 1)
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
            elif value == "" and kind is NULL:
                raise YamlError(
                    "the document is empty; write the file's fields as a mapping (key: value)",
                    path,
                    document_line,
                    code="yaml-empty",
                )
            else:
                refuse_top(
                    _TOP_WORDS.get(type(resolved), "scalar"), path, event.start_mark.line + 1
                )

        elif cls is mapping_start or cls is sequence_start:
            if event.anchor is not None or event.tag is not None:
                refuse_node_property(event, path)
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
                refuse_top("list", path, line)
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


# --- public loading API ---------------------------------------------------------------------


def too_large(size: int, path: str, limit: int = MAX_FILE_BYTES) -> YamlError:
    return YamlError(
        f"file is {size} bytes, over the limit of {limit} bytes"
        f" ({limit // 1024} KiB); make it smaller",
        path,
        code="yaml-too-large",
    )


def load_yaml_bytes(data: bytes, path: str) -> Loaded:
    """Load one untrusted YAML mapping from ``data``; ``path`` is used only in messages."""
    if len(data) > MAX_FILE_BYTES:
        raise too_large(len(data), path)
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
