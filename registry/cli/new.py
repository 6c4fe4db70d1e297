"""promptreg new: write the next version of a prompt."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import click

from registry.cli.options import (
    ACTOR,
    PROMPT_ID,
    TEXT,
    VERSION,
    Ctx,
    pass_ctx,
    require_person_option,
)
from registry.errors import RegistryError, VersionNotGivenError
from registry.ids import Bump, validate_prompt_id
from registry.models import Message, PromptVersion

F = TypeVar("F", bound=Callable[..., Any])


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
@click.option("-d", "--description", required=True, callback=TEXT, help="What changed and why.")
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
    try:
        planned = c.reg.next_version(
            prompt_id, bump=_bump(bump), version=version, from_version=from_version
        )
    except VersionNotGivenError as exc:
        raise click.UsageError(str(exc)) from None
    base, version = planned.base, planned.version
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
    for p in c.reg.version_warnings(prompt_id, version):
        where = p.path if p.line is None else f"{p.path}:{p.line}"
        click.echo(f"promptreg: warning: {where}: {p.code} {p.message}", err=True)


def _bump(bump: str | None) -> Bump | None:
    """The ``--bump`` choice as the library's SemVer part."""
    if bump is None:
        return None
    return "major" if bump == "major" else "minor" if bump == "minor" else "patch"


def _read_text(path: str, flag: str) -> str:
    from registry.cli.inputs import read_text
    from registry.messages_file import EMPTY_TEMPLATE
    from registry.yamlio.refusals import UNPRINTABLE

    text, name = read_text(path, flag)
    if not text.strip():
        raise RegistryError(f"{name}:1: {EMPTY_TEMPLATE}")
    bad = UNPRINTABLE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        raise RegistryError(
            f"{name}:{line}: holds the control character U+{ord(bad.group()):04X}, which a"
            " prompt file cannot hold; remove it"
        )
    return text


def _read_messages(path: str) -> tuple[Message, ...]:
    from registry.cli.inputs import read_input
    from registry.messages_file import load_messages

    data, name = read_input(path, "--messages-file")
    return load_messages(data, name)


COMMANDS = [new]
