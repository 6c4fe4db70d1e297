"""The ``promptreg`` group: -C, --traceback, every command family, and ``main``, the one
place that turns an exception into an exit code."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click

from registry import DISTRIBUTION, __version__
from registry.cli.options import (
    Ctx,
    add_root_option,
)
from registry.errors import (
    EXIT_INTERNAL,
    ProblemsReported,
    RegistryError,
)

# Each command and the family module (registry/cli/NAME.py) that defines it. A family is
# imported only when one of its commands runs (``--help`` imports them all for the help
# texts), so ``check --staged`` in the pre-commit hook does not pay for the others' imports.
COMMAND_FAMILIES: dict[str, str] = {
    "active": "render",
    "bundle": "bundle",
    "check": "check",
    "deploy": "write",
    "diff": "read",
    "eval": "write",
    "history": "history",
    "init": "init",
    "list": "read",
    "new": "new",
    "render": "render",
    "review": "review",
    "rollback": "write",
    "show": "read",
    "status": "read",
    "undeploy": "write",
}


class LazyGroup(click.Group):
    """A group that imports a command's family module the first time the command is looked
    up, and adds ``-C`` after each of its commands (accepted before the name too)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_FAMILIES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        family = COMMAND_FAMILIES.get(cmd_name)
        if cmd_name not in self.commands and family is not None:
            module = importlib.import_module(f"registry.cli.{family}")
            for command in module.COMMANDS:
                add_root_option(command)
                self.add_command(command)
        return self.commands.get(cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    import traceback

    # Through click, like every other line on stderr (flushed, and captured by CliRunner).
    click.echo("".join(traceback.format_exception(exc)), err=True, nl=False)
