"""``cases_file`` (JSON Lines or CSV) and ``default_assert``: cases from data, checked line by
line by ``check`` and ``eval``, read only from regular files inside the registry, and part of
what a suite is for ``suite-weakened``. Real repositories and the real CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from registry.evals.datafile import MAX_DATA_BYTES
from tests.testing import LENIENT_SETTINGS, commit_all, git, run_cli, version_yaml, write

PID = "hr"
SUITE = f"evals/{PID}.yaml"
DATA = f"evals/data/{PID}.jsonl"
CSV = f"evals/data/{PID}.csv"
HEAD = "prompt_id: hr\nthreshold: 0.5\ndefault_assert: [{type: contains, value: 'Question:'}]\n"
INLINE = "cases:\n  - name: inline\n    vars: {context: c, query: q}\n"
ROWS = [
    {"name": "cites", "vars": {"context": "section 4.2", "query": "Days?"},
     "assert": [{"type": "contains", "value": "section 4.2"}]},
    {"vars": {"context": "section 5.1", "query": "Sick?"}},
]  # fmt: skip


def _registry(repo: Path, suite: str, files: dict[str, str]) -> None:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, f"prompts/{PID}/1.0.0.yaml", version_yaml(PID, "1.0.0"))
    write(repo, SUITE, suite)
    for rel, text in files.items():
        write(repo, rel, text)


def _jsonl(rows: list[object]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def _eval(repo: Path, *args: str) -> tuple[int, dict[str, object], str]:
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0", "--no-record", "--json", *args)
    assert "Traceback" not in proc.stderr
    return proc.returncode, (json.loads(proc.stdout) if proc.stdout else {}), proc.stderr


def _check(repo: Path, *args: str) -> tuple[int, list[dict[str, object]]]:
    proc = run_cli("-C", str(repo), "check", "--format", "json", *args)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else []


def test_jsonl_cases_follow_the_inline_ones_with_the_default_assertions(repo: Path) -> None:
    _registry(repo, HEAD + f"cases_file: {DATA}\n" + INLINE, {DATA: _jsonl(ROWS)})
    code, res, _ = _eval(repo)
    assert code == 0
    cases = res["cases"]
    assert isinstance(cases, list)
    assert [c["name"] for c in cases] == ["inline", "cites", "hr.jsonl:2"]
    assert [[a["type"] for a in c["assertions"]] for c in cases] == [
        ["contains"],
        ["contains", "contains"],
        ["contains"],
    ]
    assert res["score"] == 1.0
    assert _check(repo, "--all") == (0, [])


def test_csv_cases_have_a_column_per_variable_and_an_optional_name(repo: Path) -> None:
    text = 'name,context,query\nfirst,"section 4.2, days",Days?\n,"two\nlines",Sick?\n'
    _registry(repo, HEAD + f"cases_file: {CSV}\n", {CSV: text})
    code, res, _ = _eval(repo)
    assert code == 0 and res["score"] == 1.0
    assert [c["name"] for c in res["cases"]] == ["first", "hr.csv:3"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        ('{"vars": {"context": "c", "query": "q"}}\n[1]\n', 2, "is not a JSON object"),
        ('\n\n{"vars": {"context": "c", "query": "q"},\n', 3, "the line is not JSON"),
        ('{"vars": {"context": "c", "context": "d"}}\n', 1, "duplicate key 'context'"),
        ('{"vars": {"context": NaN}}\n', 1, "NaN is not a JSON number"),
        ('{"vars": {"context": {"nested": 1}}}\n', 1, "vars.context"),
        ('{"vars": {}, "assert": [{"type": "regex", "value": "("}]}\n', 1, "does not compile"),
        ('{"vars": {}, "expected": "x"}\n', 1, 'unknown field "expected"'),
        ('{"name": "inline", "vars": {}}\n', 1, "duplicate case name 'inline'"),
    ],
)
def test_a_bad_row_is_refused_with_its_line(repo: Path, data: str, line: int, message: str) -> None:
    _registry(repo, HEAD + f"cases_file: {DATA}\n" + INLINE, {DATA: data})
    code, problems = _check(repo, "--all")
    assert code == 1
    assert [(p["code"], p["path"], p["line"]) for p in problems] == [("cases-file", DATA, line)]
    assert message in str(problems[0]["message"])
    code, _, err = _eval(repo)
    assert code == 1 and f"{DATA}:{line}: " in err and message in err


def test_a_row_calling_code_outside_the_registry_is_untrusted_hook(repo: Path) -> None:
    row = {"vars": {}, "assert": [{"type": "python", "value": "os:system"}]}
    _registry(repo, HEAD + f"cases_file: {DATA}\n" + INLINE, {DATA: _jsonl([ROWS[0], row])})
    code, problems = _check(repo, "--all")
    assert code == 1
    assert [(p["code"], p["path"], p["line"]) for p in problems] == [("untrusted-hook", DATA, 2)]
    code, _, err = _eval(repo)
    assert code == 1 and "os:system" in err


def test_a_row_without_assertions_needs_default_assert(repo: Path) -> None:
    suite = f"prompt_id: hr\nthreshold: 0.5\ncases_file: {DATA}\n"
    _registry(repo, suite, {DATA: _jsonl(ROWS)})
    code, problems = _check(repo, "--all")
    assert code == 1 and [(p["path"], p["line"]) for p in problems] == [(DATA, 2)]
    assert "no assertions" in str(problems[0]["message"])


def test_a_csv_header_with_a_repeated_column_is_refused(repo: Path) -> None:
    _registry(repo, HEAD + f"cases_file: {CSV}\n", {CSV: "query,query\na,b\n"})
    code, problems = _check(repo, "--all")
    assert code == 1 and "repeats the column query" in str(problems[0]["message"])


def test_a_missing_cases_file_is_named_at_the_suite_line(repo: Path) -> None:
    _registry(repo, HEAD + f"cases_file: {DATA}\n" + INLINE, {})
    code, problems = _check(repo, "--all")
    assert code == 1
    assert [(p["code"], p["path"], p["line"]) for p in problems] == [("cases-file", SUITE, 4)]
    code, _, err = _eval(repo)
    assert code == 1 and "does not exist" in err


def test_a_symlinked_cases_file_is_refused(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.jsonl"
    outside.write_text(_jsonl(ROWS), encoding="utf-8")
    _registry(repo, HEAD + f"cases_file: {DATA}\n" + INLINE, {})
    (repo / DATA).parent.mkdir(parents=True)
    os.symlink(outside, repo / DATA)
    code, _, err = _eval(repo)
    assert code == 1 and "symbolic link" in err
    os.unlink(repo / DATA)
    os.symlink(tmp_path, repo / "evals" / "linked")
    write(repo, SUITE, HEAD + "cases_file: evals/linked/outside.jsonl\n" + INLINE)
    code, _, err = _eval(repo)
    assert code == 1 and "symbolic link" in err


def test_a_fifo_or_an_oversized_cases_file_is_refused(repo: Path) -> None:
    _registry(repo, HEAD + f"cases_file: {DATA}\n" + INLINE, {})
    (repo / DATA).parent.mkdir(parents=True)
    os.mkfifo(repo / DATA)
    code, _, err = _eval(repo)
    assert code == 1 and "not a regular file" in err
    os.unlink(repo / DATA)
    write(repo, DATA, " " * (MAX_DATA_BYTES + 1))
    code, _, err = _eval(repo)
    assert code == 1 and "over the limit" in err
    assert _check(repo, "--all")[0] == 1


def test_check_staged_reads_the_staged_cases_file(repo: Path) -> None:
    _registry(repo, HEAD + f"cases_file: {DATA}\n" + INLINE, {DATA: _jsonl(ROWS)})
    commit_all(repo, "suite and cases")
    write(repo, DATA, "not json\n")
    assert _check(repo, "--staged")[0] == 0  # the broken file is not staged
    git(repo, "add", DATA)
    code, problems = _check(repo, "--staged")
    assert code == 1 and [(p["path"], p["line"]) for p in problems] == [(DATA, 1)]


# -- suite-weakened: the data file is part of the suite ---------------------------------------


def _recorded_change(repo: Path, data: str | None, suite: str | None = None) -> str:
    """Commit a suite with a cases file on main, then on a branch change the data (None:
    delete it) and record a real evaluation; returns the base commit."""
    _registry(repo, HEAD + f"cases_file: {DATA}\n" + INLINE, {DATA: _jsonl(ROWS)})
    base = commit_all(repo, "suite and cases")
    git(repo, "checkout", "-q", "-b", "change")
    if data is None:
        (repo / DATA).unlink()
    else:
        write(repo, DATA, data)
    if suite is not None:
        write(repo, SUITE, suite)
    commit_all(repo, "change the cases")
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0", "--by", "Dana <d@example.com>")
    assert proc.returncode == 0, proc.stderr
    commit_all(repo, "record")
    return base


@pytest.mark.parametrize(
    ("data", "suite", "expected"),
    [
        (_jsonl(ROWS[1:]), None, "case \"cites\" removed"),
        (_jsonl([{"name": "cites", "vars": ROWS[0]["vars"]}, ROWS[1]]), None,
         'case "cites": assertion contains'),
        (_jsonl([{**ROWS[0], "vars": {"context": "x", "query": "Days?"}}, ROWS[1]]), None,
         'case "cites": input context changed'),
        (None, HEAD + INLINE, "cases_file changed from"),
    ],
    ids=["row-removed", "assertion-removed", "input-changed", "cases-file-removed"],
)  # fmt: skip
def test_a_weakened_cases_file_with_a_new_record_is_suite_weakened(
    repo: Path, data: str | None, suite: str | None, expected: str
) -> None:
    base = _recorded_change(repo, data, suite)
    code, problems = _check(repo, "--base", base)
    assert code == 1 and [p["code"] for p in problems] == ["suite-weakened"]
    assert expected in str(problems[0]["message"])


def test_added_rows_do_not_weaken_the_suite(repo: Path) -> None:
    extra = {"name": "more", "vars": {"context": "c", "query": "q"}}
    base = _recorded_change(repo, _jsonl([*ROWS, extra]))
    assert _check(repo, "--base", base) == (0, [])


def test_eval_commit_needs_the_cases_file_committed(repo: Path) -> None:
    _registry(repo, HEAD + f"cases_file: {DATA}\n" + INLINE, {DATA: _jsonl(ROWS)})
    commit_all(repo, "suite and cases")
    write(repo, DATA, _jsonl(ROWS[:1]))
    args = ("-C", str(repo), "eval", PID, "1.0.0", "--by", "Dana <d@example.com>", "--commit")
    proc = run_cli(*args)
    assert proc.returncode == 1 and DATA in proc.stderr and "uncommitted" in proc.stderr
    commit_all(repo, "fewer cases")
    assert run_cli(*args).returncode == 0
