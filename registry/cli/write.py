"""promptreg eval, deploy and rollback: the commands that change what is tested or served."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import click

from registry.cli.options import (
    ACTOR,
    PROMPT_ID,
    REASON,
    VERSION,
    Ctx,
    env_option,
    json_option,
    pass_ctx,
    require_person_option,
)
from registry.cli.output import emit_json, table
from registry.errors import ProblemsReported, RegistryError
from registry.ids import SemVer

F = TypeVar("F", bound=Callable[..., Any])


def pointer_change_options(f: F) -> F:
    """``--by``, ``--reason`` and ``--commit``, shared by deploy and rollback."""
    f = click.option("--commit", is_flag=True, help="Commit the pointer change.")(f)
    f = click.option(
        "--reason", callback=REASON, default=None, help="Why (recorded in the pointer)."
    )(f)
    return click.option(
        "--by",
        callback=ACTOR,
        metavar="WHO",
        default=None,
        help="Name <email> (default: git's user).",
    )(f)


@click.command("eval")
@click.argument("prompt_id", callback=PROMPT_ID)
@click.argument("version", callback=VERSION)
@click.option("--suite", default=None, help="Suite file (default: evals/<prompt_id>.yaml).")
@click.option(
    "--by",
    callback=ACTOR,
    metavar="WHO",
    default=None,
    help="Name <email> of the evaluator (default: git's user).",
)
@click.option("--commit", is_flag=True, help="Commit the recorded result.")
@click.option("--no-record", is_flag=True, help="Run without writing the result.")
@json_option
@pass_ctx
def eval_cmd(c: Ctx, prompt_id: str, version: str, suite: str | None, by: str | None,
             commit: bool, no_record: bool, as_json: bool) -> None:  # fmt: skip
    """Run the evaluation suite; on pass mark the version tested."""
    require_person_option(by, "--by", commit and not no_record)
    progress = None
    if not as_json and sys.stderr.isatty():

        def progress(done: int, total: int) -> None:
            click.echo(f"\r  {done}/{total} cases", nl=False, err=True)
            if done == total:
                click.echo("", err=True)

    if suite is not None and not c.root_opt:
        # Like every path argument: relative to where the command runs.
        # One outside the registry is refused by evaluate, as with -C.
        suite = os.path.abspath(suite)
    if suite is not None and not (c.root / suite).is_file():
        raise click.BadParameter(f"{suite} is not a file in {c.root}", param_hint="'--suite'")
    res = c.reg.evaluate(prompt_id, version, suite, record=not no_record, evaluated_by=by,
                         commit=commit, progress=progress)  # fmt: skip
    if as_json:
        emit_json(res.to_dict())
    else:
        rows = []
        for case in res.cases:
            failed = [a.message for a in case.assertions if not a.passed]
            note = case.error or "; ".join(failed)
            rows.append((case.name, f"{case.score:.2f}", "pass" if case.passed else "FAIL", note))
        table(["CASE", "SCORE", "RESULT", "NOTE"], rows)
        verdict = "passed" if res.passed else "FAILED"
        click.echo(
            f"\n{prompt_id} {version}: score {res.score:.3f}, threshold {res.threshold}: {verdict}"
        )
        if res.passed and not no_record:
            click.echo(f"recorded tested: true in prompts/{prompt_id}/{version}.yaml")
    if not res.passed:
        raise ProblemsReported()


@click.command()
@click.argument("prompt_id", callback=PROMPT_ID)
@click.argument("version", callback=VERSION)
@env_option("Target environment.", required=True)
@pointer_change_options
@json_option
@pass_ctx
def deploy(c: Ctx, prompt_id: str, version: str, environment: str, by: str | None,
           reason: str | None, commit: bool, as_json: bool) -> None:  # fmt: skip
    """Point an environment at VERSION after checking its policy."""
    require_person_option(by, "--by", commit)
    before = c.reg.deployment(prompt_id, environment) if _valid(prompt_id, environment) else None
    d = c.reg.deploy(prompt_id, version, environment, by, reason=reason, commit=commit)
    if as_json:
        emit_json(d.to_dict())
    elif before is not None and before.version == version:
        click.echo(f"{prompt_id} {version} is already active in {environment}; nothing to do")
    else:
        click.echo(
            f"deployed {prompt_id} {version} to {environment} (was {d.previous_version or 'nothing'})"
            + (f" in commit {d.commit[:12]}" if d.commit else "")
        )
    if before is not None and before.version != d.version:
        _note_variable_change(c, prompt_id, environment, before.version, d.version)


@click.command()
@click.argument("prompt_id", callback=PROMPT_ID)
@env_option("Environment to roll back.", required=True)
@click.option(
    "--to",
    "to",
    callback=VERSION,
    metavar="V",
    default=None,
    help="Roll back to V instead of the previous version.",
)
@pointer_change_options
@json_option
@pass_ctx
def rollback(c: Ctx, prompt_id: str, environment: str, to: str | None, by: str | None,
             reason: str | None, commit: bool, as_json: bool) -> None:  # fmt: skip
    """Re-point an environment at its previous version (or --to V)."""
    require_person_option(by, "--by", commit)
    before = c.reg.deployment(prompt_id, environment) if _valid(prompt_id, environment) else None
    d = c.reg.rollback(prompt_id, environment, by, to=to, reason=reason, commit=commit)
    if before is not None and before.version != d.version:
        _note_variable_change(c, prompt_id, environment, before.version, d.version)
    if as_json:
        emit_json(d.to_dict())
    else:
        # A no-op returns the pointer as it was (with the commit that last changed it).
        if before is not None and replace(d, commit=None, committed_by=None) == before:
            click.echo(f"{prompt_id} {d.version} is already active in {environment}; nothing to do")
            return
        click.echo(
            f"rolled back {prompt_id} in {environment} to {d.version} (was {d.previous_version})"
            + (f" in commit {d.commit[:12]}" if d.commit else "")
        )


def _note_variable_change(
    c: Ctx, prompt_id: str, environment: str, old: str | None, new: str | None
) -> None:
    """On stderr: the placeholders added and removed by a move across major versions, which
    is where SemVer lets them change (a caller must pass what was added)."""
    if old is None or new is None or SemVer.parse(old).major == SemVer.parse(new).major:
        return
    try:
        before, after = c.reg.read_version(prompt_id, old), c.reg.read_version(prompt_id, new)
    except RegistryError:
        return  # a version that does not load has nothing to note
    added = [n for n in after.placeholders if n not in before.placeholders]
    removed = [n for n in before.placeholders if n not in after.placeholders]
    if not added and not removed:
        return
    changes = []
    if added:
        changes.append(f"added {', '.join(added)} (callers must pass them)")
    if removed:
        changes.append(f"removed {', '.join(removed)} (ignored when passed)")
    click.echo(
        f"note: {environment} moved {prompt_id} from {old} to {new}, another major version;"
        f" its variables changed: {'; '.join(changes)}",
        err=True,
    )


def _valid(prompt_id: str, environment: str) -> bool:
    from registry.ids import is_valid_id

    return is_valid_id(prompt_id) and is_valid_id(environment)


COMMANDS = [eval_cmd, deploy, rollback]
