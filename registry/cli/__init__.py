"""The promptreg command line, the only package that imports click: ``app`` holds the group
and the one error handler, one module per command family."""

from registry.cli.app import main

__all__ = ["main"]
