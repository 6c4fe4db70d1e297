"""Python assertions for the example evaluation suites (``type: python``)."""

import re


def no_unfilled_placeholders(output: str, variables: dict) -> bool:
    """True when rendering left no ``{name}`` placeholder behind."""
    return re.search(r"\{[A-Za-z_][A-Za-z0-9_]*\}", output) is None
