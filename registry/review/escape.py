"""Untrusted text in GitHub-flavoured Markdown: prompt content, reasons and names come from a
pull request, so none of it may open HTML, a link, emphasis, a code span, a new table cell
or row, close a code fence, or notify anyone with an @-mention."""

from __future__ import annotations

import html
import re
import string
import unicodedata

_PUNCTUATION = frozenset(string.punctuation)
# What ends a line for CommonMark or a browser, and invisible text-direction overrides (which
# can make a diff read differently from what it does).
_BREAKS = re.compile("\r\n|[\r\n\t\v\f\x85\u2028\u2029]")
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# An @-mention starts after a non-word character; a word joiner after the @ keeps it text.
_MENTION = re.compile(r"(?<![\w`])@(?=[\w-])")
WORD_JOINER = "\u2060"
ELLIPSIS = "\u2026"


def one_line(text: str, limit: int | None = None) -> str:
    """``text`` on one line: line breaks and tabs become spaces, control and bidi-override
    characters U+FFFD; cut to ``limit`` characters with an ellipsis."""
    flat = _BREAKS.sub(" ", text)
    flat = "".join(
        "\ufffd" if ch in _BIDI or unicodedata.category(ch) == "Cc" else ch for ch in flat
    )
    if limit is not None and len(flat) > limit:
        flat = flat[: max(limit - 1, 0)].rstrip() + ELLIPSIS
    return flat


def inline(text: object, limit: int | None = 300) -> str:
    """``text`` as literal Markdown inline content (a paragraph, a list item or a table cell):
    on one line, every ASCII punctuation character backslash-escaped (CommonMark allows it for
    each, and GitHub's tables honour ``\\|``), mentions defused."""
    flat = _MENTION.sub("@" + WORD_JOINER, one_line(str(text), limit))
    return "".join("\\" + ch if ch in _PUNCTUATION else ch for ch in flat)


def html_text(text: object, limit: int | None = 300) -> str:
    """``text`` for inside an HTML element (a ``<summary>``), where Markdown is not read:
    entities for ``& < > "`` and ``'``, on one line (a blank line would end the HTML block)."""
    flat = _MENTION.sub("@" + WORD_JOINER, one_line(str(text), limit))
    return html.escape(flat, quote=True)


def fence(body: str, info: str = "") -> str:
    """``body`` as a fenced code block whose fence is longer than any run of backticks in it,
    so no line of the body can close it."""
    runs = [len(m) for m in re.findall(r"`+", body)]
    ticks = "`" * max(3, max(runs, default=0) + 1)
    end = "" if body.endswith("\n") or not body else "\n"
    return f"{ticks}{info}\n{body}{end}{ticks}\n"


def code(text: str) -> str:
    """A code span for text promptreg made (an id, a command): never for untrusted text."""
    runs = [len(m) for m in re.findall(r"`+", text)]
    ticks = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"
