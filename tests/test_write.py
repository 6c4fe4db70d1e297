"""The write path end to end: new, eval, deploy, rollback, the policy gate, identity,
concurrent writers and crash safety, through the real CLI and the library, on real git repos."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from registry import (
    AlreadyExistsError,
    PromptDeployment,
    PromptRegistry,
    PromptVersion,
    RegistryError,
)
from tests.testing import commit_all, git, pointer_yaml, run_cli, version_yaml, write

ACTOR = "Dana Reyes <dana@example.com>"
OTHER = "Sam Lee <sam@example.com>"
SCHEMA_LINE = "# yaml-language-server: $schema="
CONTENT = "You are helpful. Context: {context}\nQuestion: {query}\n"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")

POLICY = """\
# Environments in promotion order.
environments:
  development: {require_tested: false}
  staging: {require_tested: true}
  production: {require_tested: true, min_score: 0.85, promote_from: staging}
"""

PASSING_SUITE = """\
prompt_id: greet
threshold: 0.85
cases:
  - name: keeps the context
    vars: {context: "Leave policy, section 4.2", query: "How many days?"}
    assert:
      - {type: contains, value: "section 4.2"}
      - {type: not_contains, value: "As an AI"}
      - {type: regex, value: "(?i)question:"}
      - {type: max_length, value: 4000}
"""

FAILING_SUITE = """\
prompt_id: greet
threshold: 0.85
cases:
  - name: wants a citation
    vars: {context: "Leave policy", query: "How many days?"}
    assert:
      - {type: contains, value: "cite the section"}
      - {type: contains, value: "Leave policy"}
"""


# --- helpers --------------------------------------------------------------------------------


def cli(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess, run from inside ``repo``."""
    return run_cli("-C", str(repo), *args, cwd=repo)


def documented_fingerprint(
    content: str | None, model: dict[str, Any] | None = None, prompt_id: str = "greet"
) -> str:
    """The fingerprint as the README documents it, computed independently: for ASCII keys,
    strings and no numbers but small integers, RFC 8785 output equals this json.dumps."""
    doc = {"prompt_id": prompt_id, "content": content, "messages": None, "model": model}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256-jcs:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def evaluated_yaml(
    pid: str, ver: str, score: float, content: str = CONTENT, fp: str | None = None
) -> str:
    """A version file carrying a (by default valid) evaluation record."""
    fp = fp or documented_fingerprint(content, prompt_id=pid)
    head = version_yaml(pid, ver, content).replace("tested: false\n", "tested: true\n")
    return head + (
        f"evaluation_score: {score}\n"
        "evaluation:\n"
        f"  suite: evals/{pid}.yaml\n"
        "  threshold: 0.5\n"
        f'  fingerprint: "{fp}"\n'
        '  evaluated_at: "2026-11-20T11:00:00Z"\n'
        f"  evaluated_by: {ACTOR}\n"
    )


def load(repo: Path, rel: str) -> dict[str, Any]:
    data = yaml.safe_load((repo / rel).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def tree(repo: Path) -> dict[str, Any]:
    """Every file, folder and link of the working tree outside .git, with its bytes."""
    out: dict[str, Any] = {}
    for p in sorted(repo.rglob("*")):
        rel = p.relative_to(repo)
        if rel.parts[0] == ".git":
            continue
        if p.is_symlink():
            out[str(rel)] = ("link", os.readlink(p))
        elif p.is_dir():
            out[f"{rel}/"] = "dir"
        else:
            out[str(rel)] = p.read_bytes()
    return out


def files(repo: Path) -> dict[str, bytes]:
    return {k: v for k, v in tree(repo).items() if isinstance(v, bytes)}


def state(repo: Path) -> tuple[Any, ...]:
    """Working tree bytes, status, index and HEAD: what a refused write must not change."""
    return (
        tree(repo),
        git(repo, "status", "--porcelain", "--untracked-files=all"),
        git(repo, "ls-files", "-s"),
        git(repo, "rev-parse", "HEAD"),
    )


def file_state(repo: Path) -> tuple[Any, ...]:
    """Like ``state``, but blind to empty folders (git cannot see them either)."""
    return (files(repo), *state(repo)[1:])


def temp_files(repo: Path) -> list[str]:
    return sorted(
        str(p.relative_to(repo))
        for p in repo.rglob("*.tmp")
        if p.relative_to(repo).parts[0] != ".git"
    )


def commit_count(repo: Path) -> int:
    return int(git(repo, "rev-list", "--count", "HEAD").strip())


def last_commit(repo: Path) -> tuple[str, str, list[str]]:
    """Author, full message and changed paths of HEAD."""
    author = git(repo, "log", "-1", "--format=%an <%ae>").strip()
    message = git(repo, "log", "-1", "--format=%B").strip()
    paths = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    return author, message, paths


def assert_pointer(
    repo: Path, env: str, pid: str, version: str, previous: str | None, action: str,
    by: str = ACTOR, reason: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    rel = f"deployments/{env}/{pid}.yaml"
    text = (repo / rel).read_text(encoding="utf-8")
    assert text.startswith(SCHEMA_LINE), text
    data = load(repo, rel)
    assert data["prompt_id"] == pid
    assert data["environment"] == env
    assert data["version"] == version and isinstance(data["version"], str)
    assert data["previous_version"] == previous
    assert data["action"] == action
    assert data["deployed_by"] == by
    assert isinstance(data["deployed_at"], str) and RFC3339.match(data["deployed_at"]), data
    assert data.get("reason") == reason
    return data


def refused(
    repo: Path, cli_args: list[str], call: Callable[[PromptRegistry], object],
    names: tuple[str, ...], phrase: str | None = None, value_error: bool = True,
) -> str:  # fmt: skip
    """The CLI exits 1 naming ``names``, the library raises, and nothing is written."""
    before = state(repo)
    proc = cli(repo, *cli_args)
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    err = proc.stderr
    assert err.strip(), "a refusal must say why"
    assert "Traceback" not in err and "internal error" not in err, err
    for name in names:
        assert name in err, (name, err)
    if phrase is not None:
        assert phrase in err, err
    assert state(repo) == before, "the CLI wrote something while refusing"

    reg = PromptRegistry(repo)
    try:
        with pytest.raises(RegistryError) as info:
            call(reg)
    finally:
        reg.close()
    if value_error:
        assert isinstance(info.value, ValueError), type(info.value).__mro__
    msg = str(info.value)
    for name in names:
        assert name in msg, (name, msg)
    if phrase is not None:
        assert phrase in msg, msg
    assert state(repo) == before, "the library wrote something while refusing"
    return err


def no_identity_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose global git config has no [user]."""
    cfg = tmp_path / "no-user.gitconfig"
    cfg.write_text("[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n")
    env = dict(os.environ)
    env["GIT_CONFIG_GLOBAL"] = str(cfg)
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                "GIT_COMMITTER_EMAIL", "EMAIL"):  # fmt: skip
        env.pop(var, None)
    return env


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def seeded(repo: Path) -> Path:
    """A registry with the documented policy and versions in every state:

    1.0.0 tested 0.95, 1.1.0 tested 0.95, 1.2.0 untested, 1.3.0 tested 0.8 (below
    production's min_score), 1.4.0 ``tested: true`` whose content was edited after the
    evaluation. staging runs 1.3.0 (was 1.0.0); production runs 1.0.0 (its first deploy);
    nothing runs in development.
    """
    write(repo, "promptreg.yaml", POLICY)
    write(repo, "prompts/greet/1.0.0.yaml", evaluated_yaml("greet", "1.0.0", 0.95))
    write(repo, "prompts/greet/1.1.0.yaml", evaluated_yaml("greet", "1.1.0", 0.95))
    write(repo, "prompts/greet/1.2.0.yaml", version_yaml("greet", "1.2.0"))
    write(repo, "prompts/greet/1.3.0.yaml", evaluated_yaml("greet", "1.3.0", 0.8))
    stale = documented_fingerprint("the content that was evaluated\n")
    write(repo, "prompts/greet/1.4.0.yaml", evaluated_yaml("greet", "1.4.0", 0.95, fp=stale))
    write(
        repo, "deployments/staging/greet.yaml", pointer_yaml("greet", "staging", "1.3.0", "1.0.0")
    )
    write(repo, "deployments/production/greet.yaml", pointer_yaml("greet", "production", "1.0.0"))
    write(repo, "evals/greet.yaml", PASSING_SUITE)
    commit_all(repo, "seed")
    return repo


@pytest.fixture
def fresh(repo: Path) -> Path:
    """The documented policy, a passing suite and no versions yet."""
    write(repo, "promptreg.yaml", POLICY)
    write(repo, "evals/greet.yaml", PASSING_SUITE)
    write(repo, "content.txt", CONTENT)
    commit_all(repo, "policy")
    return repo


# --- new ------------------------------------------------------------------------------------


def test_new_first_version_defaults_to_1_0_0(fresh: Path) -> None:
    proc = cli(fresh, "new", "greet", "-d", "First version", "--content-file", "content.txt")
    assert proc.returncode == 0, proc.stderr
    text = (fresh / "prompts/greet/1.0.0.yaml").read_text(encoding="utf-8")
    assert text.startswith(SCHEMA_LINE)
    data = yaml.safe_load(text)
    assert data["prompt_id"] == "greet"
    assert data["version"] == "1.0.0"
    assert data["content"] == CONTENT
    assert data["description"] == "First version"
    assert data["author"] == "Test User <test@example.com>"  # git's identity
    assert isinstance(data["created_at"], str) and RFC3339.match(data["created_at"])
    assert data["tested"] is False
    assert not data.get("evaluation")


def test_new_bump_copies_the_latest_by_semver(fresh: Path) -> None:
    write(fresh, "prompts/greet/1.9.0.yaml", version_yaml("greet", "1.9.0", "nine {x}\n"))
    write(fresh, "prompts/greet/1.10.0.yaml", version_yaml("greet", "1.10.0", "ten {x}\n"))
    write(fresh, "prompts/greet/1.2.0.yaml", version_yaml("greet", "1.2.0", "two {x}\n"))
    proc = cli(fresh, "new", "greet", "--bump", "minor", "-d", "Next", "--author", ACTOR)
    assert proc.returncode == 0, proc.stderr
    data = load(fresh, "prompts/greet/1.11.0.yaml")
    assert data["content"] == "ten {x}\n"
    assert data["author"] == ACTOR
    assert data["tested"] is False
    proc = cli(fresh, "new", "greet", "--bump", "patch", "-d", "Fix", "--from", "1.2.0")
    assert proc.returncode == 0, proc.stderr
    assert load(fresh, "prompts/greet/1.11.1.yaml")["content"] == "two {x}\n"
    proc = cli(fresh, "new", "greet", "--bump", "major", "-d", "Big")
    assert proc.returncode == 0, proc.stderr
    assert load(fresh, "prompts/greet/2.0.0.yaml")["content"] == "two {x}\n"  # 1.11.1 is latest


def test_new_version_copies_content_and_never_copies_the_evaluation(seeded: Path) -> None:
    proc = cli(seeded, "new", "greet", "--version", "2.0.0-rc.1", "-d", "RC", "--from", "1.1.0")
    assert proc.returncode == 0, proc.stderr
    text = (seeded / "prompts/greet/2.0.0-rc.1.yaml").read_text(encoding="utf-8")
    assert text.startswith(SCHEMA_LINE)
    data = yaml.safe_load(text)
    assert data["version"] == "2.0.0-rc.1"
    assert data["content"] == CONTENT
    assert data["tested"] is False
    assert data.get("evaluation_score") is None and not data.get("evaluation")


def test_new_with_commit_makes_one_commit_by_the_author(fresh: Path) -> None:
    before = commit_count(fresh)
    proc = cli(fresh, "new", "greet", "-d", "First", "--content-file", "content.txt",
               "--author", ACTOR, "--commit")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert commit_count(fresh) == before + 1
    author, message, paths = last_commit(fresh)
    assert author == ACTOR
    assert "greet" in message and "1.0.0" in message
    assert paths == ["prompts/greet/1.0.0.yaml"]
    assert git(fresh, "status", "--porcelain") == ""


def test_new_existing_version_is_refused(seeded: Path) -> None:
    refused(
        seeded, ["new", "greet", "--version", "1.1.0", "-d", "Again"],
        lambda r: r.register(PromptVersion("greet", "1.1.0", content="x", author=ACTOR)),
        ("greet", "1.1.0"), "already exists",
    )  # fmt: skip
    reg = PromptRegistry(seeded)
    with pytest.raises(AlreadyExistsError):
        reg.register(PromptVersion("greet", "1.2.0", content="x", author=ACTOR))


@pytest.mark.parametrize("bad", ["1.0", "v1.0.0", "01.0.0", "1.0.0+build"])
def test_new_invalid_version_is_refused(seeded: Path, bad: str) -> None:
    before = state(seeded)
    proc = cli(seeded, "new", "greet", "--version", bad, "-d", "Bad")
    # A bad option value is a usage error.
    assert proc.returncode == 2, proc.stderr
    assert "Invalid value for '--version'" in proc.stderr and bad in proc.stderr
    with PromptRegistry(seeded) as reg, pytest.raises(RegistryError, match=re.escape(bad)) as info:
        reg.register(PromptVersion("greet", bad, content="x", author=ACTOR))
    assert isinstance(info.value, ValueError)
    assert state(seeded) == before


def test_register_always_writes_untested(fresh: Path) -> None:
    reg = PromptRegistry(fresh)
    written = reg.register(
        PromptVersion("greet", "1.0.0", content=CONTENT, author=ACTOR, description="d")
    )
    assert written.tested is False and written.evaluation_score is None
    text = (fresh / "prompts/greet/1.0.0.yaml").read_text(encoding="utf-8")
    assert text.startswith(SCHEMA_LINE)
    assert yaml.safe_load(text)["tested"] is False


# --- eval -----------------------------------------------------------------------------------

COMMENTED_VERSION = """\
# Hand-written by Dana; keep this comment.
prompt_id: greet
version: "1.0.0"   # quoted on purpose
description: First version
author: Dana Reyes <dana@example.com>
created_at: "2026-11-20T10:00:00Z"
content: |
  You are helpful. Context: {context}
  Question: {query}
# the gate below is written by promptreg eval
tested: false
"""


def test_eval_records_a_passing_run_and_keeps_comments(fresh: Path) -> None:
    write(fresh, "prompts/greet/1.0.0.yaml", COMMENTED_VERSION)
    commit_all(fresh, "add 1.0.0")
    proc = cli(fresh, "eval", "greet", "1.0.0", "--by", ACTOR)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (fresh / "prompts/greet/1.0.0.yaml").read_text(encoding="utf-8")
    for line in COMMENTED_VERSION.splitlines():
        if line != "tested: false":
            assert line in text.splitlines(), (line, text)
    data = yaml.safe_load(text)
    assert data["tested"] is True
    assert data["evaluation_score"] == 1.0
    ev = data["evaluation"]
    assert ev["suite"] == "evals/greet.yaml"
    assert ev["threshold"] == 0.85
    assert ev["evaluated_by"] == ACTOR
    assert isinstance(ev["evaluated_at"], str) and RFC3339.match(ev["evaluated_at"])
    v = PromptRegistry(fresh, source="files").get_version("greet", "1.0.0")
    assert v is not None
    assert ev["fingerprint"] == v.fingerprint == documented_fingerprint(CONTENT)
    assert v.is_tested and v.evaluation is not None
    assert v.evaluation.fingerprint == v.fingerprint


def test_eval_json_and_commit(fresh: Path) -> None:
    write(fresh, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    commit_all(fresh, "add 1.0.0")
    before = commit_count(fresh)
    proc = cli(fresh, "eval", "greet", "1.0.0", "--by", ACTOR, "--commit", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {k: out[k] for k in ("prompt_id", "version", "score", "threshold", "passed")} == {
        "prompt_id": "greet", "version": "1.0.0", "score": 1.0, "threshold": 0.85, "passed": True,
    }  # fmt: skip
    assert commit_count(fresh) == before + 1
    author, message, paths = last_commit(fresh)
    assert author == ACTOR
    assert "greet" in message and "1.0.0" in message
    assert paths == ["prompts/greet/1.0.0.yaml"]
    assert git(fresh, "status", "--porcelain") == ""


def test_eval_python_assertion_from_the_checkout(fresh: Path) -> None:
    write(fresh, "promptchecks_local.py",
          "def cites(output, variables):\n    return 'section' in output\n")  # fmt: skip
    write(fresh, "evals/greet.yaml", PASSING_SUITE.replace(
        '      - {type: max_length, value: 4000}\n',
        '      - {type: max_length, value: 4000}\n'
        '      - {type: python, value: "promptchecks_local:cites"}\n',
    ))  # fmt: skip
    write(fresh, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    commit_all(fresh, "add")
    proc = cli(fresh, "eval", "greet", "1.0.0", "--by", ACTOR)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert load(fresh, "prompts/greet/1.0.0.yaml")["tested"] is True


def test_eval_failing_suite_leaves_the_file_alone(fresh: Path) -> None:
    write(fresh, "prompts/greet/1.0.0.yaml", COMMENTED_VERSION)
    write(fresh, "evals/greet.yaml", FAILING_SUITE)
    commit_all(fresh, "add")
    before = state(fresh)
    proc = cli(fresh, "eval", "greet", "1.0.0", "--by", ACTOR, "--commit")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "FAIL" in proc.stdout + proc.stderr
    assert state(fresh) == before
    reg = PromptRegistry(fresh)
    result = reg.evaluate("greet", "1.0.0", evaluated_by=ACTOR, commit=True)
    assert result.passed is False and result.score == 0.5
    assert state(fresh) == before
    assert load(fresh, "prompts/greet/1.0.0.yaml")["tested"] is False


@pytest.mark.parametrize(
    ("suite", "phrase"),
    [
        pytest.param("prompt_id: greet\nthreshold: 0.85\ncases: [\n", None, id="yaml-syntax"),
        pytest.param("prompt_id: greet\nthreshold: 0.85\n", None, id="no-cases"),
        pytest.param("prompt_id: greet\nthreshold: 2\ncases:\n  - name: a\n    vars: {}\n"
                     "    assert: [{type: contains, value: x}]\n", None, id="threshold>1"),
        pytest.param("prompt_id: greet\nthreshold: 0.5\ncases:\n  - name: a\n"
                     "    vars: {context: c, query: q}\n"
                     "    assert: [{type: sounds_nice, value: x}]\n",
                     "sounds_nice", id="unknown-type"),
        pytest.param("prompt_id: greet\nthreshold: 0.5\ncases:\n  - name: a\n"
                     "    vars: {context: c, query: q}\n"
                     "    assert: [{type: python, value: 'no_such_module_xyz:check'}]\n",
                     "no_such_module_xyz", id="python-unimportable"),
        pytest.param("prompt_id: other\nthreshold: 0.5\ncases:\n  - name: a\n"
                     "    vars: {context: c, query: q}\n    assert: [{type: contains, value: c}]\n",
                     "other", id="wrong-prompt"),
    ],
)  # fmt: skip
def test_eval_bad_suite_is_refused_without_traceback(
    fresh: Path, suite: str, phrase: str | None
) -> None:
    write(fresh, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    write(fresh, "evals/greet.yaml", suite)
    commit_all(fresh, "add")
    err = refused(
        fresh, ["eval", "greet", "1.0.0", "--by", ACTOR],
        lambda r: r.evaluate("greet", "1.0.0", evaluated_by=ACTOR),
        ("evals/greet.yaml",), phrase, value_error=False,
    )  # fmt: skip
    assert load(fresh, "prompts/greet/1.0.0.yaml")["tested"] is False
    assert err.startswith("promptreg: "), err


def test_eval_missing_version_is_refused(fresh: Path) -> None:
    refused(
        fresh, ["eval", "greet", "3.0.0", "--by", ACTOR],
        lambda r: r.evaluate("greet", "3.0.0", evaluated_by=ACTOR),
        ("greet", "3.0.0"), "not found", value_error=False,
    )  # fmt: skip


def test_eval_missing_suite_is_refused(fresh: Path) -> None:
    write(fresh, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    (fresh / "evals/greet.yaml").unlink()
    commit_all(fresh, "add")
    refused(
        fresh, ["eval", "greet", "1.0.0", "--by", ACTOR],
        lambda r: r.evaluate("greet", "1.0.0", evaluated_by=ACTOR),
        ("evals/greet.yaml",), "not found", value_error=False,
    )  # fmt: skip


# --- the full loop --------------------------------------------------------------------------


def test_full_loop_new_eval_deploy_promote_rollback(fresh: Path) -> None:
    def ok(*args: str) -> subprocess.CompletedProcess[str]:
        proc = cli(fresh, *args)
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
        return proc

    def one_commit(action: Callable[[], object]) -> tuple[str, str, list[str]]:
        before = commit_count(fresh)
        action()
        assert commit_count(fresh) == before + 1
        assert git(fresh, "status", "--porcelain") == ""
        return last_commit(fresh)

    by = ("--by", ACTOR)
    ok(
        "new",
        "greet",
        "-d",
        "First",
        "--content-file",
        "content.txt",
        "--author",
        ACTOR,
        "--commit",
    )
    one_commit(lambda: ok("eval", "greet", "1.0.0", *by, "--commit"))
    author, msg, paths = one_commit(
        lambda: ok("deploy", "greet", "1.0.0", "--env", "staging", *by, "--reason",
                   "first rollout", "--commit")
    )  # fmt: skip
    assert author == ACTOR and paths == ["deployments/staging/greet.yaml"]
    for word in ("greet", "1.0.0", "staging", "first rollout"):
        assert word in msg, (word, msg)
    assert_pointer(fresh, "staging", "greet", "1.0.0", None, "deploy", reason="first rollout")

    author, msg, paths = one_commit(
        lambda: ok("deploy", "greet", "1.0.0", "--env", "production", *by, "--reason",
                   "ship it", "--commit")
    )  # fmt: skip
    assert author == ACTOR and paths == ["deployments/production/greet.yaml"]
    for word in ("greet", "1.0.0", "production", "ship it"):
        assert word in msg, (word, msg)
    assert_pointer(fresh, "production", "greet", "1.0.0", None, "deploy", reason="ship it")

    ok("new", "greet", "--bump", "minor", "-d", "Second", "--author", ACTOR, "--commit")
    v110 = load(fresh, "prompts/greet/1.1.0.yaml")
    assert v110["content"] == CONTENT and v110["tested"] is False
    ok("eval", "greet", "1.1.0", *by, "--commit")
    ok("deploy", "greet", "1.1.0", "--env", "staging", *by, "--commit")
    assert_pointer(fresh, "staging", "greet", "1.1.0", "1.0.0", "deploy")
    ok("deploy", "greet", "1.1.0", "--env", "production", "--by", OTHER, "--commit")
    assert_pointer(fresh, "production", "greet", "1.1.0", "1.0.0", "deploy", by=OTHER)

    author, msg, paths = one_commit(
        lambda: ok("rollback", "greet", "--env", "production", *by, "--reason",
                   "bad answers", "--commit")
    )  # fmt: skip
    assert author == ACTOR and paths == ["deployments/production/greet.yaml"]
    for word in ("greet", "1.0.0", "production", "bad answers"):
        assert word in msg, (word, msg)
    assert_pointer(fresh, "production", "greet", "1.0.0", "1.1.0", "rollback", reason="bad answers")

    reg = PromptRegistry(fresh)
    try:
        active = reg.get_active("greet", "production")
        assert active is not None and active.version == "1.0.0"
        events = reg.history("greet", "production")
        assert [(e.version, e.previous_version, e.action) for e in events] == [
            ("1.0.0", None, "deploy"), ("1.1.0", "1.0.0", "deploy"), ("1.0.0", "1.1.0", "rollback"),
        ]  # fmt: skip
        assert [e.deployed_by for e in events] == [ACTOR, OTHER, ACTOR]
        assert events[-1].reason == "bad answers"
    finally:
        reg.close()
    assert cli(fresh, "check", "--all").returncode == 0


def test_library_deploy_and_rollback_return_the_pointer(seeded: Path) -> None:
    reg = PromptRegistry(seeded)
    before = commit_count(seeded)
    d = reg.deploy("greet", "1.1.0", "staging", ACTOR, reason="newer", commit=True)
    assert isinstance(d, PromptDeployment)
    assert (d.prompt_id, d.environment, d.version, d.previous_version, d.action) == (
        "greet", "staging", "1.1.0", "1.3.0", "deploy",
    )  # fmt: skip
    assert d.deployed_by == ACTOR and d.reason == "newer" and RFC3339.match(d.deployed_at)
    assert d.commit == git(seeded, "rev-parse", "HEAD").strip()
    assert_pointer(seeded, "staging", "greet", "1.1.0", "1.3.0", "deploy", reason="newer")
    r = reg.rollback("greet", "staging", OTHER, commit=True)
    assert (r.version, r.previous_version, r.action, r.deployed_by) == (
        "1.3.0", "1.1.0", "rollback", OTHER,
    )  # fmt: skip
    assert_pointer(seeded, "staging", "greet", "1.3.0", "1.1.0", "rollback", by=OTHER)
    assert last_commit(seeded)[0] == OTHER
    r = reg.rollback("greet", "staging", ACTOR, to="1.0.0")
    assert (r.version, r.previous_version, r.action) == ("1.0.0", "1.3.0", "rollback")
    assert commit_count(seeded) == before + 2  # the last one had no --commit
    assert_pointer(seeded, "staging", "greet", "1.0.0", "1.3.0", "rollback")


def test_deploy_untested_where_allowed(seeded: Path) -> None:
    proc = cli(seeded, "deploy", "greet", "1.2.0", "--env", "development", "--by", ACTOR)
    assert proc.returncode == 0, proc.stderr
    assert_pointer(seeded, "development", "greet", "1.2.0", None, "deploy")


def test_deploying_the_active_version_is_a_noop(seeded: Path) -> None:
    before = state(seeded)
    proc = cli(seeded, "deploy", "greet", "1.3.0", "--env", "staging", "--by", OTHER,
               "--reason", "again", "--commit")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "already active" in proc.stdout
    assert state(seeded) == before
    reg = PromptRegistry(seeded)
    d = reg.deploy("greet", "1.0.0", "production", OTHER, reason="again", commit=True)
    assert d.version == "1.0.0"
    assert state(seeded) == before


def test_editing_after_eval_voids_the_gate(fresh: Path) -> None:
    write(fresh, "prompts/greet/1.0.0.yaml", COMMENTED_VERSION.replace(
        "tested: false\n", "model:\n  name: gpt-4o-mini\ntested: false\n"))  # fmt: skip
    commit_all(fresh, "add")
    assert cli(fresh, "eval", "greet", "1.0.0", "--by", ACTOR, "--commit").returncode == 0
    path = fresh / "prompts/greet/1.0.0.yaml"
    evaluated = path.read_text(encoding="utf-8")
    for edit in (("Question:", "Query:"), ("gpt-4o-mini", "gpt-4o")):
        path.write_text(evaluated.replace(*edit), encoding="utf-8")
        assert load(fresh, "prompts/greet/1.0.0.yaml")["tested"] is True
        refused(
            fresh, ["deploy", "greet", "1.0.0", "--env", "staging", "--by", ACTOR, "--commit"],
            lambda r: r.deploy("greet", "1.0.0", "staging", ACTOR, commit=True),
            ("greet", "1.0.0", "staging"), "has not passed evaluation tests",
        )  # fmt: skip
    path.write_text(evaluated, encoding="utf-8")
    proc = cli(fresh, "deploy", "greet", "1.0.0", "--env", "staging", "--by", ACTOR)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("committed", ["nothing", "the version but not its evaluation"])
def test_deploy_commit_never_lands_a_pointer_head_cannot_back(
    fresh: Path, tmp_path: Path, committed: str
) -> None:
    """``deploy --commit`` must not make a commit that fails promptreg's own check: either
    it refuses (nothing written), or the commit carries what the pointer needs."""
    if committed == "nothing":
        assert (
            cli(fresh, "new", "greet", "-d", "First", "--content-file", "content.txt").returncode
            == 0
        )
        env = "development"
    else:
        assert cli(fresh, "new", "greet", "-d", "First", "--content-file", "content.txt",
                   "--commit").returncode == 0  # fmt: skip
        assert cli(fresh, "eval", "greet", "1.0.0", "--by", ACTOR).returncode == 0
        env = "staging"
    before = state(fresh)
    proc = cli(fresh, "deploy", "greet", "1.0.0", "--env", env, "--by", ACTOR, "--commit")
    if proc.returncode != 0:
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert state(fresh) == before
        return
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(fresh), str(clone))
    check = cli(clone, "check", "--all", "--json")
    pointer_problems = [p for p in json.loads(check.stdout) if p["path"].startswith("deployments/")]
    assert pointer_problems == [], pointer_problems
    reg = PromptRegistry(clone)
    try:
        active = reg.get_active("greet", env)
    finally:
        reg.close()
    assert active is not None and active.version == "1.0.0"


# --- policy refusals ------------------------------------------------------------------------

REFUSALS: list[Any] = [
    pytest.param(
        ["deploy", "greet", "1.1.0", "--env", "qa"],
        lambda r: r.deploy("greet", "1.1.0", "qa", ACTOR, commit=True),
        ("qa",),
        "not configured",
        id="deploy-unconfigured-env",
    ),
    pytest.param(
        ["rollback", "greet", "--env", "qa"],
        lambda r: r.rollback("greet", "qa", ACTOR, commit=True),
        ("qa",),
        "not configured",
        id="rollback-unconfigured-env",
    ),
    pytest.param(
        ["deploy", "greet", "9.9.9", "--env", "staging"],
        lambda r: r.deploy("greet", "9.9.9", "staging", ACTOR, commit=True),
        ("greet", "9.9.9"),
        "not found",
        id="deploy-missing-version",
    ),
    pytest.param(
        ["deploy", "nosuch", "1.0.0", "--env", "staging"],
        lambda r: r.deploy("nosuch", "1.0.0", "staging", ACTOR, commit=True),
        ("nosuch", "1.0.0"),
        "not found",
        id="deploy-missing-prompt",
    ),
    pytest.param(
        ["deploy", "greet", "1.2.0", "--env", "staging"],
        lambda r: r.deploy("greet", "1.2.0", "staging", ACTOR, commit=True),
        ("greet", "1.2.0", "staging"),
        "has not passed evaluation tests",
        id="deploy-untested",
    ),
    pytest.param(
        ["deploy", "greet", "1.4.0", "--env", "staging"],
        lambda r: r.deploy("greet", "1.4.0", "staging", ACTOR, commit=True),
        ("greet", "1.4.0", "staging"),
        "has not passed evaluation tests",
        id="deploy-stale",
    ),
    pytest.param(
        ["deploy", "greet", "1.3.0", "--env", "production"],
        lambda r: r.deploy("greet", "1.3.0", "production", ACTOR, commit=True),
        ("greet", "1.3.0", "production", "0.85"),
        None,
        id="deploy-below-min-score",
    ),
    pytest.param(
        ["deploy", "greet", "1.1.0", "--env", "production"],
        lambda r: r.deploy("greet", "1.1.0", "production", ACTOR, commit=True),
        ("greet", "1.1.0", "production", "staging"),
        None,
        id="deploy-not-promoted",
    ),
    pytest.param(
        ["rollback", "greet", "--env", "development"],
        lambda r: r.rollback("greet", "development", ACTOR, commit=True),
        ("greet", "development"),
        "No previous version to roll back to",
        id="rollback-nothing",
    ),
    pytest.param(
        ["rollback", "greet", "--env", "production"],
        lambda r: r.rollback("greet", "production", ACTOR, commit=True),
        ("greet", "production"),
        "No previous version to roll back to",
        id="rollback-first",
    ),
    pytest.param(
        ["rollback", "greet", "--env", "staging", "--to", "1.2.0"],
        lambda r: r.rollback("greet", "staging", ACTOR, to="1.2.0", commit=True),
        ("greet", "1.2.0", "staging"),
        "has not passed evaluation tests",
        id="rollback-to-untested",
    ),
    pytest.param(
        ["rollback", "greet", "--env", "staging", "--to", "1.4.0"],
        lambda r: r.rollback("greet", "staging", ACTOR, to="1.4.0", commit=True),
        ("greet", "1.4.0", "staging"),
        "has not passed evaluation tests",
        id="rollback-to-stale",
    ),
    pytest.param(
        ["rollback", "greet", "--env", "staging", "--to", "9.9.9"],
        lambda r: r.rollback("greet", "staging", ACTOR, to="9.9.9", commit=True),
        ("greet", "9.9.9"),
        "not found",
        id="rollback-to-missing",
    ),
    pytest.param(
        ["rollback", "greet", "--env", "production", "--to", "1.3.0"],
        lambda r: r.rollback("greet", "production", ACTOR, to="1.3.0", commit=True),
        ("greet", "1.3.0", "production", "0.85"),
        None,
        id="rollback-to-below-min-score",
    ),
]


@pytest.mark.parametrize(("args", "call", "names", "phrase"), REFUSALS)
def test_policy_refusal(
    seeded: Path, args: list[str], call: Callable[[PromptRegistry], object],
    names: tuple[str, ...], phrase: str | None,
) -> None:  # fmt: skip
    refused(seeded, [*args, "--by", ACTOR, "--commit"], call, names, phrase)


def test_rollback_target_edited_after_evaluation_is_refused(seeded: Path) -> None:
    # staging's previous version 1.0.0 has been edited since its evaluation.
    path = seeded / "prompts/greet/1.0.0.yaml"
    path.write_text(path.read_text().replace("You are helpful.", "You are terse."))
    commit_all(seeded, "edit 1.0.0")
    refused(
        seeded, ["rollback", "greet", "--env", "staging", "--by", ACTOR, "--commit"],
        lambda r: r.rollback("greet", "staging", ACTOR, commit=True),
        ("greet", "1.0.0", "staging"), "has not passed evaluation tests",
    )  # fmt: skip


def test_strict_default_without_settings_file(repo: Path) -> None:
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    commit_all(repo, "add")
    for env in ("development", "staging", "production"):
        refused(
            repo, ["deploy", "greet", "1.0.0", "--env", env, "--by", ACTOR],
            lambda r, env=env: r.deploy("greet", "1.0.0", env, ACTOR),  # type: ignore[misc]
            ("greet", "1.0.0", env), "has not passed evaluation tests",
        )  # fmt: skip


# --- identity -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["deploy", "greet", "1.1.0", "--env", "staging", "--commit"], "--by"),
        (["rollback", "greet", "--env", "staging", "--commit"], "--by"),
        (["eval", "greet", "1.2.0", "--commit"], "--by"),
        (["new", "greet", "--bump", "patch", "-d", "x", "--commit"], "--author"),
    ],
)
def test_missing_identity_is_refused(
    seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], flag: str
) -> None:
    env = no_identity_env(tmp_path)
    before = state(seeded)
    proc = subprocess.run(
        [sys.executable, "-m", "registry", "-C", str(seeded), *args],
        cwd=seeded, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert flag in proc.stderr and "user.name" in proc.stderr, proc.stderr
    assert state(seeded) == before

    monkeypatch.setenv("GIT_CONFIG_GLOBAL", env["GIT_CONFIG_GLOBAL"])
    reg = PromptRegistry(seeded)
    calls: dict[str, Callable[[], object]] = {
        "deploy": lambda: reg.deploy("greet", "1.1.0", "staging", commit=True),
        "rollback": lambda: reg.rollback("greet", "staging", commit=True),
        "eval": lambda: reg.evaluate("greet", "1.2.0", commit=True),
        "new": lambda: reg.register(PromptVersion("greet", "1.5.0", content="x"), commit=True),
    }
    with pytest.raises(RegistryError) as info:
        calls[args[0]]()
    if args[0] != "eval":
        assert isinstance(info.value, ValueError)
    assert flag in str(info.value)
    assert state(seeded) == before


def test_actor_commits_when_git_has_no_identity(seeded: Path, tmp_path: Path) -> None:
    env = no_identity_env(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "registry", "-C", str(seeded), "deploy", "greet", "1.1.0",
         "--env", "staging", "--by", "Dana Reyes <dana@example.com>", "--commit"],
        cwd=seeded, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    who = git(seeded, "log", "-1", "--format=%an <%ae>|%cn <%ce>").strip()
    assert who == "Dana Reyes <dana@example.com>|Dana Reyes <dana@example.com>"


# --- concurrency ----------------------------------------------------------------------------

GO_SNIPPET = """
import os, sys, time
go = sys.argv[1]
while not os.path.exists(go):
    time.sleep(0.001)
from registry.cli import main
sys.exit(main(sys.argv[2:]))
"""


def race(
    repo: Path, tmp_path: Path, jobs: list[list[str]]
) -> list[subprocess.CompletedProcess[str]]:
    """Start every job, release them at once, and collect the results."""
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", GO_SNIPPET, str(go), "-C", str(repo), *job],
            cwd=repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for job in jobs
    ]
    time.sleep(0.5)  # let every interpreter start and reach the wait loop
    go.write_text("go")
    results = []
    for job, p in zip(jobs, procs, strict=True):
        out, err = p.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(job, p.returncode, out, err))
    return results


def assert_race_outcome(
    repo: Path, before: int, results: list[subprocess.CompletedProcess[str]]
) -> list[str]:
    ok = [r for r in results if r.returncode == 0]
    for r in results:
        if r.returncode != 0:
            assert r.stderr.strip().startswith("promptreg:"), r.stderr
            assert "Traceback" not in r.stderr
    assert commit_count(repo) - before == len(ok), [(r.returncode, r.stderr) for r in results]
    shas = []
    for r in ok:
        sha = json.loads(r.stdout)["commit"]
        assert sha, r.stdout
        subprocess.run(["git", "merge-base", "--is-ancestor", sha, "HEAD"], cwd=repo, check=True)
        shas.append(sha)
    assert len(set(shas)) == len(shas)
    authors = git(repo, "log", "--format=%an <%ae>", f"-{len(ok)}").splitlines()
    assert authors == [ACTOR] * len(ok)
    subprocess.run(["git", "fsck", "--no-progress"], cwd=repo, check=True, capture_output=True)
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert not temp_files(repo)
    return shas


def test_concurrent_deploys_of_different_prompts(repo: Path, tmp_path: Path) -> None:
    write(repo, "promptreg.yaml", POLICY)
    for i in range(6):
        write(repo, f"prompts/p{i}/1.0.0.yaml", version_yaml(f"p{i}", "1.0.0"))
    commit_all(repo, "seed")
    before = commit_count(repo)
    jobs = [["deploy", f"p{i}", "1.0.0", "--env", "development", "--by", ACTOR,
             "--reason", f"race {i}", "--commit", "--json"] for i in range(6)]  # fmt: skip
    results = race(repo, tmp_path, jobs)
    assert_race_outcome(repo, before, results)
    for i, r in enumerate(results):
        if r.returncode == 0:
            assert_pointer(
                repo, "development", f"p{i}", "1.0.0", None, "deploy", reason=f"race {i}"
            )
            tracked = git(repo, "ls-files", f"deployments/development/p{i}.yaml").strip()
            assert tracked == f"deployments/development/p{i}.yaml"
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]


def test_concurrent_deploys_of_one_pointer(repo: Path, tmp_path: Path) -> None:
    write(repo, "promptreg.yaml", POLICY)
    versions = [f"1.{i}.0" for i in range(7)]
    for v in versions:
        write(repo, f"prompts/greet/{v}.yaml", version_yaml("greet", v))
    write(repo, "deployments/development/greet.yaml", pointer_yaml("greet", "development", "1.0.0"))
    commit_all(repo, "seed")
    before = commit_count(repo)
    jobs = [["deploy", "greet", v, "--env", "development", "--by", ACTOR, "--commit", "--json"]
            for v in versions[1:]]  # fmt: skip
    results = race(repo, tmp_path, jobs)
    shas = assert_race_outcome(repo, before, results)
    # The pointer's history is one unbroken chain: each change saw the one before it.
    log = git(
        repo, "log", "--reverse", "--format=%H", "--", "deployments/development/greet.yaml"
    ).split()
    chain = [
        yaml.safe_load(git(repo, "show", f"{c}:deployments/development/greet.yaml")) for c in log
    ]
    for prev, cur in itertools.pairwise(chain):
        assert cur["previous_version"] == prev["version"], chain
    assert len(chain) == 1 + len(shas)
    assert load(repo, "deployments/development/greet.yaml")["version"] == chain[-1]["version"]


def test_concurrent_library_deploys_in_threads(repo: Path) -> None:
    write(repo, "promptreg.yaml", POLICY)
    versions = [f"1.{i}.0" for i in range(8)]
    for v in versions:
        write(repo, f"prompts/greet/{v}.yaml", version_yaml("greet", v))
    commit_all(repo, "seed")
    before = commit_count(repo)
    reg = PromptRegistry(repo)
    barrier = threading.Barrier(len(versions))
    outcomes: list[object] = []

    def work(v: str) -> None:
        barrier.wait()
        try:
            outcomes.append(reg.deploy("greet", v, "development", ACTOR, commit=True))
        except RegistryError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=work, args=(v,)) for v in versions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    done = [o for o in outcomes if isinstance(o, PromptDeployment)]
    assert len(outcomes) == len(versions)
    assert commit_count(repo) - before == len(done)
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert all(isinstance(o, PromptDeployment) for o in outcomes), outcomes


# --- crash safety ---------------------------------------------------------------------------

FAIL_BEFORE_REPLACE = """
import os, sys
import registry.fsio as fsio
from registry import PromptRegistry

def boom(src, dst):
    raise OSError(28, "No space left on device (injected)")

fsio.os.replace = boom
try:
    PromptRegistry(sys.argv[1]).deploy(sys.argv[2], sys.argv[3], sys.argv[4],
                                       "Dana Reyes <dana@example.com>", commit=True)
except Exception as exc:
    print("raised", type(exc).__name__, exc)
    sys.exit(7)
sys.exit(0)
"""

KILL_BEFORE_REPLACE = """
import os, signal, sys
import registry.fsio as fsio
from registry import PromptRegistry

def die(src, dst):
    os.kill(os.getpid(), signal.SIGKILL)

fsio.os.replace = die
PromptRegistry(sys.argv[1]).deploy(sys.argv[2], sys.argv[3], sys.argv[4],
                                   "Dana Reyes <dana@example.com>", commit=True)
"""


@pytest.mark.parametrize("env", ["staging", "development"], ids=["replace-pointer", "new-pointer"])
def test_failure_before_replace_leaves_nothing_behind(seeded: Path, env: str) -> None:
    before = file_state(seeded)
    proc = subprocess.run(
        [sys.executable, "-c", FAIL_BEFORE_REPLACE, str(seeded), "greet", "1.1.0", env],
        cwd=seeded, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 7, (proc.stdout, proc.stderr)
    # A refusal naming the file (exit 1 from the CLI), not an internal error.
    assert proc.stdout.startswith(f"raised WriteError deployments/{env}/greet.yaml: "), proc.stdout
    assert temp_files(seeded) == []
    assert file_state(seeded) == before


def test_killed_writer_leaves_the_old_pointer_and_no_temp_files(seeded: Path) -> None:
    pointer = seeded / "deployments/staging/greet.yaml"
    old = pointer.read_bytes()
    proc = subprocess.run(
        [sys.executable, "-c", KILL_BEFORE_REPLACE, str(seeded), "greet", "1.1.0", "staging"],
        cwd=seeded, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == -9, (proc.stdout, proc.stderr)
    assert pointer.read_bytes() == old
    assert commit_count(seeded) == 1
    # The lock died with the writer: the next write goes through at once, and whatever the
    # killed writer left must be gone from the tree after it.
    start = time.monotonic()
    proc = cli(seeded, "deploy", "greet", "1.1.0", "--env", "staging", "--by", ACTOR, "--commit")
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - start < 10
    assert_pointer(seeded, "staging", "greet", "1.1.0", "1.3.0", "deploy")
    assert temp_files(seeded) == []
    assert git(seeded, "status", "--porcelain", "--untracked-files=all") == ""


def test_random_kills_never_leave_a_partial_pointer(seeded: Path) -> None:
    pointer = seeded / "deployments/development/greet.yaml"
    write(
        seeded, "deployments/development/greet.yaml", pointer_yaml("greet", "development", "1.0.0")
    )
    commit_all(seeded, "dev pointer")
    for delay in (0.05, 0.1, 0.15, 0.2, 0.3):
        p = subprocess.Popen(
            [sys.executable, "-m", "registry", "-C", str(seeded), "deploy", "greet",
             "1.2.0" if pointer.read_bytes().count(b'"1.0.0"') else "1.0.0",
             "--env", "development", "--by", ACTOR],
            cwd=seeded, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(delay)
        p.kill()
        p.wait(30)
        data = yaml.safe_load(pointer.read_text(encoding="utf-8"))
        assert data["version"] in ("1.0.0", "1.2.0"), data
        assert set(data) >= {"prompt_id", "environment", "version", "previous_version", "action",
                             "deployed_by", "deployed_at"}  # fmt: skip
    proc = cli(seeded, "check", "--all")
    assert "deployments/development/greet.yaml" not in proc.stderr, proc.stderr


FAILING_HOOK = "#!/bin/sh\necho 'pre-commit: refused by policy' >&2\nexit 1\n"


def install_failing_hook(repo: Path) -> None:
    hook = repo / ".git/hooks/pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(FAILING_HOOK)
    hook.chmod(0o755)


@pytest.mark.parametrize(
    "args",
    [
        ["deploy", "greet", "1.1.0", "--env", "staging"],
        ["deploy", "greet", "1.2.0", "--env", "development"],
        ["rollback", "greet", "--env", "staging"],
        ["new", "greet", "--bump", "patch", "-d", "Fix", "--author", ACTOR],
        ["eval", "greet", "1.2.0"],
    ],
    ids=["deploy-existing-pointer", "deploy-new-pointer", "rollback", "new", "eval"],
)
def test_failing_git_commit_restores_tree_and_index(seeded: Path, args: list[str]) -> None:
    # Someone has work of their own staged and unstaged; it must survive untouched.
    write(seeded, "notes.txt", "staged work\n")
    git(seeded, "add", "notes.txt")
    write(seeded, "notes.txt", "staged work\nplus an unstaged line\n")
    install_failing_hook(seeded)
    before = file_state(seeded)
    proc = cli(seeded, *args, "--by", ACTOR, "--commit") if args[0] != "new" else cli(
        seeded, *args, "--commit")  # fmt: skip
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert "commit" in proc.stderr.lower(), proc.stderr
    assert file_state(seeded) == before
    assert temp_files(seeded) == []


def test_failing_git_commit_through_the_library(seeded: Path) -> None:
    install_failing_hook(seeded)
    before = file_state(seeded)
    reg = PromptRegistry(seeded)
    with pytest.raises(RegistryError):
        reg.deploy("greet", "1.1.0", "staging", ACTOR, commit=True)
    assert file_state(seeded) == before
    with pytest.raises(RegistryError):
        reg.rollback("greet", "staging", ACTOR, commit=True)
    assert file_state(seeded) == before
