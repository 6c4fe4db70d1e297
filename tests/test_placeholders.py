"""Placeholders as a prompt's interface: render ignores what a version does not use, adding one
within a major is a check problem, deploys across majors show the difference, and templates
that look like something else (JSON, Mustache) get a message that says what to write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from registry import PromptRegistry
from registry.errors import TemplateError
from registry.models import PromptVersion
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


def _path(version: str, prompt_id: str = "hr") -> str:
    return f"prompts/{prompt_id}/{version}.yaml"


def _registry(tmp_path: Path, versions: dict[str, str], commit: bool = True) -> Path:
    """A registry with one version of ``hr`` per entry, ``version: content``."""
    repo = init_repo(tmp_path / "repo")
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    for version, content in versions.items():
        write(repo, _path(version), version_yaml("hr", version, content=content))
    if commit:
        commit_all(repo, "versions")
    return repo


def _check(repo: Path, *args: str) -> tuple[int, list[dict[str, Any]]]:
    r = run_cli("-C", str(repo), "check", *args, "--json")
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, json.loads(r.stdout)


# --- render -------------------------------------------------------------------------------


def test_render_ignores_variables_the_template_does_not_use() -> None:
    v = PromptVersion("hr", "1.0.0", content="Hi {name}")
    assert v.render(name="Ana", tone="warm", extra=object()) == "Hi Ana"
    with pytest.raises(TemplateError, match=r"hr 1\.0\.0: missing variable\(s\) name"):
        v.render(tone="warm")


def test_a_caller_of_the_newer_version_still_renders_after_a_rollback(tmp_path: Path) -> None:
    """The application passes what 2.0.0 takes; rolled back to 1.0.0 it keeps working."""
    repo = _registry(tmp_path, {"1.0.0": "Hi {name}\n", "2.0.0": "Hi {name}, {tone}\n"})
    write(repo, "deployments/staging/hr.yaml", pointer_yaml("hr", "staging", "2.0.0", "1.0.0"))
    commit_all(repo, "deploy 2.0.0")
    r = run_cli("-C", str(repo), "rollback", "hr", "--env", "staging", "--commit")
    assert r.returncode == 0, r.stderr
    reg = PromptRegistry(repo)
    try:
        active = reg.get_active("hr", "staging")
        assert active is not None and active.version == "1.0.0"
        assert active.render(name="Ana", tone="warm") == "Hi Ana\n"
    finally:
        reg.close()
    out = run_cli(
        "-C", str(repo), "render", "hr", "--env", "staging", "--var", "name=Ana", "--var", "tone=x"
    )
    assert (out.returncode, out.stdout) == (0, "Hi Ana\n"), out.stderr


# --- braces that are not placeholders -----------------------------------------------------


def test_a_json_example_says_how_to_write_literal_braces(tmp_path: Path) -> None:
    content = 'Answer in JSON.\nExample: {"answer": 1}\n'
    repo = _registry(tmp_path, {"1.0.0": content}, commit=False)
    code, problems = _check(repo, "--all")
    assert code == 1
    (p,) = problems
    assert (p["code"], p["path"], p["line"]) == ("template", _path("1.0.0"), 8), p
    assert "literal braces are written {{ and }}" in p["message"], p
    assert '{{"answer": 1}}' in p["message"], p
    assert "format specs" not in p["message"], p
    text = run_cli("-C", str(repo), "check", "--all")
    assert f"{_path('1.0.0')}:8: template " in text.stderr, text.stderr


def test_the_literal_brace_spelling_the_message_gives_passes(tmp_path: Path) -> None:
    content = 'Example: {{"answer": 1}} for {query}\n'
    repo = _registry(tmp_path, {"1.0.0": content}, commit=False)
    assert _check(repo, "--all") == (0, [])
    v = PromptVersion("hr", "1.0.0", content=content)
    assert v.render(query="q") == 'Example: {"answer": 1} for q\n'


def test_a_real_format_spec_keeps_its_own_message() -> None:
    with pytest.raises(TemplateError, match=r"format specs are not allowed.*literal braces"):
        PromptVersion("hr", "1.0.0", content="{score:.2f}").render(score=1)


@pytest.mark.parametrize(
    ("content", "warned", "line"),
    [
        ("Hello {{name}}, ask {query}\n", ["{{name}}"], 7),
        ("Hello\n{{ name }} and {{user.name}}\n", ["{{ name }}", "{{user.name}}"], 8),
    ],
)
def test_a_mustache_placeholder_is_a_warning_that_does_not_fail_check(
    tmp_path: Path, content: str, warned: list[str], line: int
) -> None:
    repo = _registry(tmp_path, {"1.0.0": content}, commit=False)
    code, problems = _check(repo, "--all")
    assert code == 0, problems
    assert [p["severity"] for p in problems] == ["warning"] * len(warned)
    assert {p["code"] for p in problems} == {"mustache-placeholder"}
    for shown, p in zip(warned, problems, strict=True):
        assert p["path"] == _path("1.0.0") and p["line"] == line, p
        assert p["message"].startswith(f"{shown} is not a placeholder"), p
    text = run_cli("-C", str(repo), "check", "--all")
    assert text.returncode == 0
    assert f"{_path('1.0.0')}:{line}: warning: mustache-placeholder" in text.stderr
    assert f"{len(warned)} warning(s)" in text.stdout
    # The pre-commit hook runs check --staged: a warning does not block the commit.
    git(repo, "add", "-A")
    assert run_cli("-C", str(repo), "check", "--staged").returncode == 0


def test_literal_braces_around_a_placeholder_are_no_warning(tmp_path: Path) -> None:
    repo = _registry(tmp_path, {"1.0.0": 'Set {{{name}}} and {{"a": 1}}\n'}, commit=False)
    assert _check(repo, "--all") == (0, [])


def test_a_warning_beside_an_error_counts_only_the_error(tmp_path: Path) -> None:
    repo = _registry(tmp_path, {"1.0.0": "Hello {{name}}\n", "1.1.0": "Hi {name}\n"}, False)
    r = run_cli("-C", str(repo), "check", "--all")
    assert r.returncode == 1
    assert "1 problem(s) found, 1 warning(s)" in r.stderr, r.stderr
    _, problems = _check(repo, "--all")
    assert sorted((p["code"], p["severity"]) for p in problems) == [
        ("breaking-variables", "error"),
        ("mustache-placeholder", "warning"),
    ]


# --- breaking-variables ---------------------------------------------------------------------


def test_a_minor_that_adds_a_placeholder_is_a_check_problem(tmp_path: Path) -> None:
    repo = _registry(tmp_path, {"1.0.0": "Hi {name}\n", "1.1.0": "Hi {name}, {tone}\n"}, False)
    code, problems = _check(repo, "--all")
    assert code == 1
    (p,) = problems
    assert (p["code"], p["path"], p["line"]) == ("breaking-variables", _path("1.1.0"), 6), p
    assert "tone" in p["message"] and "1.0.0" in p["message"], p
    assert "bump the major" in p["message"], p


@pytest.mark.parametrize(
    "versions",
    [
        pytest.param({"1.0.0": "{name} {tone}\n", "1.1.0": "{name}\n"}, id="a-minor-removes-one"),
        pytest.param({"1.0.0": "{name}\n", "2.0.0": "{name} {tone}\n"}, id="a-major-adds-one"),
        pytest.param({"0.1.0": "{name}\n", "0.2.0": "{name} {tone}\n"}, id="major-zero"),
        pytest.param(
            {"2.0.0-rc.1": "{name}\n", "2.0.0": "{name} {tone}\n"}, id="after-a-pre-release"
        ),
        pytest.param({"1.0.0": "{b} {a}\n", "1.0.1": "{a}\n{b}\n"}, id="reordered"),
    ],
)
def test_what_semver_allows_passes(tmp_path: Path, versions: dict[str, str]) -> None:
    assert _check(_registry(tmp_path, versions, commit=False), "--all") == (0, [])


def test_versions_are_compared_in_semver_order_within_each_major(tmp_path: Path) -> None:
    versions = {
        "1.9.0": "{a}\n",
        "1.10.0": "{a} {b}\n",  # adds b to 1.9.0, not to 1.2.0
        "1.2.0": "{a}\n",
        "2.0.0": "{a} {b} {c}\n",
        "2.0.1-rc.1": "{a} {b} {c} {d}\n",  # a pre-release of a patch is in the series
    }
    _, problems = _check(_registry(tmp_path, versions, commit=False), "--all")
    assert [(p["path"], p["code"]) for p in problems] == [
        (_path("1.10.0"), "breaking-variables"),
        (_path("2.0.1-rc.1"), "breaking-variables"),
    ]
    assert "adds placeholder(s) b that 1.9.0" in problems[0]["message"]
    assert "adds placeholder(s) d that 2.0.0" in problems[1]["message"]


def test_chat_prompts_compare_all_their_messages(tmp_path: Path) -> None:
    repo = _registry(tmp_path, {"1.0.0": "{name}\n"}, commit=False)
    write(
        repo,
        _path("1.1.0"),
        version_yaml("hr", "1.1.0").split("content: |")[0]
        + 'messages:\n  - role: system\n    content: "{name}"\n'
        + '  - role: user\n    content: "{question}"\ntested: false\n',
    )
    _, problems = _check(repo, "--all")
    assert [(p["code"], p["path"], p["line"]) for p in problems] == [
        ("breaking-variables", _path("1.1.0"), 6)
    ]


def test_staged_and_base_checks_report_it(tmp_path: Path) -> None:
    repo = _registry(tmp_path, {"1.0.0": "Hi {name}\n"})
    write(repo, _path("1.1.0"), version_yaml("hr", "1.1.0", content="Hi {name} {tone}\n"))
    git(repo, "add", "-A")
    code, problems = _check(repo, "--staged")
    assert code == 1 and [p["code"] for p in problems] == ["breaking-variables"], problems
    git(repo, "commit", "-q", "--no-verify", "-m", "a breaking minor")
    code, problems = _check(repo, "--base", "HEAD~1")
    assert code == 1 and [p["path"] for p in problems] == [_path("1.1.0")], problems


def test_a_staged_version_inserted_before_a_later_one_is_checked_with_it(tmp_path: Path) -> None:
    """Adding 1.1.0 without {tone} between 1.0.0 and 1.2.0 makes 1.2.0 add {tone} again."""
    repo = _registry(tmp_path, {"1.0.0": "{name} {tone}\n", "1.2.0": "{name} {tone}\n"})
    write(repo, _path("1.1.0"), version_yaml("hr", "1.1.0", content="{name}\n"))
    git(repo, "add", "-A")
    code, problems = _check(repo, "--staged")
    assert code == 1
    assert [(p["code"], p["path"]) for p in problems] == [("breaking-variables", _path("1.2.0"))]


def test_a_break_released_before_the_rule_is_a_warning_and_new_ones_are_errors(
    tmp_path: Path,
) -> None:
    """Released versions are frozen: a registry that broke the rule before promptreg checked
    it must still pass, while a change that adds another break is refused."""
    repo = _registry(tmp_path, {"1.0.0": "Hi {name}\n", "1.1.0": "Hi {name}, {tone}\n"})
    for args in (("--all",), ("--staged", "--all")):
        code, problems = _check(repo, *args)
        assert code == 0, (args, problems)
        assert [(p["code"], p["severity"]) for p in problems] == [
            ("breaking-variables", "warning")
        ], (args, problems)
        assert "released before" in problems[0]["message"]
    # A range judges what it touches: the base's own warning is check --all's to report.
    assert _check(repo, "--base", "HEAD") == (0, [])
    write(repo, _path("1.2.0"), version_yaml("hr", "1.2.0", content="Hi {name}, {tone} {mood}\n"))
    code, problems = _check(repo, "--all")
    assert code == 1
    by_path = {p["path"]: p["severity"] for p in problems}
    assert by_path == {_path("1.1.0"): "warning", _path("1.2.0"): "error"}, problems
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", "another breaking minor")
    code, problems = _check(repo, "--base", "HEAD~1")
    assert code == 1
    assert {p["path"]: p["severity"] for p in problems} == {_path("1.2.0"): "error"}, problems


# --- deploy and rollback across majors ------------------------------------------------------


def test_deploy_and_rollback_across_majors_print_the_variable_difference(tmp_path: Path) -> None:
    repo = _registry(
        tmp_path, {"1.0.0": "{name} {query}\n", "1.1.0": "{query}\n", "2.0.0": "{query} {tone}\n"}
    )
    base = ("-C", str(repo))
    first = run_cli(*base, "deploy", "hr", "1.0.0", "--env", "staging")
    assert first.returncode == 0 and "note:" not in first.stderr, first.stderr
    minor = run_cli(*base, "deploy", "hr", "1.1.0", "--env", "staging")
    assert minor.returncode == 0 and "note:" not in minor.stderr, minor.stderr  # same major

    major = run_cli(*base, "deploy", "hr", "2.0.0", "--env", "staging", "--json")
    assert major.returncode == 0, major.stderr
    assert json.loads(major.stdout)["version"] == "2.0.0"  # stdout stays JSON
    assert major.stderr.strip() == (
        "note: staging moved hr from 1.1.0 to 2.0.0, another major version; its variables"
        " changed: added tone (callers must pass them)"
    )

    back = run_cli(*base, "rollback", "hr", "--env", "staging")
    assert back.returncode == 0, back.stderr
    assert "rolled back hr in staging to 1.1.0" in back.stdout
    assert "removed tone (ignored when passed)" in back.stderr, back.stderr
    assert "added" not in back.stderr

    again = run_cli(*base, "rollback", "hr", "--env", "staging", "--to", "1.1.0")
    assert again.returncode == 0 and "note:" not in again.stderr  # nothing moved


# --- what the messages say ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "literal"),
    [("{{name}}", "{name}"), ("{{ name }}", "{ name }"), ("{{  user.name}}", "{  user.name}")],
)
def test_the_mustache_warning_says_exactly_what_renders(
    tmp_path: Path, content: str, literal: str
) -> None:
    repo = _registry(tmp_path, {"1.0.0": f"Hello {content}\n"}, commit=False)
    _, (problem,) = _check(repo, "--all")
    assert f"renders as the literal text {literal};" in problem["message"], problem
    rendered = PromptVersion("hr", "1.0.0", content=f"Hello {content}").render()
    assert rendered == f"Hello {literal}"


def test_a_placeholder_with_spaces_suggests_the_placeholder_and_the_literal_text() -> None:
    with pytest.raises(TemplateError) as info:
        PromptVersion("hr", "1.0.0", content="Hi { x }").render(x="a")
    message = str(info.value)
    assert "write {x} for the variable x, or {{ x }} for the literal text { x }" in message
    # Both suggestions do what they say.
    assert PromptVersion("hr", "1.0.0", content="Hi {x}").render(x="a") == "Hi a"
    assert PromptVersion("hr", "1.0.0", content="Hi {{ x }}").render() == "Hi { x }"


def test_new_warns_about_the_file_it_just_created(tmp_path: Path) -> None:
    repo = _registry(tmp_path, {"1.0.0": "Hi {name}\n"})
    write(repo, "new.txt", "Hi {name}, {tone} and {{ mood }}\n")
    r = run_cli("-C", str(repo), "new", "hr", "--bump", "minor", "-d", "Tone",
                "--author", "Dana <d@example.com>", "--content-file", str(repo / "new.txt"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"created {_path('1.1.0')} (untested)\n"
    warnings = r.stderr.splitlines()
    assert len(warnings) == 2, r.stderr
    assert all(w.startswith(f"promptreg: warning: {_path('1.1.0')}:") for w in warnings)
    assert "mustache-placeholder {{ mood }} is not a placeholder" in r.stderr
    assert "breaking-variables hr 1.1.0 adds placeholder(s) tone" in r.stderr
    quiet = run_cli("-C", str(repo), "new", "hr", "--bump", "patch", "-d", "Same",
                    "--author", "Dana <d@example.com>", "--from", "1.0.0")  # fmt: skip
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
