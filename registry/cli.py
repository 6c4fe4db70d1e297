"""The ``promptreg`` command line (the only module that imports click)."""

from __future__ import annotations

import difflib
import json
import sys
import traceback
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from registry import DISTRIBUTION, __version__, cli_write
from registry.cli_common import (
    ENVIRONMENT,
    PROMPT_ID,
    TIME,
    VERSION,
    Ctx,
    add_root_option,
    emit_json,
    json_option,
    pass_ctx,
    table,
)
from registry.errors import (
    EXIT_INTERNAL,
    EnvironmentNotConfiguredError,
    NotFoundError,
    PolicyError,
    ProblemsReported,
    RegistryError,
    ValidationError,
)
from registry.ids import validate_environment, validate_prompt_id, validate_version
from registry.models import Problem, PromptDeployment, PromptVersion
from registry.policy import Candidate, judge
from registry.registry import PromptRegistry


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "root",
    metavar="PATH",
    default=None,
    help="Registry root (default: the enclosing git repository, else the current directory).",
)
@click.option("--traceback", is_flag=True, help="Show the full traceback of an error.")
@click.version_option(__version__, package_name=DISTRIBUTION, prog_name="promptreg")
@click.pass_context
def cli(ctx: click.Context, root: str | None, traceback: bool) -> None:
    """promptreg: versioned prompts, deployments and rollbacks, with git as the database."""
    ctx.obj = Ctx(root)  # --traceback is read by main, which handles every error


# -- init ----------------------------------------------------------------------------------------
@cli.command()
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
    from registry.registry import find_root
    from registry.scaffold import (
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
    from registry.scaffold import init_schema_copies

    if not any((root / p).exists() for p in (*MANAGED_DIRS, SETTINGS)):
        raise NotFoundError(
            f"{root} is not a registry (no prompts/, deployments/ or promptreg.yaml); run `promptreg init` first"
        )
    lines = init_schema_copies(root, update=True)
    for line in lines:
        click.echo(line)
    if not lines:
        click.echo("nothing to do: schemas/ matches the installed promptreg")


# -- read commands -------------------------------------------------------------------------------
@cli.command("list")
@json_option
@pass_ctx
def list_cmd(c: Ctx, as_json: bool) -> None:
    """Prompts with their versions and where each is active."""
    c.require_registry()
    view = c.reg.view()
    envs = view.checked_settings().names
    out: list[dict[str, Any]] = []
    broken: list[Problem] = []
    for pid, versions in view.version_index().items():
        active: dict[str, str | None] = {}
        for env in envs:
            res = view.pointer_result(env, pid)
            if res.problems and not isinstance(res.record, PromptDeployment):
                active[env] = None  # a pointer that cannot be read: "?" in the table
                broken += res.problems
            elif isinstance(res.record, PromptDeployment):
                active[env] = res.record.version
        out.append({"prompt_id": pid, "versions": versions, "active": active})
    if as_json:
        emit_json(out)
    else:
        table(
            ["PROMPT", "VERSIONS", "ACTIVE"],
            [
                (
                    o["prompt_id"],
                    ", ".join(o["versions"]),
                    ", ".join(f"{e}={v or '?'}" for e, v in o["active"].items()) or "-",
                )
                for o in out
            ],
        )
    if broken:
        for p in broken:
            click.echo(f"promptreg: {p}", err=True)
        raise ProblemsReported()


def _load_version(c: Ctx, prompt_id: str, version: str | None) -> PromptVersion:
    validate_prompt_id(prompt_id)
    c.require_registry()
    view = c.reg.view()
    versions = view.version_index().get(prompt_id)
    if not versions:
        raise NotFoundError(f"prompt {prompt_id!r} not found (no files under prompts/{prompt_id}/)")
    if version is None:
        version = versions[-1]
    validate_version(version)
    res = view.version_result(prompt_id, version)
    if res.problems and res.record is None:
        raise ValidationError("\n".join(str(p) for p in res.problems), res.problems)
    if not isinstance(res.record, PromptVersion):
        raise NotFoundError(f"{prompt_id} {version} not found; versions: {', '.join(versions)}")
    return res.record


@cli.command()
@click.argument("prompt_id", callback=PROMPT_ID)
@click.argument("version", required=False, callback=VERSION)
@json_option
@pass_ctx
def show(c: Ctx, prompt_id: str, version: str | None, as_json: bool) -> None:
    """One version (default: the latest) with its fields and deployments."""
    v = _load_version(c, prompt_id, version)
    view = c.reg.view()
    active_in = [
        env
        for env in view.settings().names
        if (p := view.pointer(env, prompt_id)) is not None and p.version == v.version
    ]
    if active_in:
        from dataclasses import replace

        v = replace(v, is_active=True)
    if as_json:
        d = v.to_dict()
        d["active_in"] = active_in
        emit_json(d)
        return
    stale = v.evaluation is not None and v.evaluation.fingerprint != v.fingerprint
    tested = "yes" if v.is_tested else ("no: edited after its evaluation" if stale else "no")
    rows = [
        ("prompt", v.prompt_id),
        ("version", v.version),
        ("description", v.description),
        ("author", v.author),
        ("created", v.created_at),
        ("tested", tested),
        ("score", v.evaluation_score),
        ("variables", ", ".join(v.placeholders) or "-"),
        ("model", json.dumps(dict(v.model)) if v.model else "-"),
        ("active in", ", ".join(active_in) or "-"),
    ]
    for k, val in rows:
        click.echo(f"{k + ':':<13}{'-' if val is None else val}")
    click.echo("")
    click.echo(_template_text(v))


def _template_text(v: PromptVersion) -> str:
    if v.messages is not None:
        return "\n".join(f"[{m.role}]\n{m.content.rstrip()}\n" for m in v.messages).rstrip() + "\n"
    return v.content or ""


@cli.command()
@click.argument("prompt_id", callback=PROMPT_ID)
@click.argument("v1", callback=VERSION)
@click.argument("v2", callback=VERSION)
@pass_ctx
def diff(c: Ctx, prompt_id: str, v1: str, v2: str) -> None:
    """Unified diff of content and changed fields between two versions."""
    a, b = _load_version(c, prompt_id, v1), _load_version(c, prompt_id, v2)
    da, db = a.to_dict(), b.to_dict()
    # The evaluation record differs between any two versions; tested and score say enough.
    skip = {"content", "messages", "prompt_id", "version", "is_active", "evaluation"}
    for key in da:
        if key not in skip and da[key] != db[key]:
            click.echo(f"{key}: {json.dumps(da[key])} -> {json.dumps(db[key])}")
    ta, tb = _template_text(a), _template_text(b)
    lines = difflib.unified_diff(
        ta.splitlines(keepends=True),
        tb.splitlines(keepends=True),
        fromfile=f"{prompt_id}/{v1}",
        tofile=f"{prompt_id}/{v2}",
    )
    for line in lines:
        click.echo(line, nl=not line.endswith("\n"))


@cli.command()
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
def status(c: Ctx, environment: str | None, as_json: bool) -> None:
    """Prompts x environments: the active version, flagged when untested or invalid (exit 1)."""
    from registry.status import status_rows

    c.require_registry()
    rows = status_rows(c.reg.view(), environment)
    keys = ("prompt_id", "environment", "version", "tested", "problems")
    if as_json:
        emit_json([{k: r[k] for k in keys} for r in rows])
    else:
        _status_table(rows)
    broken = sum(1 for r in rows if r["problems"])
    if broken:
        if not as_json:
            click.echo(
                f"promptreg: {broken} deployment(s) invalid or against policy; see NOTE"
                " (promptreg check --all for details)",
                err=True,
            )
        raise ProblemsReported()


def _status_table(rows: list[dict[str, Any]]) -> None:
    table(
        ["PROMPT", "ENVIRONMENT", "VERSION", "TESTED", "NOTE"],
        [
            (
                r["prompt_id"],
                r["environment"],
                r["version"],
                "yes" if r["tested"] else "no",
                r["note"],
            )
            for r in rows
        ],
    )


def _parse_vars(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise click.UsageError(f"--var takes NAME=VALUE, got {pair!r}")
        k, v = pair.split("=", 1)
        if v.startswith("@@"):
            v = v[1:]  # a literal value starting with "@"
        elif v.startswith("@"):
            try:
                v = Path(v[1:]).read_text(encoding="utf-8")
            except OSError as exc:
                raise click.UsageError(f"--var {k}: cannot read {v[1:]}: {exc.strerror}") from None
        out[k] = v
    return out


@cli.command()
@click.argument("prompt_id", callback=PROMPT_ID)
@click.option(
    "--env",
    "environment",
    callback=ENVIRONMENT,
    metavar="ENV",
    required=True,
    help="Environment to render.",
)
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="NAME=VALUE",
    help="A variable: VALUE, @FILE to read a file, @@... for a literal '@'.",
)
@json_option
@pass_ctx
def render(
    c: Ctx, prompt_id: str, environment: str, variables: tuple[str, ...], as_json: bool
) -> None:
    """Render the version active in an environment."""
    values = _parse_vars(variables)  # a usage error before the registry is read
    v = _active(c, prompt_id, environment, strict=True)
    if v is None:
        raise NotFoundError(f"nothing is deployed for {prompt_id} in {environment}")
    out = v.render(**values)
    if as_json:
        emit_json(
            {
                "prompt_id": prompt_id,
                "environment": environment,
                "version": v.version,
                "rendered": out,
            }
        )
    elif isinstance(out, str):
        click.echo(out, nl=not out.endswith("\n"))
    else:
        click.echo(_template_text_messages(out))


def _template_text_messages(msgs: list[dict[str, str]]) -> str:
    return "\n".join(f"[{m['role']}]\n{m['content'].rstrip()}\n" for m in msgs).rstrip()


def _active(c: Ctx, prompt_id: str, environment: str, strict: bool = False) -> PromptVersion | None:
    """The version the working tree points ``environment`` at; None when nothing is deployed.
    A version against the environment's policy is shown with a warning, or refused when
    ``strict`` (rendering it is what an application would refuse too)."""
    validate_prompt_id(prompt_id)
    validate_environment(environment)
    c.require_registry()
    view = c.reg.view()
    settings = view.checked_settings()
    if settings.get(environment) is None:
        raise EnvironmentNotConfiguredError(
            f"environment {environment!r} is not configured; configured: {', '.join(settings.names)}"
        )
    res = view.pointer_result(environment, prompt_id)
    if res.problems:
        raise ValidationError("\n".join(str(p) for p in res.problems), res.problems)
    ptr = res.record
    if not isinstance(ptr, PromptDeployment) or ptr.version is None:
        return None
    vres = view.version_result(prompt_id, ptr.version)
    if not isinstance(vres.record, PromptVersion):
        why = "\n".join(str(p) for p in vres.problems) or (
            f"{ptr.version} does not exist (prompts/{prompt_id}/{ptr.version}.yaml)"
        )
        raise ValidationError(
            f"{environment} points {prompt_id} at {ptr.version}, which cannot be read:\n{why}",
            vres.problems,
        )
    v = replace(vres.record, is_active=True)
    policy = settings.get(environment)
    assert policy is not None
    # What is deployed is judged as a state: promote_from is a rule about the change.
    problems = [p.message for p in judge(Candidate(v, environment, policy, promotion=None))]
    problems += [str(p) for p in vres.problems]
    if strict and problems:
        raise PolicyError("\n".join(problems))
    for message in problems:
        click.echo(f"promptreg: warning: {message}", err=True)
    return v


@cli.command()
@click.argument("prompt_id", callback=PROMPT_ID)
@click.option(
    "--env", "environment", callback=ENVIRONMENT, metavar="ENV", required=True, help="Environment."
)
@click.option(
    "--at", "at", callback=TIME, metavar="TIME", default=None, help="An RFC 3339 time in the past."
)
@json_option
@pass_ctx
def active(c: Ctx, prompt_id: str, environment: str, at: str | None, as_json: bool) -> None:
    """The version active now, or at an RFC 3339 TIME (from git history)."""
    if at is not None:
        c.require_registry()
        reg = PromptRegistry(c.root_opt, source="git")
        try:
            v = reg.active_at(prompt_id, environment, at)
        finally:
            reg.close()
    else:
        v = _active(c, prompt_id, environment)
    if v is None:
        cli_write.require_known(c, prompt_id, environment)
    if as_json:
        emit_json(None if v is None else v.to_dict())
        return
    if v is None:
        when = f" at {at}" if at else ""
        click.echo(f"nothing was active for {prompt_id} in {environment}{when}")
        return
    click.echo(f"{v.prompt_id} {v.version} ({'tested' if v.is_tested else 'untested'})")


for _command in cli_write.COMMANDS:
    cli.add_command(_command)
for _command in cli.commands.values():
    add_root_option(_command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; the one place that turns an exception into an exit code and a message:
    0 done, 1 refused (``RegistryError.exit_code``), 2 usage (click), 3 internal, 130
    interrupted. Commands raise; none of them exits."""
    show_tb = "--traceback" in (argv if argv is not None else sys.argv[1:])
    try:
        code = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="promptreg",
            standalone_mode=False,
        )
    except click.exceptions.Abort:
        click.echo("promptreg: aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except ProblemsReported as exc:
        return exc.exit_code  # the command has printed what it found
    except RegistryError as exc:
        if show_tb:
            _print_traceback(exc)
        for line in str(exc).splitlines():
            click.echo(f"promptreg: {line}", err=True)
        return exc.exit_code
    except SystemExit as exc:
        # click's own exit on a closed output pipe (EPIPE).
        return exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:
        _internal_error(exc, show_tb)
        return EXIT_INTERNAL
    # An int is click's code from ``ctx.exit`` (``--version``, ``--help``: 0).
    return code if isinstance(code, int) else 0


def _internal_error(exc: Exception, show_tb: bool) -> None:
    """A bug: the traceback with ``--traceback``, else one line and how to report it."""
    if show_tb:
        _print_traceback(exc)
        return
    click.echo(f"promptreg: internal error: {type(exc).__name__}: {exc}", err=True)
    click.echo("promptreg: please report this with the output of --traceback", err=True)


def _print_traceback(exc: BaseException) -> None:
    # Through click, like every other line on stderr (flushed, and captured by CliRunner).
    click.echo("".join(traceback.format_exception(exc)), err=True, nl=False)
