"""``promptreg review``: what a commit range (a pull request) will do, read from the range
``check --base`` judges, as records rendered to Markdown for people and JSON for programs."""
