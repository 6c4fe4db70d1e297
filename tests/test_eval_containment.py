"""Suite code is contained: hooks only from the registry's .py files or the base's
trusted_modules, run in a child process whose exit, crash or timeout fails the evaluation."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from registry import PromptRegistry
from registry.errors import EvaluationError
from registry.evals.run import run_suite
from registry.evals.suite import load_suite
from registry.models import PromptVersion
from tests.test_write import ACTOR, PASSING_SUITE, cli, fresh, state
from tests.testing import commit_all, git, run_cli, version_yaml, write

__all__ = ["fresh"]  # the fixture

V = "prompts/greet/1.0.0.yaml"
SUITE = "evals/greet.yaml"


def _suite(*asserts: str, target: str | None = None, extra: str = "") -> str:
    head = "prompt_id: greet\nthreshold: 0.5\n" + extra
    if target is not None:
        head += f"target: {target!r}\n"
    lines = "".join(f"      - {a}\n" for a in asserts)
    return head + (
        "cases:\n  - name: only\n"
        '    vars: {context: "section 4.2", query: "How many days?"}\n'
        f"    assert:\n{lines}"
    )


def _versioned(repo: Path, suite: str) -> None:
    write(repo, V, version_yaml("greet", "1.0.0"))
    write(repo, SUITE, suite)


def _codes(repo: Path, *args: str) -> list[tuple[str, int | None, str]]:
    r = run_cli("-C", str(repo), "check", *args, "--json")
    return [(p["code"], p["line"], p["path"]) for p in json.loads(r.stdout)]


# --- check refuses hooks outside the registry ----------------------------------------------


@pytest.mark.parametrize(
    ("suite", "line"),
    [
        (_suite("{type: min_length, value: 1}", target="builtins:exec"), 3),
        (_suite("{type: python, value: 'os:system'}"), 7),
        (_suite("{type: python, value: 'subprocess:run'}"), 7),
        (_suite("{type: python, value: 'not_here.module:fn'}"), 7),
    ],
    ids=["builtins-exec", "os-system", "subprocess-run", "missing-file"],
)
def test_check_refuses_hooks_outside_the_registry(fresh: Path, suite: str, line: int) -> None:
    _versioned(fresh, suite)
    r = run_cli("-C", str(fresh), "check", "--all")
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"{SUITE}:{line}: untrusted-hook" in r.stderr, r.stdout + r.stderr
    assert ("untrusted-hook", line, SUITE) in _codes(fresh, "--all")


def test_check_accepts_a_registry_file_and_a_trusted_module(fresh: Path) -> None:
    write(fresh, "hooks/grading.py", "def ok(output, case):\n    return True\n")
    _versioned(
        fresh,
        _suite("{type: python, value: 'hooks.grading:ok'}", "{type: python, value: 'json:loads'}"),
    )
    assert ("untrusted-hook", 8, SUITE) in _codes(fresh, "--all")
    write(fresh, "promptreg.yaml", "environments:\n  staging: {}\ntrusted_modules: [json]\n")
    assert _codes(fresh, "--all") == []


def test_a_symlinked_hook_file_is_not_a_registry_file(fresh: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("def ok(output, case):\n    return True\n", encoding="utf-8")
    os.symlink(outside, fresh / "linked.py")
    _versioned(fresh, _suite("{type: python, value: 'linked:ok'}"))
    assert ("untrusted-hook", 7, SUITE) in _codes(fresh, "--all")


def test_a_stdlib_named_registry_file_is_refused(fresh: Path) -> None:
    write(fresh, "os.py", "def system(output, case):\n    return True\n")
    _versioned(fresh, _suite("{type: python, value: 'os:system'}"))
    assert ("untrusted-hook", 7, SUITE) in _codes(fresh, "--all")


def test_check_base_reads_trusted_modules_from_the_base(fresh: Path) -> None:
    git(fresh, "checkout", "-q", "-b", "change")
    write(fresh, "promptreg.yaml", "environments:\n  staging: {}\ntrusted_modules: [os]\n")
    _versioned(fresh, _suite("{type: python, value: 'os:system'}"))
    commit_all(fresh, "trust os and call it")
    # The change's own settings would allow it; the base's do not.
    assert ("untrusted-hook", 7, SUITE) in _codes(fresh, "--base", "main")
    git(fresh, "add", "-A")
    assert _codes(fresh, "--all") == []  # the working tree trusts what it lists


def test_check_staged_reads_trusted_modules_from_head(fresh: Path) -> None:
    write(fresh, "promptreg.yaml", "environments:\n  staging: {}\ntrusted_modules: [os]\n")
    _versioned(fresh, _suite("{type: python, value: 'os:system'}"))
    git(fresh, "add", "-A")
    assert ("untrusted-hook", 7, SUITE) in _codes(fresh, "--staged")


def test_check_refuses_threshold_zero(fresh: Path) -> None:
    _versioned(fresh, _suite("{type: contains, value: nope}").replace("0.5", "0"))
    assert ("schema", 2, SUITE) in _codes(fresh, "--all")
    proc = cli(fresh, "eval", "greet", "1.0.0", "--no-record")
    assert proc.returncode == 1 and "threshold: 0 is out of range" in proc.stderr


# --- eval refuses the same hooks, and runs the rest in a child -------------------------------


@pytest.mark.parametrize("ref", ["builtins:exec", "os:system"])
def test_eval_refuses_an_untrusted_hook(fresh: Path, ref: str) -> None:
    suite = _suite("{type: min_length, value: 1}", target=ref)
    _versioned(fresh, suite)
    before = state(fresh)
    proc = cli(fresh, "eval", "greet", "1.0.0", "--by", ACTOR)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"{SUITE}:3: target {ref!r}:" in proc.stderr and "Traceback" not in proc.stderr
    assert state(fresh) == before


def test_hooks_run_in_another_process(fresh: Path) -> None:
    write(fresh, "where.py", "import os\n\ndef pid(output, case):\n    return str(os.getpid())\n")
    _versioned(fresh, _suite("{type: min_length, value: 1}", target="where:pid"))
    v = PromptVersion("greet", "1.0.0", content="{context} {query}")
    suite = load_suite(fresh / SUITE, SUITE)
    result = run_suite(v, suite, fresh)
    assert result.passed
    assert "where" not in __import__("sys").modules


EXITS = {
    "os-exit-0": "import os\n\ndef ok(output, case):\n    os._exit(0)\n",
    "segfault": (
        "import os, signal\n\ndef ok(output, case):\n    os.kill(os.getpid(), signal.SIGSEGV)\n"
    ),
    "exit-at-import": "import sys\nsys.stdout.flush()\nimport os\nos._exit(3)\n",
}


@pytest.mark.parametrize("name", sorted(EXITS))
def test_a_child_without_a_verdict_fails_the_evaluation(fresh: Path, name: str) -> None:
    write(fresh, "bad.py", EXITS[name] + "\ndef ok2(output, case):\n    return True\n")
    _versioned(fresh, _suite("{type: python, value: 'bad:ok'}"))
    proc = cli(fresh, "eval", "greet", "1.0.0", "--no-record")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "without a verdict" in proc.stderr, proc.stderr
    assert "passed" not in proc.stdout and "Traceback" not in proc.stderr


def test_os_exit_in_a_hook_fails_in_a_real_subprocess(fresh: Path) -> None:
    write(fresh, "bad.py", EXITS["os-exit-0"])
    _versioned(fresh, _suite("{type: python, value: 'bad:ok'}"))
    proc = run_cli("-C", str(fresh), "eval", "greet", "1.0.0", "--no-record", real=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "exited with code 0 without a verdict" in proc.stderr


def test_a_slow_case_times_out(fresh: Path) -> None:
    write(fresh, "slow.py", "import time\n\ndef ok(output, case):\n    time.sleep(30)\n")
    _versioned(fresh, _suite("{type: python, value: 'slow:ok'}", extra="timeout: 0.5\n"))
    started = time.monotonic()
    proc = cli(fresh, "eval", "greet", "1.0.0", "--no-record")
    assert time.monotonic() - started < 15
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "timed out: case 1 of 1 took longer than the suite's timeout of 0.5s" in proc.stderr


def test_a_slow_import_times_out(fresh: Path) -> None:
    write(fresh, "slow.py", "import time\ntime.sleep(30)\n\ndef ok(output, case):\n    return 1\n")
    _versioned(fresh, _suite("{type: python, value: 'slow:ok'}", extra="timeout: 0.5\n"))
    with pytest.raises(EvaluationError, match="importing its hooks took longer"):
        PromptRegistry(fresh, source="files").evaluate("greet", "1.0.0", record=False)


def test_hook_prints_do_not_reach_json_output(fresh: Path) -> None:
    write(fresh, "chatty.py", "def ok(output, case):\n    print('hello')\n    return True\n")
    _versioned(fresh, _suite("{type: python, value: 'chatty:ok'}"))
    proc = run_cli("-C", str(fresh), "eval", "greet", "1.0.0", "--no-record", "--json", real=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["passed"] is True
    assert "hello" in proc.stderr


def test_a_case_whose_assertions_all_fail_never_passes(fresh: Path) -> None:
    write(fresh, "zero.py", "def score(output, case):\n    return 0.0\n")
    suite = _suite("{type: contains, value: nope}", "{type: python, value: 'zero:score'}")
    _versioned(fresh, suite.replace("threshold: 0.5", "threshold: 0.000001"))
    proc = cli(fresh, "eval", "greet", "1.0.0", "--no-record")
    assert proc.returncode == 1
    assert "passed" not in proc.stdout and "FAILED" in proc.stdout


# --- eval --suite outside the registry -------------------------------------------------------


def test_eval_suite_outside_the_registry_is_refused(fresh: Path, tmp_path: Path) -> None:
    write(fresh, V, version_yaml("greet", "1.0.0"))
    outside = tmp_path / "outside.yaml"
    outside.write_text(PASSING_SUITE, encoding="utf-8")
    os.symlink(outside, fresh / "evals/linked.yaml")
    before = state(fresh)
    for args in (["--suite", str(outside)], ["--suite", os.path.relpath(outside, fresh)]):
        proc = cli(fresh, "eval", "greet", "1.0.0", "--by", ACTOR, *args)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "is not inside the registry" in proc.stderr
    proc = run_cli("eval", "greet", "1.0.0", "--by", ACTOR, "--suite", str(outside), cwd=fresh)
    assert proc.returncode == 1 and "is not inside the registry" in proc.stderr
    proc = cli(fresh, "eval", "greet", "1.0.0", "--by", ACTOR, "--suite", "evals/linked.yaml")
    assert proc.returncode == 1 and "is not inside the registry" in proc.stderr
    assert state(fresh) == before


def test_a_relative_root_finds_its_hooks(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(fresh, "hooks/grading.py", "def ok(output, case):\n    return True\n")
    _versioned(fresh, _suite("{type: python, value: 'hooks.grading:ok'}"))
    suite = load_suite(fresh / SUITE, SUITE)
    monkeypatch.chdir(fresh.parent)
    v = PromptVersion("greet", "1.0.0", content="{context} {query}")
    assert run_suite(v, suite, Path(fresh.name)).passed
