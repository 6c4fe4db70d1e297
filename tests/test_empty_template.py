"""An empty or whitespace-only template is refused by ``new``, the library's ``register``,
and ``check`` (the schema and the runtime decoder agree)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from registry import PromptRegistry, PromptVersion
from registry.errors import RegistryError, ValidationError
from tests.clirun import run
from tests.testing import LENIENT_SETTINGS, commit_all, run_cli, version_yaml, write

ACTOR = "Dana Reyes <dana@example.com>"
EMPTY = "the template is empty or only spaces; write the prompt text"


@pytest.fixture
def registry(repo: Path) -> Path:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    commit_all(repo, "registry")
    return repo


@pytest.mark.parametrize("text", ["", "  \n\t\n"], ids=["empty", "blank"])
def test_new_refuses_an_empty_content_file(
    registry: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    text: str,
) -> None:  # fmt: skip
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    r = run(capsys, "-C", str(registry), "new", "ticket_summarizer", "-d", "x",
            "--author", ACTOR, "--content-file", "-")  # fmt: skip
    assert r.code == 1, (r.out, r.err)
    assert f"<stdin>:1: {EMPTY}" in r.err
    assert not (registry / "prompts/ticket_summarizer").exists()


def test_new_refuses_a_message_with_empty_content(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    msgs = write(
        registry, "m.yaml", "- role: system\n  content: Hi {x}\n- role: user\n  content: ''\n"
    )
    r = run(capsys, "-C", str(registry), "new", "chat", "-d", "x", "--author", ACTOR,
            "--messages-file", str(msgs))  # fmt: skip
    assert r.code == 1, (r.out, r.err)
    assert f"{msgs}:4:" in r.err and EMPTY in r.err, r.err
    assert not (registry / "prompts/chat").exists()


@pytest.mark.parametrize(
    "fields",
    [{"content": ""}, {"content": " \n"}, {"messages": ({"role": "user", "content": ""},)}],
    ids=["content", "blank-content", "message"],
)
def test_register_refuses_an_empty_template(registry: Path, fields: dict[str, object]) -> None:
    from registry.models import Message

    if "messages" in fields:
        fields = {"messages": (Message("user", ""),)}
    with PromptRegistry(registry) as reg, pytest.raises(ValidationError) as info:
        reg.register(
            PromptVersion(
                prompt_id="greet", version="1.1.0", description="x", author=ACTOR, **fields
            )
        )  # type: ignore[arg-type]
    assert str(info.value).count(EMPTY) == 1, str(info.value)
    assert not (registry / "prompts/greet/1.1.0.yaml").exists()


@pytest.mark.parametrize(
    "body",
    ['content: ""\n', "messages:\n  - role: user\n    content: '  '\n"],
    ids=["content", "message"],
)
def test_check_refuses_a_hand_written_empty_template(registry: Path, body: str) -> None:
    head = version_yaml("greet", "1.1.0").split("content:")[0]
    write(registry, "prompts/greet/1.1.0.yaml", head + body + "tested: false\n")
    r = run_cli("-C", str(registry), "check", "--all")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "prompts/greet/1.1.0.yaml:" in r.stderr and EMPTY in r.stderr, r.stderr
    # The runtime (no JSON Schema) refuses it too.
    with PromptRegistry(registry, source="files") as reg, pytest.raises(RegistryError, match=EMPTY):
        reg.get_version("greet", "1.1.0")
