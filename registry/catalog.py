"""What the checkout's files hold now, for tools: the prompts with their versions and where
each is active, one version by name, the version a deployment serves, the next version's
name. Every call reads the working tree afresh (uncommitted edits included), as the CLI does."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from registry.errors import (
    AlreadyExistsError,
    EnvironmentNotConfiguredError,
    NotFoundError,
    RegistryError,
    ValidationError,
    VersionNotGivenError,
)
from registry.ids import Bump, SemVer, validate_environment, validate_prompt_id, validate_version
from registry.models import Problem, PromptDeployment, PromptVersion, Settings
from registry.policy import Candidate, judge
from registry.sources import DirSource
from registry.view import RegistryView

FIRST_VERSION = "1.0.0"


@dataclass(frozen=True)
class PromptSummary:
    """One row of ``promptreg list``: a prompt, its versions in SemVer order, and the version
    each configured environment points at (None for a pointer that cannot be read, whose
    problems are in ``problems``)."""

    prompt_id: str
    versions: tuple[str, ...]
    active: tuple[tuple[str, str | None], ...]
    problems: tuple[Problem, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The ``list --json`` form (the problems go to stderr, not into the JSON)."""
        return {
            "prompt_id": self.prompt_id,
            "versions": list(self.versions),
            "active": dict(self.active),
        }


@dataclass(frozen=True)
class DeployedVersion:
    """The version a pointer of the working tree names, with what is wrong with serving it:
    the environment's policy and the file's own problems, as messages."""

    version: PromptVersion
    problems: tuple[str, ...]


@dataclass(frozen=True)
class NextVersion:
    """The name of a new version and the version it copies (None for a new prompt)."""

    version: str
    base: PromptVersion | None


def working_view(root: Path) -> RegistryView:
    """A fresh view of the working tree under ``root``."""
    return RegistryView(DirSource(root))


def prompt_summaries(view: RegistryView) -> list[PromptSummary]:
    """Every prompt with versions, in prompt id order; raises ValidationError for broken
    settings (which environments there are is unknown then)."""
    envs = view.checked_settings().names
    out: list[PromptSummary] = []
    for pid, versions in view.version_index().items():
        active: list[tuple[str, str | None]] = []
        broken: list[Problem] = []
        for env in envs:
            res = view.pointer_result(env, pid)
            if isinstance(res.record, PromptDeployment):
                if res.record.version is not None:  # a tombstone (removed) is active nowhere
                    active.append((env, res.record.version))
            elif res.problems:
                active.append((env, None))
                broken += res.problems
        out.append(PromptSummary(pid, tuple(versions), tuple(active), tuple(broken)))
    return out


def find_version(view: RegistryView, prompt_id: str, version: str | None) -> PromptVersion:
    """``version`` of ``prompt_id`` (the latest when None), marked active when an environment
    points at it; raises NotFoundError when absent and ValidationError when it does not load."""
    validate_prompt_id(prompt_id)
    versions = view.version_index().get(prompt_id)
    if not versions:
        raise NotFoundError(f"prompt {prompt_id!r} not found (no files under prompts/{prompt_id}/)")
    if version is None:
        version = versions[-1]
    validate_version(version)
    res = view.version_result(prompt_id, version)
    if res.problems and res.record is None:
        raise ValidationError("\n".join(str(p) for p in res.problems), res.problems)
    if not isinstance(res.record, PromptVersion):
        raise NotFoundError(f"{prompt_id} {version} not found; versions: {', '.join(versions)}")
    v = res.record
    return replace(v, is_active=True) if active_environments(view, v) else v


def active_environments(view: RegistryView, v: PromptVersion) -> list[str]:
    """The configured environments whose pointer names ``v``, in promotion order."""
    return [
        env
        for env in view.settings().names
        if (p := view.pointer(env, v.prompt_id)) is not None and p.version == v.version
    ]


def deployed_version(
    view: RegistryView, prompt_id: str, environment: str
) -> DeployedVersion | None:
    """The version ``environment`` points ``prompt_id`` at (None when nothing is deployed),
    with its policy problems; raises when the environment is not configured or the pointer
    or its version cannot be read."""
    validate_prompt_id(prompt_id)
    validate_environment(environment)
    settings = view.checked_settings()
    policy = settings.get(environment)
    if policy is None:
        raise EnvironmentNotConfiguredError(
            f"environment {environment!r} is not configured; configured: {', '.join(settings.names)}"
        )
    res = view.pointer_result(environment, prompt_id)
    if res.problems:
        raise ValidationError("\n".join(str(p) for p in res.problems), res.problems)
    ptr = res.record
    if not isinstance(ptr, PromptDeployment) or ptr.version is None:
        return None
    vres = view.version_result(prompt_id, ptr.version)
    if not isinstance(vres.record, PromptVersion):
        why = "\n".join(str(p) for p in vres.problems) or (
            f"{ptr.version} does not exist (prompts/{prompt_id}/{ptr.version}.yaml)"
        )
        raise ValidationError(
            f"{environment} points {prompt_id} at {ptr.version}, which cannot be read:\n{why}",
            vres.problems,
        )
    v = replace(vres.record, is_active=True)
    # What is deployed is judged as a state: promote_from is a rule about the change.
    problems = [p.message for p in judge(Candidate(v, environment, policy, promotion=None))]
    problems += [str(p) for p in vres.problems]
    return DeployedVersion(v, tuple(problems))


def require_known(view: RegistryView, root: Path, prompt_id: str, environment: str | None) -> None:
    """Refuse a prompt the registry has never heard of, and an environment that is neither
    configured, nor holds a pointer, nor appears in the prompt's history (a retired
    environment stays valid). Asks git only for the history."""
    from registry.gitio.log import environments_in_history

    pointers = view.pointer_index()
    try:
        names = view.settings().names
    except RegistryError:
        names = Settings().names
    in_history = environments_in_history(root, prompt_id, configured=names)
    known = prompt_id in view.version_index() or any(pid == prompt_id for _, pid in pointers)
    if not known and not in_history:
        raise NotFoundError(
            f"prompt {prompt_id!r} not found: no files under prompts/{prompt_id}/, no pointer"
            " and no deployment history"
        )
    if environment is None:
        return
    configured = view.settings().names
    if (
        environment in configured
        or environment in in_history
        or any(env == environment for env, _ in pointers)
    ):
        return
    raise EnvironmentNotConfiguredError(
        f"environment {environment!r} is not configured and never held a pointer of"
        f" {prompt_id}; configured: {', '.join(configured)}"
    )


def next_version(
    view: RegistryView,
    prompt_id: str,
    bump: Bump | None = None,
    version: str | None = None,
    from_version: str | None = None,
) -> NextVersion:
    """The name of the next version of ``prompt_id`` and the version it copies.

    The name is ``version`` when given, else the latest version bumped by ``bump`` (a
    pre-release bumps to its release), else ``1.0.0`` for a prompt without versions. The base
    is ``from_version`` when given, else the latest version. Raises VersionNotGivenError when
    neither names a version (an existing prompt without ``bump`` or ``version``, ``bump`` for
    a new prompt, or both), AlreadyExistsError when the bump lands on an existing version,
    NotFoundError for a missing ``from_version``."""
    validate_prompt_id(prompt_id)
    if bump is not None and version is not None:
        raise VersionNotGivenError("give --bump or --version, not both")
    existing = view.version_index().get(prompt_id, [])
    base = _base_version(view, prompt_id, from_version, existing)
    return NextVersion(_new_version_name(prompt_id, bump, version, existing), base)


def _base_version(
    view: RegistryView, prompt_id: str, from_version: str | None, existing: list[str]
) -> PromptVersion | None:
    """The version a new one copies: ``from_version``, else the latest, else None."""
    if from_version is not None:
        validate_version(from_version)
        base = view.version(prompt_id, from_version)
        if base is None:
            raise NotFoundError(f"--from {prompt_id} {from_version} not found")
        return base
    if not existing:
        return None
    base = view.version(prompt_id, existing[-1])
    if base is None:
        raise RegistryError(
            f"the latest version {prompt_id} {existing[-1]} does not load; use --from"
        )
    return base


def _new_version_name(
    prompt_id: str, bump: Bump | None, version: str | None, existing: list[str]
) -> str:
    if version is not None:
        return validate_version(version)
    if bump is None:
        if existing:
            raise VersionNotGivenError("give --bump major|minor|patch or --version V")
        return FIRST_VERSION
    if not existing:
        raise VersionNotGivenError(
            f"{prompt_id} has no versions yet: use --version (or none for 1.0.0)"
        )
    computed = str(SemVer.parse(existing[-1]).bump(bump))
    if computed in existing:
        raise AlreadyExistsError(
            f"--bump {bump} from {prompt_id} {existing[-1]} gives {computed}, which already"
            f" exists (prompts/{prompt_id}/{computed}.yaml); give the version with --version"
        )
    return computed
