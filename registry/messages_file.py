"""Read the messages of a new chat version from a YAML or JSON file (``new --messages-file``)."""

from __future__ import annotations

from functools import cache
from typing import Any

from registry.errors import LoadError, TemplateError, ValidationError
from registry.models import Message, Problem
from registry.schema.shape_errors import iter_errors
from registry.schema.shapes import Predicate, compiled_schema, predicate
from registry.schema.wording import JsonPath, explain
from registry.template import Template, TemplateSyntaxError
from registry.yamlio.load import Loaded, load_yaml_bytes

_KEY = "messages"


def _as_mapping(data: bytes) -> tuple[bytes, int]:
    """The file as the mapping ``messages: <the file>`` (the hardened loader reads mappings
    only) and how many lines that adds before the file's first line."""
    lines = data.split(b"\n")
    # A document start marker would end the wrapping mapping; it carries nothing here.
    lines = [b"#" + ln if ln.rstrip() == b"---" else ln for ln in lines]
    return b"%s:\n" % _KEY.encode() + b"\n".join(b"  " + ln for ln in lines), 1


EMPTY_TEMPLATE = "the template is empty or only spaces; write the prompt text"
_EXPECTED = (
    "give the messages as a non-empty list of {role, content}, e.g."
    " `- {role: system, content: ...}`"
)


def _is_blank(data: bytes) -> bool:
    """Nothing but blank lines, comments and document markers."""
    for raw in data.splitlines():
        line = raw.strip()
        if line and not line.startswith(b"#") and line not in (b"---", b"..."):
            return False
    return True


def _is_list(data: bytes) -> bool:
    for raw in data.splitlines():
        line = raw.strip()
        if line and not line.startswith(b"#") and line != b"---":
            return line.startswith((b"-", b"["))
    return False


def _problem(
    name: str, loaded: Loaded, shift: int, where: tuple[str | int, ...], msg: str
) -> Problem:
    return Problem("messages", name, max(1, loaded.line_of(where) - shift), msg)


@cache
def _messages_schema() -> dict[str, Any]:
    """The ``messages`` rule of the version schema: the one statement of what a chat message
    is (a known role, exactly role and content, a content that is not blank)."""
    schema: dict[str, Any] = compiled_schema("prompt-version")["properties"][_KEY]
    return schema


@cache
def _messages_test() -> Predicate:
    return predicate(_messages_schema())


def _schema_problems(raw: list[Any], prefix: JsonPath) -> list[tuple[JsonPath, str]]:
    """The schema's problems of the messages, worded as ``check`` words them, with paths
    from ``prefix`` (the file's own structure: ``[1].role`` in a list, ``messages[1].role``
    under a ``messages`` key)."""
    if _messages_test()(raw):
        return []
    found: dict[tuple[JsonPath, str], None] = {}
    for error in iter_errors(_messages_schema(), raw, prefix):
        for problem in explain(error):
            found.setdefault(problem)
    return list(found)


def load_messages(data: bytes, name: str) -> tuple[Message, ...]:
    """Messages from ``data`` (a list of ``{role, content}``, or a mapping whose ``messages``
    is that list); raises ValidationError naming ``name`` and the line of every problem."""
    shift = 0
    last_line = data.count(b"\n") + 1
    if _is_blank(data):
        raise ValidationError(f"{name}:1: the file is empty; {_EXPECTED}")
    if _is_list(data):
        data, shift = _as_mapping(data)
    try:
        loaded = load_yaml_bytes(data, name)
    except LoadError as exc:
        if not shift or exc.line is None:
            raise
        line = min(max(1, exc.line - shift), last_line)
        raise LoadError(exc.bare_message, name, line) from None
    raw = loaded.data.get(_KEY)
    if set(loaded.data) != {_KEY} or not isinstance(raw, list) or not raw:
        raise ValidationError(f"{name}:1: {_EXPECTED}")
    # A list file was wrapped as ``messages: <list>``; its paths start at the list.
    prefix: JsonPath = () if shift else (_KEY,)
    found = _schema_problems(raw, prefix)
    problems = [
        _problem(name, loaded, shift, (_KEY, *where[len(prefix) :]), message)
        for where, message in found
    ]
    broken = {where[len(prefix)] for where, _ in found if len(where) > len(prefix)}
    out: list[Message] = []
    for i, item in enumerate(raw):
        if i in broken:
            continue
        try:
            Template(item["content"])
        except (TemplateSyntaxError, TemplateError) as exc:
            problems.append(_problem(name, loaded, shift, (_KEY, i, "content"), str(exc)))
            continue
        out.append(Message(item["role"], item["content"]))
    problems.sort(key=lambda p: p.line or 0)
    if problems:
        raise ValidationError("\n".join(str(p) for p in problems), problems)
    return tuple(out)
