"""Evaluation suites: load and validate a suite (suite), resolve its Python targets (imports) and run it (run)."""
