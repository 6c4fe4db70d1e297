"""``promptreg check`` through the real CLI: every bad input is refused with exit 1, a stable code,
the file and (where one applies) the line, no traceback, and nothing written."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from registry.fingerprint import fingerprint
from tests.testing import (
    LENIENT_SETTINGS,
    ROOT,
    init_repo,
    pointer_yaml,
    run_cli,
    version_yaml,
    write,
)

V = "prompts/hr/1.0.0.yaml"
GOOD = version_yaml("hr", "1.0.0")
GOOD_CONTENT = "You are helpful. Context: {context}\nQuestion: {query}\n"
SECRET = "SECRET_MARKER_7f3a9c"
ZERO_SHA = "sha256:" + "0" * 64


def _sub(text: str, old: str, new: str) -> str:
    assert old in text, f"{old!r} not in the fixture"
    return text.replace(old, new, 1)


def _evaluated(fp: str, score: str = "0.9") -> str:
    """GOOD marked tested with an evaluation block carrying ``fp``."""
    return _sub(GOOD, "tested: false", "tested: true") + (
        f"evaluation_score: {score}\n"
        "evaluation:\n"
        "  suite: evals/hr.yaml\n"
        "  threshold: 0.5\n"
        f"  fingerprint: {fp}\n"
        '  evaluated_at: "2026-11-20T11:00:00Z"\n'
        "  evaluated_by: Dana Reyes <dana@example.com>\n"
    )


RIGHT_FP = fingerprint("hr", GOOD_CONTENT, None, None)


def _repo(
    tmp_path: Path, files: Mapping[str, str | bytes], settings: str | None = LENIENT_SETTINGS
) -> Path:
    repo = init_repo(tmp_path / "repo")
    if settings is not None:
        write(repo, "promptreg.yaml", settings)
    for rel, text in files.items():
        write(repo, rel, text)
    return repo


def _snapshot(root: Path) -> dict[str, Any]:
    """Every path under ``root`` (minus .git) with its kind and content; never opens a FIFO."""
    out: dict[str, Any] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if not (dirpath == str(root) and d == ".git")]
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                out[rel] = ("file", p.read_bytes(), st.st_mtime_ns)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir",)
            else:
                out[rel] = ("other", stat.S_IFMT(st.st_mode))
    return out


def _cli(*args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """In-process like run_cli; with a ``timeout``, in a real subprocess, for inputs that could
    hang or crash the interpreter (a crash must not take the test run with it)."""
    if timeout is None:
        return run_cli(*args)
    return subprocess.run(
        [sys.executable, "-m", "registry", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _check_json(repo: Path, *args: str, timeout: float | None = None) -> list[dict[str, Any]]:
    r = _cli("-C", str(repo), "check", *args, "--json", timeout=timeout)
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    problems = json.loads(r.stdout)
    assert isinstance(problems, list) and problems
    for p in problems:
        assert set(p) == {"code", "path", "line", "message", "severity"}, p
        assert p["severity"] in ("error", "warning"), p
        assert isinstance(p["code"], str) and p["code"]
        assert isinstance(p["message"], str) and p["message"]
        assert p["line"] is None or (isinstance(p["line"], int) and p["line"] >= 1)
        assert p["severity"] in ("error", "warning")
    return problems


def _check_text(
    repo: Path, *args: str, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    r = _cli("-C", str(repo), "check", *args, timeout=timeout)
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    return r


def _refused(
    repo: Path,
    path: str,
    code: str,
    line: int | None = None,
    fragment: str | None = None,
    timeout: float | None = None,
) -> list[dict[str, Any]]:
    """Run check --all (text and --json) and assert the problem is reported and nothing was
    written. ``line=None`` means no particular line is asserted."""
    before = _snapshot(repo)
    problems = _check_json(repo, "--all", timeout=timeout)
    hits = [p for p in problems if p["path"] == path and p["code"] == code]
    assert hits, f"no {code} problem for {path}: {problems}"
    if line is not None:
        assert any(p["line"] == line for p in hits), f"expected line {line}: {hits}"
    if fragment is not None:
        assert any(fragment in p["message"] for p in hits), f"{fragment!r} not in {hits}"
    r = _check_text(repo, "--all", timeout=timeout)
    where = path if line is None else f"{path}:{line}"
    assert where in r.stderr, r.stderr
    assert _snapshot(repo) == before, "check wrote to the working tree"
    return problems


# -- one bad file at a time -----------------------------------------------------------------------

# tests/example-files/check/<case>/ holds the files of one case at their registry paths and
# expect.json: the file that is refused, the line (null: any), the problem code and a fragment
# of its message (null: any). Each case is a repository of its own with lenient settings.
CHECK_CASES = Path(__file__).resolve().parent / "example-files" / "check"
EXPECT_FILE = "expect.json"


def _check_cases() -> list[Path]:
    return sorted(p for p in CHECK_CASES.iterdir() if p.is_dir())


def _case_files(case: Path) -> dict[str, str | bytes]:
    return {
        f.relative_to(case).as_posix(): f.read_bytes()
        for f in sorted(case.rglob("*"))
        if f.is_file() and f.relative_to(case).as_posix() != EXPECT_FILE
    }


def test_the_bad_file_corpus_is_whole() -> None:
    cases = _check_cases()
    assert len(cases) >= 62, [c.name for c in cases]
    for case in cases:
        expect = json.loads((case / EXPECT_FILE).read_text(encoding="utf-8"))
        assert set(expect) == {"path", "line", "code", "fragment"}, case
        assert expect["path"] in _case_files(case), case


@pytest.mark.parametrize("case", _check_cases(), ids=lambda p: p.name)
def test_bad_file_is_refused(tmp_path: Path, case: Path) -> None:
    expect = json.loads((case / EXPECT_FILE).read_text(encoding="utf-8"))
    path = expect["path"]
    repo = _repo(tmp_path, _case_files(case))
    problems = _refused(repo, path, expect["code"], expect["line"], expect["fragment"])
    # The one broken file is the only thing reported.
    assert {p["path"] for p in problems} == {path}, problems


def test_version_unquoted_float_message_says_to_quote(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {V: _sub(GOOD, 'version: "1.0.0"', "version: 1.10")})
    (p,) = _check_json(repo, "--all")
    assert "1.10" in p["message"] and "quote" in p["message"].lower(), p


def test_python_tag_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = _sub(
        GOOD, "tested: false", f'tested: !!python/object/apply:os.system ["touch {marker}"]'
    )
    repo = _repo(tmp_path, {V: text})
    _refused(repo, V, "yaml-tag", 9, "!!python/object/apply:os.system")
    assert not marker.exists(), "the YAML tag executed a command"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('x: !!python/object/apply:os.system ["touch {m}"]\n', id="apply"),
        pytest.param('x: !!python/object/new:os.system ["touch {m}"]\n', id="new"),
        pytest.param('!!python/object/apply:os.system ["touch {m}"]\n', id="top-level"),
        pytest.param(
            'x: !<tag:yaml.org,2002:python/object/apply:os.system> ["touch {m}"]\n',
            id="verbatim-tag",
        ),
    ],
)
def test_python_tags_never_run_anywhere(tmp_path: Path, text: str) -> None:
    marker = tmp_path / "pwned"
    body = text.format(m=marker)
    repo = _repo(
        tmp_path,
        {V: body, "deployments/production/hr.yaml": body, "evals/hr.yaml": body},
        settings=body,
    )
    problems = _check_json(repo, "--all")
    paths = {p["path"] for p in problems}
    assert {V, "deployments/production/hr.yaml", "evals/hr.yaml", "promptreg.yaml"} <= paths
    assert {p["code"] for p in problems} == {"yaml-tag"}, problems
    assert not marker.exists(), "the YAML tag executed a command"


def test_correct_fingerprint_passes(tmp_path: Path) -> None:
    """The positive control of the fingerprint cases: the same file with the right sha256."""
    repo = _repo(tmp_path, {V: _evaluated(RIGHT_FP)})
    r = run_cli("-C", str(repo), "check", "--all", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout) == []


def test_editing_content_after_evaluation_voids_tested(tmp_path: Path) -> None:
    text = _sub(_evaluated(RIGHT_FP), "Question: {query}", "Question (edited): {query}")
    repo = _repo(tmp_path, {V: text})
    _refused(repo, V, "fingerprint", 9)


# -- hostile sizes and shapes ---------------------------------------------------------------------

ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
)


def test_alias_bomb_is_refused_fast(tmp_path: Path) -> None:
    assert len(ALIAS_BOMB.encode()) <= 300
    repo = _repo(tmp_path, {V: ALIAS_BOMB})
    start = time.monotonic()
    r = _cli("-C", str(repo), "check", "--all", "--json", timeout=30)
    elapsed = time.monotonic() - start
    assert elapsed < 5, f"alias bomb took {elapsed:.1f}s"
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    problems = json.loads(r.stdout)
    assert [(p["path"], p["code"], p["line"]) for p in problems] == [(V, "yaml-alias", 1)]


def test_alias_without_anchor_in_file_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {V: _sub(GOOD, "tested: false", "tested: *undefined")})
    problems = _check_json(repo, "--all")
    assert any(
        p["path"] == V and p["line"] == 9 and p["code"] in {"yaml-alias", "yaml-syntax"}
        for p in problems
    ), problems


def test_merge_key_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {V: GOOD + "model:\n  <<: {name: x}\n"})
    _refused(repo, V, "yaml-merge-key", 11)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 100_000 + "]" * 100_000 + "\n", id="top-level"),
        pytest.param("model: " + "[" * 100_000 + "]" * 100_000 + "\n", id="under-a-key"),
        pytest.param("model: " + "{a:" * 50_000 + "}" * 50_000 + "\n", id="mappings"),
        pytest.param("model: " + "[" * 100_000 + "\n", id="unclosed"),
        pytest.param("model:\n" + "".join("  " * i + "- \n" for i in range(400)), id="block"),
    ],
)
def test_deep_nesting_is_refused_without_crashing(tmp_path: Path, text: str) -> None:
    repo = _repo(tmp_path, {V: text})
    r = _cli("-C", str(repo), "check", "--all", "--json", timeout=60)
    # A negative return code would be a signal (segfault, stack overflow).
    assert r.returncode == 1, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    problems = json.loads(r.stdout)
    assert problems and all(p["path"] == V for p in problems), problems
    assert {p["code"] for p in problems} <= {"yaml-too-deep", "yaml-not-mapping", "yaml-syntax"}


def test_deep_nesting_code_and_line(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {V: GOOD + "model: " + "[" * 100_000 + "]" * 100_000 + "\n"})
    _refused(repo, V, "yaml-too-deep", 10)


def test_huge_number_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {V: GOOD + "evaluation_score: 1" + "0" * 10_000 + "\n"})
    problems = _check_json(repo, "--all")
    assert any(p["path"] == V and p["line"] == 10 for p in problems), problems


# -- links and special files ----------------------------------------------------------------------


def test_symlinked_version_file(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"elsewhere/1.0.0.yaml": GOOD})
    (repo / "prompts/hr").mkdir(parents=True)
    os.symlink("../../elsewhere/1.0.0.yaml", repo / V)
    _refused(repo, V, "symlink")


def test_symlinked_prompt_directory(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"elsewhere/hr/1.0.0.yaml": GOOD})
    (repo / "prompts").mkdir()
    os.symlink("../elsewhere/hr", repo / "prompts/hr")
    _refused(repo, "prompts/hr", "symlink")


@pytest.mark.parametrize(
    "link",
    [
        V,
        "deployments/production/hr.yaml",
        "evals/hr.yaml",
        "promptreg.yaml",
        "prompts/hr",
        "prompts",
        "deployments/production",
    ],
)
def test_symlink_outside_the_repo_is_never_read(tmp_path: Path, link: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = f"{SECRET}: 1\n{SECRET}: 2\nprompt_id: hr\n"
    for name in ("secret.yaml", "1.0.0.yaml", "hr.yaml"):
        (outside / name).write_text(secret)
    repo = _repo(tmp_path, {} if link.startswith("prompts") else {V: GOOD})
    target = repo / link
    target.parent.mkdir(parents=True, exist_ok=True)
    if link in ("prompts/hr", "deployments/production"):
        os.symlink(outside, target)
    elif link == "prompts":
        (outside / "hr").mkdir()
        (outside / "hr/1.0.0.yaml").write_text(secret)
        os.symlink(outside, target)
    else:
        target.unlink(missing_ok=True)
        os.symlink(outside / "secret.yaml", target)
    problems = _refused(repo, link, "symlink")
    assert SECRET not in json.dumps(problems)
    for args in (
        ("check", "--all"),
        ("check", "--all", "--json"),
        ("check", link),
        ("list",),
        ("status",),
        ("show", "hr"),
        ("show", "hr", "1.0.0", "--json"),
        ("active", "hr", "--env", "production", "--json"),
    ):
        r = _cli("-C", str(repo), *args)
        assert SECRET not in r.stdout + r.stderr, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr, (args, r.stderr)


@pytest.mark.parametrize(
    "where", [V, "deployments/production/hr.yaml", "evals/hr.yaml", "promptreg.yaml"]
)
def test_fifo_does_not_hang(tmp_path: Path, where: str) -> None:
    repo = _repo(
        tmp_path,
        {V: GOOD} if where != V else {},
        settings=None if where == "promptreg.yaml" else LENIENT_SETTINGS,
    )
    (repo / where).parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(repo / where)
    _refused(repo, where, "not-regular", timeout=20)
    # The read commands must not block on it either.
    for args in (("list",), ("status",), ("show", "hr"), ("active", "hr", "--env", "production")):
        r = _cli("-C", str(repo), *args, timeout=20)
        assert "Traceback" not in r.stderr, (args, r.stderr)


def test_fifo_named_on_the_command_line_does_not_hang(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {})
    (repo / "prompts/hr").mkdir(parents=True)
    os.mkfifo(repo / V)
    problems = _check_json(repo, V, timeout=20)
    assert any(p["path"] == V and p["code"] == "not-regular" for p in problems), problems


def test_settings_is_a_directory(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {V: GOOD}, settings=None)
    (repo / "promptreg.yaml").mkdir()
    _refused(repo, "promptreg.yaml", "not-regular")


def test_prompts_is_a_file(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"prompts": "not a folder\n"})
    _refused(repo, "prompts", "not-regular")


def test_plain_directory_without_git(tmp_path: Path) -> None:
    """A container image has no .git; check still works and still refuses."""
    root = tmp_path / "image"
    write(root, "promptreg.yaml", LENIENT_SETTINGS)
    write(root, V, GOOD + "description: again\n")
    _refused(root, V, "yaml-duplicate-key", 10)


# -- registry-level checks -------------------------------------------------------------------------


def test_untested_pointer_refused_by_default_settings(tmp_path: Path) -> None:
    """Without promptreg.yaml every environment requires a tested version."""
    for env in ("development", "staging", "production"):
        repo = _repo(
            tmp_path / env,
            {V: GOOD, f"deployments/{env}/hr.yaml": pointer_yaml("hr", env, "1.0.0")},
            settings=None,
        )
        _refused(repo, f"deployments/{env}/hr.yaml", "untested", 3)


def test_pointer_to_invalid_version(tmp_path: Path) -> None:
    ptr = "deployments/production/hr.yaml"
    repo = _repo(tmp_path, {V: GOOD + "bogus: 1\n", ptr: pointer_yaml("hr", "production", "1.0.0")})
    problems = _refused(repo, ptr, "invalid-version", 3)
    assert any(p["path"] == V and p["line"] == 10 for p in problems), problems


def test_pointer_to_stale_tested_version_reports_both(tmp_path: Path) -> None:
    ptr = "deployments/production/hr.yaml"
    repo = _repo(
        tmp_path,
        {V: _evaluated(ZERO_SHA), ptr: pointer_yaml("hr", "production", "1.0.0")},
        settings=None,
    )
    problems = _refused(repo, ptr, "untested", 3)
    assert any(p["path"] == V and p["code"] == "fingerprint" for p in problems), problems


def test_pointer_to_tested_version_passes_default_settings(tmp_path: Path) -> None:
    files = {V: _evaluated(RIGHT_FP)}
    for env in ("development", "staging", "production"):
        files[f"deployments/{env}/hr.yaml"] = pointer_yaml("hr", env, "1.0.0")
    repo = _repo(tmp_path, files, settings=None)
    r = run_cli("-C", str(repo), "check", "--all", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout) == []


def test_min_score_policy(tmp_path: Path) -> None:
    settings = "environments:\n  production: {require_tested: true, min_score: 0.95}\n"
    ptr = "deployments/production/hr.yaml"
    repo = _repo(
        tmp_path,
        {V: _evaluated(RIGHT_FP, score="0.9"), ptr: pointer_yaml("hr", "production", "1.0.0")},
        settings=settings,
    )
    _refused(repo, ptr, "min-score", 3)


def test_broken_settings_promote_from_unknown(tmp_path: Path) -> None:
    settings = (
        "environments:\n"
        "  staging: {require_tested: false}\n"
        "  production: {require_tested: false, promote_from: qa}\n"
    )
    repo = _repo(tmp_path, {V: GOOD}, settings=settings)
    _refused(repo, "promptreg.yaml", "settings", 3, "qa")


@pytest.mark.parametrize(
    ("settings", "line"),
    [
        pytest.param(
            "environments:\n  staging: {require_tested: maybe}\n", 2, id="require-tested-text"
        ),
        pytest.param("environments:\n  Prod: {}\n", 2, id="bad-env-name"),
        pytest.param("environments: {}\n", 1, id="no-environments"),
        pytest.param("environments:\n  staging: {}\n  staging: {}\n", 3, id="duplicate-env"),
        pytest.param("environments:\n  production: {min_score: .nan}\n", 2, id="min-score-nan"),
    ],
)
def test_broken_settings(tmp_path: Path, settings: str, line: int) -> None:
    repo = _repo(tmp_path, {V: GOOD}, settings=settings)
    before = _snapshot(repo)
    problems = _check_json(repo, "--all")
    assert any(p["path"] == "promptreg.yaml" and p["line"] == line for p in problems), problems
    assert _snapshot(repo) == before


# -- several problems, selection ------------------------------------------------------------------

BROKEN = {
    V: GOOD + "description: again\n",  # duplicate key
    "prompts/tpl/1.1.0.yaml": version_yaml("tpl", "1.1.0", content="Hi {name!r}"),  # template
    "prompts/hr/1.2.0.yaml": _sub(version_yaml("hr", "1.2.0"), "tested: false", "tested: true"),
    "deployments/production/hr.yaml": pointer_yaml("hr", "production", "9.9.9"),  # missing version
    "evals/hr.yaml": "prompt_id: other\nthreshold: 0.5\ncases: []\n",  # schema and/or mismatch
    "prompts/x/1.0.0.yml": version_yaml("x", "1.0.0"),  # unexpected file
}


def test_every_problem_of_several_files_in_one_run(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {**BROKEN, "prompts/ok/1.0.0.yaml": version_yaml("ok", "1.0.0")})
    before = _snapshot(repo)
    problems = _check_json(repo, "--all")
    by_path: dict[str, list[str]] = {}
    for p in problems:
        by_path.setdefault(p["path"], []).append(p["code"])
    assert set(by_path) == set(BROKEN), by_path
    assert by_path[V] == ["yaml-duplicate-key"]
    assert by_path["prompts/tpl/1.1.0.yaml"] == ["template"]
    assert by_path["prompts/hr/1.2.0.yaml"] == ["fingerprint"]
    assert by_path["deployments/production/hr.yaml"] == ["missing-version"]
    assert by_path["prompts/x/1.0.0.yml"] == ["unexpected-file"]
    assert len(problems) == len(BROKEN) - 1 + len(by_path["evals/hr.yaml"])
    r = _check_text(repo, "--all")
    lines = [ln for ln in r.stderr.splitlines() if ln.split(":", 1)[0] in BROKEN]
    assert len(lines) == len(problems), r.stderr
    assert f"{len(problems)} problem" in r.stderr
    assert _snapshot(repo) == before


def test_check_without_arguments_checks_everything(tmp_path: Path) -> None:
    repo = _repo(tmp_path, BROKEN)
    assert _check_json(repo) == _check_json(repo, "--all")


def test_check_given_files_only(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {**BROKEN, "prompts/ok/1.0.0.yaml": version_yaml("ok", "1.0.0")})
    before = _snapshot(repo)
    tpl = "prompts/tpl/1.1.0.yaml"
    problems = _check_json(repo, tpl)
    assert {p["path"] for p in problems} == {tpl}, problems
    problems = _check_json(repo, tpl, "prompts/x/1.0.0.yml")
    assert {p["path"] for p in problems} == {tpl, "prompts/x/1.0.0.yml"}, problems
    problems = _check_json(repo, str(repo / tpl))
    assert {p["path"] for p in problems} == {tpl}, problems
    r = _check_text(repo, tpl)
    assert f"{tpl}:7" in r.stderr and V not in r.stderr, r.stderr
    r = run_cli("-C", str(repo), "check", "prompts/ok/1.0.0.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    assert _snapshot(repo) == before


def test_check_given_version_also_checks_the_pointers_of_its_prompt(tmp_path: Path) -> None:
    repo = _repo(tmp_path, BROKEN)
    problems = _check_json(repo, "prompts/hr/1.2.0.yaml")
    assert {(p["path"], p["code"]) for p in problems} == {
        ("prompts/hr/1.2.0.yaml", "fingerprint"),
        ("deployments/production/hr.yaml", "missing-version"),
    }, problems


def test_check_given_file_from_inside_the_repo(tmp_path: Path) -> None:
    repo = _repo(tmp_path, BROKEN)
    r = run_cli("check", "--json", "prompts/tpl/1.1.0.yaml", cwd=repo)
    assert r.returncode == 1, r.stderr
    assert {p["path"] for p in json.loads(r.stdout)} == {"prompts/tpl/1.1.0.yaml"}
    r = run_cli("check", "--json", "1.1.0.yaml", cwd=repo / "prompts/tpl")
    assert r.returncode == 1, r.stderr
    assert {p["path"] for p in json.loads(r.stdout)} == {"prompts/tpl/1.1.0.yaml"}


def test_clean_registry_passes(tmp_path: Path) -> None:
    repo = _repo(
        tmp_path,
        {
            V: GOOD,
            "prompts/hr/1.10.0.yaml": version_yaml("hr", "1.10.0"),
            "prompts/chat/1.0.0-rc.1.yaml": _sub(
                version_yaml("chat", "1.0.0-rc.1", content="x"),
                "content: |\n  x\n",
                "messages:\n  - {role: system, content: 'Be brief.'}\n"
                "  - {role: user, content: '{q}'}\n",
            ),
            "deployments/production/hr.yaml": pointer_yaml("hr", "production", "1.10.0", "1.0.0"),
            "evals/hr.yaml": (
                "prompt_id: hr\nthreshold: 0.5\ncases:\n  - name: a\n"
                "    vars: {context: c, query: q}\n    assert:\n"
                "      - {type: contains, value: c}\n"
            ),
        },
    )
    r = run_cli("-C", str(repo), "check", "--all")
    assert r.returncode == 0, r.stdout + r.stderr
    r = run_cli("-C", str(repo), "check", "--all", "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == [], r.stdout + r.stderr


def test_example_registry_in_the_repository_passes() -> None:
    r = run_cli("-C", str(ROOT), "check", "--all")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    r = run_cli("-C", str(ROOT), "check", "--all", "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == [], r.stdout + r.stderr
