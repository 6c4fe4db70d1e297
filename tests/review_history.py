"""A pull-request-shaped history for ``promptreg review``: a base branch ``main`` and a branch
``feature`` of several commits, each a kind of change a reviewer must see."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from registry.fingerprint import fingerprint
from tests.testing import commit_all, git, init_repo, pointer_yaml, version_yaml, write

DANA = "Dana Reyes <dana@example.com>"
HOSTILE_REASON = (
    "fix | broken </details><script>alert(1)</script> [x](javascript:alert(1)) @octocat"
)
HOSTILE_BY = "Mallory <img src=x onerror=alert(1)> | <m@example.com>"
# A template that tries to leave its code fence and its <details>, and break a table.
HOSTILE_CONTENT = (
    "You are {tone}. Context: {context}\n"
    "```\n"
    "</details><script>alert(1)</script>\n"
    "| a | b |\n"
    "````` still inside\n"
    "<!-- promptreg-review -->\n"
)
MAIN_SETTINGS = (
    "environments:\n"
    "  development: {require_tested: false}\n"
    "  staging: {require_tested: true}\n"
    "  production: {require_tested: true, min_score: 0.8, promote_from: staging, min_soak: 1h}\n"
    "  sandbox: {require_tested: true}\n"
)
# staging gains a minimum score (stricter), sandbox stops requiring tests (relaxed).
FEATURE_SETTINGS = (
    "environments:\n"
    "  development: {require_tested: false}\n"
    "  staging: {require_tested: true, min_score: 0.9}\n"
    "  production: {require_tested: true, min_score: 0.8, promote_from: staging, min_soak: 1h}\n"
    "  sandbox: {require_tested: false}\n"
)
FAQ_SUITE = (
    "prompt_id: faq\n"
    "threshold: 0.8\n"
    "cases:\n"
    "  - name: greets\n"
    "    vars: {question: hi}\n"
    "    assert: [{type: contains, value: FAQ}]\n"
    "  - name: short\n"
    "    vars: {question: hi}\n"
    "    assert: [{type: max_length, value: 400}]\n"
)
FAQ_SUITE_AFTER = (
    "prompt_id: faq\n"
    "threshold: 0.7\n"
    "cases:\n"
    "  - name: greets\n"
    "    vars: {question: hi}\n"
    "    assert: [{type: contains, value: FAQ}]\n"
    "  - name: polite\n"
    "    vars: {question: thanks}\n"
    "    assert: [{type: contains, value: welcome}]\n"
)


def ago(**delta: float) -> str:
    """An RFC 3339 time ``delta`` before now (git accepts it as a date)."""
    return (datetime.now(UTC) - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def evaluated(pid: str, version: str, content: str, score: str, **extra: str) -> str:
    """A version file whose ``tested: true`` is backed by a matching fingerprint."""
    text = version_yaml(pid, version, content, **extra)
    return text.replace("tested: false\n", "tested: true\n") + (
        f"evaluation_score: {score}\n"
        "evaluation:\n"
        f"  suite: evals/{pid}.yaml\n"
        "  threshold: 0.5\n"
        f"  fingerprint: {fingerprint(pid, content, None, None)}\n"
        '  evaluated_at: "2026-11-20T11:00:00Z"\n'
        f"  evaluated_by: {DANA}\n"
    )


def _quoted(text: str) -> str:
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def pointer(pid: str, env: str, version: str | None, previous: str | None, **kw: str) -> str:
    """A pointer file; ``version`` None is an undeploy's tombstone."""
    if version is not None:
        text = pointer_yaml(pid, env, version, previous, kw.get("action", "deploy"))
        text = text.replace(f"deployed_by: {DANA}", f"deployed_by: {_quoted(kw.get('by', DANA))}")
    else:
        text = (
            f"prompt_id: {pid}\nenvironment: {env}\nversion: null\n"
            f'previous_version: "{previous}"\naction: remove\n'
            f"deployed_by: {_quoted(kw.get('by', DANA))}\n"
            'deployed_at: "2026-11-21T09:30:00Z"\n'
        )
    if "reason" in kw:
        text += f"reason: {_quoted(kw['reason'])}\n"
    return text


HR_V1 = "You are helpful. Context: {context}\nQuestion: {query}\n"
HR_V11 = "You are helpful and brief. Context: {context}\nQuestion: {query}\n"
# Shares the line "```" with HOSTILE_CONTENT: in the diff it is a context line, " ```", which
# would close a fence of three backticks.
HR_V12 = "You are helpful, brief and kind. Context: {context}\n```\nQuestion: {query}\n"
FAQ_V1 = "Answer from the FAQ: {question}\n"


def build_main(repo: Path) -> Path:
    """main: hr 1.0.0 and 1.1.0 and faq 1.0.0, all tested, and hr 1.2.0 untested; hr 1.1.0 in staging (for three
    days) and development (after 1.0.0), 1.0.0 in production; faq 1.0.0 in production."""
    init_repo(repo)
    write(repo, "promptreg.yaml", MAIN_SETTINGS)
    write(repo, "prompts/hr/1.0.0.yaml", evaluated("hr", "1.0.0", HR_V1, "0.9"))
    write(repo, "prompts/hr/1.1.0.yaml", evaluated("hr", "1.1.0", HR_V11, "0.85"))
    write(repo, "prompts/hr/1.2.0.yaml", version_yaml("hr", "1.2.0", HR_V12))
    write(repo, "prompts/faq/1.0.0.yaml", evaluated("faq", "1.0.0", FAQ_V1, "0.9"))
    write(repo, "evals/faq.yaml", FAQ_SUITE)
    for env in ("development", "staging", "production"):
        write(repo, f"deployments/{env}/hr.yaml", pointer("hr", env, "1.0.0", None))
    write(repo, "deployments/staging/faq.yaml", pointer("faq", "staging", "1.0.0", None))
    write(repo, "deployments/production/faq.yaml", pointer("faq", "production", "1.0.0", None))
    commit_all(repo, "release hr 1.0.0 and faq 1.0.0", date=ago(days=5))
    for env in ("development", "staging"):
        write(repo, f"deployments/{env}/hr.yaml", pointer("hr", env, "1.1.0", "1.0.0"))
    commit_all(repo, "hr 1.1.0 to development and staging", date=ago(days=3))
    return repo


def build_feature(repo: Path) -> Path:
    """feature, one commit per kind of change: hr 2.0.0 (adds {tone}, drops {query}; hostile
    text), its evaluation record and one of the released hr 1.2.0, hr 2.0.0 to staging and production (production has not
    soaked it: min-soak), development rolled back to 1.0.0, faq undeployed from production,
    the faq suite weakened, the policy changed."""
    git(repo, "checkout", "-q", "-b", "feature")
    v2 = version_yaml("hr", "2.0.0", HOSTILE_CONTENT, description="Tone | </details> @octocat")
    write(repo, "prompts/hr/2.0.0.yaml", v2)
    commit_all(repo, "hr 2.0.0")
    write(repo, "prompts/hr/2.0.0.yaml", evaluated("hr", "2.0.0", HOSTILE_CONTENT, "0.95",
                                                   description="Tone | </details> @octocat"))  # fmt: skip
    write(repo, "prompts/hr/1.2.0.yaml", evaluated("hr", "1.2.0", HR_V12, "0.88"))
    commit_all(repo, "record the evaluations of hr 2.0.0 and 1.2.0")
    for env in ("staging", "production"):
        previous = "1.1.0" if env == "staging" else "1.0.0"
        write(repo, f"deployments/{env}/hr.yaml", pointer("hr", env, "2.0.0", previous,
              by=HOSTILE_BY, reason=HOSTILE_REASON))  # fmt: skip
    commit_all(repo, "deploy hr 2.0.0 to staging and production")
    write(repo, "deployments/development/hr.yaml", pointer("hr", "development", "1.0.0", "1.1.0",
          action="rollback", reason="1.1.0 answers in French"))  # fmt: skip
    commit_all(repo, "roll development back")
    write(repo, "deployments/production/faq.yaml", pointer("faq", "production", None, "1.0.0",
          reason="retire the FAQ"))  # fmt: skip
    commit_all(repo, "undeploy faq from production")
    write(repo, "evals/faq.yaml", FAQ_SUITE_AFTER)
    commit_all(repo, "faq suite: lower threshold, replace a case")
    write(repo, "promptreg.yaml", FEATURE_SETTINGS)
    commit_all(repo, "policy: staging needs 0.9, sandbox no tests")
    return repo


README_SETTINGS = (
    "environments:\n"
    "  development: {require_tested: false}\n"
    "  staging: {require_tested: true}\n"
    "  production: {require_tested: true, min_score: 0.95, promote_from: staging}\n"
)
README_V1 = "You are an HR assistant. Context: {context}\nQuestion: {query}\n"
README_V2 = (
    "You are an HR assistant. Answer only from this context,\n"
    "and cite the policy section:\n{context}\nQuestion: {query}\n"
)


def build_readme_example(repo: Path) -> Path:
    """The change the README's review example shows, with pinned dates (so pinned commit ids):
    hr 1.1.0 recorded with 0.92, to staging, and to production, whose min_score is 0.95."""
    init_repo(repo)
    write(repo, "promptreg.yaml", README_SETTINGS)
    write(repo, "prompts/hr/1.0.0.yaml", evaluated("hr", "1.0.0", README_V1, "0.9"))
    for env in ("staging", "production"):
        write(repo, f"deployments/{env}/hr.yaml", pointer("hr", env, "1.0.0", None))
    commit_all(repo, "release hr 1.0.0", date="2026-11-20T10:00:00Z")
    git(repo, "checkout", "-q", "-b", "cite-policy")
    write(repo, "prompts/hr/1.1.0.yaml", evaluated("hr", "1.1.0", README_V2, "0.92",
                                                   description="Cite the policy section"))  # fmt: skip
    for env in ("staging", "production"):
        write(repo, f"deployments/{env}/hr.yaml", pointer("hr", env, "1.1.0", "1.0.0",
              reason="Roll out citations"))  # fmt: skip
    commit_all(repo, "hr 1.1.0: cite the policy section", date="2026-11-21T10:00:00Z")
    return repo
