"""On a platform without ``fcntl`` reads keep working and writes fail with a clear error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.testing import LENIENT_SETTINGS, commit_all, pointer_yaml, version_yaml, write

# Python's own way to make an import fail: a None entry in sys.modules.
NO_FCNTL = "import sys; sys.modules['fcntl'] = None\n"


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", NO_FCNTL + code], cwd=cwd,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


@pytest.fixture
def registry(repo: Path) -> Path:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, "prompts/greet/1.0.0.yaml", version_yaml("greet", "1.0.0"))
    write(repo, "deployments/production/greet.yaml", pointer_yaml("greet", "production", "1.0.0"))
    commit_all(repo, "registry")
    return repo


def test_import_and_reads_work_without_fcntl(registry: Path) -> None:
    r = _python(
        "import registry\n"
        "from registry import PromptRegistry\n"
        "from registry.cli import main\n"
        "with PromptRegistry('.') as reg:\n"
        "    print(reg.get_active('greet', 'production').version)\n"
        "sys.exit(main(['list']) or main(['status']) or main(['check', '--all']))\n",
        registry,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("1.0.0\n") and "greet" in r.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["deploy", "greet", "1.0.0", "--env", "staging", "--by", "Dana"],
        ["new", "greet", "--bump", "patch", "-d", "x", "--author", "Dana"],
    ],
    ids=["deploy", "new"],
)
def test_writes_fail_clearly_without_fcntl(registry: Path, args: list[str]) -> None:
    r = _python(f"from registry.cli import main\nsys.exit(main({args!r}))\n", registry)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    assert "needs the POSIX file lock (fcntl)" in r.stderr and "Linux and macOS" in r.stderr
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                            cwd=registry, capture_output=True, text=True, check=True)  # fmt: skip
    assert status.stdout == ""


def test_the_library_raises_a_registry_error(registry: Path) -> None:
    r = _python(
        "from registry import PromptRegistry, RegistryError\n"
        "try:\n"
        "    PromptRegistry('.').deploy('greet', '1.0.0', 'staging', 'Dana')\n"
        "except RegistryError as exc:\n"
        "    print(type(exc).__name__, exc)\n",
        registry,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("UnsupportedPlatformError writing to a registry needs")


def test_library_writes_raise_a_value_error_without_fcntl(registry: Path) -> None:
    """SPEC: the library's write errors are RegistryErrors that are also ValueErrors."""
    r = _python(
        "from registry import PromptRegistry, PromptVersion\n"
        "from registry.errors import RegistryError\n"
        "reg = PromptRegistry('.')\n"
        "calls = {\n"
        "    'register': lambda: reg.register(PromptVersion(prompt_id='greet', version='1.1.0',\n"
        "        content='Hi {query}', description='x', author='Dana <d@example.com>')),\n"
        "    'deploy': lambda: reg.deploy('greet', '1.0.0', 'staging', 'Dana <d@example.com>'),\n"
        "    'rollback': lambda: reg.rollback('greet', 'production', 'Dana <d@example.com>',\n"
        "        to='1.0.0'),\n"
        "}\n"
        "for name, call in calls.items():\n"
        "    try:\n"
        "        call()\n"
        "    except ValueError as exc:\n"
        "        assert isinstance(exc, RegistryError), name\n"
        "        assert 'fcntl' in str(exc), (name, str(exc))\n"
        "        print(name, 'ValueError')\n"
        "    else:\n"
        "        print(name, 'no error')\n",
        registry,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n") == [
        "register ValueError", "deploy ValueError", "rollback ValueError", ""
    ], r.stdout  # fmt: skip
