"""``promptreg init`` in the places a team runs it: a fresh repository, one that already has
its own hook config or workflow, and a folder below the repository's top."""

from __future__ import annotations

from pathlib import Path

from registry.scaffold.skeleton import PRE_COMMIT_TEXT
from tests.testing import init_repo, run_cli, write


def test_a_kept_hook_config_without_promptreg_says_what_to_add(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    own = "repos:\n  - repo: https://github.com/psf/black\n    rev: 24.1.0\n    hooks: [{id: black}]\n"
    write(repo, ".pre-commit-config.yaml", own)
    write(repo, ".github/workflows/promptreg.yml", "name: ours\non: push\n")
    r = run_cli("init", str(repo))
    assert r.returncode == 0, r.stderr
    assert (repo / ".pre-commit-config.yaml").read_text() == own  # never rewritten
    assert "kept .pre-commit-config.yaml, which does not run promptreg's check" in r.stdout
    assert PRE_COMMIT_TEXT[PRE_COMMIT_TEXT.index("  - repo: local") :].rstrip() in r.stdout
    assert "kept .github/workflows/promptreg.yml, which does not run `promptreg check`" in r.stdout


def test_a_kept_config_that_runs_the_check_gets_no_note(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    assert run_cli("init", str(repo)).returncode == 0
    again = run_cli("init", str(repo))
    assert again.returncode == 0
    assert "kept" not in again.stdout
    assert "nothing to do" in again.stdout


def test_no_workflow_means_no_note_about_it(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    write(repo, ".github/workflows/promptreg.yml", "name: ours\non: push\n")
    r = run_cli("init", str(repo), "--no-workflow")
    assert r.returncode == 0 and "workflows" not in r.stdout, r.stdout


def test_init_below_the_top_uses_the_repository_root_like_every_command(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    sub = repo / "sub"
    sub.mkdir()
    r = run_cli("init", cwd=sub)
    assert r.returncode == 0, r.stderr
    assert f"registry root: {repo.resolve()}" in r.stdout
    assert (repo / "promptreg.yaml").is_file() and not (sub / "promptreg.yaml").exists()
    new = run_cli("new", "foo", "-d", "first", "--content-file", "-", cwd=sub, input="Hi {x}\n")
    assert new.returncode == 0, new.stderr
    assert (repo / "prompts/foo/1.0.0.yaml").is_file()


def test_init_of_a_folder_below_the_top_warns_that_hook_and_ci_will_not_run(
    tmp_path: Path,
) -> None:
    repo = init_repo(tmp_path / "repo")
    r = run_cli("init", str(repo / "reg"))
    assert r.returncode == 0, r.stderr
    assert (repo / "reg/promptreg.yaml").is_file()
    assert "is inside the git repository" in r.stderr and "will not run" in r.stderr


def test_init_at_the_top_does_not_warn(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    r = run_cli("init", str(repo))
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_a_fifo_where_the_hook_config_belongs_does_not_hang_init(tmp_path: Path) -> None:
    import os

    repo = init_repo(tmp_path / "repo")
    os.mkfifo(repo / ".pre-commit-config.yaml")
    r = run_cli("init", str(repo), real=True)
    assert r.returncode == 0, r.stderr
    assert "kept .pre-commit-config.yaml" in r.stdout
