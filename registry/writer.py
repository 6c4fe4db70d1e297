"""The write path: register a new version, and the steps every write shares (the actor, a
fresh view, the version it needs, the commit that finishes it)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from registry.encode import messages_of, now_rfc3339, version_document
from registry.errors import (
    AlreadyExistsError,
    NotFoundError,
    ValidationError,
)
from registry.fsio import Transaction, write_lock
from registry.gitio.commit import commit_paths, require_person, resolve_actor
from registry.models import Problem, PromptVersion
from registry.paths import version_path
from registry.schema.files import modeline_target
from registry.sources import DirSource
from registry.view import RegistryView
from registry.yamlio.dump import dump_yaml

if TYPE_CHECKING:
    pass


def finish(root: Path, tx: Transaction, commit: bool, message: str, author: str) -> str | None:
    if not commit:
        return None
    try:
        return commit_paths(root, tx.paths, message, author)
    except BaseException:
        tx.rollback()
        raise


def writer_actor(root: Path, given: str | None, commit: bool, flag: str = "--by") -> str:
    """Who makes the change; with a commit it must be ``Name <email>``."""
    actor = resolve_actor(root, given, flag)
    if commit:
        require_person(actor, flag)
    return actor


def _refuse_existing(root: Path, rel: str, v: PromptVersion) -> None:
    if (root / rel).exists() or (root / rel).is_symlink():
        raise AlreadyExistsError(
            f"{v.prompt_id} {v.version} already exists ({rel}); versions are immutable:"
            " choose a new version (promptreg new --bump patch)"
        )


def _refuse_evaluation_fields(v: PromptVersion) -> None:
    """A new version is untested; only a passing evaluation may say otherwise."""
    given = [
        name
        for name, unset in (
            ("tested", v.tested is False),
            ("evaluation_score", v.evaluation_score is None),
            ("evaluation", v.evaluation is None),
        )
        if not unset
    ]
    if given:
        raise ValidationError(
            f"{v.prompt_id} {v.version}: {', '.join(given)} cannot be given to register;"
            f" evaluation sets them (promptreg eval {v.prompt_id} {v.version}, or"
            " PromptRegistry.evaluate)"
        )


def register(root: Path, v: PromptVersion, *, commit: bool = False) -> PromptVersion:
    """Write a new version file; it is always untested. Raises AlreadyExistsError, and
    ValidationError when ``tested``, a score or an evaluation is given (evaluation sets them)."""
    from registry.decode import build_version
    from registry.schema.validate import schema_errors
    from registry.yamlio.load import load_yaml_bytes

    _refuse_evaluation_fields(v)
    if not isinstance(v.created_at, str):
        raise ValidationError(
            f"created_at must be an RFC 3339 string or an aware datetime, got {v.created_at!r}"
        )
    rel = version_path(v.prompt_id, v.version)
    _refuse_existing(root, rel, v)
    v = replace(
        v,
        is_active=False,
        messages=messages_of(v.messages),
    )
    if not v.created_at:
        v = replace(v, created_at=now_rfc3339())
    if not v.author:
        v = replace(v, author=resolve_actor(root, None, "--author"))
    if commit:
        require_person(v.author, "--author")
    text = dump_yaml(version_document(v), modeline_target("prompt-version", rel))
    # Verify the file as every reader and the check will see it before it reaches the disk.
    loaded = load_yaml_bytes(text.encode(), rel)
    built, problems = build_version(rel, loaded, (v.prompt_id, v.version))
    schema_problems = [
        Problem("schema", rel, loaded.line_of(p), m)
        for p, m in schema_errors("prompt-version", loaded.data)
    ]
    # The decoder repeats some schema rules (an empty template): say each once.
    problems = schema_problems + [
        p for p in problems
        if not any(s.line == p.line and s.message.endswith(p.message) for s in schema_problems)
    ]  # fmt: skip
    if problems or built is None:
        raise ValidationError(
            "refusing to write an invalid version: " + "; ".join(str(p) for p in problems), problems
        )
    with write_lock(root):
        _refuse_existing(root, rel, v)
        tx = Transaction(root)
        try:
            tx.write(rel, text.encode("utf-8"))
            finish(root, tx, commit, f"Add {v.prompt_id} {v.version}: {v.description}", v.author)
        except BaseException:
            tx.rollback()
            raise
    return built


def fresh_view(root: Path) -> RegistryView:
    return RegistryView(DirSource(root))


def require_version(view: RegistryView, prompt_id: str, version: str) -> PromptVersion:
    res = view.version_result(prompt_id, version)
    if res.record is None:
        if res.problems:
            raise ValidationError(
                f"{prompt_id} {version} is not valid: " + "; ".join(str(p) for p in res.problems),
                res.problems,
            )
        raise NotFoundError(
            f"{prompt_id} {version} not found ({version_path(prompt_id, version)} does not exist)"
        )
    assert isinstance(res.record, PromptVersion)
    return res.record
