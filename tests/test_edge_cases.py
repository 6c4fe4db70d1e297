"""Edge cases a careful user runs into: rollbacks under promotion rules, broken settings,
odd placeholders, symlinked folders, paths given from subfolders."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from registry import Message, PromptRegistry, PromptVersion, RegistryError
from tests.test_write import POLICY, evaluated_yaml
from tests.testing import (
    commit_all,
    fresh,
    git,
    init_repo,
    pointer_yaml,
    run_cli,
    version_yaml,
    write,
)

BY = "Dana Reyes <dana@example.com>"


def cli(repo: Path, *args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    proc = run_cli("-C", str(repo), *args, cwd=cwd)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def promoted(repo: Path) -> Path:
    """production promotes from staging; 1.0.0 then 1.1.0 went through both, committed."""
    write(repo, "promptreg.yaml", POLICY)
    write(repo, "prompts/greet/1.0.0.yaml", evaluated_yaml("greet", "1.0.0", 0.95))
    write(repo, "prompts/greet/1.1.0.yaml", evaluated_yaml("greet", "1.1.0", 0.95))
    commit_all(repo, "versions")
    for version in ("1.0.0", "1.1.0"):
        for env in ("staging", "production"):
            code, _, err = cli(
                repo, "deploy", "greet", version, "--env", env, "--by", BY, "--commit"
            )
            assert code == 0, err
    return repo


def test_rollback_is_not_held_back_by_promote_from(promoted: Path) -> None:
    hook = promoted / ".git/hooks/pre-commit"
    hook.write_text(f"#!/bin/sh\nexec {os.sys.executable} -m registry check --staged\n")  # type: ignore[attr-defined]
    hook.chmod(0o755)
    code, out, err = cli(promoted, "rollback", "greet", "--env", "production", "--by", BY,
                         "--reason", "bad answers", "--commit")  # fmt: skip
    assert code == 0, err
    assert "rolled back greet in production to 1.0.0" in out
    assert cli(promoted, "check", "--all")[0] == 0
    assert cli(promoted, "check", "--base", "HEAD~1")[0] == 0


def test_a_hand_written_rollback_to_a_version_never_active_still_needs_promotion(
    promoted: Path,
) -> None:
    write(promoted, "prompts/greet/1.2.0.yaml", evaluated_yaml("greet", "1.2.0", 0.95))
    commit_all(promoted, "1.2.0")
    write(promoted, "deployments/production/greet.yaml",
          pointer_yaml("greet", "production", "1.2.0", "1.1.0", action="rollback"))  # fmt: skip
    git(promoted, "add", "-A")
    code, out, _ = cli(promoted, "check", "--staged", "--json")
    assert code == 1
    assert {p["code"] for p in json.loads(out)} == {"not-promoted"}


def test_rollback_to_the_active_version_says_nothing_happened(promoted: Path) -> None:
    code, out, _ = cli(promoted, "rollback", "greet", "--env", "production", "--to", "1.1.0",
                       "--by", BY)  # fmt: skip
    assert code == 0 and "already active" in out and "rolled back" not in out


def test_broken_settings_are_reported_by_status_and_list(repo: Path) -> None:
    write(repo, "promptreg.yaml", "environments:\n  qa: {}\n  qa: {}\n")
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    for command in ("status", "list"):
        code, _, err = cli(repo, command)
        assert code == 1 and "promptreg.yaml:3" in err and "duplicate key" in err


def test_a_stale_evaluation_does_not_read_as_tested(repo: Path) -> None:
    text = evaluated_yaml("greet", "1.0.0", 0.95).replace("You are helpful.", "You are sly.")
    write(repo, "prompts/greet/1.0.0.yaml", text)
    v = PromptRegistry(repo, source="files").get_version("greet", "1.0.0")
    assert v is not None and (v.tested, v.is_tested) == (False, False)
    code, out, _ = cli(repo, "show", "greet", "1.0.0")
    assert code == 0 and "edited after its evaluation" in out


def test_placeholder_named_self_renders(repo: Path) -> None:
    write(repo, "promptreg.yaml", "environments:\n  development: {require_tested: false}\n")
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0", "I am {self}.\n"))
    write(repo, "deployments/development/greet.yaml", pointer_yaml("greet", "development", "1.0.0"))
    code, out, _ = cli(repo, "render", "greet", "--env", "development", "--var", "self=x")
    assert (code, out) == (0, "I am x.\n")
    v = PromptRegistry(repo, source="files").get_version("greet", "1.0.0")
    assert v is not None and v.render(self="y") == "I am y.\n"


def test_render_takes_a_literal_at_sign(repo: Path) -> None:
    write(repo, "promptreg.yaml", "environments:\n  development: {require_tested: false}\n")
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0", "Hi {name}\n"))
    write(repo, "deployments/development/greet.yaml", pointer_yaml("greet", "development", "1.0.0"))
    code, out, _ = cli(repo, "render", "greet", "--env", "development", "--var", "name=@@alice")
    assert (code, out) == (0, "Hi @alice\n")


def test_active_shows_an_untested_version_with_a_warning(repo: Path) -> None:
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    write(repo, "deployments/production/greet.yaml", pointer_yaml("greet", "production", "1.0.0"))
    code, out, err = cli(repo, "active", "greet", "--env", "production")
    assert code == 0 and "1.0.0 (untested)" in out and "warning" in err


def test_init_honours_dash_c(tmp_path: Path) -> None:
    target = tmp_path / "target"
    code, _, _ = cli(target, "init", cwd=tmp_path)
    assert code == 0
    assert (target / "promptreg.yaml").read_text().startswith("# yaml-language-server: $schema=")
    assert not (tmp_path / "promptreg.yaml").exists()


def test_new_refuses_to_write_through_a_symlinked_folder(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "prompts").mkdir()
    (repo / "prompts/evil").symlink_to(outside)
    content = tmp_path / "c.txt"
    content.write_text("Hi {name}\n")
    code, _, err = cli(repo, "new", "evil", "--version", "1.0.0", "-d", "x",
                       "--content-file", str(content), "--author", BY)  # fmt: skip
    assert code == 1 and "symbolic link" in err
    assert list(outside.iterdir()) == []


def test_new_refuses_an_empty_description(repo: Path, tmp_path: Path) -> None:
    content = tmp_path / "c.txt"
    content.write_text("Hi {name}\n")
    code, _, err = cli(repo, "new", "greet", "-d", " ", "--content-file", str(content),
                       "--author", BY)  # fmt: skip
    assert code == 1 and "description" in err
    assert not (repo / "prompts/greet/1.0.0.yaml").exists()


def test_register_takes_messages_as_mappings(repo: Path) -> None:
    reg = PromptRegistry(repo, source="files")
    v = reg.register(PromptVersion("chat", "1.0.0", description="d", author=BY,
                                   messages=[{"role": "system", "content": "Hi {x}"}]))  # type: ignore[arg-type]  # fmt: skip
    assert v.messages == (Message("system", "Hi {x}"),)
    with pytest.raises(RegistryError) as info:
        reg.register(PromptVersion("chat", "1.1.0", description="d", author=BY,
                                   messages=["nope"]))  # type: ignore[list-item]  # fmt: skip
    assert isinstance(info.value, ValueError)


def test_commit_needs_an_email_for_the_author(promoted: Path) -> None:
    head = git(promoted, "rev-parse", "HEAD")
    code, _, err = cli(promoted, "rollback", "greet", "--env", "staging", "--by", "Dana",
                       "--commit")  # fmt: skip
    assert code == 2 and "Name <email>" in err and "Invalid value for '--by'" in err
    assert git(promoted, "rev-parse", "HEAD") == head
    assert git(promoted, "status", "--porcelain") == ""


def test_check_reports_suite_problems_that_eval_would(repo: Path) -> None:
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    write(repo, "evals/greet.yaml", "prompt_id: greet\nthreshold: 0.5\ncases:\n  - name: a\n"
          "    vars: {}\n    assert:\n      - {type: regex, value: '([a-'}\n")  # fmt: skip
    code, out, _ = cli(repo, "check", "--json")
    assert code == 1
    assert [(p["path"], p["line"]) for p in json.loads(out)] == [("evals/greet.yaml", 7)]


def test_fixtures_and_notes_under_evals_are_allowed(repo: Path) -> None:
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    write(repo, "evals/fixtures/policy.txt", "text")
    write(repo, "evals/README.md", "notes")
    write(repo, "evals/greet.yml", "prompt_id: greet\n")
    code, out, _ = cli(repo, "check", "--json")
    assert code == 1
    assert [(p["code"], p["path"]) for p in json.loads(out)] == [
        ("unexpected-file", "evals/greet.yml")
    ]


def test_deeply_nested_folders_do_not_crash(repo: Path) -> None:
    top = str(repo / "prompts/greet")
    os.makedirs(top)
    levels = [top]
    for _ in range(1200):  # one level at a time: makedirs itself recurses per level
        levels.append(levels[-1] + "/a")
        os.mkdir(levels[-1])
    Path(levels[-1], "x.yaml").write_text("a: 1\n")
    try:
        code, out, _ = cli(repo, "check", "--json")
        assert code == 1 and {p["code"] for p in json.loads(out)} == {"unexpected-file"}
    finally:
        # Remove the tree bottom up: recursive deletion (pytest's own clean-up of old
        # temporary folders included) would exhaust the stack on it.
        os.unlink(Path(levels[-1], "x.yaml"))
        for level in reversed(levels):
            os.rmdir(level)


def test_check_of_a_missing_file_fails(repo: Path) -> None:
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    code, out, _ = cli(repo, "check", "--json", "prompts/greet/1.0.1.yaml")
    assert code == 1 and json.loads(out)[0]["code"] == "missing-file"


def test_check_of_a_folder_that_is_no_registry_fails(tmp_path: Path) -> None:
    code, _, err = cli(init_repo(tmp_path / "empty"), "check")
    assert code == 1 and "promptreg init" in err


def test_eval_suite_path_is_relative_to_the_current_folder(promoted: Path) -> None:
    sub = promoted / "sub"
    sub.mkdir()
    write(sub, "s.yaml", "prompt_id: greet\nthreshold: 0.5\ncases:\n  - name: a\n"
          "    vars: {context: c, query: q}\n    assert:\n      - {type: contains, value: q}\n")  # fmt: skip
    proc = run_cli("eval", "greet", "1.0.0", "--suite", "s.yaml", "--no-record", cwd=sub)
    assert proc.returncode == 0, proc.stderr


def test_unclosed_brace_is_called_unbalanced(repo: Path) -> None:
    write(repo, "prompts/greet/1.0.0.yaml",
          version_yaml("greet", "1.0.0", "Hello {name, question: {q}\n"))  # fmt: skip
    code, out, _ = cli(repo, "check", "--json")
    assert code == 1 and any("unbalanced" in p["message"] for p in json.loads(out))


def test_a_claimed_previous_version_does_not_skip_promotion(promoted: Path) -> None:
    write(promoted, "prompts/greet/7.7.7.yaml", evaluated_yaml("greet", "7.7.7", 0.95))
    commit_all(promoted, "7.7.7, never staged")
    write(promoted, "deployments/production/greet.yaml",
          pointer_yaml("greet", "production", "7.7.7", "7.7.7", action="rollback"))  # fmt: skip
    commit_all(promoted, "claims 7.7.7 ran before")
    code, out, _ = cli(promoted, "check", "--base", "HEAD~1", "--json")
    assert code == 1 and {p["code"] for p in json.loads(out)} == {"not-promoted"}


def test_a_deleted_pointer_may_be_named(promoted: Path) -> None:
    git(promoted, "rm", "-q", "deployments/staging/greet.yaml")
    code, _, err = cli(promoted, "check", "deployments/staging/greet.yaml")
    assert code == 0, err


def test_render_refuses_what_the_environment_would_not_serve(repo: Path) -> None:
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0", "Hi {name}\n"))
    write(repo, "deployments/production/greet.yaml", pointer_yaml("greet", "production", "1.0.0"))
    code, out, err = cli(repo, "render", "greet", "--env", "production", "--var", "name=x")
    assert code == 1 and out == "" and "has not passed evaluation tests" in err


def test_a_pointer_broken_before_does_not_block_updates(tmp_path: Path) -> None:
    root = tmp_path / "image"
    write(root, "promptreg.yaml", "environments:\n  production: {require_tested: false}\n")
    write(root, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    write(root, "prompts/greet/1.1.0.yaml", version_yaml("greet", "1.1.0"))
    write(root, "deployments/production/greet.yaml", pointer_yaml("greet", "production", "1.0.0"))
    write(root, "deployments/production/other.yaml", pointer_yaml("other", "production", "9.9.9"))
    with PromptRegistry(root, refresh_interval=0.0) as reg:
        assert fresh(reg).get_active("greet", "production").version == "1.0.0"  # type: ignore[union-attr]
        write(root, "deployments/production/greet.yaml",
              pointer_yaml("greet", "production", "1.1.0", "1.0.0"))  # fmt: skip
        assert fresh(reg).get_active("greet", "production").version == "1.1.0"  # type: ignore[union-attr]
        assert reg.last_error is None
