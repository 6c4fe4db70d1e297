"""What is served: render a prompt, and the version active in an environment (now or at a time)."""

from __future__ import annotations

from collections.abc import Sequence

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
    NotFoundError,
    PolicyError,
)
from registry.ids import validate_environment, validate_prompt_id
from registry.models import PromptVersion
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
        raise NotFoundError(_nothing_active(c, prompt_id, environment))
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


def _nothing_active(c: Ctx, prompt_id: str, environment: str) -> str:
    """Why nothing renders: no pointer, or a tombstone (who removed the prompt, and why)."""
    ptr = c.reg.deployment(prompt_id, environment)
    if ptr is None:
        return f"nothing is deployed for {prompt_id} in {environment}"
    why = f": {ptr.reason}" if ptr.reason else ""
    return (
        f"nothing is active for {prompt_id} in {environment}: removed by {ptr.deployed_by}"
        f" at {ptr.deployed_at}{why} (promptreg deploy to make a version active again)"
    )


def _template_text_messages(msgs: list[dict[str, str]]) -> str:
    return "\n".join(f"[{m['role']}]\n{m['content'].rstrip()}\n" for m in msgs).rstrip()


def _active(c: Ctx, prompt_id: str, environment: str, strict: bool = False) -> PromptVersion | None:
    """The version the working tree points ``environment`` at; None when nothing is deployed.
    A version against the environment's policy is shown with a warning, or refused when
    ``strict`` (rendering it is what an application would refuse too)."""
    validate_prompt_id(prompt_id)
    validate_environment(environment)
    c.require_registry()
    deployed = c.reg.deployed_version(prompt_id, environment)
    if deployed is None:
        return None
    v, problems = deployed.version, deployed.problems
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
