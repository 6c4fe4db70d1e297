"""The composite action's review steps, run as a runner runs them (bash -eo pipefail) against
a real pull-request-shaped repository: the job summary, and the one sticky comment kept up to
date through ``gh api``. ``gh`` is a stand-in that keeps the comments of one pull request in
a file and applies ``--jq`` with the real jq, since no test may reach GitHub."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from registry.review.markdown import MARKER
from tests.review_history import build_feature, build_main
from tests.testing import ROOT, run_cli

BIN = Path(sys.executable).parent
BOT = "github-actions[bot]"


def _steps() -> dict[str, dict[str, Any]]:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return {s["name"]: s for s in action["runs"]["steps"]}


def _run(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: os.environ[k] for k in ("HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM")}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd, env={"PATH": f"{BIN}:/usr/bin:/bin", **base, **env}, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip


def test_review_runs_before_the_check_and_comments_only_when_asked() -> None:
    steps = list(_steps())
    assert steps.index("promptreg review") < steps.index("promptreg check")
    comment = _steps()["promptreg review comment"]
    assert comment["if"] == "inputs.comment == 'true' && steps.review.outputs.file != ''"
    assert comment["env"]["MARKER"] == MARKER
    assert comment["env"]["GH_TOKEN"] == "${{ inputs.github-token }}"


# -- the job summary ---------------------------------------------------------------------------


@pytest.fixture
def pr(repo: Path) -> Path:
    return build_feature(build_main(repo))


def test_review_step_appends_the_review_to_the_job_summary(pr: Path, tmp_path: Path) -> None:
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    summary.write_text("earlier step\n")
    output.write_text("")
    proc = _run(_steps()["promptreg review"]["run"], pr, BASE="main", RUNNER_TEMP=str(tmp_path),
                GITHUB_STEP_SUMMARY=str(summary), GITHUB_OUTPUT=str(output))  # fmt: skip
    # The change fails check --base (exit 1), which the check step reports: not this one.
    assert proc.returncode == 0, proc.stdout + proc.stderr
    review = run_cli("-C", str(pr), "review", "--base", "main").stdout
    assert review.startswith(MARKER)
    assert summary.read_text() == "earlier step\n" + review
    assert output.read_text().splitlines() == [f"file={tmp_path}/promptreg-review.md"]


def test_review_step_without_a_review_warns_and_leaves_the_summary(
    pr: Path, tmp_path: Path
) -> None:
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    summary.write_text("")
    output.write_text("")
    proc = _run(_steps()["promptreg review"]["run"], pr, BASE="origin/nope",
                RUNNER_TEMP=str(tmp_path), GITHUB_STEP_SUMMARY=str(summary),
                GITHUB_OUTPUT=str(output))  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("::warning title=promptreg::promptreg review wrote no review")
    assert summary.read_text() == output.read_text() == ""


# -- the sticky comment ------------------------------------------------------------------------

GH_STUB = r"""
import json, os, subprocess, sys

state_path = os.environ["GH_STUB_STATE"]
with open(state_path) as f:
    state = json.load(f)
args = sys.argv[1:]
state["calls"].append({"args": list(args), "token": os.environ.get("GH_TOKEN")})
assert args.pop(0) == "api"
method, jq, fields, path = "GET", None, {}, None
while args:
    a = args.pop(0)
    if a == "--method":
        method = args.pop(0)
    elif a == "--jq":
        jq = args.pop(0)
    elif a == "-F":
        key, _, value = args.pop(0).partition("=")
        with open(value[1:]) as f:
            fields[key] = f.read()
    elif a == "--paginate":
        pass
    else:
        path = a
out = None
if method == os.environ.get("GH_STUB_FAIL"):
    print("HTTP 403: Resource not accessible by integration", file=sys.stderr)
    code = 1
elif method == "GET":
    out, code = json.dumps(state["comments"]), 0
elif method == "POST":
    new = {"id": 100 + len(state["comments"]), "user": {"login": os.environ["GH_STUB_LOGIN"]},
           "body": fields["body"]}
    state["comments"].append(new)
    out, code = json.dumps(new), 0
else:
    cid = int(path.rsplit("/", 1)[1])
    (found,) = [c for c in state["comments"] if c["id"] == cid]
    found["body"] = fields["body"]
    out, code = json.dumps(found), 0
with open(state_path, "w") as f:
    json.dump(state, f)
if out is not None and jq is not None:
    out = subprocess.run(["jq", "-r", jq], input=out, capture_output=True, text=True,
                         check=True).stdout
elif out is not None:
    out += "\n"
sys.stdout.write(out or "")
sys.exit(code)
"""


@pytest.fixture
def gh(tmp_path: Path) -> Path:
    """A folder with the ``gh`` stand-in, first on PATH."""
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed")
    bindir = tmp_path / "ghbin"
    bindir.mkdir()
    stub = bindir / "gh"
    stub.write_text(f"#!{sys.executable}\n{GH_STUB}")
    stub.chmod(0o755)
    return bindir


def _comment(
    gh: Path, tmp_path: Path, comments: list[dict[str, Any]], body: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    state, review = tmp_path / "gh-state.json", tmp_path / "review.md"
    if not state.exists():
        state.write_text(json.dumps({"comments": comments, "calls": []}))
    review.write_text(body)
    step = _steps()["promptreg review comment"]
    values = {"GH_TOKEN": "tok", "AUTHOR": BOT, "FILE": str(review), "PR": "7",
              "REPO": "acme/prompts", "MARKER": step["env"]["MARKER"], "GH_STUB_STATE": str(state),
              "GH_STUB_LOGIN": BOT, **env}  # fmt: skip
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        env={"PATH": f"{gh}:/usr/bin:/bin", **values}, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    return proc, json.loads(state.read_text())


def test_comment_is_created_once_then_updated(gh: Path, tmp_path: Path) -> None:
    proc, state = _comment(gh, tmp_path, [], f"{MARKER}\nfirst\n")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert state["comments"] == [{"id": 100, "user": {"login": BOT}, "body": f"{MARKER}\nfirst\n"}]
    assert state["calls"][-1]["args"][:3] == ["api", "--method", "POST"]
    assert state["calls"][-1]["args"][3] == "repos/acme/prompts/issues/7/comments"
    assert {c["token"] for c in state["calls"]} == {"tok"}
    proc, state = _comment(gh, tmp_path, [], f"{MARKER}\nsecond\n")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [c["body"] for c in state["comments"]] == [f"{MARKER}\nsecond\n"]
    assert state["calls"][-1]["args"][:4] == [
        "api", "--method", "PATCH", "repos/acme/prompts/issues/comments/100",
    ]  # fmt: skip


def test_comment_updates_only_its_own_marked_comment(gh: Path, tmp_path: Path) -> None:
    comments = [
        {"id": 1, "user": {"login": "mallory"}, "body": f"{MARKER}\nfake: all passes"},
        {"id": 2, "user": {"login": BOT}, "body": "another bot's note"},
        {"id": 3, "user": {"login": BOT}, "body": f"{MARKER}\nold review"},
        {"id": 4, "user": {"login": BOT}, "body": f"quoting\n{MARKER}"},
    ]
    proc, state = _comment(gh, tmp_path, comments, f"{MARKER}\nnew review\n")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    bodies = {c["id"]: c["body"] for c in state["comments"]}
    assert bodies == {1: f"{MARKER}\nfake: all passes", 2: "another bot's note",
                      3: f"{MARKER}\nnew review\n", 4: f"quoting\n{MARKER}"}  # fmt: skip


def test_comment_outside_a_pull_request_is_skipped(gh: Path, tmp_path: Path) -> None:
    proc, state = _comment(gh, tmp_path, [], f"{MARKER}\n", PR="")
    assert proc.returncode == 0
    assert proc.stdout.startswith("::notice title=promptreg::not a pull request")
    assert state["calls"] == []


def test_comment_without_permission_warns_and_does_not_fail(gh: Path, tmp_path: Path) -> None:
    proc, state = _comment(gh, tmp_path, [], f"{MARKER}\n", GH_STUB_FAIL="POST")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("::warning title=promptreg::could not write the review comment")
    assert "pull-requests: write" in proc.stdout
    assert state["comments"] == []
