"""What is served: render a prompt, and the version active in an environment (now or at a time)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import click

from registry.cli.options import (
    PROMPT_ID,
    TIME,
    Ctx,
    env_option,
    json_option,
    pass_ctx,
    require_known,
    require_utf8,
)
from registry.cli.output import emit_json
from registry.errors import (
    EnvironmentNotConfiguredError,
    NotFoundError,
    PolicyError,
    ValidationError,
)
from registry.ids import validate_environment, validate_prompt_id
from registry.models import PromptDeployment, PromptVersion
from registry.policy import Candidate, judge
from registry.registry import PromptRegistry


def _parse_vars(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise click.UsageError(f"--var takes NAME=VALUE, got {pair!r}")
        try:
            require_utf8(pair)
        except ValueError as exc:
            raise click.UsageError(f"--var: {exc}") from None
        k, v = pair.split("=", 1)
        if v.startswith("@@"):
            v = v[1:]  # a literal value starting with "@"
        elif v.startswith("@"):
            from registry.cli.inputs import read_text

            v = read_text(v[1:], f"--var {k}=@FILE")[0]
        out[k] = v
    return out


@click.command()
@click.argument("prompt_id", callback=PROMPT_ID)
@env_option("Environment to render.", required=True)
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


@click.command()
@click.argument("prompt_id", callback=PROMPT_ID)
@env_option("Environment.", required=True)
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
        require_known(c, prompt_id, environment)
    if as_json:
        emit_json(None if v is None else v.to_dict())
        return
    if v is None:
        when = f" at {at}" if at else ""
        click.echo(f"nothing was active for {prompt_id} in {environment}{when}")
        return
    click.echo(f"{v.prompt_id} {v.version} ({'tested' if v.is_tested else 'untested'})")


COMMANDS = [render, active]
