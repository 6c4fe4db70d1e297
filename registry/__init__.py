"""promptreg: a git-backed prompt registry. ``from registry import PromptRegistry``."""

from typing import TYPE_CHECKING, Any

from registry.errors import (
    AlreadyExistsError,
    CaseError,
    EnvironmentNotConfiguredError,
    EvaluationError,
    GitError,
    IdentityError,
    InvalidIdentifierError,
    InvalidTimeError,
    LoadError,
    LockError,
    ModelCallError,
    NotFoundError,
    PolicyError,
    ProblemsReported,
    RegistryError,
    ShallowCloneError,
    TemplateError,
    TemplateSyntaxError,
    UnsupportedKeyword,
    UnsupportedPlatformError,
    ValidationError,
    VersionNotGivenError,
    WriteError,
    YamlEditError,
    YamlError,
)
from registry.models import Evaluation, Message, PromptDeployment, PromptVersion

if TYPE_CHECKING:
    from registry.registry import PromptRegistry

__version__ = "0.1.0"
# The name pip installs (``promptreg`` on PyPI is an unrelated project).
DISTRIBUTION = "promptreg-git"

__all__ = [
    "DISTRIBUTION",
    "AlreadyExistsError",
    "CaseError",
    "EnvironmentNotConfiguredError",
    "Evaluation",
    "EvaluationError",
    "GitError",
    "IdentityError",
    "InvalidIdentifierError",
    "InvalidTimeError",
    "LoadError",
    "LockError",
    "Message",
    "ModelCallError",
    "NotFoundError",
    "PolicyError",
    "ProblemsReported",
    "PromptDeployment",
    "PromptRegistry",
    "PromptVersion",
    "RegistryError",
    "ShallowCloneError",
    "TemplateError",
    "TemplateSyntaxError",
    "UnsupportedKeyword",
    "UnsupportedPlatformError",
    "ValidationError",
    "VersionNotGivenError",
    "WriteError",
    "YamlEditError",
    "YamlError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    """``PromptRegistry`` is imported on first use: the command line (``--version``, the
    pre-commit hook's ``check --staged``) does not need the serving and snapshot machinery."""
    if name == "PromptRegistry":
        from registry.registry import PromptRegistry

        return PromptRegistry
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
