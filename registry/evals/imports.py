"""Resolving an evaluation suite's hooks: ``module:function`` references imported from the
registry root (or from ``trusted_modules``, see containment.py), and its regexes compiled,
all before any case runs. Used inside the evaluation child process."""

from __future__ import annotations

import importlib
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from registry.errors import EvaluationError
from registry.evals.containment import REF_RE, is_trusted, module_files, refusal
from registry.evals.suite import Suite

ASSERTION_TYPES = (
    "contains",
    "not_contains",
    "equals",
    "regex",
    "min_length",
    "max_length",
    "is_json",
    "llm_rubric",
    "python",
    "icontains",
    "starts_with",
    "contains_any",
    "contains_all",
    "json_schema",
    "latency_ms",
)
TEXT_TYPES = (
    "contains",
    "not_contains",
    "equals",
    "regex",
    "icontains",
    "starts_with",
    "llm_rubric",
)
LIST_TYPES = ("contains_any", "contains_all")
LENGTH_TYPES = ("min_length", "max_length")
Hook = Callable[..., Any]


def _from_root(module: object, name: str, root: Path) -> bool:
    """True when ``module`` was found through ``root`` itself (``root/<top>.py`` or
    ``root/<top>/``), not through a package installed somewhere below it, such as a venv."""
    top = name.partition(".")[0]
    places = [getattr(module, "__file__", None), *getattr(module, "__path__", [])]
    for place in places:
        if not isinstance(place, str):
            continue
        try:
            first = Path(place).resolve().relative_to(root).parts[0]
        except (OSError, ValueError, IndexError):
            continue
        if first == top or first.startswith(top + "."):
            return True
    return False


@contextmanager
def import_root(root: Path) -> Iterator[None]:
    """Make ``root`` importable for the run, then put ``sys.path`` back as it was.

    Modules imported from ``root`` are dropped from ``sys.modules`` afterwards, so the next
    run (another checkout, an edited hook) imports them afresh. Bytecode is not written, so
    evaluating never leaves ``__pycache__`` folders in the checkout.
    """
    resolved = root.resolve()
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    saved_bytecode = sys.dont_write_bytecode
    sys.path.insert(0, str(resolved))
    sys.dont_write_bytecode = True
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path[:] = saved_path
        sys.dont_write_bytecode = saved_bytecode
        for name in set(sys.modules) - saved_modules:
            if _from_root(sys.modules.get(name), name, resolved):
                del sys.modules[name]


def registry_file(root: Path, rel: str) -> bool:
    """Whether ``root/rel`` is a regular file with no symbolic link on the way."""
    cur = root
    mode = 0
    for part in rel.split("/"):
        cur = cur / part
        try:
            mode = os.lstat(cur).st_mode
        except OSError:
            return False
        if stat.S_ISLNK(mode):
            return False
    return stat.S_ISREG(mode)


def _resolve(ref: str, root: Path, trusted: Sequence[str]) -> Hook:
    """Import ``module:function`` if the containment rule allows it; raises ValueError with
    a readable reason."""
    m = REF_RE.fullmatch(ref)
    if m is None:
        raise ValueError("must look like 'module:function'")
    module_name, function = m.group("module"), m.group("function")
    why = refusal(ref, trusted, lambda rel: registry_file(root, rel))
    if why is not None:
        raise ValueError(why)
    try:
        module = importlib.import_module(module_name)
    except (Exception, SystemExit) as exc:
        raise ValueError(f"cannot import {module_name!r}: {describe_error(exc)}") from None
    if not is_trusted(module_name, trusted):
        expected = {(root / f).resolve() for f in module_files(module_name)}
        got = getattr(module, "__file__", None)
        if not isinstance(got, str) or Path(got).resolve() not in expected:
            raise ValueError(
                f"importing {module_name!r} gave {got or 'a module without a file'}, not the"
                " registry's file; rename the module"
            )
    if not hasattr(module, function):
        raise ValueError(f"module {module_name!r} has no attribute {function!r}")
    fn: Hook = getattr(module, function)
    if not callable(fn):
        raise ValueError(f"{ref} is not callable")
    return fn


def import_trusted(suite: Suite, trusted: Sequence[str]) -> None:
    """Import the trusted modules the suite names before the registry root is on
    ``sys.path``, so a registry file of the same name cannot stand in for one."""
    refs = [
        suite.target,
        *(a.value for c in suite.cases for a in c.assertions if a.type == "python"),
    ]
    for ref in refs:
        m = REF_RE.fullmatch(ref) if isinstance(ref, str) else None
        if m is not None and is_trusted(m.group("module"), trusted):
            with suppress(Exception, SystemExit):  # reported by prepare_hooks, in order
                importlib.import_module(m.group("module"))


def _texts(value: object) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)


def _positive_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and value > 0


def describe_error(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _where(suite: Suite, line: int | None) -> str:
    return suite.path if line is None else f"{suite.path}:{line}"


def prepare_hooks(
    suite: Suite, root: Path, trusted: Sequence[str]
) -> tuple[Hook | None, dict[str, Hook], dict[str, re.Pattern[str]]]:
    """Resolve every hook (within the containment rule) and compile every regex once, before
    any case runs; a suite built by hand (not by load_suite) gets its values checked too."""
    problems: list[str] = []
    target = None
    if suite.target is not None:
        try:
            target = _resolve(suite.target, root, trusted)
        except ValueError as exc:
            problems.append(f"{_where(suite, suite.target_line)}: target {suite.target!r}: {exc}")
    hooks: dict[str, Hook] = {}
    patterns: dict[str, re.Pattern[str]] = {}
    for case in suite.cases:
        for a in case.assertions:
            where = _where(suite, a.line)
            if a.type not in ASSERTION_TYPES:
                problems.append(f"{where}: unknown assertion type {a.type!r}")
            elif a.type in TEXT_TYPES and not isinstance(a.value, str):
                problems.append(f"{where}: a {a.type} assertion needs a string value")
            elif a.type in LIST_TYPES and not _texts(a.value):
                problems.append(f"{where}: a {a.type} assertion needs a list of strings")
            elif a.type == "latency_ms" and not _positive_number(a.value):
                problems.append(f"{where}: a latency_ms assertion needs a number above 0")
            elif a.type == "json_schema" and not isinstance(a.value, dict | bool):
                problems.append(f"{where}: a json_schema assertion needs a JSON Schema mapping")
            elif a.type in LENGTH_TYPES and (
                isinstance(a.value, bool) or not isinstance(a.value, int)
            ):
                problems.append(f"{where}: a {a.type} assertion needs a whole number")
            elif a.type == "python" and a.value not in hooks:
                try:
                    hooks[a.value] = _resolve(str(a.value), root, trusted)
                except ValueError as exc:
                    problems.append(f"{where}: python assertion {a.value!r}: {exc}")
            elif a.type == "regex" and a.value not in patterns:
                try:
                    patterns[a.value] = re.compile(a.value)
                except re.error as exc:
                    problems.append(f"{where}: regex {a.value!r} does not compile: {exc}")
    if problems:
        raise EvaluationError("\n".join(dict.fromkeys(problems)))
    return target, hooks, patterns
