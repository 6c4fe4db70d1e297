"""``promptreg eval`` fast and visible: ``--jobs`` runs cases concurrently (results stay in
suite order), a progress bar on a real terminal only (none under ``CI``), ``--junit-xml``
writes a valid JUnit report, and ``--baseline ENV`` scores what runs there beside the
candidate. Real repositories, the real CLI, a real pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.testing import (
    LENIENT_SETTINGS,
    ROOT,
    commit_all,
    pointer_yaml,
    run_cli,
    version_yaml,
    write,
)

PID = "hr"
SUITE = f"evals/{PID}.yaml"
# Four cases meet at a barrier: they pass only when they run at the same time.
BARRIER = """\
import threading

_meet = threading.Barrier(4, timeout=2)

def answer(rendered, case):
    try:
        _meet.wait()
    except threading.BrokenBarrierError:
        return "alone"
    return "together"
"""
CASES = "".join(f"  - name: case {i}\n    vars: {{context: c, query: q{i}}}\n" for i in range(1, 5))


def _registry(repo: Path, suite: str, files: dict[str, str] | None = None) -> None:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, f"prompts/{PID}/1.0.0.yaml", version_yaml(PID, "1.0.0"))
    write(repo, SUITE, suite)
    for rel, text in (files or {}).items():
        write(repo, rel, text)


def _barrier_suite(repo: Path) -> None:
    suite = (
        "prompt_id: hr\nthreshold: 1.0\ntarget: meet:answer\n"
        "default_assert: [{type: equals, value: together}]\ncases:\n" + CASES
    )
    _registry(repo, suite, {"meet.py": BARRIER})


def test_jobs_run_cases_at_the_same_time(repo: Path) -> None:
    _barrier_suite(repo)
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0", "--no-record", "--jobs", "4")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0", "--no-record", "--jobs", "1")
    assert proc.returncode == 1 and "alone" in proc.stdout


def test_the_default_jobs_run_cases_concurrently(repo: Path) -> None:
    _barrier_suite(repo)
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0", "--no-record")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("jobs", ["0", "-1", "x"])
def test_jobs_below_one_is_a_usage_error(repo: Path, jobs: str) -> None:
    _barrier_suite(repo)
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0", "--no-record", "--jobs", jobs)
    assert proc.returncode == 2 and "--jobs" in proc.stderr


SLOWEST_FIRST = """\
import time

def answer(rendered, case):
    time.sleep({"q1": 0.6, "q2": 0.3, "q3": 0.0, "q4": 0.1}[case["vars"]["query"]])
    return case["vars"]["query"]
"""


def test_results_keep_the_suite_order_whatever_finishes_first(repo: Path) -> None:
    suite = (
        "prompt_id: hr\nthreshold: 0.1\ntarget: slow:answer\n"
        "default_assert: [{type: equals, value: q3}]\ncases:\n" + CASES
    )
    _registry(repo, suite, {"slow.py": SLOWEST_FIRST})
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0", "--no-record", "--json")
    res = json.loads(proc.stdout)
    assert [c["name"] for c in res["cases"]] == ["case 1", "case 2", "case 3", "case 4"]
    assert [c["passed"] for c in res["cases"]] == [False, False, True, False]
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0", "--no-record")
    rows = [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("case ")]
    assert rows == ["1", "2", "3", "4"]


# -- the progress bar ------------------------------------------------------------------------


def _on_a_terminal(repo: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run eval in a real interpreter with stderr on a pseudo-terminal; (exit code, what the
    terminal showed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "registry", "-C", str(repo), "eval", PID, "1.0.0", "--no-record"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env, cwd=ROOT,
    )  # fmt: skip
    os.close(slave)
    shown = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert proc.stdout is not None
    proc.stdout.read()
    proc.stdout.close()
    return proc.wait(timeout=60), shown.decode("utf-8", "replace")


def test_a_progress_bar_on_a_terminal_and_none_under_ci(repo: Path) -> None:
    _barrier_suite(repo)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    code, shown = _on_a_terminal(repo, env)
    assert code == 0, shown
    assert "[" + "#" * 30 + "] 4/4 cases" in shown and "] 0/4" not in shown
    code, shown = _on_a_terminal(repo, {**env, "CI": "true"})
    assert code == 0 and "cases" not in shown and "#" not in shown


def test_no_progress_bar_when_stderr_is_not_a_terminal(repo: Path) -> None:
    _barrier_suite(repo)
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0", "--no-record", real=True)
    assert proc.returncode == 0 and "cases" not in proc.stderr


# -- JUnit XML -------------------------------------------------------------------------------

# The attributes the common JUnit XML schema (Jenkins' junit-10.xsd / the Ant report) requires
# and allows on each element this report uses, and the children each may have.
REQUIRED = {
    "testsuite": {"name", "tests"},
    "testcase": {"name", "classname"},
    "failure": {"type"},
    "error": {"type"},
    "property": {"name", "value"},
}
ALLOWED = {
    "testsuite": {"name", "tests", "failures", "errors", "skipped", "time", "timestamp",
                  "hostname", "id", "package", "disabled"},
    "testcase": {"name", "classname", "time", "assertions", "status"},
    "failure": {"message", "type"},
    "error": {"message", "type"},
    "properties": set(),
    "property": {"name", "value"},
}  # fmt: skip
CHILDREN = {
    "testsuite": {"properties", "testcase", "system-out", "system-err"},
    "testcase": {"failure", "error", "skipped", "system-out", "system-err"},
    "properties": {"property"},
    "failure": set(),
    "error": set(),
    "property": set(),
}


def _conforms(el: ET.Element) -> None:
    assert REQUIRED.get(el.tag, set()) <= set(el.attrib), (el.tag, el.attrib)
    assert set(el.attrib) <= ALLOWED[el.tag], (el.tag, el.attrib)
    for child in el:
        assert child.tag in CHILDREN[el.tag], (el.tag, child.tag)
        _conforms(child)


FAILING = """\
prompt_id: hr
threshold: 0.9
target: odd:answer
cases:
  - name: passes
    vars: {context: c, query: fine}
    assert: [{type: contains, value: fine}]
  - name: fails twice
    vars: {context: c, query: bell}
    assert: [{type: contains, value: missing}, {type: starts_with, value: "x"}]
  - name: target raises
    vars: {context: c, query: boom}
    assert: [{type: contains, value: boom}]
"""
ODD = """\
def answer(rendered, case):
    query = case["vars"]["query"]
    if query == "boom":
        raise RuntimeError("no model \\x01 here")
    return query
"""


def test_junit_xml_has_a_testcase_per_case_and_a_failure_per_failed_case(
    repo: Path, tmp_path: Path
) -> None:
    _registry(repo, FAILING, {"odd.py": ODD})
    out = tmp_path / "reports" / "eval.xml"
    out.parent.mkdir()
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0", "--junit-xml", str(out))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr  # the suite fails
    root = ET.parse(out).getroot()
    _conforms(root)
    assert root.tag == "testsuite" and root.get("name") == "hr 1.0.0"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "1")
    cases = root.findall("testcase")
    assert [c.get("name") for c in cases] == ["passes", "fails twice", "target raises"]
    assert all(c.get("classname") == "hr.1.0.0" and float(c.get("time", "x")) >= 0 for c in cases)
    assert list(cases[0]) == []
    [failure] = list(cases[1])
    assert failure.tag == "failure" and failure.get("message") == "2 assertions failed"
    assert "does not contain 'missing'" in (failure.text or "")
    [error] = list(cases[2])
    assert error.tag == "error" and "RuntimeError: no model \ufffd here" in (
        error.get("message") or ""
    )
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["passed"] == "false" and props["threshold"] == "0.9"
    assert [p.name for p in out.parent.iterdir()] == ["eval.xml"]  # no temporary file left


def test_junit_xml_in_a_missing_folder_is_a_usage_error_before_the_run(
    repo: Path, tmp_path: Path
) -> None:
    _registry(repo, FAILING, {"odd.py": ODD})
    out = tmp_path / "missing" / "eval.xml"
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0", "--junit-xml", str(out))
    assert proc.returncode == 2 and "--junit-xml" in proc.stderr and not out.parent.exists()


# -- --baseline ENV --------------------------------------------------------------------------

BASELINE_SUITE = """\
prompt_id: hr
threshold: 0.5
cases:
  - name: asks politely
    vars: {context: c, query: q}
    assert: [{type: icontains, value: "please"}]
  - name: keeps the question
    vars: {context: c, query: q}
    assert: [{type: contains, value: "Question:"}]
"""


def _with_production(repo: Path) -> None:
    _registry(repo, BASELINE_SUITE)
    polite = "Please answer. Context: {context}\nQuestion: {query}\n"
    write(repo, f"prompts/{PID}/1.0.0.yaml", version_yaml(PID, "1.0.0", content=polite))
    write(repo, f"prompts/{PID}/1.1.0.yaml", version_yaml(PID, "1.1.0"))
    write(repo, f"deployments/production/{PID}.yaml", pointer_yaml(PID, "production", "1.0.0"))
    commit_all(repo, "production runs 1.0.0")


def test_baseline_shows_both_scores_per_case(repo: Path) -> None:
    _with_production(repo)
    before = (repo / f"prompts/{PID}/1.0.0.yaml").read_bytes()
    proc = run_cli("-C", str(repo), "eval", PID, "1.1.0", "--baseline", "production")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["CASE", "SCORE", "production", "RESULT", "NOTE"]
    assert lines[1].split()[:5] == ["asks", "politely", "0.00", "1.00", "FAIL"]
    assert "(lower)" in lines[1] and "(lower)" not in lines[2]
    assert "baseline production (hr 1.0.0): score 1.000; 1 of 2 cases score lower" in proc.stdout
    assert (repo / f"prompts/{PID}/1.0.0.yaml").read_bytes() == before  # nothing recorded
    assert "tested: true" in (repo / f"prompts/{PID}/1.1.0.yaml").read_text(encoding="utf-8")


def test_baseline_in_json(repo: Path) -> None:
    _with_production(repo)
    proc = run_cli(
        "-C", str(repo), "eval", PID, "1.1.0", "--no-record", "--baseline", "production", "--json"
    )
    res = json.loads(proc.stdout)
    assert (res["version"], res["score"]) == ("1.1.0", 0.5)
    base = res["baseline"]
    assert (base["environment"], base["version"], base["score"]) == ("production", "1.0.0", 1.0)
    assert [c["score"] for c in base["cases"]] == [1.0, 1.0]


def test_a_baseline_environment_with_nothing_active_is_refused(repo: Path) -> None:
    _with_production(repo)
    proc = run_cli("-C", str(repo), "eval", PID, "1.1.0", "--baseline", "staging")
    assert proc.returncode == 1 and "nothing is active for hr in staging" in proc.stderr
    assert "tested: true" not in (repo / f"prompts/{PID}/1.1.0.yaml").read_text(encoding="utf-8")
