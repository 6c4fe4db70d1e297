"""Frozen records passed around after validation: versions, deployments, settings, problems."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from registry.errors import TemplateError, ValidationError
from registry.template import Template

ROLES = ("system", "user", "assistant")
DEFAULT_ENVIRONMENTS = ("development", "staging", "production")


@dataclass(frozen=True)
class Problem:
    """One finding of a check: a stable code, where it is, and what to do. A ``"warning"`` is
    reported but does not fail the check; an ``"error"`` does."""

    code: str
    path: str
    line: int | None
    message: str
    # "error" fails the check; "warning" is reported but leaves the exit code alone.
    severity: str = "error"

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        label = "" if self.is_error else f"{self.severity}: "
        return f"{where}: {label}{self.code} {self.message}"

    @property
    def is_error(self) -> bool:
        """Whether this problem fails ``promptreg check``."""
        return self.severity == "error"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used by ``check --json``."""
        return {
            "code": self.code,
            "path": self.path,
            "line": self.line,
            "message": self.message,
            "severity": self.severity,
        }


@dataclass(frozen=True)
class Message:
    """One chat message of a ``messages`` prompt; ``content`` is a template."""

    role: str
    content: str


@dataclass(frozen=True)
class Evaluation:
    """The evaluation record that binds ``tested: true`` to one exact content and model."""

    suite: str
    threshold: float
    fingerprint: str
    evaluated_at: str
    evaluated_by: str
    # What answered: ``openai@host[:port]`` or a hook's ``module:function`` (None: the
    # rendered prompt itself was judged, or a record written before targets were named).
    target: str | None = None
    # The model name of the suite's judge, when an llm_rubric assertion called it.
    judge: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping in file order; ``target`` and ``judge`` only when set."""
        out: dict[str, Any] = {
            "suite": self.suite,
            "threshold": self.threshold,
            "fingerprint": self.fingerprint,
            "evaluated_at": self.evaluated_at,
            "evaluated_by": self.evaluated_by,
        }
        if self.target is not None:
            out["target"] = self.target
        if self.judge is not None:
            out["judge"] = self.judge
        return out


@dataclass(frozen=True)
class PromptVersion:
    """One immutable prompt version, ``prompts/<prompt_id>/<version>.yaml``.

    ``created_at`` is an RFC 3339 string; an aware ``datetime`` given when constructing one is
    turned into that string (a naive one raises ValidationError: its time zone is unknown).
    """

    prompt_id: str
    version: str
    content: str | None = None
    description: str = ""
    author: str = ""
    created_at: str = ""
    is_active: bool = False
    tested: bool = False
    evaluation_score: float | None = None
    messages: tuple[Message, ...] | None = None
    variables: tuple[str, ...] | None = None
    model: Mapping[str, Any] | None = field(default=None, hash=False)
    evaluation: Evaluation | None = None

    def __post_init__(self) -> None:
        # Accepted for the library's callers (`created_at=datetime.now(timezone.utc)`).
        created: object = self.created_at
        if isinstance(created, datetime):
            object.__setattr__(self, "created_at", rfc3339(created, "created_at"))

    @cached_property
    def _templates(self) -> tuple[Template, ...]:
        if self.messages is not None:
            return tuple(Template(m.content) for m in self.messages)
        return (Template(self.content or ""),)

    @property
    def fingerprint(self) -> str:
        """The fingerprint (``sha256-jcs:``) of prompt_id, content / messages and model;
        raises ValidationError when the model holds a number RFC 8785 cannot represent."""
        from registry.fingerprint import fingerprint  # hashlib and json: only when asked

        return fingerprint(self.prompt_id, self.content, self.messages, self.model)

    @property
    def is_tested(self) -> bool:
        """True only when ``tested`` is set and its recorded fingerprint matches this prompt's
        current content and model (in the current or the legacy ``sha256:`` format)."""
        from registry.fingerprint import matches

        e = self.evaluation
        return (
            self.tested
            and e is not None
            and matches(e.fingerprint, self.prompt_id, self.content, self.messages, self.model)
        )

    @property
    def fingerprint_outdated(self) -> bool:
        """True for a tested version whose record is in the legacy ``sha256:`` format."""
        from registry.fingerprint import is_legacy

        return (
            self.is_tested
            and self.evaluation is not None
            and is_legacy(self.evaluation.fingerprint)
        )

    @property
    def placeholders(self) -> tuple[str, ...]:
        """Placeholder names in order of first appearance across all templates."""
        seen: dict[str, None] = {}
        for t in self._templates:
            for name in t.fields:
                seen.setdefault(name, None)
        return tuple(seen)

    def render(self, /, **values: Any) -> Any:
        """Render with ``values``: a ``str`` for content prompts, a list of
        ``{"role", "content"}`` dicts for chat prompts. Values the template does not use are
        ignored, so a caller written for a later version of the same major still renders
        after a rollback; a missing one raises TemplateError naming it."""
        missing = [n for n in self.placeholders if n not in values]
        if missing:
            raise TemplateError(
                f"{self.prompt_id} {self.version}: missing variable(s) {', '.join(missing)}"
            )
        try:
            if self.messages is not None:
                return [
                    {"role": m.role, "content": t.render(values)}
                    for m, t in zip(self.messages, self._templates, strict=True)
                ]
            return self._templates[0].render(values)
        except TemplateError as exc:
            raise TemplateError(f"{self.prompt_id} {self.version}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``show --json`` / ``active --json``."""
        return {
            "prompt_id": self.prompt_id,
            "version": self.version,
            "description": self.description,
            "author": self.author,
            "created_at": self.created_at,
            "content": self.content,
            "messages": None
            if self.messages is None
            else [{"role": m.role, "content": m.content} for m in self.messages],
            "variables": list(self.variables) if self.variables is not None else None,
            "model": dict(self.model) if self.model is not None else None,
            "is_active": self.is_active,
            "tested": self.is_tested,
            "evaluation_score": self.evaluation_score,
            "evaluation": self.evaluation.to_dict() if self.evaluation else None,
        }


@dataclass(frozen=True)
class PromptDeployment:
    """One deployment pointer state or history event for (prompt, environment)."""

    prompt_id: str
    version: str | None
    environment: str
    deployed_at: str
    deployed_by: str
    previous_version: str | None = None
    action: str = "deploy"
    reason: str | None = None
    commit: str | None = None
    committed_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``history --json``."""
        return {
            "prompt_id": self.prompt_id,
            "environment": self.environment,
            "version": self.version,
            "previous_version": self.previous_version,
            "action": self.action,
            "deployed_by": self.deployed_by,
            "deployed_at": self.deployed_at,
            "reason": self.reason,
            "commit": self.commit,
            "committed_by": self.committed_by,
        }


@dataclass(frozen=True)
class EnvironmentPolicy:
    """What an environment accepts: tested versions, a minimum score, a promotion source and
    how long (``min_soak``, seconds) a version must have run there first."""

    name: str
    require_tested: bool = True
    min_score: float | None = None
    promote_from: str | None = None
    min_soak: int | None = None


@dataclass(frozen=True)
class Settings:
    """Registry settings from ``promptreg.yaml``; environments in promotion order."""

    environments: tuple[EnvironmentPolicy, ...] = tuple(
        EnvironmentPolicy(name) for name in DEFAULT_ENVIRONMENTS
    )
    # Modules (installed packages) suites may name as hooks, besides the registry's .py files.
    trusted_modules: tuple[str, ...] = ()

    def get(self, name: str) -> EnvironmentPolicy | None:
        """The policy of ``name``, or None when it is not configured."""
        for env in self.environments:
            if env.name == name:
                return env
        return None

    @property
    def names(self) -> tuple[str, ...]:
        """Configured environment names in promotion order."""
        return tuple(e.name for e in self.environments)


def rfc3339(when: datetime, name: str) -> str:
    """An aware ``when`` as an RFC 3339 UTC string (``2026-11-21T09:30:00Z``)."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValidationError(
            f"{name} {when.isoformat()} has no time zone; pass an aware datetime such as"
            " datetime.now(timezone.utc)"
        )
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
