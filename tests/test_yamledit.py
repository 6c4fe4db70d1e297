from __future__ import annotations

from typing import Any

import pytest

from registry.errors import LoadError
from registry.fingerprint import fingerprint
from registry.models import Evaluation, Message, PromptVersion
from registry.yamlio import edit as yamledit
from registry.yamlio import edit_plan
from registry.yamlio.edit import YamlEditError, set_evaluation_fields
from registry.yamlio.load import YamlError, load_yaml_bytes

EVALUATION = {
    "suite": "evals/hr_query_system_prompt.yaml",
    "threshold": 0.85,
    "fingerprint": "sha256:" + "ab" * 32,
    "evaluated_at": "2026-11-20T11:00:00Z",
    "evaluated_by": "Dana Reyes <dana@example.com>",
}
EVALUATION_LINES = (
    "evaluation:\n"
    '  suite: "evals/hr_query_system_prompt.yaml"\n'
    "  threshold: 0.85\n"
    f'  fingerprint: "sha256:{"ab" * 32}"\n'
    '  evaluated_at: "2026-11-20T11:00:00Z"\n'
    '  evaluated_by: "Dana Reyes <dana@example.com>"\n'
)

# Hand-written, with everything a round-trip dumper likes to "fix".
RICH = """\
# yaml-language-server: $schema=../../schemas/prompt-version.schema.json
# Every byte outside the evaluation fields must survive.
prompt_id: hr_query_system_prompt      # must equal the directory name
version: "1.1.0"
description: 'Cite the policy section in every answer'
author: Dana Reyes <dana@example.com>
created_at: "2026-11-20T10:00:00Z"

content: |
  You are an HR assistant. Answer only from this context:
  {context}
  Question: {query}


variables: [context, query]
model: {name: gpt-4o-mini,  temperature: 0.20, stop: ["\\n\\n"]}   # flow style, odd spacing
tested: false   # set only by evaluation
"""

# As promptreg's own evaluation leaves it, with the comments of SPEC 3.1.
TESTED = """\
prompt_id: hr_query_system_prompt
version: "1.1.0"
description: Cite the policy section in every answer
author: Dana Reyes <dana@example.com>
created_at: "2026-11-20T10:00:00Z"
messages:
- role: system
  content: >-
    You are an HR assistant.
    Context: {context}
- {role: user, content: "{query}"}
tested: true                           # set only by evaluation (section 6)
evaluation_score: 0.91                 # finite, 0..1, or null
evaluation:                            # binds `tested` to this exact content
  suite: evals/hr_query_system_prompt.yaml
  threshold: 0.5
  fingerprint: sha256:old              # any edit voids `tested`
  evaluated_at: "2026-11-01T11:00:00Z"
  evaluated_by: Someone Else <else@example.com>
# trailing comment
"""


def eval_field_lines(text: str) -> list[int]:
    """Indexes of the lines of ``text`` that belong to the three evaluation fields."""
    lines = text.splitlines(keepends=True)
    out = []
    inside = False
    for i, line in enumerate(lines):
        top = not line.startswith((" ", "#", "\r", "\n"))
        if top:
            inside = line.startswith(("tested:", "evaluation_score:", "evaluation:"))
        if inside:
            out.append(i)
    return out


def other_lines(text: str) -> list[str]:
    skip = set(eval_field_lines(text))
    return [line for i, line in enumerate(text.splitlines(keepends=True)) if i not in skip]


def load(text: str) -> dict[str, Any]:
    return load_yaml_bytes(text.encode("utf-8"), "p.yaml").data


# --- the edit itself -------------------------------------------------------------------------


def test_appends_missing_fields_and_keeps_every_other_byte() -> None:
    new = set_evaluation_fields(RICH, True, 0.9, EVALUATION, "p.yaml")
    expected = (
        RICH.replace("tested: false   #", "tested: true   #")
        + "evaluation_score: 0.9\n"
        + EVALUATION_LINES
    )
    assert new == expected
    assert other_lines(new) == other_lines(RICH)


def test_updates_in_place_keeping_comments_and_order() -> None:
    new = set_evaluation_fields(TESTED, True, 0.875, EVALUATION, "p.yaml")
    assert new == TESTED.replace("evaluation_score: 0.91", "evaluation_score: 0.875").replace(
        "  suite: evals/hr_query_system_prompt.yaml\n"
        "  threshold: 0.5\n"
        "  fingerprint: sha256:old              # any edit voids `tested`\n"
        '  evaluated_at: "2026-11-01T11:00:00Z"\n'
        "  evaluated_by: Someone Else <else@example.com>\n",
        "  suite: evals/hr_query_system_prompt.yaml\n"  # unchanged, so left as written
        "  threshold: 0.85\n"
        f'  fingerprint: "sha256:{"ab" * 32}"              # any edit voids `tested`\n'
        '  evaluated_at: "2026-11-20T11:00:00Z"\n'
        '  evaluated_by: "Dana Reyes <dana@example.com>"\n',
    )


def test_clearing_the_evaluation() -> None:
    new = set_evaluation_fields(TESTED, False, None, None, "p.yaml")
    head, _, _ = TESTED.partition("tested:")
    assert new == head + (
        "tested: false                           # set only by evaluation (section 6)\n"
        "evaluation_score: null                 # finite, 0..1, or null\n"
        "evaluation: null\n"
        "# trailing comment\n"
    )
    # and back again
    again = set_evaluation_fields(new, True, 0.91, EVALUATION, "p.yaml")
    assert again == head + (
        "tested: true                           # set only by evaluation (section 6)\n"
        "evaluation_score: 0.91                 # finite, 0..1, or null\n"
        + EVALUATION_LINES
        + "# trailing comment\n"
    )


def test_absent_fields_stay_absent_when_none() -> None:
    text = "prompt_id: a\ncontent: x\n"
    assert set_evaluation_fields(text, False, None, None, "p.yaml") == text + "tested: false\n"


@pytest.mark.parametrize(
    "text",
    [RICH, TESTED, RICH.replace("\n", "\r\n"), "prompt_id: a\ncontent: |\n  x\n\n\n"],
    ids=["rich", "tested", "crlf", "block-last"],
)
@pytest.mark.parametrize(
    ("tested", "score", "evaluation"),
    [(True, 0.9, EVALUATION), (False, None, None), (True, 1, EVALUATION)],
    ids=["pass", "clear", "int-score"],
)
def test_idempotent_and_nothing_else_changes(
    text: str, tested: bool, score: float | None, evaluation: dict[str, Any] | None
) -> None:
    once = set_evaluation_fields(text, tested, score, evaluation, "p.yaml")
    assert set_evaluation_fields(once, tested, score, evaluation, "p.yaml") == once
    assert other_lines(once) == other_lines(text)
    before, after = load(text), load(once)
    for key in ("tested", "evaluation_score", "evaluation"):
        before.pop(key, None)
        after.pop(key, None)
    assert after == before


def test_crlf_line_endings_are_kept() -> None:
    crlf = RICH.replace("\n", "\r\n")
    new = set_evaluation_fields(crlf, True, 0.9, EVALUATION, "p.yaml")
    assert new.count("\n") == new.count("\r\n")
    assert new.startswith(crlf.partition("tested:")[0])
    assert new.endswith(EVALUATION_LINES.replace("\n", "\r\n"))


def test_missing_final_newline() -> None:
    new = set_evaluation_fields("prompt_id: a\nevaluation:", True, 0.5, EVALUATION, "p.yaml")
    assert new == "prompt_id: a\n" + EVALUATION_LINES + "tested: true\nevaluation_score: 0.5\n"


def test_block_scalar_last_keeps_its_value() -> None:
    for header in ("|", "|+", "|-", ">"):
        text = f"prompt_id: a\ncontent: {header}\n  line one\n  line two\n\n\n"
        new = set_evaluation_fields(text, True, 0.5, EVALUATION, "p.yaml")
        assert new.startswith(text)
        assert load(new)["content"] == load(text)["content"]


def test_flow_evaluation_becomes_block_and_keeps_its_comment() -> None:
    text = "prompt_id: a\nevaluation: {suite: x}  # old\ntested: true\n"
    new = set_evaluation_fields(text, True, 0.5, EVALUATION, "p.yaml")
    assert new == (
        "prompt_id: a\n"
        + EVALUATION_LINES.replace("evaluation:\n", "evaluation:  # old\n")
        + "tested: true\nevaluation_score: 0.5\n"
    )


def test_nested_indentation_follows_the_file() -> None:
    text = "prompt_id: a\nmodel:\n    name: m\n    # temperature: 0.2\n"
    new = set_evaluation_fields(text, True, 0.5, EVALUATION, "p.yaml")
    assert new.startswith(text + "tested: true\nevaluation_score: 0.5\nevaluation:\n    suite: ")


def test_empty_values_are_filled() -> None:
    text = "prompt_id: a\ntested:\nevaluation_score:   # pending\n"
    new = set_evaluation_fields(text, False, 0.25, None, "p.yaml")
    assert new == "prompt_id: a\ntested: false\nevaluation_score: 0.25   # pending\n"


# --- values ----------------------------------------------------------------------------------


def test_strings_stay_strings() -> None:
    odd = {
        **EVALUATION,
        "suite": 'evals/we"ird\\path #1: yes.yaml',
        "evaluated_by": "Zoë Ng <zoe@example.com>\u2028\x85\ufeff",
        "evaluated_at": "2026-11-20",
        "fingerprint": "null",
    }
    new = set_evaluation_fields("prompt_id: a\n", True, 0.5, odd, "p.yaml")
    assert load(new)["evaluation"] == odd
    assert "Zoë" in new  # printable text is not escaped


def test_text_either_yaml_version_could_misread_is_written_quoted() -> None:
    """What evaluation writes reads back the same by YAML 1.2 (promptreg, editors) and by
    YAML 1.1 (older tools); fields YAML 1.1 would read otherwise are kept as written."""
    import yaml

    words = {**EVALUATION, "suite": "yes", "evaluated_by": "No", "fingerprint": "-.5"}
    text = "prompt_id: a\ndescription: No\nmodel: {window: 1:30, seed: 0o17, flag: on}\n"
    new = set_evaluation_fields(text, True, 1e-07, words, "p.yaml")
    assert new.startswith(text)
    assert load(new)["evaluation"] == words
    assert load(new)["description"] == "No"
    assert load(new)["model"] == {"window": "1:30", "seed": 15, "flag": "on"}
    assert yaml.safe_load(new)["evaluation"] == words
    assert yaml.safe_load(new)["evaluation_score"] == load(new)["evaluation_score"] == 1e-07


@pytest.mark.parametrize(
    ("score", "written"),
    [(1e-07, "1.0e-07"), (1.0, "1.0"), (0, "0"), (0.333333, "0.333333"), (1, "1")],
)
def test_scores_stay_numbers(score: float, written: str) -> None:
    new = set_evaluation_fields("prompt_id: a\n", True, score, None, "p.yaml")
    assert f"evaluation_score: {written}\n" in new
    value = load(new)["evaluation_score"]
    assert value == score and not isinstance(value, str | bool)


@pytest.mark.parametrize(
    ("tested", "score", "evaluation", "message"),
    [
        ("yes", None, None, "'tested' must be true or false"),
        (True, float("nan"), None, "'evaluation_score' must be a finite number"),
        (True, True, None, "'evaluation_score' must be a finite number"),
        (True, 0.5, {"suite": ["x"]}, "evaluation field 'suite' has unsupported value"),
        (True, 0.5, {"not a name": "x"}, "evaluation field name 'not a name'"),
    ],
)
def test_bad_values_are_refused(tested: Any, score: Any, evaluation: Any, message: str) -> None:
    with pytest.raises(YamlEditError, match=message):
        set_evaluation_fields("prompt_id: a\n", tested, score, evaluation, "p.yaml")


# --- refusals --------------------------------------------------------------------------------


def test_flow_mapping_document_is_refused() -> None:
    with pytest.raises(YamlEditError, match=r"^p\.yaml:1: the fields are not written one per line"):
        set_evaluation_fields("{prompt_id: a, tested: false}\n", True, 0.5, None, "p.yaml")


def test_hardened_loader_refusals_pass_through() -> None:
    with pytest.raises(YamlError, match="duplicate key 'tested'"):
        set_evaluation_fields("tested: false\ntested: true\n", True, 0.5, None, "p.yaml")


def test_an_edit_that_would_not_read_back_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(edit_plan, "_scalar", lambda value: "'0.5'")
    with pytest.raises(YamlEditError, match=r"tested reads back as '0\.5', not True") as info:
        set_evaluation_fields("prompt_id: a\n", True, 0.5, None, "p.yaml")
    assert isinstance(info.value, LoadError)


def test_an_edit_that_would_change_another_field_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = yamledit._apply
    monkeypatch.setattr(
        yamledit, "_apply", lambda text, edits, path: real(text, edits, path).replace("a", "b", 1)
    )
    with pytest.raises(YamlEditError, match="would also change prompt_id"):
        set_evaluation_fields("prompt_id: a\n", True, 0.5, None, "p.yaml")


# --- the fingerprint binds the content ------------------------------------------------------


def version_from(data: dict[str, Any]) -> PromptVersion:
    """A PromptVersion built by hand from a loaded version file."""
    messages = data.get("messages")
    evaluation = data.get("evaluation")
    return PromptVersion(
        prompt_id=data["prompt_id"],
        version=data["version"],
        content=data.get("content"),
        messages=None
        if messages is None
        else tuple(Message(m["role"], m["content"]) for m in messages),
        model=data.get("model"),
        tested=data["tested"],
        evaluation_score=data.get("evaluation_score"),
        evaluation=None if evaluation is None else Evaluation(**evaluation),
    )


@pytest.mark.parametrize("text", [RICH, TESTED, RICH.replace("\n", "\r\n")])
def test_written_fingerprint_matches_the_loaded_version(text: str) -> None:
    original = version_from(load(text))
    evaluation = {**EVALUATION, "fingerprint": original.fingerprint}
    new = set_evaluation_fields(text, True, 0.9, evaluation, "p.yaml")
    loaded = version_from(load(new))
    assert loaded.evaluation is not None
    assert loaded.evaluation.fingerprint == loaded.fingerprint == original.fingerprint
    assert loaded.fingerprint == fingerprint(
        loaded.prompt_id, loaded.content, loaded.messages, loaded.model
    )
    assert loaded.is_tested
