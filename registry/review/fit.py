"""A Markdown document within a size limit: GitHub refuses a comment over 65,536 characters,
so blocks that do not fit are shortened (a table loses rows, a diff lines) or left out, always
whole, and a note at the end says so."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from registry.review.escape import fence

# Comfortably below GitHub's 65,536: a comment tool may add its own lines.
MAX_CHARS = 60_000
_NOTE_ROOM = 400


def size(text: str) -> int:
    """The length GitHub's limit may count: UTF-16 code units (an emoji is two), never less
    than the number of characters."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Block:
    """One self-contained piece of the document (a paragraph, a table, a details section),
    with ``fit``, given the room left, a shorter form that fits (or None)."""

    text: str
    fit: Callable[[int], str | None] | None = None


def assemble(blocks: Sequence[Block], limit: int = MAX_CHARS, note: str = "") -> str:
    """The blocks in order, each whole, within ``limit`` (``size``); with ``note`` appended
    (and a count of what was left out) when any block was shortened or left out."""
    out: list[str] = []
    used, shortened, omitted = 0, 0, 0
    for b in blocks:
        room = limit - used - _NOTE_ROOM
        text = b.text
        if size(b.text) + 1 > room:
            short = b.fit(room - 1) if b.fit is not None and room > 1 else None
            if short is None:
                omitted += 1
                continue
            text = short
            shortened += 1
        out.append(text)
        used += size(text) + 1
    if shortened or omitted:
        what = []
        if shortened:
            what.append(f"{shortened} section(s) shortened")
        if omitted:
            what.append(f"{omitted} left out")
        out.append(f"_{', '.join(what)} to stay within {limit:,} characters. {note}_\n")
    return "\n".join(out)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], more: str = "") -> Block:
    """A GFM table of cells that are already escaped; shortened by rows, with ``more`` (a
    sentence) saying how many are not shown."""

    def render(n: int) -> str:
        lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
        lines += ["| " + " | ".join(r) + " |" for r in rows[:n]]
        text = "\n".join(lines) + "\n"
        if n < len(rows):
            text += f"\n_{len(rows) - n} more row(s) not shown. {more}_\n"
        return text

    def fit(room: int) -> str | None:
        lo, hi = 0, len(rows)
        while lo < hi:  # the most rows that fit
            mid = (lo + hi + 1) // 2
            if size(render(mid)) <= room:
                lo = mid
            else:
                hi = mid - 1
        text = render(lo)
        return text if lo > 0 and size(text) <= room else None

    return Block(render(len(rows)), fit)


def details(summary_html: str, before: str, diff: str, after_note: str) -> Block:
    """A collapsible section: ``summary_html`` (escaped for HTML), Markdown ``before`` the
    diff, and the diff fenced; shortened by cutting the diff's lines, saying how many
    (``after_note`` tells where to see it whole)."""

    def render(body: str, cut: int) -> str:
        note = f"\n_{cut} more line(s) not shown. {after_note}_\n" if cut else ""
        code = fence(body, "diff") if body else ""
        parts = [f"<details><summary>{summary_html}</summary>\n", before, code + note]
        return "\n".join(p for p in parts if p) + "\n</details>\n"

    lines = diff.splitlines(keepends=True)

    def fit(room: int) -> str | None:
        lo, hi = 0, len(lines)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if size(render("".join(lines[:mid]), len(lines) - mid)) <= room:
                lo = mid
            else:
                hi = mid - 1
        text = render("".join(lines[:lo]), len(lines) - lo)
        return text if size(text) <= room else None

    return Block(render(diff, 0), fit)
