"""Bundles: one environment's active prompts at one commit, in one verifiable JSON file
(``document``), built by ``promptreg bundle`` (``build``), found and read (``read``) and served
by ``PromptRegistry(path)`` (``serve``)."""
