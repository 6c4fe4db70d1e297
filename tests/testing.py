"""Helpers for tests: real git repositories and real registry files in temporary folders."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from registry.serving import SnapshotServing

Serving = TypeVar("Serving", bound="SnapshotServing")

ROOT = Path(__file__).resolve().parent.parent


def git(repo: Path, *args: str, date: str | None = None, **kw: object) -> str:
    """Run git in ``repo`` and return stdout; ``date`` pins author and committer dates."""
    env = dict(os.environ)
    if date is not None:
        env["GIT_AUTHOR_DATE"] = date
        env["GIT_COMMITTER_DATE"] = date
    out = subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    )
    return out.stdout


def fresh(reg: Serving) -> Serving:
    """``reg`` once the change a request would notice now is loaded: the request itself
    answers from the snapshot it has while a background thread reloads, so a test that has
    just changed the registry waits for that reload before asking."""
    reg._next_check = 0.0
    kick = getattr(reg, "_served", None) or reg._current
    kick()
    reg._refresher.join()
    return reg


def write(repo: Path, rel: str, text: str | bytes) -> Path:
    """Write ``text`` at ``repo/rel``, creating folders."""
    p = repo / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def commit_all(repo: Path, message: str, date: str | None = None) -> str:
    """Stage everything and commit; return the new commit id."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message, date=date)
    return git(repo, "rev-parse", "HEAD").strip()


def init_repo(path: Path) -> Path:
    """A new git repository at ``path`` on branch main."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    return path


def version_yaml(
    prompt_id: str,
    version: str,
    content: str = "You are helpful. Context: {context}\nQuestion: {query}\n",
    **extra: str,
) -> str:
    """A valid, untested prompt version file."""
    body = "".join(f"  {line}\n" for line in content.splitlines())
    lines = [
        f"prompt_id: {prompt_id}",
        f'version: "{version}"',
        f"description: {extra.get('description', 'Revision ' + version)}",
        "author: Dana Reyes <dana@example.com>",
        'created_at: "2026-11-20T10:00:00Z"',
        "content: |",
        body.rstrip("\n"),
        "tested: false",
    ]
    return "\n".join(lines) + "\n"


def pointer_yaml(
    prompt_id: str,
    env: str,
    version: str,
    previous: str | None = None,
    action: str = "deploy",
    by: str = "Dana Reyes <dana@example.com>",
    reason: str | None = None,
) -> str:
    """A deployment pointer file."""
    prev = f'"{previous}"' if previous else "null"
    text = (
        f'prompt_id: {prompt_id}\nenvironment: {env}\nversion: "{version}"\n'
        f"previous_version: {prev}\naction: {action}\ndeployed_by: {by}\n"
        'deployed_at: "2026-11-21T09:30:00Z"\n'
    )
    if reason:
        text += f"reason: {reason}\n"
    return text


LENIENT_SETTINGS = (
    "environments:\n"
    "  development: {require_tested: false}\n"
    "  staging: {require_tested: false}\n"
    "  production: {require_tested: false}\n"
)


def run_cli(
    *args: str, cwd: Path | None = None, input: str | None = None, real: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the ``promptreg`` CLI: in-process through ``registry.cli.main`` (fast), or in a
    real subprocess with ``real=True`` or ``PROMPTREG_TEST_SUBPROCESS=1`` (the layer that
    proves exit codes, stderr and no traceback from a real interpreter)."""
    if real or os.environ.get("PROMPTREG_TEST_SUBPROCESS") == "1":
        return subprocess.run(
            [sys.executable, "-m", "registry", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            input=input,
            timeout=120,
        )
    return run_in_process(*args, cwd=cwd, input=input)


def run_in_process(
    *args: str, cwd: Path | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``promptreg ARGS`` through ``registry.cli.main`` with click's runner isolating stdin,
    stdout and stderr, from ``cwd``; an exception escaping ``main`` fails the test."""
    from click.testing import CliRunner

    from registry.cli import main

    runner = CliRunner()
    with contextlib.chdir(cwd or Path.cwd()), runner.isolation(input=input) as streams:
        code = main(list(args))
        out, err = streams[0].getvalue(), streams[1].getvalue()
    return subprocess.CompletedProcess(
        ["promptreg", *args], code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    )
