"""promptreg check: the rules (rules), which state to check (run) and CI annotations (annotations)."""
