"""CLI commands that change the registry or read git: new, eval, deploy, rollback, history,
check."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click

from registry.cli_common import (
    ACTOR,
    ENVIRONMENT,
    PROMPT_ID,
    REASON,
    VERSION,
    Ctx,
    emit_json,
    fits_unbroken,
    json_option,
    pass_ctx,
    require_person_option,
    table,
    terminal_width,
)
from registry.errors import (
    AlreadyExistsError,
    EnvironmentNotConfiguredError,
    NotFoundError,
    ProblemsReported,
    RegistryError,
)
from registry.ids import Bump, SemVer, validate_prompt_id
from registry.models import Message, Problem, PromptDeployment, PromptVersion
from registry.reader import RegistryView

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


@click.command()
@click.argument("prompt_id", callback=PROMPT_ID)
@click.option(
    "--bump",
    type=click.Choice(["major", "minor", "patch"]),
    help="Next version by SemVer part (a pre-release bumps to its release, as npm does).",
)
@click.option(
    "--version", "version", callback=VERSION, metavar="V", default=None, help="Exact new version."
)
@click.option("-d", "--description", required=True, help="What changed and why.")
@click.option(
    "--from",
    "from_version",
    callback=VERSION,
    metavar="V",
    default=None,
    help="Copy content from V (default: the latest).",
)
@click.option(
    "--content-file",
    metavar="FILE",
    default=None,
    help="Read the new content of a text prompt from FILE ('-': standard input).",
)
@click.option(
    "--messages-file",
    metavar="FILE",
    default=None,
    help="Read the messages of a chat prompt from FILE, a YAML or JSON list of"
    " {role, content} ('-': standard input).",
)
@click.option(
    "--author",
    callback=ACTOR,
    metavar="WHO",
    default=None,
    help="Name <email> (default: git's user).",
)
@click.option("--commit", is_flag=True, help="Commit the new file.")
@pass_ctx
def new(c: Ctx, prompt_id: str, bump: str | None, version: str | None, description: str,
        from_version: str | None, content_file: str | None, messages_file: str | None,
        author: str | None, commit: bool) -> None:  # fmt: skip
    """Write a new untested version."""
    validate_prompt_id(prompt_id)
    if bump and version:
        raise click.UsageError("give --bump or --version, not both")
    if content_file is not None and messages_file is not None:
        raise click.UsageError(
            "give --content-file (a text prompt) or --messages-file (a chat prompt), not both"
        )
    require_person_option(author, "--author", commit)
    view = c.reg.view()
    existing = view.version_index().get(prompt_id, [])
    base = _base_version(view, prompt_id, from_version, existing)
    version = _new_version_name(prompt_id, bump, version, existing)
    content: str | None = base.content if base else None
    messages: tuple[Message, ...] | None = base.messages if base else None
    if content_file is not None:
        if base is not None and base.messages is not None:
            raise click.UsageError(
                f"{prompt_id} {base.version} is a chat prompt (messages): give the new messages"
                " with --messages-file FILE, a YAML or JSON list of {role, content}"
            )
        content, messages = _read_text(content_file, "--content-file"), None
    elif messages_file is not None:
        if base is not None and base.content is not None:
            raise click.UsageError(
                f"{prompt_id} {base.version} is a text prompt (content): give the new content"
                " with --content-file FILE"
            )
        content, messages = None, _read_messages(messages_file)
    if content is None and messages is None:
        raise click.UsageError(
            f"{prompt_id} is a new prompt: give its content with --content-file FILE, or"
            " the messages of a chat prompt with --messages-file FILE"
        )
    variables = None
    replaced = content_file is not None or messages_file is not None
    if base is not None and base.variables is not None and not replaced:
        variables = base.variables
    v = PromptVersion(
        prompt_id=prompt_id, version=version, content=content, messages=messages,
        description=description, author=author or "", variables=variables,
        model=base.model if base else None,
    )  # fmt: skip
    if not v.author:
        from registry.gitio.commit import resolve_actor

        v = replace(v, author=resolve_actor(c.root, None, "--author"))
    written = c.reg.register(v, commit=commit)
    click.echo(f"created prompts/{prompt_id}/{written.version}.yaml (untested)")
    _warn_about_new_version(c, prompt_id, written.version)


def _warn_about_new_version(c: Ctx, prompt_id: str, version: str) -> None:
    """On stderr, what ``check`` will say of the file just written: ``{{name}}`` placeholders
    that render literally, and placeholders added within a major (the exit code stays 0)."""
    from registry.check.rules import breaking_variables, mustache_warnings
    from registry.paths import version_path

    path = version_path(prompt_id, version)
    view = c.reg.view()
    found = mustache_warnings(view.version_result(prompt_id, version), path)
    found += breaking_variables(view, {path})
    for p in found:
        where = p.path if p.line is None else f"{p.path}:{p.line}"
        click.echo(f"promptreg: warning: {where}: {p.code} {p.message}", err=True)


def _base_version(
    view: RegistryView, prompt_id: str, from_version: str | None, existing: list[str]
) -> PromptVersion | None:
    """The version a new one copies: ``--from``, else the latest, else None."""
    if from_version is not None:
        base = view.version(prompt_id, from_version)
        if base is None:
            raise NotFoundError(f"--from {prompt_id} {from_version} not found")
        return base
    if not existing:
        return None
    base = view.version(prompt_id, existing[-1])
    if base is None:
        raise RegistryError(
            f"the latest version {prompt_id} {existing[-1]} does not load; use --from"
        )
    return base


def _new_version_name(
    prompt_id: str, bump: str | None, version: str | None, existing: list[str]
) -> str:
    if version is not None:
        return version
    if bump is None:
        if existing:
            raise click.UsageError("give --bump major|minor|patch or --version V")
        return "1.0.0"
    if not existing:
        raise click.UsageError(
            f"{prompt_id} has no versions yet: use --version (or none for 1.0.0)"
        )
    part: Bump = "major" if bump == "major" else "minor" if bump == "minor" else "patch"
    computed = str(SemVer.parse(existing[-1]).bump(part))
    if computed in existing:
        raise AlreadyExistsError(
            f"--bump {bump} from {prompt_id} {existing[-1]} gives {computed}, which already"
            f" exists (prompts/{prompt_id}/{computed}.yaml); give the version with --version"
        )
    return computed


def _read_input(path: str, flag: str) -> tuple[bytes, str]:
    """The bytes of ``path`` ('-' is standard input) and the name to show in messages."""
    if path == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    try:
        return Path(path).read_bytes(), path
    except OSError as exc:
        raise click.BadParameter(
            f"cannot read {path}: {exc.strerror or exc}", param_hint=f"'{flag}'"
        ) from None


def _read_text(path: str, flag: str) -> str:
    from registry.messages_file import EMPTY_TEMPLATE

    data, name = _read_input(path, flag)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RegistryError(f"{name}:{line}: invalid UTF-8; save the file as UTF-8") from None
    if not text.strip():
        raise RegistryError(f"{name}:1: {EMPTY_TEMPLATE}")
    return text


def _read_messages(path: str) -> tuple[Message, ...]:
    from registry.messages_file import load_messages

    data, name = _read_input(path, "--messages-file")
    return load_messages(data, name)


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
        rel = os.path.relpath(os.path.abspath(suite), c.root)
        if rel.startswith(".."):
            raise click.UsageError(f"--suite {suite} is outside the registry {c.root}")
        suite = Path(rel).as_posix()
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
@click.option(
    "--env",
    "environment",
    callback=ENVIRONMENT,
    metavar="ENV",
    required=True,
    help="Target environment.",
)
@pointer_change_options
@json_option
@pass_ctx
def deploy(c: Ctx, prompt_id: str, version: str, environment: str, by: str | None,
           reason: str | None, commit: bool, as_json: bool) -> None:  # fmt: skip
    """Point an environment at VERSION after checking its policy."""
    require_person_option(by, "--by", commit)
    before = (
        c.reg.view().pointer(environment, prompt_id) if _valid(prompt_id, environment) else None
    )
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
@click.option(
    "--env",
    "environment",
    callback=ENVIRONMENT,
    metavar="ENV",
    required=True,
    help="Environment to roll back.",
)
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
    before = (
        c.reg.view().pointer(environment, prompt_id) if _valid(prompt_id, environment) else None
    )
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


@click.command()
@click.argument("prompt_id", callback=PROMPT_ID)
@click.option(
    "--env",
    "environment",
    callback=ENVIRONMENT,
    metavar="ENV",
    default=None,
    help="Only this environment.",
)
@json_option
@pass_ctx
def history(c: Ctx, prompt_id: str, environment: str | None, as_json: bool) -> None:
    """Deployment history reconstructed from git, oldest first."""
    from registry.registry import PromptRegistry

    validate_prompt_id(prompt_id)
    c.require_registry()
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
    output_format: str | None,
    as_json: bool,
) -> None:
    """Validate the registry; exit 1 when any problem is found."""
    from registry.check.run import run_check

    output_format = _check_format(output_format, as_json)
    if files and base is not None and not staged:
        raise click.UsageError("FILES cannot be combined with --base (only with --staged)")
    cwd = c.root if c.root_opt else Path.cwd()
    problems, summary = run_check(
        c.root, list(files), check_all=check_all, staged=staged, base=base, cwd=cwd
    )
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


def require_known(c: Ctx, prompt_id: str, environment: str | None) -> None:
    """Refuse (exit 1) a prompt the registry has never heard of, and an environment that is
    neither configured, nor holds a pointer, nor appears in the prompt's history (a retired
    environment stays valid). Called only when a read found nothing, so git is asked rarely."""
    from registry.history import environments_in_history

    view = c.reg.view()
    pointers = view.pointer_index()
    in_history = environments_in_history(c.root, prompt_id)
    known = prompt_id in view.version_index() or any(pid == prompt_id for _, pid in pointers)
    if not known and not in_history:
        raise NotFoundError(
            f"prompt {prompt_id!r} not found: no files under prompts/{prompt_id}/, no pointer"
            " and no deployment history"
        )
    if environment is None:
        return
    configured = view.settings().names
    if (
        environment in configured
        or environment in in_history
        or any(env == environment for env, _ in pointers)
    ):
        return
    raise EnvironmentNotConfiguredError(
        f"environment {environment!r} is not configured and never held a pointer of"
        f" {prompt_id}; configured: {', '.join(configured)}"
    )


def _note_variable_change(
    c: Ctx, prompt_id: str, environment: str, old: str | None, new: str | None
) -> None:
    """On stderr: the placeholders added and removed by a move across major versions, which
    is where SemVer lets them change (a caller must pass what was added)."""
    if old is None or new is None or SemVer.parse(old).major == SemVer.parse(new).major:
        return
    view = c.reg.view()
    before, after = view.version(prompt_id, old), view.version(prompt_id, new)
    if before is None or after is None:
        return
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


COMMANDS = [new, eval_cmd, deploy, rollback, history, check]
