"""Shared pieces of the command line: the context object, output helpers, options."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from registry.registry import PromptRegistry

F = TypeVar("F", bound=Callable[..., Any])
EXIT_INTERNAL = 3


class Ctx:
    """Options shared by every command."""

    def __init__(self, root: str | None, traceback: bool) -> None:
        self.root_opt = root
        self.traceback = traceback
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
        """The registry root; exits 1 when it holds neither prompts/ nor deployments/ (an
        empty table there would read as an empty registry)."""
        from registry.paths import DEPLOYMENTS, PROMPTS

        root = self.root
        if not any((root / d).is_dir() for d in (PROMPTS, DEPLOYMENTS)):
            die(
                f"{root} is not a promptreg registry: it has no prompts/ or deployments/ folder;"
                " run `promptreg init` or pass -C PATH"
            )
        return root


def die(message: str, code: int = 1) -> NoReturn:
    for line in message.splitlines() or [message]:
        click.echo(f"promptreg: {line}" if not line.startswith(" ") else line, err=True)
    sys.exit(code)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False))


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[("-" if c is None else str(c)) for c in r] for r in rows]
    widths = [len(h) for h in headers]
    for r in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, r, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    click.echo(fmt.format(*headers).rstrip())
    for r in cells:
        click.echo(fmt.format(*r).rstrip())


def json_option(f: F) -> F:
    """Add ``--json``."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")(f)


pass_ctx = click.make_pass_decorator(Ctx)
