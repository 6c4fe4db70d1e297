"""The README's reader in another language verifies a real bundle and refuses a damaged one."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from registry.bundle.build import build_bundle
from tests.test_readme import README, section
from tests.testing import LENIENT_SETTINGS, ROOT, commit_all, init_repo, pointer_yaml, write

NODE = shutil.which("node")


def _reader() -> str:
    text = section(README.read_text(encoding="utf-8"), "Bundles: prompts for a fleet")
    blocks = re.findall(r"```ts\n(.*?)```", text, re.S)
    assert len(blocks) == 1
    code: str = blocks[0]
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    return code


def test_the_reader_is_ten_lines_of_plain_typescript() -> None:
    # No type annotations, so Node runs it as a JavaScript module and the test below is real.
    assert not re.search(r"\b(const|let)\s+\w+\s*:", _reader())


@pytest.mark.skipif(NODE is None, reason="needs node")
def test_the_readers_example_verifies_and_reads_a_bundle(tmp_path: Path) -> None:
    assert NODE is not None
    repo = init_repo(tmp_path / "repo")
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    example = ROOT / "prompts" / "hr_query_system_prompt" / "1.1.0.yaml"
    write(repo, "prompts/hr_query_system_prompt/1.1.0.yaml", example.read_text())
    pointer = pointer_yaml("hr_query_system_prompt", "production", "1.1.0")
    write(repo, "deployments/production/hr_query_system_prompt.yaml", pointer)
    commit_all(repo, "registry")
    built = build_bundle(repo, "production")
    script = tmp_path / "reader.mjs"
    script.write_text(_reader(), encoding="utf-8")
    good = tmp_path / "production.json"
    good.write_bytes(built.data)
    done = subprocess.run([NODE, str(script), str(good)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"production {built.commit} 1.1.0 You are an HR assistant")
    bad = tmp_path / "damaged.json"
    bad.write_bytes(built.data.replace(b"HR assistant", b"HR assistent"))
    done = subprocess.run([NODE, str(script), str(bad)], capture_output=True, text=True)
    assert done.returncode != 0 and "damaged bundle" in done.stderr
