"""``promptreg eval``: run a version's suite and record a pass in its file (``tested``, the
score and the evaluation), under the write lock, optionally as one commit."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from registry.errors import (
    EvaluationError,
    NotFoundError,
    PolicyError,
    RegistryError,
)
from registry.fsio import Transaction, write_lock
from registry.ids import validate_prompt_id, validate_version
from registry.paths import suite_path, version_path

if TYPE_CHECKING:
    from registry.evals.run import EvalResult
    from registry.evals.suite import Suite
from registry.encode import now_rfc3339
from registry.evals.suite import DEFAULT_JOBS
from registry.writer import finish, fresh_view, require_version, writer_actor


def _require_committed_suite(root: Path, prompt_id: str, version: str, rel_suite: str) -> None:
    """With --commit, ``tested`` is recorded against the suite as HEAD has it, so a suite
    that exists only in the working tree (or differs from HEAD) is refused."""
    from registry.gitio.commit import uncommitted

    dirty = uncommitted(root, [rel_suite])
    if dirty:
        raise PolicyError(
            f"cannot commit the evaluation of {prompt_id} {version}: the suite"
            f" {', '.join(dirty)} has uncommitted changes that the result depends on;"
            " commit the suite first (or run eval without --commit)"
        )


_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*", re.ASCII)


def _hook_files(root: Path, suite: Suite) -> list[str]:
    """The registry's own files that the suite's ``module:function`` hooks import: the
    module's file (or package) and the packages around it."""
    refs = [suite.target] if suite.target else []
    refs += [a.value for c in suite.cases for a in c.assertions if a.type == "python"]
    files: set[str] = set()
    for ref in refs:
        module = ref.split(":", 1)[0] if isinstance(ref, str) else ""
        if not _MODULE.fullmatch(module):
            continue  # not a module name: the run refuses it with its own message
        parts = module.split(".")
        for i in range(1, len(parts) + 1):
            stem = "/".join(parts[:i])
            candidates = [f"{stem}/__init__.py"] + ([f"{stem}.py"] if i == len(parts) else [])
            files.update(c for c in candidates if (root / c).is_file())
    return sorted(files)


def _require_committed_hooks(root: Path, prompt_id: str, version: str, suite: Suite) -> None:
    """With --commit, the hooks a suite calls from the registry must be committed too: a
    clone must be able to re-run the evaluation the commit records."""
    from registry.gitio.commit import uncommitted

    files = _hook_files(root, suite)
    dirty = uncommitted(root, files) if files else []
    if dirty:
        raise PolicyError(
            f"cannot commit the evaluation of {prompt_id} {version}: {suite.path} calls code in"
            f" {', '.join(dirty)}, which has uncommitted changes; commit it first (or run eval"
            " without --commit)"
        )


def record_target(suite: Suite) -> str | None:
    """What the record names as the target: ``openai@host[:port]`` (the base URL as the run
    resolves it, ``$OPENAI_BASE_URL`` included), a hook's ``module:function``, or None when
    the rendered prompt itself is judged. Raises EvaluationError for an unusable config."""
    from registry.evals.providers.config import decode_config

    endpoint = suite.model_target
    if endpoint is None:
        return suite.target
    where = suite.path if endpoint.line is None else f"{suite.path}:{endpoint.line}"
    return decode_config(endpoint.to_dict(), timeout=suite.timeout, where=where).label


def record_judge(suite: Suite) -> str | None:
    """The judge model the record names: the suite's ``judge.model``, when an llm_rubric
    assertion called it."""
    return suite.judge.model if suite.judge is not None and suite.uses_rubric else None


def _inside(root: Path, suite: str) -> str:
    """``suite`` (relative to ``root``, or absolute) as a path inside the registry, refused
    like ``check`` refuses a file outside it: evaluation runs only the registry's suites."""
    import os

    given = Path(suite)
    full = Path(os.path.normpath(given if given.is_absolute() else root.absolute() / given))
    try:
        rel = full.relative_to(os.path.normpath(root.absolute()))
        real = full.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        raise PolicyError(
            f"suite {suite} is not inside the registry {root}; keep suites in the registry"
            " (evals/) so that check validates them"
        ) from None
    if not rel.parts or real != rel:
        raise PolicyError(
            f"suite {suite} is not a file of the registry {root} (a symbolic link, or the"
            " root itself); keep suites as regular files under evals/"
        )
    return rel.as_posix()


def _data_reader(root: Path) -> Callable[[str], bytes | None]:
    """How the suite's ``cases_file`` is read: from the working tree, no symlink on the way."""
    from registry.evals.datafile import MAX_DATA_BYTES
    from registry.sources import DirSource

    source = DirSource(root)
    return lambda rel: source.read_data(rel, MAX_DATA_BYTES)


def evaluate(
    root: Path, prompt_id: str, version: str, suite: str | None = None, *,
    record: bool = True, evaluated_by: str | None = None, commit: bool = False,
    progress: Callable[[int, int], None] | None = None,
    trusted_modules: Sequence[str] | None = None, cache: bool = True,
    jobs: int = DEFAULT_JOBS,
) -> EvalResult:  # fmt: skip
    """Run the suite against the version; on pass (and ``record``) write the evaluation.
    Hooks may import the ``trusted_modules`` (None: the list in ``root``'s own settings; the
    CI re-run passes the base's, never the pull request's). ``cache=False`` asks the model
    again instead of reading the response cache (``eval --no-cache``, the CI re-run)."""
    from registry.evals.run import run_suite
    from registry.evals.suite import load_suite
    from registry.models import Evaluation
    from registry.yamlio.edit import set_evaluation_fields

    validate_prompt_id(prompt_id)
    validate_version(version)
    actor = writer_actor(root, evaluated_by, commit) if record else ""
    view = fresh_view(root)
    v = require_version(view, prompt_id, version)
    fingerprint = v.fingerprint  # refuses a model RFC 8785 cannot represent, before any run
    rel_suite = _inside(root, suite) if suite is not None else suite_path(prompt_id)
    suite_file = root / rel_suite
    if not suite_file.is_file():
        raise NotFoundError(
            f"evaluation suite {rel_suite} not found; create it or pass --suite FILE"
        )
    if commit and record:
        _require_committed_suite(root, prompt_id, version, rel_suite)
    loaded_suite = load_suite(suite_file, rel_suite, _data_reader(root))
    if commit and record:
        _require_committed_hooks(root, prompt_id, version, loaded_suite)
        if loaded_suite.cases_file is not None:
            _require_committed_suite(root, prompt_id, version, loaded_suite.cases_file)
    if loaded_suite.prompt_id != prompt_id:
        raise EvaluationError(
            f"{rel_suite}: the suite is for {loaded_suite.prompt_id!r}, not {prompt_id!r}"
        )
    target = record_target(loaded_suite)  # before the run: an unusable base URL stops it
    result = run_suite(
        v,
        loaded_suite,
        root,
        progress,
        trusted_modules=trusted_modules,
        cache=cache,
        jobs=jobs,
    )
    if not (result.passed and record):
        return result
    rel = version_path(prompt_id, version)
    with write_lock(root):
        path = root / rel
        text = path.read_bytes().decode("utf-8")
        current = require_version(fresh_view(root), prompt_id, version)
        if current.fingerprint != fingerprint:
            raise RegistryError(f"{rel} changed while it was being evaluated; run eval again")
        evaluation = Evaluation(
            suite=rel_suite,
            threshold=result.threshold,
            fingerprint=fingerprint,
            evaluated_at=now_rfc3339(),
            evaluated_by=actor,
            target=target,
            judge=record_judge(loaded_suite),
        )
        new_text = set_evaluation_fields(text, True, result.score, evaluation.to_dict(), rel)
        tx = Transaction(root)
        try:
            tx.write(rel, new_text.encode("utf-8"))
            finish(
                root, tx, commit,
                f"Evaluate {prompt_id} {version}: score {result.score:.3f} >= {result.threshold}",
                actor,
            )  # fmt: skip
        except BaseException:
            tx.rollback()
            raise
    return result
