"""promptreg check: the hook, the CI check and a whole-registry check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from registry.cli.options import (
    Ctx,
    json_option,
    pass_ctx,
)
from registry.cli.output import emit_json
from registry.errors import (
    ProblemsReported,
)
from registry.models import Problem

F = TypeVar("F", bound=Callable[..., Any])


CHECK_FORMATS = ("text", "json", "github")


@click.command()
@click.argument("files", nargs=-1)
@click.option("--all", "check_all", is_flag=True, help="Check the whole registry.")
@click.option(
    "--staged",
    is_flag=True,
    help="Check what is about to be committed (the index); FILES named with it are checked in"
    " full against the index, --all checks every file of it.",
)
@click.option("--base", default=None, metavar="REF", help="Also check every change since REF.")
@click.option(
    "--verify-evaluations",
    is_flag=True,
    help="With --base: re-run the suite of every evaluation record the range adds or changes"
    " (runs the suites' hooks and model calls; for the CI job).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(CHECK_FORMATS),
    default=None,
    help="text (default), json, or github (workflow-command annotations for GitHub Actions).",
)
@json_option
@pass_ctx
def check(
    c: Ctx,
    files: tuple[str, ...],
    check_all: bool,
    staged: bool,
    base: str | None,
    verify_evaluations: bool,
    output_format: str | None,
    as_json: bool,
) -> None:
    """Validate the registry; exit 1 when any problem is found."""
    from registry.check.run import run_check

    output_format = _check_format(output_format, as_json)
    if files and base is not None and not staged:
        raise click.UsageError("FILES cannot be combined with --base (only with --staged)")
    if verify_evaluations and (base is None or staged):
        raise click.UsageError(
            "--verify-evaluations re-runs the evaluations a commit range records: use it with"
            " --base REF (and without --staged)"
        )
    cwd = c.root if c.root_opt else Path.cwd()
    problems, summary = run_check(
        c.root, list(files), check_all=check_all, staged=staged, base=base, cwd=cwd,
        verify_evaluations=verify_evaluations,
    )  # fmt: skip
    _report_check(problems, summary, output_format)
    if any(p.is_error for p in problems):
        raise ProblemsReported()


def _check_format(output_format: str | None, as_json: bool) -> str:
    """``--json`` is ``--format json``; naming two different formats is a usage error."""
    if as_json and output_format not in (None, "json"):
        raise click.UsageError(f"--json cannot be combined with --format {output_format}")
    return "json" if as_json else (output_format or "text")


def _report_check(problems: list[Problem], summary: str, output_format: str) -> None:
    """Problems to stderr (text), as a JSON list, or as GitHub annotations on stdout; the
    summary line goes where a person reads it."""
    if output_format == "json":
        emit_json([p.to_dict() for p in problems])
        return
    if output_format == "github":
        from registry.check.annotations import annotation

        for p in problems:
            click.echo(annotation(p))
    else:
        for p in problems:
            click.echo(str(p), err=True)
    click.echo(_check_summary(summary, problems), err=any(p.is_error for p in problems))


def _check_summary(summary: str, problems: list[Problem]) -> str:
    """The last line of ``check``: warnings are counted but do not fail it."""
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    if errors:
        return f"{errors} problem(s) found" + (f", {warnings} warning(s)" if warnings else "")
    return summary + (f" ({warnings} warning(s))" if warnings else "")


COMMANDS = [check]
