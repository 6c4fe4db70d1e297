"""The YAML features a registry file has no use for, refused with a message that says what to
write instead: tags, anchors, aliases, merge keys, non-text keys, a top level that is not a
mapping."""

from __future__ import annotations

import re
from typing import Any, NoReturn

from registry.errors import YamlError
from registry.yamlio.scalars import KIND_WORDS, MERGE


def tag_text(tag: str) -> str:
    if tag.startswith("tag:yaml.org,2002:"):
        return "!!" + tag[len("tag:yaml.org,2002:") :]
    return tag


def refuse_node_property(event: Any, path: str) -> NoReturn:
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
        f"explicit tag {tag_text(event.tag)} is not allowed; remove it"
        " (quote the value if it is meant as text)",
        path,
        line,
        code="yaml-tag",
    )


def refuse_key(value: str, kind: str, path: str, line: int) -> NoReturn:
    if kind is MERGE:
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
        f"key {value} would be read as {KIND_WORDS[kind]}, not text;"
        f' quote it ("{value}": ...) if it is meant as a key',
        path,
        line,
        code="yaml-key-type",
    )


def refuse_top(what: str, path: str, line: int) -> NoReturn:
    raise YamlError(
        f"the top level is a {what}, not a mapping; write the file's fields as key: value pairs",
        path,
        line,
        code="yaml-not-mapping",
    )


# What a YAML file may not hold raw (the reader refuses it), so not as an escape either: a NUL
# ("\0") or another control character, or a lone surrogate ("\ud800") no UTF-8 can encode.
UNPRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def refuse_unprintable(value: str, path: str, line: int) -> NoReturn:
    m = UNPRINTABLE.search(value)
    assert m is not None
    raise YamlError(
        f"the quoted text holds the character U+{ord(m.group()):04X} as an escape; a file"
        " may not hold it raw and promptreg refuses it escaped too: remove it",
        path,
        line,
        code="yaml-character",
    )
