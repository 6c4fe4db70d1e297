"""What a person sees: JSON, and tables that fit the terminal."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def emit_json(data: Any) -> None:
    import json

    click.echo(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False))


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    width: int | None = None,
    breakable: Sequence[str] | None = None,
) -> None:
    """Aligned columns; on a terminal the widest columns wrap at spaces to fit its width
    (``width`` overrides it), breaking a long word only when nothing else fits; piped output
    is never wrapped. ``breakable`` names the columns whose words are broken first (default:
    all); the others break only when that is still not enough."""
    cells = [[("-" if c is None else str(c)) for c in r] for r in rows]
    widths = [len(h) for h in headers]
    for r in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, r, strict=True)]
    width = width if width is not None else terminal_width()
    if width is not None:
        # A column narrows down to its header or its longest word, whichever is wider; when
        # that is still too wide, long words are broken, down to the header's width.
        least = least_widths(headers, cells)
        widths = fit_widths(widths, least, width)
        if breakable is None:
            widths = fit_widths(widths, [len(h) for h in headers], width)
        else:
            # Only the named columns break words, and never below a readable width: a line a
            # little wider than the terminal reads better than text cut every few letters.
            floor = [
                min(m, max(len(h), MIN_BROKEN)) if h in breakable else m
                for h, m in zip(headers, least, strict=True)
            ]
            widths = fit_widths(widths, floor, width)
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*headers).rstrip()]
    for r in cells:
        if width is None:  # piped: never wrapped
            out.append(fmt.format(*r).rstrip())
            continue
        wrapped = [_wrap(c, w) for c, w in zip(r, widths, strict=True)]
        for i in range(max(len(lines) for lines in wrapped)):
            line = [lines[i] if i < len(lines) else "" for lines in wrapped]
            out.append(fmt.format(*line).rstrip())
    click.echo("\n".join(out))  # one write, not one per line


# The narrowest a column whose words may be broken gets.
MIN_BROKEN = 8


def least_widths(headers: Sequence[str], cells: Sequence[Sequence[str]]) -> list[int]:
    """Per column, the wider of its header and its longest word (narrowest without breaking
    a word)."""
    least = [len(h) for h in headers]
    for r in cells:
        least = [max(m, *(len(w) for w in c.split()), 0) for m, c in zip(least, r, strict=True)]
    return least


def fits_unbroken(headers: Sequence[str], rows: Sequence[Sequence[object]], width: int) -> bool:
    """Whether ``table`` can fit ``rows`` in ``width`` columns without breaking a word."""
    cells = [[("-" if c is None else str(c)) for c in r] for r in rows]
    return sum(least_widths(headers, cells)) + 2 * (len(headers) - 1) <= width


def terminal_width() -> int | None:
    """The terminal's columns when standard output is one, else None (do not wrap)."""
    if not sys.stdout.isatty():
        return None
    import shutil  # with its compression modules: only for a terminal

    return shutil.get_terminal_size().columns


def fit_widths(widths: list[int], least: list[int], total: int) -> list[int]:
    """Column widths that fit ``total`` (with two spaces between columns) by narrowing the
    column with the most room first, none below its ``least``; may still not fit."""
    out = list(widths)
    floor = [min(w, m) for w, m in zip(widths, least, strict=True)]
    while sum(out) + 2 * (len(out) - 1) > total:
        i = max(range(len(out)), key=lambda k: out[k] - floor[k])
        if out[i] <= floor[i]:
            break
        out[i] -= 1
    return out


def _wrap(text: str, width: int) -> list[str]:
    if len(text) <= width:
        return [text]
    # Words are cut only when the column is narrower than its longest word (the table could
    # not fit otherwise).
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]
