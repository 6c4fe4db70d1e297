"""The package layout: every subpackage ships in the wheel."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "registry"


def _subpackages() -> set[str]:
    return {".".join(init.parent.relative_to(ROOT).parts) for init in PACKAGE.rglob("__init__.py")}


def test_every_subpackage_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    assert _subpackages() | {"registry.schema_files"} == listed


def test_no_module_is_left_beside_a_package_of_its_name() -> None:
    """A package replaced a module (``yamlio.py`` became ``yamlio/``); no stale copy remains."""
    stale = [p for p in PACKAGE.rglob("*.py") if p.with_suffix("").is_dir()]
    assert stale == []


def test_only_gitio_repo_looks_for_dot_git() -> None:
    """ "Where is ``.git``" has one answer, ``registry/gitio/repo.py``."""
    spelled = [
        p.relative_to(ROOT).as_posix()
        for p in PACKAGE.rglob("*.py")
        if '".git"' in p.read_text(encoding="utf-8") or "gitdir:" in p.read_text(encoding="utf-8")
    ]
    assert spelled == ["registry/gitio/repo.py"]


def test_only_gitio_commit_imports_gitpython() -> None:
    users = [
        p.relative_to(ROOT).as_posix()
        for p in PACKAGE.rglob("*.py")
        if any(
            line.strip() in ("import git", "from git import") for line in p.read_text().splitlines()
        )
    ]
    assert users == ["registry/gitio/commit.py"]


def test_only_the_cli_package_imports_click() -> None:
    users = [
        p.relative_to(ROOT).as_posix()
        for p in PACKAGE.rglob("*.py")
        if any(
            line.strip() == "import click" or line.strip().startswith("from click")
            for line in p.read_text(encoding="utf-8").splitlines()
        )
    ]
    assert users and all(u.startswith("registry/cli/") for u in users)


def test_every_command_family_is_registered() -> None:
    """Each ``registry/cli`` module's ``COMMANDS`` are on the group, with ``-C`` after them,
    and the group's table of lazily imported families names exactly those commands."""
    import importlib

    import click

    from registry.cli.app import cli

    ctx = click.Context(cli)
    names = set()
    for path in sorted((PACKAGE / "cli").glob("*.py")):
        module = importlib.import_module(f"registry.cli.{path.stem}")
        for command in getattr(module, "COMMANDS", []):
            assert command.name is not None
            names.add(command.name)
            assert cli.get_command(ctx, command.name) is command
            assert any("-C" in p.opts for p in command.params), command.name
    assert set(cli.list_commands(ctx)) == names


def _readme_tree() -> tuple[set[str], set[str]]:
    """(modules, folders) the README's Development tree lists, as paths below ``registry/``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    dev = text[text.index("\n## Development\n") :]
    block = dev[dev.index("```text\nregistry/\n") :].split("```")[1]
    modules, folders, stack = set(), set(), []
    for line in block.splitlines()[2:]:
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2 - 1
        name = line.split()[0]
        del stack[depth:]
        if name.endswith("/"):
            stack.append(name.rstrip("/"))
            folders.add("/".join(stack))
        else:
            modules.add("/".join([*stack, name]))
    return modules, folders


def test_the_readme_tree_lists_every_module() -> None:
    modules, folders = _readme_tree()
    actual = {
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*.py")
        if p.name != "__init__.py" or p.parent == PACKAGE
    }
    assert modules == actual
    assert folders == {
        p.parent.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*/__init__.py")
    }
