"""File content and command-line input built to crash or stall promptreg: each is refused
with exit 1 (2 for a bad command line) naming the file, within seconds, with nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from registry import PromptRegistry, RegistryError
from tests.testing import (
    LENIENT_SETTINGS,
    commit_all,
    git,
    pointer_yaml,
    run_cli,
    version_yaml,
    write,
)

V1 = "prompts/hr/1.0.0.yaml"
V2 = "prompts/hr/1.1.0.yaml"
SECONDS = 15.0  # generous for a loaded machine; the stalls took minutes


@pytest.fixture
def reg(repo: Path) -> Path:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, V1, version_yaml("hr", "1.0.0"))
    write(repo, "deployments/production/hr.yaml", pointer_yaml("hr", "production", "1.0.0"))
    commit_all(repo, "init")
    return repo


def _version_with(repo: Path, extra: str) -> None:
    write(repo, V2, version_yaml("hr", "1.1.0") + extra)


def _cli(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    start = time.monotonic()
    proc = run_cli("-C", str(repo), *args)
    assert time.monotonic() - start < SECONDS, args
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    return proc


def _check_codes(repo: Path) -> list[tuple[str, str]]:
    proc = _cli(repo, "check", "--all", "--json")
    assert proc.returncode == 1, proc.stderr
    return [(p["code"], p["path"]) for p in json.loads(proc.stdout)]


def _runtime_refuses(repo: Path, match: str) -> None:
    """The runtime (the compiled validator, not jsonschema) refuses the file too, quickly."""
    start = time.monotonic()
    with PromptRegistry(repo, source="files") as r, pytest.raises(RegistryError, match=match):
        r.get_version("hr", "1.1.0")
    assert time.monotonic() - start < SECONDS


# -- uniqueItems -----------------------------------------------------------------------------


def test_thirty_six_thousand_mixed_variables_do_not_stall(reg: Path) -> None:
    items = [x for i in range(18_000) for x in (str(i), f"v{i}")]
    _version_with(reg, f"variables: [{', '.join(items)}]\n")
    assert set(_check_codes(reg)) == {("schema", V2)}
    proc = _cli(reg, "show", "hr", "1.1.0", "--json")
    assert proc.returncode == 1 and V2 in proc.stderr
    _runtime_refuses(reg, "1.1.0.yaml")


def test_a_duplicate_among_thirty_six_thousand_variables_is_found_quickly(reg: Path) -> None:
    items = [f"v{i:x}" for i in range(36_000)] + ["v7"]
    _version_with(reg, f"variables: [{','.join(items)}]\n")
    proc = _cli(reg, "check", "--all")
    assert proc.returncode == 1
    assert f'{V2}:10: schema variables: has duplicates ("v7"); list each once' in proc.stderr
    _runtime_refuses(reg, "has duplicates")


# -- numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number", ["0x" + "f" * 4000, "0xF" + "0" * 3600, "9" * 4400, "-" + "9" * 4300]
)
def test_an_integer_too_large_to_print_is_refused(reg: Path, number: str) -> None:
    _version_with(reg, f"model: {{max_tokens: {number}}}\n")
    assert _check_codes(reg) == [("yaml-number", V2)]
    proc = _cli(reg, "show", "hr", "1.1.0", "--json")
    assert proc.returncode == 1 and f"{V2}:10:" in proc.stderr


def test_a_large_integer_in_a_message_is_shortened(reg: Path) -> None:
    _version_with(reg, "evaluation_score: 0o" + "7" * 4000 + "\n")
    proc = _cli(reg, "check", "--all")
    assert proc.returncode == 1 and "digits) is out of range" in proc.stderr
    assert len(proc.stderr) < 1000


@pytest.mark.parametrize("number", [".nan", ".inf", "-.Inf", "1e400"])
def test_nan_or_infinity_in_model_is_refused(reg: Path, number: str) -> None:
    _version_with(reg, f"model:\n  name: m\n  options: [1, {{temperature: {number}}}]\n")
    assert _check_codes(reg) == [("model-number", V2)]
    proc = _cli(reg, "show", "hr", "1.1.0", "--json")
    assert proc.returncode == 1
    assert f"{V2}:12: model-number model.options.1.temperature:" in proc.stderr
    _runtime_refuses(reg, "model.options.1.temperature")


# -- escapes -------------------------------------------------------------------------------


@pytest.mark.parametrize("escape", ["\\0", "\\x01", "\\e", "\\u0007"])
def test_an_escaped_control_character_is_refused_like_a_raw_one(reg: Path, escape: str) -> None:
    text = version_yaml("hr", "1.1.0").replace(
        "content: |\n", f'content: "Hello{escape} {{context}} {{query}}"\nold: |\n'
    )
    write(reg, V2, text)
    assert ("yaml-character", V2) in _check_codes(reg)
    proc = _cli(reg, "show", "hr", "1.1.0")
    assert proc.returncode == 1 and f"{V2}:6:" in proc.stderr and "U+00" in proc.stderr


def test_an_escaped_tab_is_still_text(reg: Path) -> None:
    text = version_yaml("hr", "1.1.0").replace(
        "content: |\n", 'content: "Hello\\t\\u00e9 {context} {query}"\nold: |\n'
    )
    write(reg, V2, text.replace("old: |\n", "").split("  You are")[0] + "tested: false\n")
    proc = _cli(reg, "show", "hr", "1.1.0", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["content"] == "Hello\t\u00e9 {context} {query}"


# -- regexes and settings ------------------------------------------------------------------


def test_a_regex_nested_thirty_thousand_deep_is_refused(reg: Path) -> None:
    pattern = "(" * 30_000 + "a" + ")" * 30_000
    write(
        reg,
        "evals/hr.yaml",
        "prompt_id: hr\nthreshold: 0.5\ncases:\n  - name: a\n"
        "    vars: {context: x, query: y}\n"
        f'    assert:\n      - {{type: regex, value: "{pattern}"}}\n',
    )
    proc = _cli(reg, "check", "--all")
    assert proc.returncode == 1
    assert "evals/hr.yaml:7: schema cases[0].assert[0].value: regex '((((" in proc.stderr
    assert "nested too deeply" in proc.stderr and len(proc.stderr) < 1000
    proc = _cli(reg, "eval", "hr", "1.0.0", "--no-record")
    assert proc.returncode == 1 and "evals/hr.yaml:7:" in proc.stderr


def test_promote_from_in_a_circle_is_refused(reg: Path) -> None:
    write(
        reg,
        "promptreg.yaml",
        "environments:\n  development: {require_tested: false}\n"
        "  staging: {require_tested: false, promote_from: production}\n"
        "  production: {require_tested: false, promote_from: staging}\n",
    )
    proc = _cli(reg, "check", "--all")
    assert proc.returncode == 1
    assert (
        "promptreg.yaml:4: settings promote_from goes round in a circle"
        " (production -> staging -> production)" in proc.stderr
    )
    for args in (("status",), ("deploy", "hr", "1.0.0", "--env", "staging")):
        proc = _cli(reg, *args)
        assert proc.returncode == 1 and "goes round in a circle" in proc.stderr


# -- files named on the command line -------------------------------------------------------


def _untouched(repo: Path) -> None:
    assert git(repo, "status", "--porcelain") == ""


def test_var_from_a_binary_file_is_refused(reg: Path, tmp_path: Path) -> None:
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"ok\n\xff\xfe\x00\x01")
    proc = _cli(reg, "render", "hr", "--env", "production", f"--var=context=@{binary}")
    assert proc.returncode == 1
    assert f"{binary}:2: invalid UTF-8 (--var context=@FILE reads text)" in proc.stderr


@pytest.mark.parametrize("flag", ["--var", "--content-file"])
def test_a_device_or_fifo_is_refused_without_reading_it(
    reg: Path, tmp_path: Path, flag: str
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # nobody writes: reading it would block for ever
    for source, kind in (("/dev/zero", "a device"), (str(fifo), "a FIFO")):
        if flag == "--var":
            args = ("render", "hr", "--env", "production", f"--var=context=@{source}")
        else:
            args = ("new", "hr", "--bump", "patch", "-d", "x", flag, source)
        proc = _cli(reg, *args)
        assert proc.returncode == 1
        assert f"{source}: is {kind}, not a regular file" in proc.stderr
    _untouched(reg)


def test_a_content_file_over_the_limit_is_refused(reg: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("{query} " + "x" * 300_000)
    proc = _cli(reg, "new", "hr", "--bump", "patch", "-d", "x", "--content-file", str(big))
    assert proc.returncode == 1
    assert f"{big}: larger than 256 KiB, the limit of --content-file" in proc.stderr
    proc = _cli(reg, "render", "hr", "--env", "production", f"--var=context=@{big}")
    assert proc.returncode == 1 and "larger than 256 KiB" in proc.stderr
    _untouched(reg)


def test_a_content_file_with_a_nul_is_refused_before_writing(reg: Path, tmp_path: Path) -> None:
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"Line one\nHello\x00 {query}\n")
    proc = _cli(reg, "new", "hr", "--bump", "patch", "-d", "x", "--content-file", str(nul))
    assert proc.returncode == 1
    assert f"{nul}:2: holds the control character U+0000" in proc.stderr
    _untouched(reg)


# -- bytes that are not UTF-8 in argv (a real process: only it gets raw bytes) -----------


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        ((b"new", b"hr", b"--bump", b"patch", b"-d", b"caf\xe9"), "'-d' / '--description'"),
        (
            (b"deploy", b"hr", b"1.0.0", b"--env", b"staging", b"--reason", b"r\xff"),
            "'--reason'",
        ),
        (
            (b"deploy", b"hr", b"1.0.0", b"--env", b"staging", b"--by", b"D \xfe <d@e.com>"),
            "'--by'",
        ),
        ((b"render", b"hr", b"--env", b"production", b"--var", b"query=\xff"), "--var"),
    ],
)
def test_bytes_that_are_not_utf8_on_the_command_line_are_a_usage_error(
    reg: Path, args: tuple[bytes, ...], flag: str
) -> None:
    proc = subprocess.run(
        [os.fsencode(sys.executable), b"-m", b"registry", b"-C", os.fsencode(reg), *args],
        capture_output=True,
        timeout=120,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )
    err = proc.stderr.decode("utf-8")
    assert proc.returncode == 2, err
    assert "Traceback" not in err and flag in err and "not valid UTF-8" in err
    _untouched(reg)


def test_a_control_character_in_a_text_option_is_a_usage_error(reg: Path) -> None:
    proc = _cli(reg, "deploy", "hr", "1.0.0", "--env", "staging", "--reason", "ring\x07")
    assert proc.returncode == 2
    assert "'--reason': holds the control character U+0007" in proc.stderr
    _untouched(reg)
