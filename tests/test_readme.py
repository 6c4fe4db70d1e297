"""The README's Workflow runs as written, and ``make demo``'s script runs, on a fresh clone."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.testing import ROOT, git

README = ROOT / "README.md"
FENCE = re.compile(r"^(?P<indent>[ \t]*)```console\n(?P<body>.*?)^(?P=indent)```", re.M | re.S)


def section(text: str, heading: str) -> str:
    """The text of the README's ``## heading`` section."""
    start = text.index(f"\n## {heading}\n")
    return text[start : text.index("\n## ", start + 1)]


def console_blocks(text: str, heading: str) -> list[str]:
    """The ``console`` blocks of a README section, unindented."""
    return [
        "\n".join(line[len(m["indent"]) :] for line in m["body"].splitlines())
        for m in FENCE.finditer(section(text, heading))
    ]


def workflow_blocks(text: str) -> list[list[str]]:
    """The command lines of every ``console`` block in the README's Workflow section."""
    blocks = []
    for m in FENCE.finditer(section(text, "Workflow")):
        lines = [line.strip() for line in m["body"].splitlines()]
        blocks.append([line for line in lines if line and not line.startswith("#")])
    return blocks


def _clone(tmp_path: Path) -> Path:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (an unpacked sdist): the workflow needs git history")
    if git(ROOT, "rev-parse", "--is-shallow-repository").strip() == "true":
        pytest.skip("a shallow checkout: history commands refuse it")
    dest = tmp_path / "registry"
    git(tmp_path, "clone", "-q", str(ROOT), str(dest))
    return dest


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["EDITOR"] = "true"  # the step that opens an editor changes nothing here
    env["TMPDIR"] = str(tmp_path)
    env.pop("CI", None)
    return env


def test_workflow_blocks_are_found() -> None:
    blocks = workflow_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 5
    commands = [
        line.split()[1] for block in blocks for line in block if line.startswith("promptreg")
    ]
    for command in ("new", "diff", "eval", "deploy", "rollback", "history", "active"):
        assert command in commands


def test_workflow_runs_verbatim_on_a_fresh_clone(tmp_path: Path) -> None:
    clone = _clone(tmp_path)
    env = _env(tmp_path)
    transcript = []
    for block in workflow_blocks(README.read_text(encoding="utf-8")):
        for line in block:
            r = subprocess.run(
                ["bash", "-c", line], cwd=clone, env=env, capture_output=True, text=True
            )
            transcript.append(f"$ {line}\n{r.stdout}{r.stderr}")
            assert r.returncode == 0, "\n".join(transcript)
            assert "Traceback" not in r.stderr
    out = "\n".join(transcript)
    pointer = (clone / "deployments/production/hr_query_system_prompt.yaml").read_text()
    assert 'version: "1.1.0"' in pointer
    assert "action: rollback" in pointer
    staging = (clone / "deployments/staging/hr_query_system_prompt.yaml").read_text()
    assert 'version: "1.2.0"' in staging
    assert "tested: true" in (clone / "prompts/hr_query_system_prompt/1.2.0.yaml").read_text()
    # The audit shows the deployment and the rollback, and the past state.
    history = out.split("$ promptreg history", 1)[1]
    assert re.search(r"1\.2\.0\s+1\.1\.0\s+deploy", history)
    assert re.search(r"1\.1\.0\s+1\.2\.0\s+rollback", history)
    assert "Answers got longer" in history
    at = out.split("$ promptreg active", 1)[1]
    assert "1.1.0" in at
    assert git(clone, "status", "--porcelain") == ""


def test_demo_script_runs(tmp_path: Path) -> None:
    env = _env(tmp_path)
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the demo clones it")
    r = subprocess.run(
        ["bash", str(ROOT / "scripts/demo.sh")], env=env, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    out = r.stdout + r.stderr
    assert "(refused, exit 1)" in out
    assert "rolled back hr_query_system_prompt in production to 1.1.0" in out
    assert re.search(r"hr_query_system_prompt 1\.2\.0 \(tested\)", out)


def test_a_new_registry_in_ten_minutes_runs_verbatim(tmp_path: Path) -> None:
    """The first-hour path: install, init, hook, a version, its suite, eval, commit (through
    the real hook), deploy through the promotion order, and the library's answer."""
    blocks = console_blocks(README.read_text(encoding="utf-8"), "Your own registry in ten minutes")
    assert len(blocks) >= 4
    script = ["set -euo pipefail"]
    for block in blocks:
        for line in block.splitlines():
            if line.startswith("pip install"):
                # This test runs the promptreg under test, not a release from PyPI.
                assert line.split()[2:] == ["promptreg-git", "pre-commit"], line
                continue
            script.append(line)
    r = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
    )
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "Traceback" not in out
    repo = tmp_path / "support-prompts"
    assert (repo / ".git/hooks/pre-commit").is_file()
    assert (repo / ".git/hooks/pre-merge-commit").is_file()
    assert "promptreg check" in out  # the hook ran on the commit
    assert "You support customers of Acme Cloud." in r.stdout
    assert "Answer briefly: Where is my invoice?" in r.stdout
    log = git(repo, "log", "--format=%s")
    assert log.count("Deploy support_reply 1.0.0") == 3, log
    assert git(repo, "status", "--porcelain", "--", "prompts", "deployments", "evals") == ""
