"""Every git process starts here: run, repository discovery, refs, cat-file and commits."""
