"""Problems as GitHub Actions workflow commands (``::error file=...::message``), so that CI
shows each one on the pull request's diff."""

from __future__ import annotations

from typing import Literal

from registry.models import Problem

Level = Literal["error", "warning"]


def level_of(problem: Problem) -> Level:
    """``warning`` for advice that does not fail the check, else ``error``."""
    return "error" if problem.is_error else "warning"


def escape_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF are percent-encoded."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: as a message, plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(problem: Problem, level: Level | None = None) -> str:
    """One ``::error`` (or ``::warning``) line for ``problem``; ``file`` is the problem's path
    (relative to the registry root, which is the repository root in CI)."""
    props = [f"file={escape_property(problem.path)}"]
    if problem.line is not None:
        props.append(f"line={problem.line}")
    props.append(f"title={escape_property(problem.code)}")
    return f"::{level or level_of(problem)} {','.join(props)}::{escape_data(problem.message)}"
