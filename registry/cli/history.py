"""promptreg history: who moved which pointer when, and why."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from registry.cli.options import (
    PROMPT_ID,
    Ctx,
    env_option,
    json_option,
    pass_ctx,
    require_known,
)
from registry.cli.output import emit_json, fits_unbroken, table, terminal_width
from registry.errors import NotFoundError
from registry.ids import validate_prompt_id
from registry.models import PromptDeployment

F = TypeVar("F", bound=Callable[..., Any])


@click.command()
@click.argument("prompt_id", callback=PROMPT_ID)
@env_option("Only this environment.")
@json_option
@pass_ctx
def history(c: Ctx, prompt_id: str, environment: str | None, as_json: bool) -> None:
    """Deployment history reconstructed from git, oldest first."""
    validate_prompt_id(prompt_id)
    root = c.require_registry()
    if environment is not None:
        # One pointer's log needs neither the settings nor the library's serving machinery.
        from registry.gitio.repo import is_work_tree
        from registry.history import history as pointer_history

        if not is_work_tree(root):
            raise NotFoundError(f"{root} is not a git work tree")
        events = pointer_history(root, prompt_id, environment, (environment,))
    else:
        from registry.registry import PromptRegistry

        reg = PromptRegistry(c.root_opt, source="git")
        try:
            events = reg.history(prompt_id, environment)
        finally:
            reg.close()
    if not events:
        require_known(c, prompt_id, environment)
    if as_json:
        emit_json([e.to_dict() for e in events])
        return
    # A long name or reason breaks before a time or a version does.
    headers, rows = _history_table(events, terminal_width(), environment is not None)
    table(headers, rows, breakable=("BY", "REASON"))


HISTORY_HEADERS = ["WHEN", "ENVIRONMENT", "VERSION", "PREVIOUS", "ACTION", "BY", "COMMIT", "REASON"]


def _history_table(
    events: list[PromptDeployment], width: int | None, one_env: bool
) -> tuple[list[str], list[tuple[object, ...]]]:
    """The headers and rows of ``history``: full values when piped or when they fit the
    terminal; else a shorter time and commit, no ENVIRONMENT column when ``--env`` names it,
    then names without emails (``--json`` keeps everything)."""

    def rows(compact: bool, names: bool) -> list[tuple[object, ...]]:
        return [(_when(e.deployed_at) if compact else e.deployed_at, e.environment, e.version,
                 e.previous_version, e.action, _who(e, names),
                 (e.commit or "")[: 8 if compact else 12], e.reason) for e in events]  # fmt: skip

    full = rows(compact=False, names=False)
    if width is None or fits_unbroken(HISTORY_HEADERS, full, width):
        return HISTORY_HEADERS, full
    drop = HISTORY_HEADERS.index("ENVIRONMENT") if one_env else None
    headers = [h for i, h in enumerate(HISTORY_HEADERS) if i != drop]

    def without_env(rs: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
        return [tuple(c for i, c in enumerate(r) if i != drop) for r in rs]

    compact = without_env(rows(compact=True, names=False))
    if fits_unbroken(headers, compact, width):
        return headers, compact
    return headers, without_env(rows(compact=True, names=True))


def _when(deployed_at: str) -> str:
    """``2026-11-25T13:16:57Z`` as ``2026-11-25T13:16Z`` (history times are UTC)."""
    if len(deployed_at) == 20 and deployed_at[10] == "T" and deployed_at.endswith("Z"):
        return f"{deployed_at[:16]}Z"
    return deployed_at


def _name(person: str) -> str:
    """``Name <email>`` without the email (the whole text when there is no name)."""
    name = re.sub(r"\s*<[^<>]*>\s*$", "", person)
    return name or person


def _who(e: PromptDeployment, names: bool = False) -> str:
    """``deployed_by``, and git's author beside it when someone else committed the pointer;
    ``names`` drops the emails."""
    show = _name if names else str
    if e.committed_by is None or e.committed_by == e.deployed_by:
        return show(e.deployed_by)
    return f"{show(e.deployed_by)} (committed by {show(e.committed_by)})"


COMMANDS = [history]
