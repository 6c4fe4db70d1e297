"""BundleRegistry: ``PromptRegistry(path)`` on a bundle file or a folder holding one.

The hot-path promises of a checkout hold: the bundle is read and verified once, served from
memory, and looked at again at most every ``refresh_interval`` seconds (one ``stat``, and a
``listdir`` for a folder, on a background thread while requests keep the bundle they have:
registry.refresh); a replaced file is verified whole before it is swapped in, so a
read never mixes two bundles, and a broken, truncated or foreign bundle keeps the last good
one serving and sets ``last_error``. A bundle holds one environment's active versions and
nothing else, so every other call raises a RegistryError saying what it needs.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from registry.bundle.document import Bundle
from registry.bundle.read import LoadedBundle, bundle_file, file_token, load_bundle
from registry.errors import EnvironmentNotConfiguredError, RegistryError, ValidationError
from registry.ids import validate_environment, validate_prompt_id
from registry.models import PromptVersion, Settings
from registry.refresh import Refresher
from registry.registry import PromptRegistry

if TYPE_CHECKING:
    from registry.serving import SourceMode

log = logging.getLogger("promptreg")


def _not_served(what: str) -> Callable[..., Any]:
    def method(self: BundleRegistry, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse(what)

    method.__doc__ = f"Not served by a bundle: raises RegistryError ({what})."
    return method


class BundleRegistry(PromptRegistry):
    """A registry served from one bundle (``promptreg bundle``): ``get_active`` for the
    bundle's environment; another environment raises EnvironmentNotConfiguredError."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        refresh_interval: float = 0.5,
        source: SourceMode = "auto",
    ) -> None:
        if path is None:
            raise RegistryError("a bundle registry needs the path of its bundle")
        self._path = Path(os.path.abspath(path))
        self.refresh_interval = refresh_interval
        self.last_error: str | None = None
        self._loaded: LoadedBundle | None = None
        self._rejected: object = None
        self._next_check = 0.0
        self._refresher = Refresher(f"promptreg-reload {self._path}")
        self._closed = False
        # Loaded now: an application learns at start-up that its bundle is broken.
        self._refresher.run(self._reload_locked)

    # -- what a bundle serves ----------------------------------------------------------------
    def get_active(self, prompt_id: str, environment: str) -> PromptVersion | None:
        """The version active in ``environment``, or None when nothing is deployed there."""
        b = self._served()
        if environment == b.environment:
            found = b.prompts.get(prompt_id)
            if found is not None:
                return found
        validate_prompt_id(prompt_id)
        validate_environment(environment)
        if environment != b.environment:
            raise EnvironmentNotConfiguredError(
                f"environment {environment!r} is not configured; configured: {b.environment}"
                f" (bundle {self._path})"
            )
        return None

    @property
    def bundle(self) -> Bundle:
        """The bundle being served: its environment, commit, committed_at, sha256, prompts."""
        return self._served()

    @property
    def snapshot_id(self) -> str | None:
        """The commit the served bundle was built from (None once closed)."""
        loaded = self._loaded
        return None if loaded is None else loaded.bundle.commit

    # A bundle has no folder of registry files: whatever would read or write one refuses.
    @property
    def root(self) -> Path:
        """Refused: a bundle has no registry root."""
        self._refuse("reading or writing registry files")

    @root.setter
    def root(self, value: Path) -> None:
        self._refuse("a registry root")

    @property
    def settings(self) -> Settings:
        """Refused: a bundle holds no settings."""
        self._refuse("the settings in promptreg.yaml")

    get_version = _not_served("get_version")
    versions = _not_served("versions")
    list_prompts = _not_served("list_prompts")
    deployments = _not_served("deployments")
    deployment = _not_served("deployment")
    read_version = _not_served("read_version")
    active_environments = _not_served("active_environments")
    deployed_version = _not_served("deployed_version")
    next_version = _not_served("next_version")
    require_known = _not_served("require_known")
    version_warnings = _not_served("version_warnings")
    history = _not_served("history")
    active_at = _not_served("active_at")
    register = _not_served("register")
    deploy = _not_served("deploy")
    rollback = _not_served("rollback")
    undeploy = _not_served("undeploy")
    evaluate = _not_served("evaluate")

    def _refuse(self, what: str) -> NoReturn:
        raise RegistryError(
            f"{what}: {self._path} is a bundle, which serves get_active only; deploy,"
            " register, history and the other reads and writes need a registry checkout"
        )

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        """Drop the bundle (after a reload in progress); later reads raise RegistryError."""
        self._closed = True
        self._refresher.join()
        self._loaded = None

    def reload(self) -> bool:
        """Check for a new bundle now; True when a different one was swapped in."""
        if self._closed:
            raise RegistryError("this PromptRegistry is closed")
        return self._refresher.run(self._reload_locked)

    def _served(self) -> Bundle:
        loaded = self._loaded
        if loaded is not None and time.monotonic() >= self._next_check and not self._closed:
            # Stale-while-revalidate: the look and any load run on a background thread.
            self._next_check = time.monotonic() + self.refresh_interval
            self._refresher.start(self._reload_locked)
        if loaded is None:
            raise RegistryError("this PromptRegistry is closed")
        return loaded.bundle

    def _reload_locked(self) -> bool:
        prev = self._loaded
        self._next_check = time.monotonic() + self.refresh_interval
        token: object = None
        try:
            token = _where(self._path)
            if prev is not None and (token == (prev.path, prev.token) or token == self._rejected):
                return False
            loaded = load_bundle(self._path)
            if prev is not None and loaded.bundle.environment != prev.bundle.environment:
                raise ValidationError(
                    f"{loaded.path} is a bundle of {loaded.bundle.environment}; this registry"
                    f" serves {prev.bundle.environment}"
                )
        except Exception as exc:
            if self._closed:
                return False
            if prev is None:
                if isinstance(exc, OSError):
                    raise RegistryError(f"{self._path}: the bundle cannot be read: {exc}") from exc
                raise
            # Whatever is wrong with the new file, requests keep the last good bundle.
            message = (
                f"update rejected: {exc}"
                if isinstance(exc, RegistryError)
                else (f"update rejected: {exc!r}")
            )
            if self.last_error != message:
                log.warning("promptreg: keeping bundle %s: %s", prev.bundle.commit, message)
            self.last_error = message
            self._rejected = token
            return False
        if self._closed:
            return False
        self._loaded = loaded
        self._rejected = None
        self.last_error = None
        return prev is None or loaded.bundle.sha256 != prev.bundle.sha256


def _where(given: Path) -> tuple[Path, object]:
    """The bundle file ``given`` names now and what it looks like."""
    path = bundle_file(given)
    return path, file_token(path)
