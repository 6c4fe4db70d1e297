"""The context object, argument checks and the options every command shares."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from registry.errors import NotFoundError, RegistryError
from registry.ids import validate_environment, validate_prompt_id, validate_version

if TYPE_CHECKING:
    from registry.registry import PromptRegistry

F = TypeVar("F", bound=Callable[..., Any])


class Ctx:
    """Options shared by every command."""

    def __init__(self, root: str | None = None) -> None:
        self.root_opt = root
        self._reg: PromptRegistry | None = None
        self._root: Path | None = None

    @property
    def reg(self) -> PromptRegistry:
        """The registry of the working tree (uncommitted edits included)."""
        if self._reg is None:
            from registry.registry import PromptRegistry

            self._reg = PromptRegistry(self.root_opt, source="files")
        return self._reg

    @property
    def root(self) -> Path:
        """The registry root (found without building the registry, which a command such as
        ``check`` does not need)."""
        if self._reg is not None:
            return self._reg.root
        if self._root is None:
            from registry.gitio.repo import find_root

            self._root = find_root(self.root_opt)[0]
        return self._root

    def require_registry(self) -> Path:
        """The registry root; raises NotFoundError when it holds neither prompts/ nor
        deployments/ (an empty table there would read as an empty registry)."""
        from registry.paths import DEPLOYMENTS, PROMPTS

        root = self.root
        if not any((root / d).is_dir() for d in (PROMPTS, DEPLOYMENTS)):
            raise NotFoundError(
                f"{root} is not a promptreg registry: it has no prompts/ or deployments/ folder;"
                " run `promptreg init` or pass -C PATH"
            )
        return root


Callback = Callable[[click.Context, click.Parameter, Any], Any]


def require_utf8(value: str) -> None:
    """Refuse text that came from bytes that are not UTF-8 (Python keeps such bytes of the
    command line as lone surrogates, which no file, commit message or terminal can take)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            "not valid UTF-8: the command line passed bytes that are not UTF-8 text;"
            " give the text in UTF-8"
        ) from None


def require_text(value: str) -> None:
    """UTF-8 without control characters (a NUL, a bell): what a registry file may hold."""
    if value.isascii() and value.isprintable():
        return  # the common case, told without compiling the full check
    from registry.yamlio.refusals import UNPRINTABLE

    require_utf8(value)
    bad = UNPRINTABLE.search(value)
    if bad is not None:
        raise ValueError(f"holds the control character U+{ord(bad.group()):04X}; remove it")


def checked(check: Callable[[str], object]) -> Callback:
    """An option or argument callback running one of the core's validators: a bad value is a
    usage error (exit 2, click's "Invalid value for '--env'" message), not a refusal."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is not None:
            try:
                if isinstance(value, str):
                    require_text(value)
                check(value)
            except (RegistryError, ValueError) as exc:
                # An argument is named as in the usage line, without the [ ] of an optional one.
                hint = (
                    f"'{param.human_readable_name}'" if isinstance(param, click.Argument) else None
                )
                raise click.BadParameter(str(exc), ctx, param, hint) from None
        return value

    return callback


def _check_time(value: str) -> None:
    from registry.history import parse_rfc3339

    parse_rfc3339(value)


def _check_reason(value: str) -> None:
    from registry.deploy import clean_reason

    clean_reason(value)


def _check_actor(value: str) -> None:
    if not value.strip() or len(value.strip()) > 200 or any(ch in value for ch in "\r\n\0"):
        raise ValueError("give a single line of at most 200 characters, like 'Name <email>'")


ENVIRONMENT = checked(validate_environment)


def env_option(help: str, *, required: bool = False) -> Callable[[F], F]:
    """``--env ENV``, validated as an environment name (a malformed one is a usage error)."""
    # No default when required: click counts an explicit None as a given value.
    extra: dict[str, Any] = {"required": True} if required else {"default": None}
    return click.option(
        "--env", "environment", callback=ENVIRONMENT, metavar="ENV", help=help, **extra
    )


TEXT = checked(require_text)
VERSION = checked(validate_version)
PROMPT_ID = checked(validate_prompt_id)
TIME = checked(_check_time)
REASON = checked(_check_reason)
ACTOR = checked(_check_actor)


def require_person_option(value: str | None, flag: str, commit: bool) -> None:
    """With --commit an explicit actor must be ``Name <email>`` (git needs the email)."""
    from registry.gitio.commit import require_person

    if commit and value is not None:
        try:
            require_person(value.strip(), flag)
        except RegistryError as exc:
            raise click.BadParameter(str(exc), param_hint=f"'{flag}'") from None


def _set_root(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(Ctx).root_opt = value


def add_root_option(command: click.Command) -> None:
    """Accept ``-C PATH`` after the subcommand too (``promptreg status -C path``)."""
    command.params.insert(
        0,
        click.Option(
            ["-C", "root"],
            metavar="PATH",
            default=None,
            expose_value=False,
            is_eager=True,
            callback=_set_root,
            help="Registry root (also accepted before the command name).",
        ),
    )


def json_option(f: F) -> F:
    """Add ``--json``."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")(f)


pass_ctx = click.make_pass_decorator(Ctx)


def require_known(c: Ctx, prompt_id: str, environment: str | None) -> None:
    """Refuse (exit 1) a prompt the registry has never heard of, and an environment that is
    neither configured, nor holds a pointer, nor appears in the prompt's history (a retired
    environment stays valid). Called only when a read found nothing, so git is asked rarely."""
    c.reg.require_known(prompt_id, environment)
