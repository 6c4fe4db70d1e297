"""Python assertions for the example evaluation suites (``type: python``)."""

import re


def no_unfilled_placeholders(output: str, case: dict) -> bool:
    """True when rendering left no ``{name}`` placeholder behind (``case`` has the case's
    ``name`` and ``vars``)."""
    return re.search(r"\{[A-Za-z_][A-Za-z0-9_]*\}", output) is None
