"""Shared pieces of the command line: the context object, output helpers, options."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from registry.errors import NotFoundError, RegistryError
from registry.ids import validate_environment, validate_prompt_id, validate_version
from registry.registry import PromptRegistry

F = TypeVar("F", bound=Callable[..., Any])


class Ctx:
    """Options shared by every command."""

    def __init__(self, root: str | None = None) -> None:
        self.root_opt = root
        self._reg: PromptRegistry | None = None

    @property
    def reg(self) -> PromptRegistry:
        """The registry of the working tree (uncommitted edits included)."""
        if self._reg is None:
            self._reg = PromptRegistry(self.root_opt, source="files")
        return self._reg

    @property
    def root(self) -> Path:
        """The registry root."""
        return self.reg.root

    def require_registry(self) -> Path:
        """The registry root; raises NotFoundError when it holds neither prompts/ nor
        deployments/ (an empty table there would read as an empty registry)."""
        from registry.paths import DEPLOYMENTS, PROMPTS

        root = self.root
        if not any((root / d).is_dir() for d in (PROMPTS, DEPLOYMENTS)):
            raise NotFoundError(
                f"{root} is not a promptreg registry: it has no prompts/ or deployments/ folder;"
                " run `promptreg init` or pass -C PATH"
            )
        return root


def emit_json(data: Any) -> None:
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
    click.echo(fmt.format(*headers).rstrip())
    for r in cells:
        wrapped = [_wrap(c, w) for c, w in zip(r, widths, strict=True)]
        for i in range(max(len(lines) for lines in wrapped)):
            line = [lines[i] if i < len(lines) else "" for lines in wrapped]
            click.echo(fmt.format(*line).rstrip())


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


Callback = Callable[[click.Context, click.Parameter, Any], Any]


def checked(check: Callable[[str], object]) -> Callback:
    """An option or argument callback running one of the core's validators: a bad value is a
    usage error (exit 2, click's "Invalid value for '--env'" message), not a refusal."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is not None:
            try:
                check(value)
            except (RegistryError, ValueError) as exc:
                # An argument is named as in the usage line, without the [ ] of an optional one.
                hint = (
                    f"'{param.human_readable_name}'" if isinstance(param, click.Argument) else None
                )
                raise click.BadParameter(str(exc), ctx, param, hint) from None
        return value

    return callback


def _check_time(value: str) -> None:
    from registry.history import parse_rfc3339

    parse_rfc3339(value)


def _check_reason(value: str) -> None:
    from registry.writer import clean_reason

    clean_reason(value)


def _check_actor(value: str) -> None:
    if not value.strip() or len(value.strip()) > 200 or any(ch in value for ch in "\r\n\0"):
        raise ValueError("give a single line of at most 200 characters, like 'Name <email>'")


ENVIRONMENT = checked(validate_environment)
VERSION = checked(validate_version)
PROMPT_ID = checked(validate_prompt_id)
TIME = checked(_check_time)
REASON = checked(_check_reason)
ACTOR = checked(_check_actor)


def require_person_option(value: str | None, flag: str, commit: bool) -> None:
    """With --commit an explicit actor must be ``Name <email>`` (git needs the email)."""
    from registry.gitio.commit import require_person

    if commit and value is not None:
        try:
            require_person(value.strip(), flag)
        except RegistryError as exc:
            raise click.BadParameter(str(exc), param_hint=f"'{flag}'") from None


def _set_root(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(Ctx).root_opt = value


def add_root_option(command: click.Command) -> None:
    """Accept ``-C PATH`` after the subcommand too (``promptreg status -C path``)."""
    command.params.insert(
        0,
        click.Option(
            ["-C", "root"],
            metavar="PATH",
            default=None,
            expose_value=False,
            is_eager=True,
            callback=_set_root,
            help="Registry root (also accepted before the command name).",
        ),
    )


def json_option(f: F) -> F:
    """Add ``--json``."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")(f)


pass_ctx = click.make_pass_decorator(Ctx)
