"""``promptreg new``: SemVer bumps from pre-releases, chat prompts from a messages file, and
standard input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from registry.ids import SemVer
from tests.clirun import run
from tests.testing import LENIENT_SETTINGS, commit_all, version_yaml, write

ACTOR = "Dana Reyes <dana@example.com>"


@pytest.mark.parametrize(
    ("start", "part", "expected"),
    [
        ("1.2.0-rc.1", "minor", "1.2.0"),
        ("1.2.0-rc.1", "major", "2.0.0"),
        ("1.2.0-rc.1", "patch", "1.2.0"),
        ("2.0.0-rc.1", "major", "2.0.0"),
        ("2.0.0-rc.1", "minor", "2.0.0"),
        ("1.2.3-rc.1", "patch", "1.2.3"),
        ("1.2.3-rc.1", "minor", "1.3.0"),
        ("1.2.3-rc.1", "major", "2.0.0"),
        ("1.2.3", "patch", "1.2.4"),
        ("1.2.3", "minor", "1.3.0"),
        ("1.2.3", "major", "2.0.0"),
        ("0.0.0-alpha", "patch", "0.0.0"),
    ],
)
def test_bump_follows_npm_semver(start: str, part: str, expected: str) -> None:
    assert str(SemVer.parse(start).bump(part)) == expected  # type: ignore[arg-type]


def _versions(repo: Path, pid: str) -> list[str]:
    return sorted(p.stem for p in (repo / "prompts" / pid).glob("*.yaml"))


@pytest.fixture
def registry(repo: Path) -> Path:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, "prompts/hr/1.1.0.yaml", version_yaml("hr", "1.1.0"))
    write(repo, "prompts/hr/1.2.0-rc.1.yaml", version_yaml("hr", "1.2.0-rc.1"))
    commit_all(repo, "registry")
    return repo


def test_bump_minor_from_a_pre_release_releases_it(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, "-C", str(registry), "new", "hr", "--bump", "minor", "-d", "Release",
            "--author", ACTOR)  # fmt: skip
    assert r.code == 0, r.err
    assert "prompts/hr/1.2.0.yaml" in r.out
    assert _versions(registry, "hr") == ["1.1.0", "1.2.0", "1.2.0-rc.1"]


CHAT = """\
prompt_id: chat
version: "1.0.0"
description: A chat prompt
author: Ana Lima <ana@example.com>
created_at: "2026-11-20T10:00:00Z"
messages:
  - {role: system, content: "You are {persona}."}
  - {role: user, content: "{question}"}
variables: [persona, question]
"""

MESSAGES_YAML = """\
# The new conversation.
- role: system
  content: |
    You are {persona}. Be brief.
- role: user
  content: "{question}"
"""


@pytest.fixture
def chat(registry: Path) -> Path:
    write(registry, "prompts/chat/1.0.0.yaml", CHAT)
    write(registry, "messages.yaml", MESSAGES_YAML)
    write(registry, "content.txt", "Just text {question}\n")
    commit_all(registry, "chat")
    return registry


def _doc(repo: Path, rel: str) -> dict[str, object]:
    data = yaml.safe_load((repo / rel).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_a_new_version_of_a_chat_prompt_stays_a_chat_prompt(
    chat: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, "-C", str(chat), "new", "chat", "--bump", "patch", "-d", "Copy",
            "--author", ACTOR)  # fmt: skip
    assert r.code == 0, r.err
    doc = _doc(chat, "prompts/chat/1.0.1.yaml")
    assert (
        "content" not in doc
        and doc["messages"] == _doc(chat, "prompts/chat/1.0.0.yaml")["messages"]
    )


def test_messages_file_gives_the_new_messages(
    chat: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, "-C", str(chat), "new", "chat", "--bump", "minor", "-d", "Brief",
            "--author", ACTOR, "--messages-file", str(chat / "messages.yaml"))  # fmt: skip
    assert r.code == 0, r.err
    doc = _doc(chat, "prompts/chat/1.1.0.yaml")
    assert doc["messages"] == [
        {"role": "system", "content": "You are {persona}. Be brief.\n"},
        {"role": "user", "content": "{question}"},
    ]
    assert "content" not in doc and "variables" not in doc
    assert run(capsys, "-C", str(chat), "check", "--all").code == 0


def test_content_file_on_a_chat_prompt_is_refused(
    chat: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, "-C", str(chat), "new", "chat", "--bump", "minor", "-d", "Text",
            "--author", ACTOR, "--content-file", str(chat / "content.txt"))  # fmt: skip
    assert r.code == 2
    assert "is a chat prompt" in r.err and "--messages-file" in r.err
    assert _versions(chat, "chat") == ["1.0.0"]


def test_messages_file_on_a_text_prompt_is_refused(
    chat: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, "-C", str(chat), "new", "hr", "--bump", "minor", "-d", "Chat",
            "--author", ACTOR, "--messages-file", str(chat / "messages.yaml"))  # fmt: skip
    assert r.code == 2 and "is a text prompt" in r.err and "--content-file" in r.err


def test_a_new_chat_prompt_from_json_on_standard_input(
    registry: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = [{"role": "system", "content": "Summarise {ticket}."}]
    _stdin(monkeypatch, json.dumps(messages, indent=2))
    r = run(capsys, "-C", str(registry), "new", "summary", "-d", "First", "--author", ACTOR,
            "--messages-file", "-")  # fmt: skip
    assert r.code == 0, r.err
    assert _doc(registry, "prompts/summary/1.0.0.yaml")["messages"] == messages


def test_content_file_dash_reads_standard_input(
    registry: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stdin(monkeypatch, "From stdin: {query}\n")
    r = run(capsys, "-C", str(registry), "new", "hr", "--version", "1.3.0", "-d", "Piped",
            "--author", ACTOR, "--content-file", "-")  # fmt: skip
    assert r.code == 0, r.err
    assert _doc(registry, "prompts/hr/1.3.0.yaml")["content"] == "From stdin: {query}\n"


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "- role: system\n  content: ok\n- role: robot\n  content: hi\n",
            3,
            'unknown role "robot"',
        ),
        (
            "- role: user\n  content: ok\n- role: user\n  text: hi\n",
            3,
            'missing required field "content"',
        ),
        ("- role: user\n  content: [1, 2]\n", 2, "content: expected a string"),
        ("- role: user\n  content: 'Hi {a.b}'\n", 2, "{a.b}"),
        ("- role: user\n  content: ok\n- [\n", 4, "YAML"),
        ("[]\n", 1, "non-empty list"),
        ("role: user\ncontent: hi\n", 1, "non-empty list"),
        ("", 1, "list of {role, content}"),
        ("# nothing yet\n\n", 1, "list of {role, content}"),
    ],
    ids=[
        "role",
        "fields",
        "content-type",
        "template",
        "syntax",
        "empty",
        "not-a-list",
        "empty-file",
        "only-comments",
    ],
)
def test_a_bad_messages_file_names_the_file_and_line(
    registry: Path, capsys: pytest.CaptureFixture[str], text: str, line: int, message: str
) -> None:
    write(registry, "bad.yaml", text)
    bad = str(registry / "bad.yaml")
    r = run(capsys, "-C", str(registry), "new", "chat2", "-d", "x", "--author", ACTOR,
            "--messages-file", bad)  # fmt: skip
    assert r.code == 1, (r.out, r.err)
    assert f"{bad}:{line}:" in r.err and message in r.err, r.err
    assert not (registry / "prompts/chat2").exists()


@pytest.mark.parametrize(
    "item",
    [
        {"role": "robot", "content": "hi"},
        {"role": "user"},
        {"role": "user", "content": ["x"]},
        {"role": "user", "content": " "},
        {"role": "user", "content": "x", "name": "n"},
        "hi",
    ],
    ids=["role", "missing-content", "content-type", "blank", "extra-field", "not-a-mapping"],
)
def test_a_messages_file_is_held_to_the_version_schema(item: object) -> None:
    """One rule: ``new --messages-file`` refuses a message with the words ``check`` uses for
    the same message in a version file."""
    import json

    from registry.errors import ValidationError
    from registry.messages_file import load_messages
    from registry.schema.validate import schema_errors

    with pytest.raises(ValidationError) as info:
        load_messages(json.dumps({"messages": [item]}).encode(), "m.json")
    version = {"prompt_id": "chat", "version": "1.0.0", "description": "d", "author": "a",
               "messages": [item]}  # fmt: skip
    expected = {m for _, m in schema_errors("prompt-version", version) if m.startswith("messages")}
    assert expected
    assert {p.message for p in info.value.problems} == expected
