"""PromptRegistry: the library facade over one registry checkout."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from registry.errors import NotFoundError, RegistryError
from registry.gitio.repo import find_root
from registry.ids import validate_environment, validate_prompt_id, validate_version
from registry.models import Problem, PromptDeployment, PromptVersion, Settings
from registry.serving import SnapshotServing, SourceMode
from registry.snapshot import Snapshot
from registry.sources import DirSource
from registry.view import RegistryView

if TYPE_CHECKING:
    from registry.catalog import DeployedVersion, NextVersion, PromptSummary
    from registry.evals.run import EvalResult
    from registry.ids import Bump
    from registry.status import DeploymentStatus

__all__ = ["PromptRegistry", "SourceMode", "find_root"]


class PromptRegistry(SnapshotServing):
    """A prompt registry read from a checked-out repository (or a plain directory).

    ``get_active`` is served from an in-memory snapshot: one git commit where a ``.git``
    exists, else the files. The snapshot is refreshed at most every ``refresh_interval``
    seconds when HEAD (or the files) change; a broken update keeps the last good snapshot
    serving and sets ``last_error``. ``source="files"`` reads the working tree instead of
    HEAD (what the CLI does, so uncommitted edits are seen).

    A path to a bundle file (``promptreg bundle``), or to a folder holding one, gives a
    ``registry.bundle.serve.BundleRegistry``, which serves ``get_active`` with the same
    promises.
    """

    def __new__(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        refresh_interval: float = 0.5,
        source: SourceMode = "auto",
    ) -> PromptRegistry:
        if cls is PromptRegistry and path is not None and source == "auto":
            from registry.bundle.read import names_bundle

            if names_bundle(path):
                from registry.bundle.serve import BundleRegistry

                return object.__new__(BundleRegistry)
        return object.__new__(cls)

    # -- reads -----------------------------------------------------------------------------------
    def get_active(self, prompt_id: str, environment: str) -> PromptVersion | None:
        """The version active in ``environment``, or None when nothing is deployed there."""
        return self._current().active(prompt_id, environment)

    def get_version(self, prompt_id: str, version: str) -> PromptVersion | None:
        """One version, or None when it does not exist."""
        validate_prompt_id(prompt_id)
        validate_version(version)
        snap = self._current()
        res = snap.view.version_result(prompt_id, version)
        if res.record is None and res.problems:
            raise RegistryError(str(res.problems[0]))
        v = res.record
        if not isinstance(v, PromptVersion):
            return None
        return self._mark_active(snap, v)

    def versions(self, prompt_id: str) -> list[PromptVersion]:
        """Every version of ``prompt_id`` in SemVer order."""
        validate_prompt_id(prompt_id)
        snap = self._current()
        out = []
        for ver in self._version_names(snap, prompt_id):
            v = snap.view.version(prompt_id, ver)
            if v is not None:
                out.append(self._mark_active(snap, v))
        return out

    def _version_names(self, snap: Snapshot, prompt_id: str) -> list[str]:
        return snap.view.version_index().get(prompt_id, [])

    def _mark_active(self, snap: Snapshot, v: PromptVersion) -> PromptVersion:
        from dataclasses import replace

        for env in snap.settings.names:
            ptr = snap.view.pointer(env, v.prompt_id)
            if ptr is not None and ptr.version == v.version:
                return replace(v, is_active=True)
        return v

    @property
    def settings(self) -> Settings:
        """The registry settings of the current snapshot."""
        return self._current().settings

    # -- the working tree now, for tools (registry.catalog, registry.status) ------------------
    def _working(self) -> RegistryView:
        return RegistryView(DirSource(self.root))

    def list_prompts(self) -> list[PromptSummary]:
        """Every prompt with versions: its versions in SemVer order and the version each
        configured environment points at, read from the working tree now."""
        from registry.catalog import prompt_summaries

        return prompt_summaries(self._working())

    def deployments(self, environment: str | None = None) -> list[DeploymentStatus]:
        """One record per pointer of the working tree (in ``environment``, or all) with its
        version, whether it is tested, and what is wrong with it (what ``status`` shows)."""
        from registry import status
        from registry.gitio.repo import is_work_tree
        from registry.history import Evidence

        evidence = Evidence(self.root, "HEAD") if is_work_tree(self.root) else None
        return status.status_rows(self._working(), environment, evidence)

    def deployment(self, prompt_id: str, environment: str) -> PromptDeployment | None:
        """The pointer of ``prompt_id`` in ``environment`` in the working tree; None when there
        is none or it cannot be read."""
        return self._working().pointer(
            validate_environment(environment), validate_prompt_id(prompt_id)
        )

    def read_version(self, prompt_id: str, version: str | None = None) -> PromptVersion:
        """``version`` (default: the latest) from the working tree, marked active when an
        environment points at it; raises NotFoundError or ValidationError naming the file."""
        from registry.catalog import find_version

        return find_version(self._working(), prompt_id, version)

    def active_environments(self, version: PromptVersion) -> list[str]:
        """The configured environments whose pointer in the working tree names ``version``."""
        from registry.catalog import active_environments

        return active_environments(self._working(), version)

    def deployed_version(self, prompt_id: str, environment: str) -> DeployedVersion | None:
        """The version the working tree points ``environment`` at, with its policy problems
        (None when nothing is deployed); raises when it cannot be read."""
        from registry.catalog import deployed_version

        return deployed_version(self._working(), prompt_id, environment)

    def next_version(
        self,
        prompt_id: str,
        *,
        bump: Bump | None = None,
        version: str | None = None,
        from_version: str | None = None,
    ) -> NextVersion:
        """The name of a new version (``version``, the latest bumped by ``bump``, or 1.0.0
        for a new prompt) and the version it copies (``from_version`` or the latest)."""
        from registry.catalog import next_version

        return next_version(self._working(), prompt_id, bump, version, from_version)

    def require_known(self, prompt_id: str, environment: str | None = None) -> None:
        """Raise NotFoundError for a prompt without files, pointer or history, and
        EnvironmentNotConfiguredError for an environment it never was in."""
        from registry.catalog import require_known

        validate_prompt_id(prompt_id)
        require_known(self._working(), self.root, prompt_id, environment)

    def version_warnings(self, prompt_id: str, version: str) -> list[Problem]:
        """The warnings ``check`` gives a version file: ``{{name}}`` placeholders that render
        literally, and placeholders added within a major version."""
        from registry.check.templates import breaking_variables, mustache_warnings
        from registry.paths import version_path

        path = version_path(validate_prompt_id(prompt_id), validate_version(version))
        view = self._working()
        found = mustache_warnings(view.version_result(prompt_id, version), path)
        return found + breaking_variables(view, {path})

    # -- history ---------------------------------------------------------------------------------
    def history(self, prompt_id: str, environment: str | None = None) -> list[PromptDeployment]:
        """Deployment events of ``prompt_id`` (in ``environment``, or all), oldest first."""
        from registry import history

        validate_prompt_id(prompt_id)
        if environment is not None:
            validate_environment(environment)
            return history.history(self.root, prompt_id, environment, (environment,))
        try:
            configured = self._current().settings.names
        except RegistryError:
            # History is what one reads when the current state is broken.
            configured = Settings().names
        # Configured environments in promotion order, then any retired one history knows.
        return history.history_everywhere(self.root, prompt_id, configured)

    def active_at(
        self, prompt_id: str, environment: str, when: datetime | str
    ) -> PromptVersion | None:
        """The version that was active in ``environment`` at ``when``, as it was then."""
        from registry import history

        validate_prompt_id(prompt_id)
        validate_environment(environment)
        if isinstance(when, str):
            when = history.parse_rfc3339(when)
        events = history.history(self.root, prompt_id, environment, (environment,))
        ev = history.active_at(events, when)
        if ev is None or ev.version is None or ev.commit is None:
            return None
        src_view = RegistryView(_git_source(self.root, ev.commit))
        try:
            res = src_view.version_result(prompt_id, ev.version)
        finally:
            src_view.source.close()
        if not isinstance(res.record, PromptVersion):
            why = "; ".join(str(p) for p in res.problems) or "its file does not exist there"
            raise NotFoundError(
                f"{environment} pointed at {prompt_id} {ev.version} at {when.isoformat()}"
                f" (commit {ev.commit[:12]}), but that version cannot be read: {why}"
            )
        return replace(res.record, is_active=True)

    # -- writes (registry.writer, registry.deploy, registry.evals.record) ----------------------
    def register(self, version: PromptVersion, *, commit: bool = False) -> PromptVersion:
        """Write a new version file; raises AlreadyExistsError when it exists."""
        from registry import writer

        return writer.register(self.root, version, commit=commit)

    def deploy(
        self,
        prompt_id: str,
        version: str,
        environment: str,
        deployed_by: str | None = None,
        *,
        reason: str | None = None,
        commit: bool = False,
    ) -> PromptDeployment:
        """Point ``environment`` at ``version`` after checking its policy."""
        from registry import deploy

        return deploy.deploy(
            self.root, prompt_id, version, environment, deployed_by, reason=reason, commit=commit
        )

    def rollback(
        self,
        prompt_id: str,
        environment: str,
        rolled_back_by: str | None = None,
        *,
        to: str | None = None,
        reason: str | None = None,
        commit: bool = False,
    ) -> PromptDeployment:
        """Re-point ``environment`` at its previous version (or ``to``)."""
        from registry import deploy

        return deploy.rollback(
            self.root, prompt_id, environment, rolled_back_by, to=to, reason=reason, commit=commit
        )

    def undeploy(
        self,
        prompt_id: str,
        environment: str,
        removed_by: str | None = None,
        *,
        reason: str,
        commit: bool = False,
    ) -> PromptDeployment:
        """Record that nothing is active in ``environment`` (a tombstone with ``reason``)."""
        from registry import deploy

        return deploy.undeploy(
            self.root, prompt_id, environment, removed_by, reason=reason, commit=commit
        )

    def evaluate(
        self,
        prompt_id: str,
        version: str,
        suite: str | None = None,
        *,
        record: bool = True,
        evaluated_by: str | None = None,
        commit: bool = False,
        progress: Any = None,
        cache: bool = True,
        jobs: int | None = None,
    ) -> EvalResult:
        """Run the evaluation suite, ``jobs`` cases at a time (default 8); on pass (and
        ``record``) mark the version tested. ``cache=False`` asks the model again instead of
        reading cached answers."""
        from registry.evals.record import evaluate
        from registry.evals.suite import DEFAULT_JOBS

        return evaluate(
            self.root, prompt_id, version, suite, record=record, evaluated_by=evaluated_by,
            commit=commit, progress=progress, cache=cache,
            jobs=DEFAULT_JOBS if jobs is None else jobs,
        )  # fmt: skip


def _git_source(root: Path, commit: str) -> Any:
    from registry.sources import GitSource

    return GitSource(root, commit)
