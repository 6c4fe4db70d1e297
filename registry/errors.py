"""The one exception hierarchy of promptreg; the CLI maps ``exit_code`` to the process status."""

from __future__ import annotations

from collections.abc import Sequence


class RegistryError(Exception):
    """Base of every error promptreg raises on purpose; the message names what is wrong."""

    exit_code = 1


class LoadError(RegistryError):
    """Raised when a file cannot be read or parsed safely (YAML, encoding, size, structure)."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.bare_message = message
        where = path or "<input>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}")


class InvalidIdentifierError(RegistryError, ValueError):
    """Raised when a prompt id, environment name or version does not follow the grammar."""


class TemplateError(RegistryError, ValueError):
    """Raised when a template is malformed or rendered with a missing or ill-typed variable."""


class ValidationError(RegistryError, ValueError):
    """Raised when a file or record fails validation; ``problems`` lists every finding."""

    def __init__(self, message: str, problems: Sequence[object] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class NotFoundError(RegistryError, ValueError):
    """Raised when a prompt, version, suite or environment does not exist."""


class AlreadyExistsError(RegistryError, ValueError):
    """Raised when registering a version that already exists."""


class PolicyError(RegistryError, ValueError):
    """Raised when an environment's policy refuses a deploy or rollback."""


class EnvironmentNotConfiguredError(PolicyError):
    """Raised when an environment is not configured in promptreg.yaml."""


class IdentityError(RegistryError, ValueError):
    """Raised when no actor is given and git has no user.name / user.email."""


class GitError(RegistryError):
    """Raised when a git command fails or the repository cannot be read."""


class ShallowCloneError(GitError):
    """Raised when history is asked of a shallow clone, whose history is incomplete."""


class UnsupportedPlatformError(RegistryError, ValueError):
    """Raised when a write needs what the platform lacks (the POSIX file lock, fcntl)."""


class LockError(RegistryError):
    """Raised when the registry write lock cannot be taken in time."""


class EvaluationError(RegistryError):
    """Raised when an evaluation suite cannot be loaded or run."""
