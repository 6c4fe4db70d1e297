"""promptreg init: a registry skeleton, its schema copies, hook and workflow."""

from __future__ import annotations

from pathlib import Path

import click

from registry.cli.options import (
    Ctx,
    pass_ctx,
)
from registry.errors import (
    NotFoundError,
)


# -- init ----------------------------------------------------------------------------------------
@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option(
    "--update-schemas",
    is_flag=True,
    help="Only refresh schemas/ from the installed promptreg (after an upgrade).",
)
@click.option(
    "--no-workflow",
    "no_workflow",
    is_flag=True,
    help="Do not write .github/workflows/promptreg.yml (the pull-request check).",
)
@pass_ctx
def init(c: Ctx, directory: str | None, update_schemas: bool, no_workflow: bool) -> None:
    """Create a registry skeleton in DIRECTORY (default: -C PATH, else the enclosing git
    repository, else the current directory, as every other command finds the registry)."""
    from registry.gitio.repo import find_root
    from registry.scaffold.skeleton import (
        init_editor_settings,
        init_registry,
        init_schema_copies,
        kept_file_notes,
        not_at_repository_root,
    )

    given = directory or c.root_opt
    root = Path(given) if given else find_root(None)[0]
    if update_schemas:
        _update_schemas(root)
        return
    if not given and root != Path.cwd().resolve():
        click.echo(f"registry root: {root} (the enclosing git repository)")
    created = init_registry(root, workflow=not no_workflow)
    for p in created:
        click.echo(f"created {p}")
    notes = init_schema_copies(root) + init_editor_settings(root)
    notes += kept_file_notes(root, created, workflow=not no_workflow)
    for line in notes:
        click.echo(line)
    top = not_at_repository_root(root)
    if top is not None:
        click.echo(
            f"note: {root} is inside the git repository {top}, not at its top: pre-commit and"
            " GitHub read .pre-commit-config.yaml and .github/ only at the top, so the hook and"
            " the CI check written here will not run. promptreg's hook and CI expect the"
            " registry at the repository's top (start it there, or in a repository of its own).",
            err=True,
        )
    if not created and not notes:
        click.echo("nothing to do: the registry skeleton is already there")


def _update_schemas(root: Path) -> None:
    from registry.paths import MANAGED_DIRS, SETTINGS
    from registry.scaffold.skeleton import init_schema_copies

    if not any((root / p).exists() for p in (*MANAGED_DIRS, SETTINGS)):
        raise NotFoundError(
            f"{root} is not a registry (no prompts/, deployments/ or promptreg.yaml); run `promptreg init` first"
        )
    lines = init_schema_copies(root, update=True)
    for line in lines:
        click.echo(line)
    if not lines:
        click.echo("nothing to do: schemas/ matches the installed promptreg")


COMMANDS = [init]
