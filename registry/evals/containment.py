"""Which code a suite may call: the one rule that ``check`` applies to the suite file and
the evaluation child applies again before it imports anything.

A ``target`` or ``python`` hook ``module:function`` is allowed when ``module`` is

- a ``.py`` file inside the registry: ``a/b.py`` or ``a/b/__init__.py`` for ``a.b``, a
  regular file (no symbolic link on the way), whose top-level name is not a standard-library
  module (that name would import the interpreter's module, not the file); or
- listed in ``trusted_modules`` of ``promptreg.yaml`` (a listed name covers its submodules);
  ``check --base`` reads that list from the base branch, never from the change.

So ``target: builtins:exec`` and ``python: os:system`` are refused (``untrusted-hook``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

CODE = "untrusted-hook"
REF_RE = re.compile(
    r"(?P<module>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
    r":(?P<function>[A-Za-z_][A-Za-z0-9_]*)",
    re.ASCII,
)
_RESERVED = frozenset(sys.stdlib_module_names) | frozenset(sys.builtin_module_names)


def module_files(module: str) -> list[str]:
    """The registry paths (posix, relative to the root) that can hold ``module``."""
    stem = module.replace(".", "/")
    return [f"{stem}.py", f"{stem}/__init__.py"]


def is_trusted(module: str, trusted: Sequence[str]) -> bool:
    """Whether ``module`` is a listed trusted module or a submodule of one."""
    return any(module == t or module.startswith(t + ".") for t in trusted)


def refusal(ref: str, trusted: Sequence[str], is_file: Callable[[str], bool]) -> str | None:
    """Why ``ref`` may not be called (None when it may); ``is_file(path)`` says whether the
    registry holds a regular file at ``path``. A ref that is not ``module:function`` at all
    is left to the schema (check) or the import step (eval)."""
    m = REF_RE.fullmatch(ref)
    if m is None:
        return None
    module = m.group("module")
    if is_trusted(module, trusted):
        return None
    top = module.partition(".")[0]
    if top in _RESERVED:
        return (
            f"{module} is a standard-library module, not a file of the registry; suites may"
            " call only the registry's own .py files and the modules listed in trusted_modules"
            " of promptreg.yaml (on the base branch)"
        )
    files = module_files(module)
    if any(is_file(f) for f in files):
        return None
    return (
        f"{module} is neither a .py file in the registry ({' or '.join(files)}) nor listed in"
        " trusted_modules of promptreg.yaml (on the base branch)"
    )


def hook_refs(data: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    """(path in the suite file, label, ref) of every hook of a schema-valid suite mapping."""
    target = data.get("target")
    if isinstance(target, str):
        yield ("target",), "target", target
    cases = data.get("cases")
    for i, case in enumerate(cases if isinstance(cases, list) else []):
        items = case.get("assert") if isinstance(case, dict) else None
        for j, item in enumerate(items if isinstance(items, list) else []):
            value = item.get("value") if isinstance(item, dict) else None
            if item.get("type") == "python" and isinstance(value, str):
                yield ("cases", i, "assert", j, "value"), "python assertion", value
    defaults = data.get("default_assert")
    for j, item in enumerate(defaults if isinstance(defaults, list) else []):
        value = item.get("value") if isinstance(item, dict) else None
        if item.get("type") == "python" and isinstance(value, str):
            yield ("default_assert", j, "value"), "python assertion", value
