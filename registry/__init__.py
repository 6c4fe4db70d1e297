"""promptreg: a git-backed prompt registry. ``from registry import PromptRegistry``."""

from registry.errors import (
    AlreadyExistsError,
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
from registry.registry import PromptRegistry

__version__ = "0.1.0"
# The name pip installs (``promptreg`` on PyPI is an unrelated project).
DISTRIBUTION = "promptreg-git"

__all__ = [
    "DISTRIBUTION",
    "AlreadyExistsError",
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
