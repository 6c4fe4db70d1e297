"""The sha256-jcs fingerprint: bound to its prompt, recomputable from the README's formula,
and the legacy sha256: records still read, with a warning saying how to refresh them."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from registry import PromptRegistry
from registry.errors import ValidationError
from registry.fingerprint import fingerprint, legacy_fingerprint
from registry.models import Message, PromptVersion
from tests.test_write import ACTOR, CONTENT, PASSING_SUITE, cli, fresh
from tests.testing import ROOT, commit_all, git, run_cli, version_yaml, write

__all__ = ["fresh"]  # the fixture


def _record(pid: str, fp: str) -> str:
    return version_yaml(pid, "1.0.0").replace("tested: false\n", "tested: true\n") + (
        "evaluation_score: 0.9\n"
        "evaluation:\n"
        f"  suite: evals/{pid}.yaml\n"
        "  threshold: 0.85\n"
        f'  fingerprint: "{fp}"\n'
        '  evaluated_at: "2026-11-20T11:00:00Z"\n'
        f"  evaluated_by: {ACTOR}\n"
    )


def _problems(repo: Path) -> list[dict[str, object]]:
    r = run_cli("-C", str(repo), "check", "--all", "--json")
    problems: list[dict[str, object]] = json.loads(r.stdout)
    return problems


def test_a_record_copied_to_another_prompt_does_not_count(fresh: Path) -> None:
    proc = cli(
        fresh, "new", "greet", "--content-file", "content.txt", "-d", "first", "--author", ACTOR
    )
    assert proc.returncode == 0, proc.stderr
    assert cli(fresh, "eval", "greet", "1.0.0", "--by", ACTOR).returncode == 0
    text = (fresh / "prompts/greet/1.0.0.yaml").read_text(encoding="utf-8")
    assert 'fingerprint: "sha256-jcs:' in text
    # The same content and record under another prompt id.
    copied = text.replace("prompt_id: greet", "prompt_id: wave")
    write(fresh, "prompts/wave/1.0.0.yaml", copied)
    reg = PromptRegistry(fresh, source="files")
    greet, wave = reg.get_version("greet", "1.0.0"), reg.get_version("wave", "1.0.0")
    assert greet is not None and greet.is_tested
    assert wave is not None and not wave.is_tested
    codes = {(p["code"], p["path"]) for p in _problems(fresh)}
    assert ("fingerprint", "prompts/wave/1.0.0.yaml") in codes
    assert not any(path == "prompts/greet/1.0.0.yaml" for _, path in codes)


def test_a_legacy_record_counts_and_check_says_how_to_refresh_it(fresh: Path) -> None:
    write(
        fresh, "prompts/greet/1.0.0.yaml", _record("greet", legacy_fingerprint(CONTENT, None, None))
    )
    commit_all(fresh, "an evaluation recorded before sha256-jcs")
    v = PromptRegistry(fresh, source="files").get_version("greet", "1.0.0")
    assert v is not None and v.is_tested and v.fingerprint_outdated
    r = run_cli("-C", str(fresh), "check", "--all")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "warning: fingerprint-outdated" in r.stdout + r.stderr
    assert "promptreg eval greet 1.0.0" in r.stdout + r.stderr
    (problem,) = _problems(fresh)
    assert (problem["code"], problem["severity"], problem["line"]) == (
        "fingerprint-outdated",
        "warning",
        14,
    )
    assert cli(fresh, "eval", "greet", "1.0.0", "--by", ACTOR, "--commit").returncode == 0
    assert _problems(fresh) == []
    data = yaml.safe_load((fresh / "prompts/greet/1.0.0.yaml").read_text(encoding="utf-8"))
    assert data["evaluation"]["fingerprint"] == fingerprint("greet", CONTENT, None, None)
    assert cli(fresh, "check", "--base", "HEAD~1").returncode == 0  # a released file may refresh


def test_a_legacy_record_of_edited_content_does_not_count(fresh: Path) -> None:
    stale = legacy_fingerprint("other content", None, None)
    write(fresh, "prompts/greet/1.0.0.yaml", _record("greet", stale))
    v = PromptRegistry(fresh, source="files").get_version("greet", "1.0.0")
    assert v is not None and not v.is_tested
    assert {p["code"] for p in _problems(fresh)} == {"fingerprint"}


def _group(pattern: str, text: str) -> str:
    m = re.search(pattern, text, re.S)
    assert m is not None, pattern
    return m.group(1)


def _readme_example() -> tuple[dict[str, Any], bytes, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("**The fingerprint**") : text.index("**Older records**")]
    version = yaml.safe_load(_group(r"```yaml\n(.*?)```", section))
    canonical = _group(r"```json\n(.*?)\n```", section).encode("utf-8")
    return version, canonical, _group(r"giving `(sha256-jcs:[0-9a-f]{64})`", section)


def test_the_readme_worked_example() -> None:
    version, canonical, stated = _readme_example()
    # The stated bytes hash to the stated fingerprint ...
    assert "sha256-jcs:" + hashlib.sha256(canonical).hexdigest() == stated
    # ... and are what promptreg fingerprints for the stated version file.
    messages = version["messages"]
    assert isinstance(messages, list)
    v = PromptVersion(
        str(version["prompt_id"]),
        "1.0.0",
        messages=tuple(Message(m["role"], m["content"]) for m in messages),
        model=version["model"],
    )
    assert v.fingerprint == stated
    # The float 256.0 is written as 256, as RFC 8785 requires, unlike Python's json.dumps.
    assert b'"max_tokens":256,' in canonical


def test_numbers_are_canonical_not_python_formatted() -> None:
    one = fingerprint("p", "x", None, {"t": 1.0, "n": 0.5e3})
    assert one == fingerprint("p", "x", None, {"n": 500, "t": 1})
    assert one != fingerprint("q", "x", None, {"t": 1.0, "n": 0.5e3})


def test_an_integer_jcs_cannot_represent_is_refused_not_a_crash(fresh: Path) -> None:
    with pytest.raises(ValidationError, match="write that model value as a string"):
        fingerprint("greet", "x", None, {"seed": 2**53})
    text = version_yaml("greet", "1.0.0").replace(
        "tested: false\n", "model: {seed: 9007199254740993}\ntested: false\n"
    )
    write(fresh, "prompts/greet/1.0.0.yaml", text)
    proc = cli(fresh, "eval", "greet", "1.0.0", "--by", ACTOR)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "write that model value as a string" in proc.stderr and "Traceback" not in proc.stderr


def test_a_change_may_not_add_a_legacy_record(fresh: Path) -> None:
    legacy = _record("greet", legacy_fingerprint(CONTENT, None, None))
    write(fresh, "prompts/greet/1.0.0.yaml", legacy)
    commit_all(fresh, "an evaluation recorded before sha256-jcs")
    git(fresh, "checkout", "-q", "-b", "change")
    # Kept as the base has it: valid (a warning only).
    assert cli(fresh, "check", "--base", "main").returncode == 0
    # The same legacy record copied to another prompt with the same content: refused.
    write(fresh, "prompts/wave/1.0.0.yaml", legacy.replace("prompt_id: greet", "prompt_id: wave"))
    write(fresh, "evals/wave.yaml", "prompt_id: wave\n" + PASSING_SUITE.split("\n", 1)[1])
    commit_all(fresh, "copy the record")
    proc = cli(fresh, "check", "--base", "main")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "prompts/wave/1.0.0.yaml:14: fingerprint-legacy" in proc.stderr, proc.stderr
    assert "prompts/greet/1.0.0.yaml:14: fingerprint-legacy" not in proc.stderr
    git(fresh, "reset", "-q", "--soft", "HEAD~1")
    proc = run_cli("-C", str(fresh), "check", "--staged")
    assert proc.returncode == 1 and "fingerprint-legacy" in proc.stderr, proc.stderr
