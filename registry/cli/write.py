"""promptreg eval, deploy, rollback and undeploy: the commands that change what is tested or
served."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from registry.cli.options import (
    ACTOR,
    ENVIRONMENT,
    PROMPT_ID,
    REASON,
    VERSION,
    Ctx,
    env_option,
    json_option,
    pass_ctx,
    require_person_option,
)
from registry.cli.output import emit_json
from registry.errors import NotFoundError, ProblemsReported, RegistryError
from registry.evals.suite import DEFAULT_JOBS
from registry.ids import SemVer

if TYPE_CHECKING:
    from registry.models import PromptDeployment
    from registry.pointers import PointerChange

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
@click.option("--no-cache", is_flag=True, help="Ask the model again; ignore cached answers.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=DEFAULT_JOBS,
    show_default=True,
    metavar="N",
    help="Cases run at a time (hooks must be thread-safe above 1).",
)
@click.option(
    "--baseline",
    "baseline_env",
    callback=ENVIRONMENT,
    metavar="ENV",
    default=None,
    help="Also evaluate the version active in ENV with the same suite and show both scores.",
)
@click.option(
    "--junit-xml",
    "junit_xml",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Write a JUnit XML report (one testcase per case) to FILE.",
)
@json_option
@pass_ctx
def eval_cmd(c: Ctx, prompt_id: str, version: str, suite: str | None, by: str | None,
             commit: bool, no_record: bool, no_cache: bool, jobs: int, baseline_env: str | None,
             junit_xml: Path | None, as_json: bool) -> None:  # fmt: skip
    """Run the evaluation suite; on pass mark the version tested."""
    from registry.cli.evalreport import progress_bar, result_json, show_result

    require_person_option(by, "--by", commit and not no_record)
    progress = progress_bar(sys.stderr, os.environ)
    if suite is not None and not c.root_opt:
        # Like every path argument: relative to where the command runs.
        # One outside the registry is refused by evaluate, as with -C.
        suite = os.path.abspath(suite)
    if suite is not None and not (c.root / suite).is_file():
        raise click.BadParameter(f"{suite} is not a file in {c.root}", param_hint="'--suite'")
    if junit_xml is not None and not junit_xml.absolute().parent.is_dir():
        raise click.BadParameter(
            f"the folder of {junit_xml} does not exist", param_hint="'--junit-xml'"
        )
    baseline_version = _baseline_version(c, prompt_id, baseline_env)
    baseline = None
    if baseline_version is not None and baseline_version != version:
        baseline = c.reg.evaluate(prompt_id, baseline_version, suite, record=False,
                                  progress=progress, jobs=jobs, cache=not no_cache)  # fmt: skip
    res = c.reg.evaluate(prompt_id, version, suite, record=not no_record, evaluated_by=by,
                         commit=commit, progress=progress, jobs=jobs,
                         cache=not no_cache)  # fmt: skip
    if baseline_version == version:
        baseline = res
    if junit_xml is not None:
        from registry.evals.junit import write_junit

        write_junit(res, junit_xml)
    if as_json:
        emit_json(result_json(res, baseline, baseline_env))
    else:
        show_result(res, baseline, baseline_env)
        if res.passed and not no_record:
            click.echo(f"recorded tested: true in prompts/{prompt_id}/{version}.yaml")
    if not res.passed:
        raise ProblemsReported()


def _baseline_version(c: Ctx, prompt_id: str, environment: str | None) -> str | None:
    """The version active in ``environment`` (--baseline), refused when there is none."""
    if environment is None:
        return None
    c.reg.require_known(prompt_id, environment)
    d = c.reg.deployment(prompt_id, environment)
    if d is None or d.version is None:
        raise NotFoundError(
            f"nothing is active for {prompt_id} in {environment}, so there is no baseline to"
            " compare with; deploy a version there or drop --baseline"
        )
    return d.version


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
    from registry.deploy import deploy_change

    require_person_option(by, "--by", commit)
    change = deploy_change(
        c.root, prompt_id, version, environment, by, reason=reason, commit=commit
    )
    d = change.after
    if as_json:
        emit_json(d.to_dict())
    elif not change.changed:
        click.echo(f"{prompt_id} {version} is already active in {environment}; nothing to do")
    else:
        click.echo(
            f"deployed {prompt_id} {version} to {environment} (was {d.previous_version or 'nothing'})"
            + _in_commit(d)
        )
    _note_move(c, change)


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
    from registry.deploy import rollback_change

    require_person_option(by, "--by", commit)
    change = rollback_change(
        c.root, prompt_id, environment, by, to=to, reason=reason, commit=commit
    )
    d = change.after
    _note_move(c, change)
    if as_json:
        emit_json(d.to_dict())
    elif not change.changed:
        click.echo(f"{prompt_id} {d.version} is already active in {environment}; nothing to do")
    else:
        click.echo(
            f"rolled back {prompt_id} in {environment} to {d.version}"
            f" (was {d.previous_version or 'nothing'})" + _in_commit(d)
        )


@click.command()
@click.argument("prompt_id", callback=PROMPT_ID)
@env_option("Environment to remove the prompt from.", required=True)
@click.option(
    "--reason", callback=REASON, required=True, help="Why (recorded in the pointer and history)."
)
@click.option(
    "--by", callback=ACTOR, metavar="WHO", default=None, help="Name <email> (default: git's user)."
)
@click.option("--commit", is_flag=True, help="Commit the tombstone.")
@json_option
@pass_ctx
def undeploy(c: Ctx, prompt_id: str, environment: str, reason: str, by: str | None,
             commit: bool, as_json: bool) -> None:  # fmt: skip
    """Record that nothing is active in an environment (a tombstone pointer)."""
    from registry.deploy import undeploy_change

    require_person_option(by, "--by", commit)
    change = undeploy_change(c.root, prompt_id, environment, by, reason=reason, commit=commit)
    d = change.after
    if as_json:
        emit_json(d.to_dict())
    elif not change.changed:
        click.echo(
            f"nothing is active for {prompt_id} in {environment} already (removed by"
            f" {d.deployed_by} at {d.deployed_at}); nothing to do"
        )
    else:
        click.echo(
            f"removed {prompt_id} from {environment} (was {d.previous_version}); nothing is"
            " active there now" + _in_commit(d)
        )


def _in_commit(d: PromptDeployment) -> str:
    return f" in commit {d.commit[:12]}" if d.commit else ""


def _note_move(c: Ctx, change: PointerChange) -> None:
    before, after = change.before, change.after
    if change.changed and before is not None:
        _note_variable_change(c, after.prompt_id, after.environment, before.version, after.version)


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


COMMANDS = [eval_cmd, deploy, rollback, undeploy]
