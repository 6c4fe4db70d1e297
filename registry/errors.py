"""Every exception promptreg defines, each with the process status the CLI exits with.

``exit_code`` is read by the one handler at the CLI edge (``registry.cli.main``): 1 for a
refusal the message explains, 3 for an internal error (a bug to report). Usage errors (2) are
click's. An exception that is not a ``RegistryError`` is an internal error wherever it comes
from.
"""

from __future__ import annotations

from collections.abc import Sequence

# The process status of an unexpected exception: a bug, reported with the "please report" line.
EXIT_INTERNAL = 3


class RegistryError(Exception):
    """Base of every error promptreg raises on purpose; the message names what is wrong."""

    exit_code = 1


class LoadError(RegistryError):
    """Raised when a file cannot be read or parsed safely (YAML, encoding, size, structure)."""

    exit_code = 1

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.bare_message = message
        where = path or "<input>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}")


class YamlError(LoadError):
    """Raised when a YAML file is refused: unreadable, too large, malformed or a banned feature.

    ``code`` is a stable short code such as ``yaml-duplicate-key``; the message names the file and
    line, what is wrong and what to do.
    """

    exit_code = 1

    def __init__(
        self,
        message: str,
        path: str | None = None,
        line: int | None = None,
        *,
        code: str = "yaml-syntax",
    ) -> None:
        super().__init__(message, path, line)
        self.code = code


class YamlEditError(LoadError):
    """Raised when the evaluation fields cannot be set without changing anything else."""

    exit_code = 1


class InvalidIdentifierError(RegistryError, ValueError):
    """Raised when a prompt id, environment name or version does not follow the grammar."""

    exit_code = 1


class InvalidTimeError(RegistryError, ValueError):
    """Raised when a time is not an RFC 3339 timestamp with a zone, or is naive."""

    exit_code = 1


class TemplateError(RegistryError, ValueError):
    """Raised when a template is malformed or rendered with a missing or ill-typed variable."""

    exit_code = 1


class TemplateSyntaxError(TemplateError):
    """Raised when a template contains a placeholder or brace that is not allowed."""

    exit_code = 1

    def __init__(self, message: str, offset: int, line: int) -> None:
        super().__init__(message)
        self.offset = offset
        self.line = line  # 1-based line within the template text


class ValidationError(RegistryError, ValueError):
    """Raised when a file or record fails validation; ``problems`` lists every finding."""

    exit_code = 1

    def __init__(self, message: str, problems: Sequence[object] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class NotFoundError(RegistryError, ValueError):
    """Raised when a prompt, version, suite or environment does not exist."""

    exit_code = 1


class AlreadyExistsError(RegistryError, ValueError):
    """Raised when registering a version that already exists."""

    exit_code = 1


class VersionNotGivenError(RegistryError, ValueError):
    """Raised by ``next_version`` when its arguments name no new version: an existing prompt
    without a bump or a version, a bump for a prompt without versions, or both. The CLI
    reports it as a usage error of ``new``'s options (exit 2)."""

    exit_code = 1


class PolicyError(RegistryError, ValueError):
    """Raised when an environment's policy refuses a deploy or rollback."""

    exit_code = 1


class EnvironmentNotConfiguredError(PolicyError):
    """Raised when an environment is not configured in promptreg.yaml."""

    exit_code = 1


class IdentityError(RegistryError, ValueError):
    """Raised when no actor is given and git has no user.name / user.email."""

    exit_code = 1


class GitError(RegistryError):
    """Raised when a git command fails or the repository cannot be read."""

    exit_code = 1


class ShallowCloneError(GitError):
    """Raised when history is asked of a shallow clone, whose history is incomplete."""

    exit_code = 1


class UnsupportedPlatformError(RegistryError, ValueError):
    """Raised when a write needs what the platform lacks (the POSIX file lock, fcntl)."""

    exit_code = 1


class LockError(RegistryError):
    """Raised when the registry write lock cannot be taken in time."""

    exit_code = 1


class WriteError(RegistryError):
    """Raised when a file cannot be written (a full disk, a read-only filesystem, a folder in
    the way); the message names the file, and what was written before is put back."""

    exit_code = 1


class EvaluationError(RegistryError):
    """Raised when an evaluation suite cannot be loaded or run."""

    exit_code = 1


class ModelCallError(EvaluationError):
    """Raised when a model request fails after its retries: an error status, a timeout, a
    refused connection or a reply that is not a chat completion. The case loop turns it into
    a failed case. ``target`` is the endpoint's label (``openai@host``), ``status`` the last
    HTTP status (None when no reply came)."""

    exit_code = 1

    def __init__(self, target: str, reason: str, status: int | None = None) -> None:
        self.target = target
        self.reason = reason
        self.status = status
        super().__init__(f"{target}: {reason}")


class CaseError(EvaluationError):
    """Raised inside an evaluation when one case's output cannot be produced (its render, its
    target hook or its model request failed); the case loop records the message as that
    case's error and goes on with the next case."""

    exit_code = 1


class ProblemsReported(RegistryError):
    """Raised by a command that has already printed what it found (``check``, ``status``,
    ``list``, a failed ``eval``): the CLI exits 1 and prints nothing more."""

    exit_code = 1

    def __init__(self, message: str = "problems were reported") -> None:
        super().__init__(message)


class UnsupportedKeyword(ValueError):
    """A schema uses a keyword the runtime's schema interpreter does not apply: a defect of
    promptreg's own schemas, so an internal error."""

    exit_code = EXIT_INTERNAL
