"""Editor support: modelines relative to the file, the schema copies and VS Code settings that
``promptreg init`` writes, and ``check``'s warning when the copies fall behind."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from registry.paths import classify
from registry.schema.files import KINDS, installed_schema_text, modeline_target
from tests.testing import ROOT, commit_all, git, init_repo, run_cli, version_yaml, write

ACTOR = "Dana Reyes <dana@example.com>"
MODELINE = "# yaml-language-server: $schema="
KIND_OF = {"version": "prompt-version", "pointer": "deployment", "suite": "eval-suite"}
EXIT_SKIP = 77  # scripts/editor-check.py: yaml-language-server missing and not installable
MAPPING = {
    "./schemas/prompt-version.schema.json": ["prompts/*/*.yaml"],
    "./schemas/deployment.schema.json": ["deployments/*/*.yaml"],
    "./schemas/eval-suite.schema.json": ["evals/*.yaml"],
    "./schemas/settings.schema.json": ["promptreg.yaml"],
}


def _ok(*args: str, cwd: Path | None = None) -> str:
    r = run_cli(*args, cwd=cwd)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    return r.stdout


def _registry(tmp_path: Path) -> Path:
    repo = init_repo(tmp_path / "reg")
    _ok("init", str(repo))
    return repo


def _modeline_target(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(MODELINE), f"{path}: {first}"
    return first.removeprefix(MODELINE)


def _kind(rel: str) -> str:
    if rel == "promptreg.yaml":
        return "settings"
    c = classify(rel)
    assert c is not None, rel
    return KIND_OF[c[0]]


def _settings(repo: Path) -> Any:
    return json.loads((repo / ".vscode/settings.json").read_text(encoding="utf-8"))


def _check_json(repo: Path) -> tuple[int, list[dict[str, Any]]]:
    r = run_cli("-C", str(repo), "check", "--all", "--json")
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, json.loads(r.stdout)


# -- modelines -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "rel", "target"),
    [
        ("prompt-version", "prompts/hr/1.0.0.yaml", "../../schemas/prompt-version.schema.json"),
        ("deployment", "deployments/production/hr.yaml", "../../schemas/deployment.schema.json"),
        ("eval-suite", "evals/hr.yaml", "../schemas/eval-suite.schema.json"),
        ("settings", "promptreg.yaml", "schemas/settings.schema.json"),
    ],
)
def test_modeline_is_relative_to_the_file(kind: str, rel: str, target: str) -> None:
    assert modeline_target(kind, rel) == target


def test_written_files_point_at_the_registry_schema_copies(tmp_path: Path) -> None:
    repo = _registry(tmp_path)
    content = write(tmp_path, "content.txt", "Hello {name}\n")
    _ok("-C", str(repo), "new", "greet", "--version", "1.0.0", "-d", "first",
        "--content-file", str(content), "--author", ACTOR)  # fmt: skip
    _ok("-C", str(repo), "deploy", "greet", "1.0.0", "--env", "development", "--by", ACTOR)
    written = ["prompts/greet/1.0.0.yaml", "deployments/development/greet.yaml", "promptreg.yaml"]
    for rel in written:
        target = _modeline_target(repo / rel)
        assert not target.startswith(("http:", "https:")), f"{rel}: {target}"
        resolved = (repo / rel).parent / target
        assert resolved.resolve() == (repo / "schemas" / f"{_kind(rel)}.schema.json").resolve()
        assert resolved.read_text(encoding="utf-8") == installed_schema_text(_kind(rel))


def _example_files() -> list[str]:
    found = [p for d in ("prompts", "deployments", "evals") for p in (ROOT / d).rglob("*.yaml")]
    return [*sorted(p.relative_to(ROOT).as_posix() for p in found), "promptreg.yaml"]


@pytest.mark.parametrize("rel", _example_files())
def test_example_registry_modelines_resolve_to_its_schemas(rel: str) -> None:
    target = _modeline_target(ROOT / rel)
    assert (
        (ROOT / rel).parent / target
    ).resolve() == ROOT / "schemas" / f"{_kind(rel)}.schema.json"


def test_this_repository_maps_its_example_registry_as_init_would() -> None:
    settings = json.loads((ROOT / ".vscode/settings.json").read_text(encoding="utf-8"))
    assert settings == {"yaml.schemas": MAPPING}


# -- init: schema copies and VS Code settings ------------------------------------------------------


def test_init_copies_the_schemas_and_maps_them_for_vscode(tmp_path: Path) -> None:
    repo = _registry(tmp_path)
    for kind in KINDS:
        copy = repo / "schemas" / f"{kind}.schema.json"
        assert copy.read_text(encoding="utf-8") == installed_schema_text(kind)
    assert _settings(repo) == {"yaml.schemas": MAPPING}
    for schema in MAPPING:
        assert (repo / schema).is_file()
    assert _check_json(repo) == (0, [])


def test_init_merges_into_plain_json_settings_and_keeps_the_users(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "reg")
    other = {"./other.json": "other/*.yaml"}
    write(repo, ".vscode/settings.json", json.dumps({"editor.tabSize": 4, "yaml.schemas": other}))
    out = _ok("init", str(repo))
    assert "merged .vscode/settings.json" in out
    assert _settings(repo) == {"editor.tabSize": 4, "yaml.schemas": {**other, **MAPPING}}
    before = (repo / ".vscode/settings.json").read_bytes()
    assert "settings.json" not in _ok("init", str(repo))
    assert (repo / ".vscode/settings.json").read_bytes() == before


def test_init_keeps_the_users_own_mapping_of_a_schema(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "reg")
    own = {"schemas/prompt-version.schema.json": ["prompts/**/*.yaml"]}
    write(repo, ".vscode/settings.json", json.dumps({"yaml.schemas": own}))
    _ok("init", str(repo))
    schemas = _settings(repo)["yaml.schemas"]
    assert schemas["schemas/prompt-version.schema.json"] == ["prompts/**/*.yaml"]
    assert "./schemas/prompt-version.schema.json" not in schemas
    assert schemas["./schemas/deployment.schema.json"] == ["deployments/*/*.yaml"]


JSONC = """\
{
  // my editor
  "editor.tabSize": 2, /* spaces */
  "files.exclude": {"**/.git": true,},
}
"""


def test_init_leaves_settings_with_comments_as_they_are_and_says_what_to_add(
    tmp_path: Path,
) -> None:
    repo = init_repo(tmp_path / "reg")
    write(repo, ".vscode/settings.json", JSONC)
    out = _ok("init", str(repo))
    assert (repo / ".vscode/settings.json").read_text(encoding="utf-8") == JSONC
    assert ".vscode/settings.json left as it is" in out
    assert '"yaml.schemas": {' in out and '"./schemas/prompt-version.schema.json": [' in out
    assert (repo / "schemas/prompt-version.schema.json").is_file()
    # Once the user has added the entries, init has nothing more to say about the file.
    added = JSONC.replace("{\n", '{\n  "yaml.schemas": ' + json.dumps(MAPPING) + ", // added\n", 1)
    write(repo, ".vscode/settings.json", added)
    assert "settings.json" not in _ok("init", str(repo))
    assert (repo / ".vscode/settings.json").read_text(encoding="utf-8") == added


@pytest.mark.parametrize(
    "data",
    [b'{"yaml.schemas": []}', b"[1, 2]", b'{"a": 1, "a": 2}', b"{not json", b"\xff{}"],
)
def test_init_never_rewrites_settings_it_cannot_merge_safely(tmp_path: Path, data: bytes) -> None:
    repo = init_repo(tmp_path / "reg")
    write(repo, ".vscode/settings.json", data)
    out = _ok("init", str(repo))
    assert (repo / ".vscode/settings.json").read_bytes() == data
    assert ".vscode/settings.json left as it is" in out


# -- schema copies that fall behind ----------------------------------------------------------------


def test_check_warns_about_outdated_copies_without_failing(tmp_path: Path) -> None:
    repo = _registry(tmp_path)
    write(repo, "schemas/deployment.schema.json", '{"type": "object"}\n')
    (repo / "schemas/settings.schema.json").unlink()
    code, problems = _check_json(repo)
    assert code == 0
    assert [(p["code"], p["path"], p["severity"]) for p in problems] == [
        ("schema-outdated", "schemas/deployment.schema.json", "warning"),
        ("schema-outdated", "schemas/settings.schema.json", "warning"),
    ]
    assert all("promptreg init --update-schemas" in p["message"] for p in problems)
    r = run_cli("-C", str(repo), "check", "--all")
    assert r.returncode == 0
    assert "schemas/deployment.schema.json: warning: schema-outdated" in r.stderr
    assert "(2 warning(s))" in r.stdout


def test_a_warning_does_not_hide_an_error(tmp_path: Path) -> None:
    repo = _registry(tmp_path)
    write(repo, "schemas/deployment.schema.json", "{}\n")
    write(repo, "prompts/greet/1.0.0.yaml", "prompt_id: greet\nversion: 1.0.0\n")
    code, problems = _check_json(repo)
    assert code == 1
    severities = {p["code"]: p["severity"] for p in problems}
    assert severities.pop("schema-outdated") == "warning"
    assert severities and set(severities.values()) == {"error"}
    r = run_cli("-C", str(repo), "check", "--all")
    assert r.returncode == 1 and "problem(s) found, 1 warning(s)" in r.stderr


def test_the_hook_and_ci_check_warn_without_failing(tmp_path: Path) -> None:
    repo = _registry(tmp_path)
    commit_all(repo, "init")
    write(repo, "schemas/settings.schema.json", "{}\n")
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    git(repo, "add", "-A")
    for mode in (("--staged",), ("--base", "HEAD")):
        r = run_cli("-C", str(repo), "check", *mode)
        assert r.returncode == 0, (mode, r.stdout, r.stderr)
        assert "schemas/settings.schema.json: warning: schema-outdated" in r.stderr, mode


def test_copies_compare_as_json(tmp_path: Path) -> None:
    repo = _registry(tmp_path)
    path = repo / "schemas/prompt-version.schema.json"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert _check_json(repo) == (0, [])


def test_a_registry_without_schema_copies_is_not_warned_about(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "reg")
    write(repo, "promptreg.yaml", "environments:\n  development: {require_tested: false}\n")
    (repo / "prompts").mkdir()
    assert _check_json(repo) == (0, [])


def test_init_keeps_a_changed_copy_and_update_schemas_refreshes_it(tmp_path: Path) -> None:
    repo = _registry(tmp_path)
    path = repo / "schemas/eval-suite.schema.json"
    path.write_text('{"type": "object"}\n', encoding="utf-8")
    out = _ok("init", str(repo))
    assert "kept schemas/eval-suite.schema.json" in out and "--update-schemas" in out
    assert path.read_text(encoding="utf-8") == '{"type": "object"}\n'
    out = _ok("init", "--update-schemas", str(repo))
    assert out == "updated schemas/eval-suite.schema.json\n"
    assert path.read_text(encoding="utf-8") == installed_schema_text("eval-suite")
    assert _check_json(repo) == (0, [])
    assert "nothing to do" in _ok("init", "--update-schemas", str(repo))


def test_update_schemas_only_touches_the_schemas(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "reg")
    (repo / "prompts").mkdir()
    out = _ok("-C", str(repo), "init", "--update-schemas")
    assert sorted(p.name for p in repo.iterdir()) == [".git", "prompts", "schemas"]
    assert out.count("created schemas/") == len(KINDS)


def test_update_schemas_outside_a_registry_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run_cli("init", "--update-schemas", str(empty))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "is not a registry" in r.stderr and "promptreg init" in r.stderr
    assert list(empty.iterdir()) == []


# -- the real yaml-language-server -----------------------------------------------------------------


@pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="node and npm are needed to run yaml-language-server (scripts/editor-check.py)",
)
def test_yaml_language_server_reports_a_bad_field_on_its_line() -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "editor-check.py")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if r.returncode == EXIT_SKIP:
        pytest.skip(r.stderr.strip())
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ok: modeline: `tested: maybe` reported on line " in r.stdout
    assert "ok: .vscode/settings.json mapping: `tested: maybe` reported on line " in r.stdout
    assert r.stdout.count("as promptreg wrote it: no diagnostics") == 3


def test_init_says_why_it_cannot_write_the_editor_files(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "reg")
    write(repo, ".vscode", "not a folder\n")
    out = _ok("init", str(repo))
    assert ".vscode/settings.json left as it is: it cannot be written" in out
    assert (repo / ".vscode").read_text() == "not a folder\n"
    other = init_repo(tmp_path / "other")
    (other / "prompts").mkdir()
    write(other, "schemas", "not a folder\n")
    r = run_cli("init", "--update-schemas", str(other))
    assert (r.returncode, "Traceback" in r.stderr) == (1, False), r.stderr
    assert "schemas/prompt-version.schema.json: cannot write the schema copy" in r.stderr


def test_a_missing_schemas_folder_is_a_warning_when_modelines_point_at_it(tmp_path: Path) -> None:
    """Files promptreg wrote name ../../schemas/...; without the folder editors cannot load it."""
    repo = tmp_path / "repo"
    repo.mkdir()
    r = run_cli("-C", str(repo), "new", "foo", "-d", "x", "--content-file", "-", input="Hi {x}\n")
    assert r.returncode == 0, r.stderr
    checked = run_cli("-C", str(repo), "check")
    assert checked.returncode == 0, checked.stderr
    assert "schemas/: warning: schema-outdated is missing" in checked.stderr
    assert "promptreg init --update-schemas" in checked.stderr
    assert run_cli("-C", str(repo), "init", "--update-schemas").returncode == 0
    again = run_cli("-C", str(repo), "check")
    assert "schema-outdated" not in again.stderr, again.stderr


def test_a_fifo_where_a_modeline_is_looked_for_does_not_hang(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "prompts/foo").mkdir(parents=True)
    os.mkfifo(repo / "promptreg.yaml")
    os.mkfifo(repo / "prompts/foo/1.0.0.yaml")
    r = run_cli("-C", str(repo), "check", real=True)
    assert r.returncode == 1 and "not-regular" in r.stderr, r.stderr
