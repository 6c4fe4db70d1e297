"""Read the messages of a new chat version from a YAML or JSON file (``new --messages-file``)."""

from __future__ import annotations

from registry.errors import LoadError, TemplateError, ValidationError
from registry.models import ROLES, Message, Problem
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
    problems: list[Problem] = []
    out: list[Message] = []
    for i, item in enumerate(raw):
        where: tuple[str | int, ...] = (_KEY, i)
        if not isinstance(item, dict) or set(item) != {"role", "content"}:
            problems.append(
                _problem(name, loaded, shift, where, "each message must be exactly {role, content}")
            )
            continue
        role, content = item["role"], item["content"]
        if role not in ROLES:
            problems.append(
                _problem(name, loaded, shift, (*where, "role"),
                         f"role must be one of {', '.join(ROLES)}, got {role!r}")
            )  # fmt: skip
            continue
        if not isinstance(content, str):
            problems.append(
                _problem(name, loaded, shift, (*where, "content"), "content must be a string")
            )
            continue
        if not content.strip():
            problems.append(_problem(name, loaded, shift, (*where, "content"), EMPTY_TEMPLATE))
            continue
        try:
            Template(content)
        except (TemplateSyntaxError, TemplateError) as exc:
            problems.append(_problem(name, loaded, shift, (*where, "content"), str(exc)))
            continue
        out.append(Message(role, content))
    if problems:
        raise ValidationError("\n".join(str(p) for p in problems), problems)
    return tuple(out)
