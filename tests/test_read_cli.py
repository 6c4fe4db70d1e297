"""The read commands through the real CLI: init, list, show, diff, status, render, active, and
the edges every command shares (-C, identifiers, usage errors, --version)."""

from __future__ import annotations

import json
import os
import stat
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any

import pytest

import registry
from tests.testing import (
    LENIENT_SETTINGS,
    commit_all,
    git,
    init_repo,
    pointer_yaml,
    run_cli,
    version_yaml,
    write,
)

HR_VERSIONS = ["1.0.0-rc.1", "1.0.0", "1.9.0", "1.10.0"]  # SemVer order
OLD_CONTENT = "Hi {name}\nAsk: {query}\n"
NEW_CONTENT = "Hello {name}\nAsk: {query}\n"
CHAT = (
    "prompt_id: chat\n"
    'version: "1.0.0"\n'
    "description: A chat prompt\n"
    "author: Ana Lima <ana@example.com>\n"
    'created_at: "2026-11-20T10:00:00Z"\n'
    "messages:\n"
    '  - {role: system, content: "You are {persona}."}\n'
    '  - {role: user, content: "{question}"}\n'
    "variables: [persona, question]\n"
    "tested: false\n"
)


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    """A small committed registry: hr with four versions (written out of order), a chat prompt,
    and pointers in every environment of the lenient settings."""
    repo = init_repo(tmp_path / "repo")
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    for v in reversed(HR_VERSIONS):
        write(
            repo,
            f"prompts/hr/{v}.yaml",
            version_yaml("hr", v, content=NEW_CONTENT if v == "1.10.0" else OLD_CONTENT),
        )
    write(repo, "prompts/chat/1.0.0.yaml", CHAT)
    write(repo, "deployments/production/hr.yaml", pointer_yaml("hr", "production", "1.9.0"))
    write(repo, "deployments/staging/hr.yaml", pointer_yaml("hr", "staging", "1.10.0", "1.9.0"))
    write(repo, "deployments/development/chat.yaml", pointer_yaml("chat", "development", "1.0.0"))
    commit_all(repo, "a registry")
    return repo


def _snapshot(root: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not (dirpath == str(root) and d == ".git")]
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = os.lstat(p)
            rel = p.relative_to(root).as_posix()
            out[rel] = (p.read_bytes(), st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else st.st_mode
    return out


def ok(repo: Path, *args: str) -> str:
    r = run_cli("-C", str(repo), *args)
    assert r.returncode == 0, (args, r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    return r.stdout


def ok_json(repo: Path, *args: str) -> Any:
    return json.loads(ok(repo, *args, "--json"))


def fails(repo: Path | str, *args: str, code: int = 1) -> str:
    r = run_cli("-C", str(repo), *args)
    assert r.returncode == code, (args, r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    assert r.stderr.strip(), "an error must say why on stderr"
    return r.stderr


# -- init -----------------------------------------------------------------------------------------


def test_init_creates_the_skeleton(tmp_path: Path) -> None:
    target = tmp_path / "newreg"
    r = run_cli("init", str(target), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for folder in ("prompts", "deployments", "evals"):
        assert (target / folder).is_dir()
    settings = (target / "promptreg.yaml").read_text()
    assert "environments:" in settings
    for env in ("development", "staging", "production"):
        assert env in settings
    assert "promptreg-check" in (target / ".pre-commit-config.yaml").read_text()
    # What init makes is itself a valid registry.
    r = run_cli("-C", str(target), "check", "--all")
    assert r.returncode == 0, r.stdout + r.stderr


def test_init_in_the_current_directory(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    r = run_cli("init", cwd=repo)
    assert r.returncode == 0, r.stderr
    assert (repo / "promptreg.yaml").is_file() and (repo / "prompts").is_dir()


def test_init_twice_changes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "newreg"
    assert run_cli("init", str(target)).returncode == 0
    before = _snapshot(target)
    r = run_cli("init", str(target))
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert _snapshot(target) == before
    assert "created" not in r.stdout


def test_init_keeps_existing_settings(tmp_path: Path) -> None:
    target = tmp_path / "newreg"
    write(target, "promptreg.yaml", LENIENT_SETTINGS)
    assert run_cli("init", str(target)).returncode == 0
    assert (target / "promptreg.yaml").read_text() == LENIENT_SETTINGS


def test_init_on_a_file_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "afile"
    f.write_text("x")
    r = run_cli("init", str(f))
    assert r.returncode in (1, 2), (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    assert f.read_text() == "x"


# -- list -----------------------------------------------------------------------------------------


def test_list_json(reg: Path) -> None:
    assert ok_json(reg, "list") == [
        {"prompt_id": "chat", "versions": ["1.0.0"], "active": {"development": "1.0.0"}},
        {
            "prompt_id": "hr",
            "versions": HR_VERSIONS,
            "active": {"staging": "1.10.0", "production": "1.9.0"},
        },
    ]


def test_list_table(reg: Path) -> None:
    out = ok(reg, "list")
    lines = out.splitlines()
    assert lines[0].split() == ["PROMPT", "VERSIONS", "ACTIVE"]
    hr = next(ln for ln in lines if ln.startswith("hr "))
    assert "1.0.0-rc.1, 1.0.0, 1.9.0, 1.10.0" in hr
    assert "production=1.9.0" in hr and "staging=1.10.0" in hr
    assert any(ln.startswith("chat ") and "development=1.0.0" in ln for ln in lines)


def test_list_empty_registry(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    (repo / "prompts").mkdir()
    assert ok_json(repo, "list") == []


def test_list_sees_uncommitted_files(reg: Path) -> None:
    write(reg, "prompts/hr/2.0.0.yaml", version_yaml("hr", "2.0.0"))
    assert ok_json(reg, "list")[1]["versions"] == [*HR_VERSIONS, "2.0.0"]


# -- show -----------------------------------------------------------------------------------------


def test_show_latest_by_default(reg: Path) -> None:
    d = ok_json(reg, "show", "hr")
    assert d["version"] == "1.10.0"
    out = ok(reg, "show", "hr")
    assert "1.10.0" in out and "Hello {name}" in out and "Revision 1.10.0" in out


def test_show_json_fields(reg: Path) -> None:
    d = ok_json(reg, "show", "hr", "1.9.0")
    for key in (
        "prompt_id",
        "version",
        "content",
        "description",
        "author",
        "created_at",
        "is_active",
        "tested",
        "evaluation_score",
    ):
        assert key in d, key
    assert d["prompt_id"] == "hr"
    assert d["version"] == "1.9.0"
    assert d["content"] == OLD_CONTENT
    assert d["description"] == "Revision 1.9.0"
    assert d["author"] == "Dana Reyes <dana@example.com>"
    assert d["created_at"] == "2026-11-20T10:00:00Z"
    assert d["is_active"] is True  # production runs 1.9.0
    assert d["tested"] is False
    assert d["evaluation_score"] is None


def test_show_inactive_prerelease(reg: Path) -> None:
    d = ok_json(reg, "show", "hr", "1.0.0-rc.1")
    assert d["version"] == "1.0.0-rc.1"
    assert d["is_active"] is False


def test_show_chat_prompt(reg: Path) -> None:
    d = ok_json(reg, "show", "chat")
    assert d["content"] is None
    assert d["messages"] == [
        {"role": "system", "content": "You are {persona}."},
        {"role": "user", "content": "{question}"},
    ]
    out = ok(reg, "show", "chat")
    assert "system" in out and "You are {persona}." in out


def test_show_missing_prompt(reg: Path) -> None:
    err = fails(reg, "show", "nope")
    assert "nope" in err


def test_show_missing_version(reg: Path) -> None:
    err = fails(reg, "show", "hr", "2.0.0")
    assert "2.0.0" in err and "hr" in err


def test_show_invalid_version_argument(reg: Path) -> None:
    err = fails(reg, "show", "hr", "01.0.0", code=2)  # a usage error, like --from 01.0.0
    assert "01.0.0" in err


def test_show_broken_version_names_file_and_line(reg: Path) -> None:
    path = reg / "prompts/hr/1.0.0.yaml"
    path.write_text(path.read_text() + "description: again\n")
    err = fails(reg, "show", "hr", "1.0.0")
    assert "prompts/hr/1.0.0.yaml:10" in err, err


# -- diff -----------------------------------------------------------------------------------------


def test_diff(reg: Path) -> None:
    out = ok(reg, "diff", "hr", "1.9.0", "1.10.0")
    lines = out.splitlines()
    assert "-Hi {name}" in lines
    assert "+Hello {name}" in lines
    assert " Ask: {query}" in lines
    assert any(ln.startswith("---") and "1.9.0" in ln for ln in lines)
    assert any(ln.startswith("+++") and "1.10.0" in ln for ln in lines)
    desc = [ln for ln in lines if ln.startswith("description")]
    assert desc and "Revision 1.9.0" in desc[0] and "Revision 1.10.0" in desc[0]


def test_diff_same_content_shows_only_fields(reg: Path) -> None:
    out = ok(reg, "diff", "hr", "1.0.0", "1.9.0")
    assert not any(ln.startswith(("-Hi", "+Hi")) for ln in out.splitlines())
    assert "description" in out


def test_diff_missing_version(reg: Path) -> None:
    err = fails(reg, "diff", "hr", "1.9.0", "3.0.0")
    assert "3.0.0" in err


# -- status ---------------------------------------------------------------------------------------


def test_status_json(reg: Path) -> None:
    rows = ok_json(reg, "status")
    keys = {"prompt_id", "environment", "version", "tested", "problems"}
    assert all(set(r) == keys and r["problems"] == [] for r in rows), rows
    assert sorted((r["prompt_id"], r["environment"], r["version"], r["tested"]) for r in rows) == [
        ("chat", "development", "1.0.0", False),
        ("hr", "production", "1.9.0", False),
        ("hr", "staging", "1.10.0", False),
    ]


def test_status_env(reg: Path) -> None:
    assert ok_json(reg, "status", "--env", "staging") == [
        {"prompt_id": "hr", "environment": "staging", "version": "1.10.0", "tested": False,
         "problems": []}
    ]  # fmt: skip
    out = ok(reg, "status", "--env", "production")
    assert "1.9.0" in out and "staging" not in out and "chat" not in out


def test_status_table(reg: Path) -> None:
    lines = ok(reg, "status").splitlines()
    assert lines[0].split()[:4] == ["PROMPT", "ENVIRONMENT", "VERSION", "TESTED"]
    assert any(ln.split()[:4] == ["hr", "production", "1.9.0", "no"] for ln in lines), lines


def test_status_unconfigured_env_is_refused(reg: Path) -> None:
    """A typo in --env must not look like an empty, healthy environment."""
    err = fails(reg, "status", "--env", "prod")
    assert "prod" in err


def test_status_invalid_env_name(reg: Path) -> None:
    err = fails(reg, "status", "--env", "../x", code=2)
    assert "Invalid value for '--env'" in err and "'../x'" in err


# -- render ---------------------------------------------------------------------------------------


def test_render(reg: Path) -> None:
    out = ok(reg, "render", "hr", "--env", "production", "--var", "name=Ana", "--var", "query=Why?")
    assert out == "Hi Ana\nAsk: Why?\n"


def test_render_json(reg: Path) -> None:
    d = ok_json(reg, "render", "hr", "--env", "staging", "--var", "name=Ana", "--var", "query=Q")
    assert d["version"] == "1.10.0"
    assert d["rendered"] == "Hello Ana\nAsk: Q\n"


def test_render_values_with_braces_are_verbatim(reg: Path) -> None:
    out = ok(
        reg,
        "render",
        "hr",
        "--env",
        "production",
        "--var",
        "name={query}",
        "--var",
        "query={x} {{y}} {0} {a.__class__}",
    )
    assert out == "Hi {query}\nAsk: {x} {{y}} {0} {a.__class__}\n"


def test_render_value_with_equals_sign(reg: Path) -> None:
    out = ok(reg, "render", "hr", "--env", "production", "--var", "name=a=b", "--var", "query=")
    assert out == "Hi a=b\nAsk: \n"


def test_render_missing_variable(reg: Path) -> None:
    err = fails(reg, "render", "hr", "--env", "production", "--var", "name=Ana")
    assert "query" in err


def test_render_ignores_a_variable_the_template_does_not_use(reg: Path) -> None:
    """A caller written for a later version (here: with a colour) still renders this one."""
    out = ok(
        reg,
        "render",
        "hr",
        "--env",
        "production",
        "--var",
        "name=A",
        "--var",
        "query=Q",
        "--var",
        "colour=blue",
    )
    assert out == "Hi A\nAsk: Q\n"


def test_render_chat_prompt(reg: Path) -> None:
    out = ok(
        reg,
        "render",
        "chat",
        "--env",
        "development",
        "--var",
        "persona=a pirate",
        "--var",
        "question={persona}?",
    )
    assert "system" in out and "You are a pirate." in out
    assert "user" in out and "{persona}?" in out
    d = ok_json(
        reg,
        "render",
        "chat",
        "--env",
        "development",
        "--var",
        "persona=a pirate",
        "--var",
        "question=Q",
    )
    assert d["rendered"] == [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "Q"},
    ]


def test_render_nothing_deployed(reg: Path) -> None:
    err = fails(reg, "render", "chat", "--env", "production")
    assert "chat" in err and "production" in err


def test_render_needs_env(reg: Path) -> None:
    fails(reg, "render", "hr", code=2)


# -- active ---------------------------------------------------------------------------------------


def test_active(reg: Path) -> None:
    out = ok(reg, "active", "hr", "--env", "production")
    assert "hr" in out and "1.9.0" in out
    d = ok_json(reg, "active", "hr", "--env", "staging")
    assert d["prompt_id"] == "hr" and d["version"] == "1.10.0" and d["is_active"] is True
    assert d["content"] == NEW_CONTENT


def test_active_sees_an_uncommitted_pointer(reg: Path) -> None:
    write(
        reg, "deployments/production/hr.yaml", pointer_yaml("hr", "production", "1.10.0", "1.9.0")
    )
    assert ok_json(reg, "active", "hr", "--env", "production")["version"] == "1.10.0"


def test_active_nothing_deployed(reg: Path) -> None:
    out = ok(reg, "active", "chat", "--env", "production")
    assert "chat" in out and "production" in out and out.strip()
    r = run_cli("-C", str(reg), "active", "chat", "--env", "production", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) is None
    assert r.stdout.strip() == "null"


def test_active_unknown_prompt_is_nothing_deployed(reg: Path) -> None:
    r = run_cli("-C", str(reg), "active", "nope", "--env", "production", "--json")
    assert "Traceback" not in r.stderr
    assert (r.returncode == 0 and r.stdout.strip() == "null") or r.returncode == 1, r


def test_active_unconfigured_env(reg: Path) -> None:
    err = fails(reg, "active", "hr", "--env", "qa")
    assert "qa" in err


# -- shared edges ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("list",),
        ("show", "hr"),
        ("status",),
        ("active", "hr", "--env", "production"),
        ("check", "--all"),
    ],
)
def test_dash_c_on_a_file_or_missing_path(tmp_path: Path, args: tuple[str, ...]) -> None:
    f = tmp_path / "afile"
    f.write_text("x")
    err = fails(f, *args)
    assert str(f) in err or "afile" in err
    err = fails(tmp_path / "missing", *args)
    assert "missing" in err


@pytest.mark.parametrize(
    "args",
    [
        ("show", "../etc"),
        ("show", "../etc", "1.0.0"),
        ("diff", "../etc", "1.0.0", "1.1.0"),
        ("render", "../etc", "--env", "production"),
        ("active", "../etc", "--env", "production"),
        ("active", "../etc", "--env", "production", "--json"),
        ("show", "HR_Query"),
        ("show", "/etc/passwd"),
    ],
)
def test_invalid_prompt_id_argument(reg: Path, args: tuple[str, ...]) -> None:
    err = fails(reg, *args, code=2)  # a usage error (click's "Invalid value for 'PROMPT_ID'")
    assert "invalid prompt id" in err and repr(args[1]) in err, err


@pytest.mark.parametrize(
    "args",
    [("active", "hr"), ("render", "hr"), ("show",), ("diff", "hr", "1.0.0"), ("list", "--bogus")],
)
def test_usage_errors_exit_2(reg: Path, args: tuple[str, ...]) -> None:
    err = fails(reg, *args, code=2)
    assert "Usage" in err or "Error" in err


def test_version() -> None:
    r = run_cli("--version")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"promptreg, version {dist_version('promptreg-git')}"
    assert dist_version("promptreg-git") == registry.__version__


def test_read_commands_write_nothing(reg: Path) -> None:
    before = _snapshot(reg)
    for args in (
        ("list",),
        ("list", "--json"),
        ("show", "hr"),
        ("show", "chat", "--json"),
        ("diff", "hr", "1.9.0", "1.10.0"),
        ("status",),
        ("status", "--json"),
        ("render", "hr", "--env", "production", "--var", "name=a", "--var", "query=b"),
        ("active", "hr", "--env", "production"),
        ("show", "nope"),
    ):
        run_cli("-C", str(reg), *args)
    assert _snapshot(reg) == before
    assert git(reg, "status", "--porcelain") == ""
