"""promptreg bundle: one environment's active prompts at a commit, as one verifiable file."""

from __future__ import annotations

from pathlib import Path

import click

from registry.cli.options import Ctx, env_option, pass_ctx
from registry.errors import RegistryError


@click.command()
@env_option("The environment whose active prompts the bundle holds.", required=True)
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the bundle to FILE (replaced atomically) instead of standard output.",
)
@click.option(
    "--rev", default="HEAD", metavar="REV", help="The commit to build from (default: HEAD)."
)
@pass_ctx
def bundle(c: Ctx, environment: str, output: Path | None, rev: str) -> None:
    """Write the bundle of ENV: every active prompt at a commit, as canonical JSON.

    The bundle is built from the commit's content, never from the working tree, and only when
    promptreg check accepts the settings, pointers and versions it holds. The same commit
    gives the same bytes; the document carries its own sha256.
    """
    from registry.bundle.build import build_bundle, uncommitted_changes

    root = c.require_registry()
    built = build_bundle(root, environment, rev)
    if rev == "HEAD" and (changed := uncommitted_changes(root)):
        shown = ", ".join(changed[:3]) + (
            f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        )
        click.echo(
            f"promptreg: warning: uncommitted changes are not in the bundle ({shown});"
            f" it is built from commit {built.commit[:12]}",
            err=True,
        )
    summary = (
        f"{built.environment} at commit {built.commit[:12]} ({built.committed_at}):"
        f" {built.prompts} prompt(s), {len(built.data):,} bytes, sha256 {built.sha256}"
    )
    if output is None:
        click.echo(built.data, nl=False)  # bytes go to the binary stream as they are
        click.echo(f"promptreg: bundle of {summary}", err=True)
        return
    _write(output, built.data)
    click.echo(f"wrote {output}: bundle of {summary}")


def _write(output: Path, data: bytes) -> None:
    from registry.fsio import atomic_write

    try:
        atomic_write(output, data)
    except OSError as e:
        raise RegistryError(f"{output}: cannot write the bundle: {e.strerror or e}") from e


COMMANDS = [bundle]
