"""One error path: every exception class lives in ``registry.errors`` with its exit code, the
package exports them all, only ``registry.cli.main`` turns an exception into an exit code, and
a bug anywhere (a registry's first load included) is exit 3 with the "please report" line."""

from __future__ import annotations

import ast
import inspect
import subprocess
from pathlib import Path

import pytest

import registry
from registry import errors
from registry.registry import PromptRegistry
from tests.testing import (
    LENIENT_SETTINGS,
    ROOT,
    commit_all,
    pointer_yaml,
    run_cli,
    version_yaml,
    write,
)

ACTOR = "Dana Reyes <dana@example.com>"
PLEASE_REPORT = "promptreg: please report this with the output of --traceback"

EXCEPTIONS = [
    obj
    for _, obj in inspect.getmembers(errors, inspect.isclass)
    if issubclass(obj, BaseException) and obj.__module__ == errors.__name__
]


@pytest.fixture
def reg(repo: Path) -> Path:
    """A committed registry: greet 1.0.0 and 1.1.0, production on 1.1.0."""
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0", "Hi {name}\n"))
    write(repo, "prompts/greet/1.1.0.yaml", version_yaml("greet", "1.1.0", "Hello {name}\n"))
    write(repo, "deployments/production/greet.yaml",
          pointer_yaml("greet", "production", "1.1.0", "1.0.0"))  # fmt: skip
    commit_all(repo, "registry")
    return repo


# -- the classes ---------------------------------------------------------------------------------
def test_the_hierarchy_is_all_there() -> None:
    names = {e.__name__ for e in EXCEPTIONS}
    assert {"RegistryError", "YamlError", "YamlEditError", "TemplateSyntaxError",
            "InvalidTimeError", "UnsupportedPlatformError", "ProblemsReported"} <= names  # fmt: skip


@pytest.mark.parametrize("exc", EXCEPTIONS, ids=lambda e: e.__name__)
def test_every_exception_class_states_its_exit_code(exc: type[BaseException]) -> None:
    # On the class itself, so reading errors.py tells what each one exits with.
    assert isinstance(exc.__dict__.get("exit_code"), int)
    if issubclass(exc, errors.RegistryError):
        assert exc.exit_code == 1  # a refusal; usage errors (2) are click's
    else:
        assert exc.exit_code == errors.EXIT_INTERNAL  # a defect of promptreg itself


@pytest.mark.parametrize("exc", EXCEPTIONS, ids=lambda e: e.__name__)
def test_every_exception_is_exported(exc: type[BaseException]) -> None:
    assert exc.__name__ in registry.__all__
    assert getattr(registry, exc.__name__) is exc


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("registry.yamlio.load", "YamlError"),
        ("registry.yamlio.edit", "YamlEditError"),
        ("registry.template", "TemplateSyntaxError"),
        ("registry.history", "InvalidTimeError"),
        ("registry.fsio", "UnsupportedPlatformError"),
        ("registry.schema.shapes", "UnsupportedKeyword"),
    ],
)
def test_the_old_import_paths_still_work(module: str, name: str) -> None:
    import importlib

    assert getattr(importlib.import_module(module), name) is getattr(errors, name)


def test_no_module_exits_or_dies_on_its_own() -> None:
    """Only ``main`` maps errors to exit codes: no ``die()``, no ``sys.exit``, no ``exit()``,
    and ``raise SystemExit`` only in ``__main__``."""
    offenders = []
    for path in sorted((ROOT / "registry").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += [
            f"{rel}:{n.lineno}: {what}" for n in ast.walk(tree) if (what := _exit(n, rel))
        ]
    assert offenders == []


# A forked child of check --all leaves through os._exit once its problems are sent: it must
# not run the parent's atexit handlers or flush the parent's buffered output a second time.
FORKED_CHILDREN = frozenset({"registry/check/parallel.py"})


def _exit(node: ast.AST, rel: str) -> str | None:
    """What in ``node`` exits the process or stands for it, if anything."""
    if isinstance(node, ast.FunctionDef) and node.name == "die":
        return "defines die()"
    if isinstance(node, ast.Call):
        call = ast.unparse(node.func)
        if call == "os._exit" and rel in FORKED_CHILDREN:
            return None
        if call in ("die", "sys.exit", "exit", "quit", "os._exit"):
            return f"calls {call}()"
    if isinstance(node, ast.Raise) and node.exc is not None and rel != "registry/__main__.py":
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        if ast.unparse(exc) == "SystemExit":
            return "raises SystemExit"
    return None


# -- refusals keep their message and exit 1 ------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "nope"), "promptreg: prompt 'nope' not found (no files under prompts/nope/)\n"),
        (("show", "greet", "9.9.9"), "promptreg: greet 9.9.9 not found; versions: 1.0.0, 1.1.0\n"),
        (("render", "greet", "--env", "staging"), "promptreg: nothing is deployed for greet in staging\n"),
        (("render", "greet", "--env", "qa"),
         "promptreg: environment 'qa' is not configured; configured: development, staging, production\n"),
    ],
    ids=["no-prompt", "no-version", "nothing-deployed", "unknown-env"],
)  # fmt: skip
def test_a_refusal_is_one_message_and_exit_1(
    reg: Path, args: tuple[str, ...], message: str
) -> None:
    r = run_cli(*args, cwd=reg)
    assert (r.returncode, r.stdout, r.stderr) == (1, "", message)


def test_a_command_that_reported_its_problems_adds_nothing(reg: Path) -> None:
    write(reg, "deployments/staging/greet.yaml", "prompt_id: [\n")
    r = run_cli("check", "--all", cwd=reg)
    assert r.returncode == 1
    assert r.stderr == (
        "deployments/staging/greet.yaml:2: yaml-syntax YAML syntax error: did not find expected"
        " node content (while parsing a flow node); fix the YAML at this line\n"
        "1 problem(s) found\n"
    )


# -- a bug is exit 3 with the "please report" line -----------------------------------------------
def _boom(*_args: object, **_kw: object) -> None:
    raise ZeroDivisionError("division by zero")


INJECTED = [
    ("registry.view.RegistryView.version_result", ("show", "greet")),
    ("registry.status.status_rows", ("status",)),
    ("registry.deploy.deploy_change", ("deploy", "greet", "1.0.0", "--env", "staging", "--by", ACTOR)),
    ("registry.writer.register", ("new", "greet", "--bump", "patch", "-d", "Fix", "--author", ACTOR)),
    ("registry.check.run.run_check", ("check", "--all")),
    # history reads the settings through the registry's first snapshot load
    ("registry.serving.build_snapshot", ("history", "greet")),
]  # fmt: skip


@pytest.mark.parametrize(("target", "args"), INJECTED, ids=[a[0] for _, a in INJECTED])
def test_an_unexpected_exception_is_an_internal_error(
    reg: Path, monkeypatch: pytest.MonkeyPatch, target: str, args: tuple[str, ...]
) -> None:
    monkeypatch.setattr(target, _boom)
    r = run_cli(*args, cwd=reg)
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert r.stderr == (
        "promptreg: internal error: ZeroDivisionError: division by zero\n" + PLEASE_REPORT + "\n"
    )


def test_traceback_shows_where_the_bug_is(reg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("registry.check.run.run_check", _boom)
    r = run_cli("--traceback", "check", "--all", cwd=reg)
    assert r.returncode == 3
    assert "Traceback (most recent call last)" in r.stderr
    assert "ZeroDivisionError: division by zero" in r.stderr


def test_a_real_interpreter_shows_no_traceback_for_a_bug(reg: Path) -> None:
    """The subprocess layer: a real interpreter whose first snapshot load hits a bug (a
    ``-c`` program replaces the loader, then runs ``main``) exits 3 without a traceback."""
    import sys

    program = (
        "import sys, registry.serving as r\n"
        "def boom(*a, **k): raise ZeroDivisionError('division by zero')\n"
        "r.build_snapshot = boom\n"
        "from registry.cli import main\n"
        "sys.exit(main(['history', 'greet']))\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", program], cwd=reg, capture_output=True, text=True, timeout=120
    )
    assert p.returncode == 3, p.stderr
    assert "Traceback" not in p.stderr
    assert p.stderr.endswith(PLEASE_REPORT + "\n")


def _active_version(r: PromptRegistry) -> str | None:
    v = r.get_active("greet", "production")
    return None if v is None else v.version


# -- the library: the first load lets a bug through, a reload keeps the last good snapshot --------
def test_a_bug_on_the_first_load_is_not_relabelled(
    reg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("registry.serving.build_snapshot", _boom)
    with PromptRegistry(reg) as r, pytest.raises(ZeroDivisionError):
        r.get_active("greet", "production")


def test_an_unreadable_registry_on_the_first_load_is_a_refusal(
    reg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(*_args: object, **_kw: object) -> None:
        raise PermissionError(13, "Permission denied", str(reg / "prompts"))

    monkeypatch.setattr("registry.serving.build_snapshot", denied)
    with PromptRegistry(reg) as r, pytest.raises(errors.RegistryError, match="cannot be read"):
        r.get_active("greet", "production")


def test_a_bug_on_a_reload_keeps_the_last_good_snapshot(
    reg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with PromptRegistry(reg, refresh_interval=0) as r:
        assert _active_version(r) == "1.1.0"
        monkeypatch.setattr("registry.serving.build_snapshot", _boom)
        write(reg, "deployments/production/greet.yaml",
              pointer_yaml("greet", "production", "1.0.0", "1.1.0"))  # fmt: skip
        commit_all(reg, "back to 1.0.0")
        assert r.reload() is False
        assert _active_version(r) == "1.1.0"
        assert r.last_error == "update rejected: ZeroDivisionError('division by zero')"
