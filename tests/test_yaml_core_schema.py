"""Registry files read by the YAML 1.2 core schema, through the real CLI and the library:
``tested: yes`` is refused with a fix, ``reason: No`` is text, impossible dates are refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from registry import PromptRegistry
from registry.errors import RegistryError
from tests.testing import (
    LENIENT_SETTINGS,
    commit_all,
    init_repo,
    pointer_yaml,
    run_cli,
    version_yaml,
    write,
)

V = "prompts/hr/1.0.0.yaml"
P = "deployments/staging/hr.yaml"
GOOD = version_yaml("hr", "1.0.0")


def _sub(text: str, old: str, new: str) -> str:
    assert old in text, f"{old!r} not in the fixture"
    return text.replace(old, new, 1)


def _registry(tmp_path: Path, files: dict[str, str], settings: str = LENIENT_SETTINGS) -> Path:
    repo = init_repo(tmp_path / "repo")
    write(repo, "promptreg.yaml", settings)
    for rel, text in files.items():
        write(repo, rel, text)
    return repo


def _problems(repo: Path) -> list[dict[str, Any]]:
    """``check --all --json`` must fail; its problems. The text form names file and line too."""
    r = run_cli("-C", str(repo), "check", "--all", "--json")
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    problems: list[dict[str, Any]] = json.loads(r.stdout)
    text = run_cli("-C", str(repo), "check", "--all")
    assert text.returncode == 1
    for p in problems:
        where = p["path"] if p["line"] is None else f"{p['path']}:{p['line']}"
        assert f"{where}: {p['code']} {p['message']}" in text.stderr, text.stderr
    return problems


@pytest.mark.parametrize(
    ("written", "fix"),
    [("yes", "write true"), ("on", "write true"), ("No", "write false"), ("OFF", "write false")],
)
def test_tested_yes_is_refused_and_the_message_says_what_to_write(
    tmp_path: Path, written: str, fix: str
) -> None:
    repo = _registry(tmp_path, {V: _sub(GOOD, "tested: false", f"tested: {written}")})
    (p,) = _problems(repo)
    assert (p["code"], p["path"], p["line"]) == ("schema", V, 9), p
    assert fix in p["message"] and f'"{written}"' in p["message"], p
    assert "only true and false are booleans" in p["message"], p


def test_require_tested_off_in_settings_says_write_false(tmp_path: Path) -> None:
    settings = "environments:\n  staging:\n    require_tested: off\n"
    (p,) = _problems(_registry(tmp_path, {V: GOOD}, settings))
    assert (p["path"], p["line"]) == ("promptreg.yaml", 3), p
    assert "write false" in p["message"], p


def test_the_1_2_booleans_and_their_capitalised_spellings_pass(tmp_path: Path) -> None:
    for i, spelling in enumerate(("false", "False", "FALSE")):
        repo = _registry(tmp_path / str(i), {V: _sub(GOOD, "tested: false", f"tested: {spelling}")})
        r = run_cli("-C", str(repo), "check", "--all")
        assert r.returncode == 0, (spelling, r.stderr)


def test_reason_no_is_the_text_no(tmp_path: Path) -> None:
    """`reason: No` (the answer to "why?") was read as the boolean false and refused."""
    repo = _registry(
        tmp_path,
        {
            V: _sub(GOOD, "description: Revision 1.0.0", "description: yes"),
            P: pointer_yaml("hr", "staging", "1.0.0", reason="No"),
        },
    )
    r = run_cli("-C", str(repo), "check", "--all")
    assert r.returncode == 0, r.stderr
    commit_all(repo, "deploy hr")
    shown = json.loads(run_cli("-C", str(repo), "history", "hr", "--json").stdout)
    assert [e["reason"] for e in shown] == ["No"]
    version = json.loads(run_cli("-C", str(repo), "show", "hr", "1.0.0", "--json").stdout)
    assert version["description"] == "yes"


def test_a_number_with_separators_or_base_60_is_text(tmp_path: Path) -> None:
    model = "model:\n  max_tokens: 1_000\n  window: 1:30\n  seed: 0x1F\n"
    repo = _registry(tmp_path, {V: GOOD + model})
    assert run_cli("-C", str(repo), "check", "--all").returncode == 0
    commit_all(repo, "version")
    shown = json.loads(run_cli("-C", str(repo), "show", "hr", "1.0.0", "--json").stdout)
    assert shown["model"] == {"max_tokens": "1_000", "window": "1:30", "seed": 31}


EVALUATED_AT = '  evaluated_at: "2026-11-20T11:00:00Z"\n'


def _with_evaluation(evaluated_at: str) -> str:
    return GOOD + (
        "evaluation:\n"
        "  suite: evals/hr.yaml\n"
        "  threshold: 0.5\n"
        f"  fingerprint: sha256:{'0' * 64}\n"
        f"  evaluated_at: {evaluated_at}\n"
        "  evaluated_by: Dana Reyes <dana@example.com>\n"
    )


@pytest.mark.parametrize(
    ("files", "path", "line", "fragment"),
    [
        pytest.param(
            {V: _sub(GOOD, "2026-11-20T10:00:00Z", "2026-02-30T10:00:00Z")},
            V,
            5,
            "February 2026 has 28 days, not 30",
            id="february-30",
        ),
        pytest.param(
            {V: _sub(GOOD, '"2026-11-20T10:00:00Z"', "2026-02-30T10:00:00Z")},
            V,
            5,
            "February 2026 has 28 days",
            id="february-30-unquoted",
        ),
        pytest.param(
            {V: _sub(GOOD, "2026-11-20T10:00:00Z", "2027-02-29T10:00:00Z")},
            V,
            5,
            "February 2027 has 28 days, not 29",
            id="february-29-of-a-common-year",
        ),
        pytest.param(
            {V: _sub(GOOD, "2026-11-20T10:00:00Z", "2026-04-31T10:00:00+02:00")},
            V,
            5,
            "April 2026 has 30 days, not 31",
            id="april-31",
        ),
        pytest.param(
            {V: _sub(GOOD, "2026-11-20T10:00:00Z", "2026-13-01T10:00:00Z")},
            V,
            5,
            "there is no month 13",
            id="month-13",
        ),
        pytest.param(
            {V: GOOD, P: _sub(pointer_yaml("hr", "staging", "1.0.0"), "09:30", "24:30")},
            P,
            7,
            "there is no time 24:30",
            id="hour-24",
        ),
        pytest.param(
            {V: GOOD, P: _sub(pointer_yaml("hr", "staging", "1.0.0"), "2026-11-21", "2026-06-31")},
            P,
            7,
            "June 2026 has 30 days, not 31",
            id="pointer-june-31",
        ),
        pytest.param(
            {V: _with_evaluation('"2026-02-30T11:00:00Z"')},
            V,
            14,
            "February 2026 has 28 days",
            id="evaluated-at",
        ),
    ],
)
def test_an_impossible_date_is_refused_with_file_and_line(
    tmp_path: Path, files: dict[str, str], path: str, line: int, fragment: str
) -> None:
    problems = _problems(_registry(tmp_path, files))
    hits = [p for p in problems if p["path"] == path and p["code"] == "schema"]
    assert any(p["line"] == line and fragment in p["message"] for p in hits), problems


def test_a_leap_day_exists(tmp_path: Path) -> None:
    repo = _registry(tmp_path, {V: _sub(GOOD, "2026-11-20T10:00:00Z", "2028-02-29T23:59:59Z")})
    r = run_cli("-C", str(repo), "check", "--all")
    assert r.returncode == 0, r.stderr


def test_the_library_refuses_an_impossible_date_too(tmp_path: Path) -> None:
    """The runtime skips the JSON Schema pass; the date check is not part of that pass."""
    repo = _registry(
        tmp_path,
        {
            V: _sub(GOOD, "2026-11-20T10:00:00Z", "2026-02-30T10:00:00Z"),
            P: pointer_yaml("hr", "staging", "1.0.0"),
        },
    )
    commit_all(repo, "a version with an impossible date")
    reg = PromptRegistry(repo)
    try:
        with pytest.raises(RegistryError, match=r"prompts/hr/1\.0\.0\.yaml:5: .*February 2026"):
            reg.get_active("hr", "staging")
    finally:
        reg.close()
