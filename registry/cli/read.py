"""The read commands: list, show, diff and status."""

from __future__ import annotations

import difflib
import json
from typing import Any

import click

from registry.cli.options import (
    PROMPT_ID,
    VERSION,
    Ctx,
    env_option,
    json_option,
    pass_ctx,
)
from registry.cli.output import emit_json, table
from registry.errors import (
    NotFoundError,
    ProblemsReported,
    ValidationError,
)
from registry.ids import validate_prompt_id, validate_version
from registry.models import Problem, PromptDeployment, PromptVersion


# -- read commands -------------------------------------------------------------------------------
@click.command("list")
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
            elif isinstance(res.record, PromptDeployment) and res.record.version is not None:
                active[env] = res.record.version  # a tombstone (removed) is active nowhere
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


@click.command()
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


@click.command()
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


@click.command()
@env_option("Only this environment.")
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


COMMANDS = [list_cmd, show, diff, status]
