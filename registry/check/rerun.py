"""The re-run of ``check --base --verify-evaluations``: each record's suite evaluated again in
the CI job, with the checkout's hooks and the base's ``trusted_modules``, never recording,
never writing into the registry and ignoring bytecode caches; a record the re-run does not
reproduce is ``evaluation-unverified`` (see verify.py for which records are re-run)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from registry.check.verify import UNVERIFIED, Record, few, suite_data
from registry.errors import RegistryError
from registry.models import Problem
from registry.paths import suite_path
from registry.view import RegistryView

if TYPE_CHECKING:
    from registry.evals.run import EvalResult

# Scores are rounded to 6 decimals; this only absorbs float noise at the tolerance's edge.
_EPSILON = 1e-9


def rerun_problems(
    root: Path, head_view: RegistryView, records: list[Record], trusted_modules: Sequence[str]
) -> list[Problem]:
    """Re-run the suite of each record with the checkout's hooks (HEAD's: a working tree that
    differs from HEAD is refused), importing besides registry files only the base's
    ``trusted_modules``, and compare the outcome with what the record says."""
    _require_head_checked_out(root)
    out: list[Problem] = []
    with _no_bytecode_cache():
        for r in records:
            out += _verify(root, head_view, r, trusted_modules)
    return out


def _verify(
    root: Path, head_view: RegistryView, r: Record, trusted_modules: Sequence[str]
) -> list[Problem]:
    path = suite_path(r.version.prompt_id)
    suite = suite_data(head_view, path)
    if suite is None:
        return [_unverified(r, f"there is no valid suite {path} at HEAD to re-run")]
    try:
        result = _evaluate(root, r, trusted_modules)
    except RegistryError as exc:
        return [_unverified(r, f"the re-run of {path} failed: {exc}")]
    tolerance = float(suite.get("tolerance", 0))
    recorded = r.version.evaluation_score
    if r.version.tested and not result.passed:
        why = f"the re-run of {path} scored {result.score}, below its threshold {result.threshold}"
    elif recorded is not None and abs(result.score - recorded) > tolerance + _EPSILON:
        why = (
            f"the re-run of {path} scored {result.score}, the record says {recorded}"
            f" (the suite's tolerance is {tolerance})"
        )
    else:
        return []
    return [_unverified(r, why)]


def _evaluate(root: Path, r: Record, trusted_modules: Sequence[str]) -> EvalResult:
    """The one call into the evaluation engine: a run that records nothing and asks the
    model again (a cached answer is what the record was made from, not evidence)."""
    from registry.evals.record import evaluate

    v = r.version
    return evaluate(
        root, v.prompt_id, v.version, record=False, trusted_modules=trusted_modules, cache=False
    )


def _unverified(r: Record, why: str) -> Problem:
    return Problem(
        UNVERIFIED,
        r.path,
        r.line,
        f"the evaluation record of {r.name} does not reproduce in CI: {why}; run"
        f" `promptreg eval {r.version.prompt_id} {r.version.version}` and commit its result",
    )


def _require_head_checked_out(root: Path) -> None:
    """The re-run imports hooks from the working tree, so it must be HEAD's."""
    from registry.gitio.run import run_git

    out = run_git(
        root, "status", "--porcelain", "-z", "--untracked-files=no", "--", ".", check=False
    )
    dirty = sorted(item[3:] for item in out.decode("utf-8", "surrogateescape").split("\0") if item)
    if dirty:
        raise RegistryError(
            f"--verify-evaluations re-runs suites with the code of the working tree, which"
            f" differs from HEAD ({few(dirty)}); commit or stash the changes first"
        )


@contextmanager
def _no_bytecode_cache() -> Iterator[None]:
    """Import hooks from their source only: a ``__pycache__`` committed next to a hook (an
    unchecked-hash .pyc is never compared with its source) must not stand in for the code a
    reviewer read. The prefix names a folder that cannot exist, so nothing is read or written
    there; the environment carries it to a child interpreter."""
    nowhere = os.path.join(os.devnull, "promptreg-no-bytecode")
    saved = (sys.pycache_prefix, sys.dont_write_bytecode)
    saved_env = {k: os.environ.get(k) for k in ("PYTHONPYCACHEPREFIX", "PYTHONDONTWRITEBYTECODE")}
    sys.pycache_prefix, sys.dont_write_bytecode = nowhere, True
    os.environ.update(PYTHONPYCACHEPREFIX=nowhere, PYTHONDONTWRITEBYTECODE="1")
    try:
        yield
    finally:
        sys.pycache_prefix, sys.dont_write_bytecode = saved
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
