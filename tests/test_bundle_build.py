"""promptreg bundle: built from a commit, canonical bytes, its own sha256, and refused when
check would refuse what it ships."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import rfc8785

from registry.bundle.build import build_bundle
from registry.bundle.document import decode
from registry.schema.validate import schema_errors
from tests.testing import (
    LENIENT_SETTINGS,
    commit_all,
    init_repo,
    pointer_yaml,
    run_cli,
    version_yaml,
    write,
)

CHAT = """prompt_id: chat
version: "2.0.0"
description: A chat prompt
author: Lee Park <lee@example.com>
created_at: "2026-11-20T10:00:00+02:00"
messages:
  - role: system
    content: "Answer in {language}. \\u00e9\\u4e2d"
  - role: user
    content: "{question}"
variables: [language, question]
model: {name: gpt-x, temperature: 0.2, max_tokens: 300, stop: ["\\n\\n"]}
tested: false
evaluation_score: null
"""


def _registry(repo: Path) -> Path:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, "prompts/hello/1.0.0.yaml", version_yaml("hello", "1.0.0", "Hi {query}\n"))
    write(repo, "prompts/hello/1.1.0.yaml", version_yaml("hello", "1.1.0", "Hello {query}\n"))
    write(repo, "prompts/chat/2.0.0.yaml", CHAT)
    for env in ("staging", "production"):
        write(repo, f"deployments/{env}/hello.yaml", pointer_yaml("hello", env, "1.1.0"))
        write(repo, f"deployments/{env}/chat.yaml", pointer_yaml("chat", env, "2.0.0"))
    commit_all(repo, "registry", date="2026-11-21T09:30:00+01:00")
    return repo


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    return _registry(init_repo(tmp_path / "reg"))


def test_the_document_is_canonical_and_carries_its_own_sha256(reg: Path) -> None:
    built = build_bundle(reg, "production")
    doc = json.loads(built.data)
    assert rfc8785.dumps(doc) == built.data
    stated = doc.pop("sha256")
    assert hashlib.sha256(rfc8785.dumps(doc)).hexdigest() == stated == built.sha256
    # What a reader in another language does: cut the last member and hash the rest.
    tail = f',"sha256":"{stated}"}}'.encode()
    assert built.data.endswith(tail)
    assert hashlib.sha256(built.data[: -len(tail)] + b"}").hexdigest() == stated
    assert schema_errors("bundle", json.loads(built.data)) == []


def test_the_document_holds_every_active_version_with_its_fields(reg: Path) -> None:
    doc = json.loads(build_bundle(reg, "production").data)
    head = commit_all(reg, "nothing")  # an empty commit on top
    assert doc["format"] == "promptreg-bundle/1"
    assert doc["environment"] == "production"
    assert len(doc["commit"]) == 40 and doc["commit"] != head
    assert doc["committed_at"] == "2026-11-21T08:30:00Z"
    assert sorted(doc["prompts"]) == ["chat", "hello"]
    chat = doc["prompts"]["chat"]
    assert chat["version"] == "2.0.0"
    assert chat["content"] is None
    assert chat["messages"][0] == {"role": "system", "content": "Answer in {language}. é中"}
    assert chat["variables"] == ["language", "question"]
    assert chat["model"] == {
        "name": "gpt-x",
        "temperature": 0.2,
        "max_tokens": 300,
        "stop": ["\n\n"],
    }
    assert chat["created_at"] == "2026-11-20T10:00:00+02:00"
    assert chat["tested"] is False and chat["evaluation_score"] is None
    assert chat["evaluation"] is None
    assert chat["fingerprint"].startswith("sha256")
    hello = doc["prompts"]["hello"]
    assert hello["version"] == "1.1.0" and hello["content"] == "Hello {query}\n"
    assert hello["messages"] is None and hello["model"] is None
    assert set(hello) == set(chat) == {
        "version", "description", "author", "created_at", "content", "messages", "variables",
        "model", "tested", "evaluation_score", "evaluation", "fingerprint",
    }  # fmt: skip


def test_the_same_commit_gives_the_same_bytes(reg: Path) -> None:
    first = build_bundle(reg, "production")
    commit = first.commit
    write(reg, "deployments/production/hello.yaml", pointer_yaml("hello", "production", "1.0.0"))
    commit_all(reg, "roll hello back")
    assert build_bundle(reg, "production", rev=commit).data == first.data
    later = build_bundle(reg, "production")
    assert later.data != first.data
    assert json.loads(later.data)["prompts"]["hello"]["version"] == "1.0.0"


def test_the_cli_writes_the_file_and_stdout_the_same_bytes(reg: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "production.json"
    done = run_cli("-C", str(reg), "bundle", "--env", "production", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "2 prompt(s)" in done.stdout and str(out) in done.stdout
    piped = run_cli("-C", str(reg), "bundle", "--env", "production")
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.encode("utf-8") == out.read_bytes()
    assert decode(out.read_bytes(), str(out)).environment == "production"


def test_uncommitted_edits_are_left_out_and_named(reg: Path, tmp_path: Path) -> None:
    write(reg, "deployments/production/hello.yaml", pointer_yaml("hello", "production", "1.0.0"))
    out = tmp_path / "b.json"
    done = run_cli("-C", str(reg), "bundle", "--env", "production", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "uncommitted changes are not in the bundle" in done.stderr
    assert "deployments/production/hello.yaml" in done.stderr
    assert json.loads(out.read_bytes())["prompts"]["hello"]["version"] == "1.1.0"


def test_an_untested_version_in_a_require_tested_environment_is_refused(
    reg: Path, tmp_path: Path
) -> None:
    write(
        reg,
        "promptreg.yaml",
        "environments:\n  staging: {require_tested: false}\n  production: {}\n",
    )
    commit_all(reg, "production requires tested versions")
    out = tmp_path / "b.json"
    done = run_cli("-C", str(reg), "bundle", "--env", "production", "-o", str(out))
    assert done.returncode == 1
    assert "no bundle of production written" in done.stderr
    assert "deployments/production/hello.yaml" in done.stderr
    assert "deployments/production/chat.yaml" in done.stderr
    assert "requires a tested version" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()
    # The same commit's staging takes untested versions.
    assert run_cli("-C", str(reg), "bundle", "--env", "staging", "-o", str(out)).returncode == 0


def test_a_pointer_at_a_missing_version_is_refused(reg: Path) -> None:
    write(reg, "deployments/production/hello.yaml", pointer_yaml("hello", "production", "9.0.0"))
    commit_all(reg, "broken pointer")
    done = run_cli("-C", str(reg), "bundle", "--env", "production")
    assert done.returncode == 1
    assert "deployments/production/hello.yaml" in done.stderr and "9.0.0" in done.stderr
    assert done.stdout == ""


def test_a_broken_version_file_is_refused_naming_it(reg: Path) -> None:
    write(reg, "prompts/hello/1.1.0.yaml", "prompt_id: hello\nversion: [1\n")
    commit_all(reg, "broken version")
    done = run_cli("-C", str(reg), "bundle", "--env", "production")
    assert done.returncode == 1
    assert "prompts/hello/1.1.0.yaml" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_removed_deployment_is_left_out(reg: Path) -> None:
    """A tombstone (version null, action remove): nothing is served there, so the bundle
    holds nothing for the prompt."""
    done = run_cli(
        "-C", str(reg), "undeploy", "hello", "--env", "production", "--reason", "Retired",
        "--by", "Dana Reyes <dana@example.com>", "--commit",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "version: null" in (reg / "deployments/production/hello.yaml").read_text()
    doc = json.loads(build_bundle(reg, "production").data)
    assert sorted(doc["prompts"]) == ["chat"]


def test_problems_outside_the_environment_do_not_stop_its_bundle(reg: Path) -> None:
    write(reg, "deployments/staging/hello.yaml", pointer_yaml("hello", "staging", "9.0.0"))
    commit_all(reg, "broken staging pointer")
    assert run_cli("-C", str(reg), "bundle", "--env", "production").returncode == 0
    assert run_cli("-C", str(reg), "bundle", "--env", "staging").returncode == 1


def test_a_symlink_among_the_pointers_is_refused(reg: Path) -> None:
    (reg / "deployments/production/extra.yaml").symlink_to("hello.yaml")
    commit_all(reg, "a symlinked pointer")
    done = run_cli("-C", str(reg), "bundle", "--env", "production")
    assert done.returncode == 1
    assert "deployments/production/extra.yaml" in done.stderr and "symbolic link" in done.stderr


def test_a_model_number_canonical_json_cannot_hold_is_refused_naming_the_prompt(
    reg: Path,
) -> None:
    text = (
        (reg / "prompts/chat/2.0.0.yaml")
        .read_text()
        .replace("max_tokens: 300", "max_tokens: 90071992547409930")
    )
    write(reg, "prompts/chat/2.0.0.yaml", text)
    commit_all(reg, "a huge number")
    done = run_cli("-C", str(reg), "bundle", "--env", "production")
    assert done.returncode == 1
    assert "chat" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "qa"], "environment 'qa' is not configured"),
        (["--env", "production", "--rev", "no-such-branch"], "no-such-branch"),
    ],
)
def test_an_unknown_environment_or_revision_is_refused(
    reg: Path, args: list[str], message: str
) -> None:
    done = run_cli("-C", str(reg), "bundle", *args)
    assert done.returncode == 1
    assert message in done.stderr
    assert done.stdout == ""


def test_a_folder_without_git_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    write(plain, "promptreg.yaml", LENIENT_SETTINGS)
    write(plain, "prompts/hello/1.0.0.yaml", version_yaml("hello", "1.0.0"))
    done = run_cli("-C", str(plain), "bundle", "--env", "production")
    assert done.returncode == 1
    assert "not a git work tree" in done.stderr


def test_env_is_required(reg: Path) -> None:
    assert run_cli("-C", str(reg), "bundle").returncode == 2


def test_a_committed_placeholder_change_within_a_major_does_not_stop_a_bundle(reg: Path) -> None:
    """As check of the commit: both versions are released there, so the change stays."""
    write(reg, "prompts/hello/1.1.0.yaml", version_yaml("hello", "1.1.0", "Hello {query} {name}\n"))
    commit_all(reg, "a breaking minor")
    assert run_cli("-C", str(reg), "check", "--all").returncode == 0
    assert run_cli("-C", str(reg), "bundle", "--env", "production").returncode == 0


def test_an_unexpected_file_among_the_pointers_is_refused(reg: Path) -> None:
    write(reg, "deployments/production/notes.txt", "hello\n")
    commit_all(reg, "a stray file")
    done = run_cli("-C", str(reg), "bundle", "--env", "production")
    assert done.returncode == 1
    assert "deployments/production/notes.txt" in done.stderr


def test_a_real_process_writes_the_exact_bytes_and_refuses_without_a_traceback(
    reg: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    argv = [sys.executable, "-m", "registry", "-C", str(reg), "bundle", "--env", "production"]
    done = subprocess.run(argv, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == build_bundle(reg, "production").data
    refused = subprocess.run([*argv[:-1], "qa"], capture_output=True, timeout=120)
    assert refused.returncode == 1
    assert b"not configured" in refused.stderr and b"Traceback" not in refused.stderr
    assert refused.stdout == b""
