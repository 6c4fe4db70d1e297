"""Option values and placement: a bad value is a usage error (exit 2) naming the option, and
``-C PATH`` works after the subcommand as well as before it."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from registry.cli.app import cli
from tests.clirun import run
from tests.testing import LENIENT_SETTINGS, commit_all, pointer_yaml, version_yaml, write

ACTOR = "Dana Reyes <dana@example.com>"


@pytest.fixture
def registry(repo: Path) -> Path:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0", "Hi {name}\n"))
    write(repo, "prompts/greet/1.1.0.yaml", version_yaml("greet", "1.1.0", "Hello {name}\n"))
    write(repo, "deployments/production/greet.yaml",
          pointer_yaml("greet", "production", "1.1.0", "1.0.0"))  # fmt: skip
    write(repo, "evals/greet.yaml", "prompt_id: greet\nthreshold: 0.5\ncases:\n"
          "  - name: a\n    vars: {name: x}\n    assert:\n      - {type: contains, value: x}\n")  # fmt: skip
    write(repo, "content.txt", "Hey {name}\n")
    commit_all(repo, "registry")
    return repo


BAD_VALUES = [
    (("active", "greet", "--env", "production", "--at", "yesterday"), "--at", "yesterday"),
    (("active", "greet", "--env", "production", "--at", "2026-02-30T00:00:00Z"), "--at", "2026-02-30"),
    (("active", "greet", "--env", "production", "--at", "2026-11-21T10:00:00"), "--at", "zone"),
    (("active", "greet", "--env", "Prod"), "--env", "'Prod'"),
    (("render", "greet", "--env", "../x"), "--env", "'../x'"),
    (("status", "--env", "a b"), "--env", "'a b'"),
    (("history", "greet", "--env", "../x"), "--env", "'../x'"),
    (("deploy", "greet", "1.0.0", "--env", "../x", "--by", ACTOR), "--env", "'../x'"),
    (("rollback", "greet", "--env", "../x", "--by", ACTOR), "--env", "'../x'"),
    (("rollback", "greet", "--env", "production", "--to", "v1", "--by", ACTOR), "--to", "'v1'"),
    (("new", "greet", "--version", "1.0", "-d", "x"), "--version", "'1.0'"),
    (("new", "greet", "--from", "01.0.0", "--bump", "minor", "-d", "x"), "--from", "'01.0.0'"),
    (("new", "greet", "--bump", "huge", "-d", "x"), "--bump", "huge"),
    (("new", "greet", "--bump", "patch", "-d", "x", "--content-file", "nope.txt"),
     "--content-file", "nope.txt"),
    (("new", "greet", "--bump", "patch", "-d", "x", "--author", "A\nB"), "--author", "single line"),
    (("deploy", "greet", "1.0.0", "--env", "production", "--reason", "x" * 501, "--by", ACTOR),
     "--reason", "500"),
    (("deploy", "greet", "1.0.0", "--env", "production", "--by", "Dana", "--commit"),
     "--by", "Name <email>"),
    (("eval", "greet", "1.0.0", "--by", "Dana", "--commit"), "--by", "Name <email>"),
    (("eval", "greet", "1.0.0", "--suite", "evals/none.yaml"), "--suite", "evals/none.yaml"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "option", "named"), BAD_VALUES, ids=lambda a: str(a)[:40])
def test_a_bad_option_value_is_a_usage_error(
    registry: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], option: str,
    named: str,
) -> None:  # fmt: skip
    before = {
        p: p.read_bytes() for p in registry.rglob("*") if p.is_file() and ".git" not in p.parts
    }
    r = run(capsys, "-C", str(registry), *args)
    assert r.code == 2, (r.out, r.err)
    assert "Usage: promptreg" in r.err and f"'{option}'" in r.err, r.err
    assert named in r.err, r.err
    after = {
        p: p.read_bytes() for p in registry.rglob("*") if p.is_file() and ".git" not in p.parts
    }
    assert after == before


def test_an_unconfigured_environment_is_still_a_refusal(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A well-formed name the registry does not configure: the registry refuses (exit 1).
    r = run(capsys, "-C", str(registry), "deploy", "greet", "1.0.0", "--env", "qa", "--by", ACTOR)
    assert r.code == 1 and "'qa' is not configured" in r.err


# -- -C after the subcommand -----------------------------------------------------------------

READ_AFTER = [
    ("list", "--json"),
    ("status", "--json"),
    ("show", "greet", "--json"),
    ("active", "greet", "--env", "production", "--json"),
    ("history", "greet", "--json"),
    ("render", "greet", "--env", "production", "--var", "name=Ana", "--json"),
]


@pytest.mark.parametrize("args", READ_AFTER, ids=lambda a: a[0])
def test_dash_c_after_the_subcommand_reads_the_same(
    registry: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...],
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)  # not inside the registry
    before = run(capsys, "-C", str(registry), *args)
    after = run(capsys, args[0], "-C", str(registry), *args[1:])
    at_end = run(capsys, *args, "-C", str(registry))
    assert before.code == after.code == at_end.code == 0, (before.err, after.err, at_end.err)
    assert json.loads(before.out) == json.loads(after.out) == json.loads(at_end.out)


def test_dash_c_after_the_subcommand_writes_there(
    registry: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    r = run(capsys, "deploy", "greet", "1.0.0", "--env", "staging", "--by", ACTOR, "-C",
            str(registry))  # fmt: skip
    assert r.code == 0, r.err
    assert (registry / "deployments/staging/greet.yaml").is_file()
    r = run(capsys, "check", "-C", str(registry), "--all")
    assert r.code == 0, r.err


def test_every_command_takes_dash_c() -> None:
    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        assert command is not None, name
        assert any("-C" in p.opts for p in command.params), name


BAD_ARGUMENTS = [
    (("deploy", "greet", "1.0", "--env", "production", "--by", ACTOR), "VERSION", "'1.0'"),
    (("show", "greet", "01.0.0"), "VERSION", "'01.0.0'"),
    (("diff", "greet", "1.0.0", "v2"), "V2", "'v2'"),
    (("eval", "greet", "1.0"), "VERSION", "'1.0'"),
    (("history", "Bad-ID"), "PROMPT_ID", "'Bad-ID'"),
    (("show", "Bad-ID"), "PROMPT_ID", "'Bad-ID'"),
    (("active", "../x", "--env", "production"), "PROMPT_ID", "'../x'"),
    (("render", "Bad-ID", "--env", "production"), "PROMPT_ID", "'Bad-ID'"),
    (("rollback", "Bad-ID", "--env", "production", "--by", ACTOR), "PROMPT_ID", "'Bad-ID'"),
    (("new", "Bad-ID", "-d", "x"), "PROMPT_ID", "'Bad-ID'"),
]


@pytest.mark.parametrize(("args", "name", "named"), BAD_ARGUMENTS, ids=lambda a: str(a)[:40])
def test_a_malformed_argument_is_a_usage_error(
    registry: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], name: str,
    named: str,
) -> None:  # fmt: skip
    r = run(capsys, "-C", str(registry), *args)
    assert r.code == 2, (r.out, r.err)
    assert f"Invalid value for '{name}'" in r.err and named in r.err, r.err


def test_a_malformed_var_is_a_usage_error_even_when_nothing_is_deployed(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, "-C", str(registry), "render", "greet", "--env", "development",
            "--var", "noequals")  # fmt: skip
    assert r.code == 2, (r.out, r.err)
    assert "--var takes NAME=VALUE" in r.err and "'noequals'" in r.err
