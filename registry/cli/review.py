"""promptreg review: what a pull request will do, for its reviewers."""

from __future__ import annotations

import click

from registry.cli.options import Ctx, pass_ctx
from registry.cli.output import emit_json
from registry.errors import ProblemsReported

REVIEW_FORMATS = ("markdown", "json")


@click.command()
@click.option(
    "--base",
    required=True,
    metavar="REF",
    help="Review what changed since HEAD left REF (the range check --base checks).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(REVIEW_FORMATS),
    default="markdown",
    show_default=True,
    help="markdown (GitHub-flavoured, for a pull request) or json.",
)
@pass_ctx
def review(c: Ctx, base: str, output_format: str) -> None:
    """Pointer moves with the gate's verdict, new versions with diffs, changed suites and
    policy, and the problems of check --base; exit 1 when that check fails."""
    from registry.review.build import build_review

    found = build_review(c.root, base)
    if output_format == "json":
        emit_json(found.to_dict())
    else:
        from registry.review.markdown import render_markdown

        click.echo(render_markdown(found), nl=False)
    if not found.passed:
        raise ProblemsReported()


COMMANDS = [review]
