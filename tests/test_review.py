"""``promptreg review`` on a pull-request-shaped history (tests/review_history.py): the JSON
field by field, the Markdown parsed as GitHub would (markdown-it-py, tables on), hostile
pull-request text kept literal, the size limit, and the exit codes of ``check --base``."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from registry.review.escape import WORD_JOINER
from registry.review.fit import MAX_CHARS
from registry.review.markdown import MARKER
from tests.review_history import (
    DANA,
    HOSTILE_BY,
    HOSTILE_CONTENT,
    HOSTILE_REASON,
    ago,
    build_feature,
    build_main,
    pointer,
)
from tests.testing import commit_all, git, run_cli, version_yaml, write

MD = MarkdownIt("commonmark", {"html": True}).enable("table")


@dataclass(frozen=True)
class PR:
    repo: Path
    json_run: subprocess.CompletedProcess[str]
    md_run: subprocess.CompletedProcess[str]
    check_run: subprocess.CompletedProcess[str]

    @property
    def data(self) -> dict[str, Any]:
        data = json.loads(self.json_run.stdout)
        assert isinstance(data, dict)
        return data

    def move(self, env: str, pid: str) -> dict[str, Any]:
        (found,) = [
            m for m in self.data["moves"] if (m["environment"], m["prompt_id"]) == (env, pid)
        ]
        assert isinstance(found, dict)
        return found


def _review(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = run_cli("-C", str(repo), "review", *args)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture(scope="module")
def pr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PR]:
    """The history built once, its review and check run once (with a pinned git identity, as
    the function-scoped conftest fixture pins it for each test)."""
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n[commit]\n\tgpgsign = false\n"
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        mp.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        repo = build_feature(build_main(tmp_path_factory.mktemp("pr") / "repo"))
        yield PR(
            repo,
            _review(repo, "--base", "main", "--format", "json"),
            _review(repo, "--base", "main"),
            run_cli("-C", str(repo), "check", "--base", "main", "--json"),
        )


# -- JSON ------------------------------------------------------------------------------------


def test_review_exits_as_check_base_does(pr: PR) -> None:
    assert pr.check_run.returncode == 1
    assert pr.json_run.returncode == pr.md_run.returncode == 1
    assert pr.json_run.stderr == pr.md_run.stderr == ""


def test_review_problems_are_exactly_the_checks(pr: PR) -> None:
    assert pr.data["problems"] == json.loads(pr.check_run.stdout)
    assert [(p["code"], p["path"], p["severity"]) for p in pr.data["problems"]] == [
        ("min-soak", "deployments/production/hr.yaml", "error"),
        ("policy-relaxed", "promptreg.yaml", "warning"),
    ]
    assert (pr.data["passed"], pr.data["errors"], pr.data["warnings"]) == (False, 1, 1)


def test_review_json_names_the_range(pr: PR) -> None:
    d = pr.data
    assert d["format"] == 1 and d["base"] == "main"
    assert d["base_commit"] == git(pr.repo, "rev-parse", "main").strip()
    assert d["merge_base"] == d["base_commit"]  # main has not moved since the branch left it
    assert d["head_commit"] == git(pr.repo, "rev-parse", "HEAD").strip()
    assert d["other_files"] == []


def test_review_lists_every_moved_pointer_in_promotion_order(pr: PR) -> None:
    assert [
        (m["environment"], m["prompt_id"], m["from"], m["to"], m["action"])
        for m in pr.data["moves"]
    ] == [
        ("development", "hr", "1.1.0", "1.0.0", "rollback"),
        ("staging", "hr", "1.1.0", "2.0.0", "deploy"),
        ("production", "faq", "1.0.0", None, "remove"),
        ("production", "hr", "1.0.0", "2.0.0", "deploy"),
    ]


def test_review_rollback(pr: PR) -> None:
    m = pr.move("development", "hr")
    assert m["path"] == "deployments/development/hr.yaml"
    assert (m["deployed_by"], m["reason"], m["deleted"]) == (DANA, "1.1.0 answers in French", False)
    assert m["deployed_at"] == "2026-11-21T09:30:00Z"
    gate = m["gate"]
    assert (gate["passed"], gate["tested"], gate["score"], gate["problems"]) == (
        True,
        True,
        0.9,
        [],
    )
    (policy,) = gate["policies"]
    assert policy == {
        "of": "change", "require_tested": False, "min_score": None, "promote_from": None,
        "min_soak_seconds": None, "source_version": None, "returning": False,
        "source_since": None, "soaked_seconds": None, "failed": [],
    }  # fmt: skip


def test_review_judges_a_move_under_the_changes_policy_and_the_bases(pr: PR) -> None:
    m = pr.move("staging", "hr")
    assert (m["deployed_by"], m["reason"]) == (HOSTILE_BY, HOSTILE_REASON)
    gate = m["gate"]
    assert (gate["passed"], gate["tested"], gate["score"]) == (True, True, 0.95)
    change, base = gate["policies"]
    assert (change["of"], change["min_score"], change["failed"]) == ("change", 0.9, [])
    assert (base["of"], base["min_score"], base["failed"]) == ("base", None, [])


def test_review_shows_the_soak_the_move_lacks(pr: PR) -> None:
    gate = pr.move("production", "hr")["gate"]
    assert gate["passed"] is False
    (policy,) = gate["policies"]  # the base's production policy is the change's
    assert policy["of"] == "change"
    assert (policy["min_score"], policy["promote_from"], policy["min_soak_seconds"]) == (
        0.8,
        "staging",
        3600,
    )
    # Staging runs 2.0.0 at HEAD, but not in the base's history: promoted, not soaked.
    assert (policy["source_version"], policy["returning"]) == ("2.0.0", False)
    assert (policy["source_since"], policy["soaked_seconds"]) == (None, None)
    assert policy["failed"] == ["min-soak"]
    assert [p["code"] for p in gate["problems"]] == ["min-soak"]
    assert gate["problems"] == [p for p in pr.data["problems"] if p["code"] == "min-soak"]


def test_review_undeploy_is_a_removal(pr: PR) -> None:
    m = pr.move("production", "faq")
    assert (m["from"], m["to"], m["action"], m["deleted"]) == ("1.0.0", None, "remove", False)
    assert (m["reason"], m["deployed_by"]) == ("retire the FAQ", DANA)
    assert m["gate"] == {"passed": True, "tested": None, "score": None, "policies": [],
                         "problems": []}  # fmt: skip


def test_review_new_version_against_the_one_before_it(pr: PR) -> None:
    (v,) = pr.data["versions"]
    assert (v["prompt_id"], v["version"], v["path"]) == ("hr", "2.0.0", "prompts/hr/2.0.0.yaml")
    assert v["from"] == "1.2.0"  # the version before it in SemVer order, released on main
    assert (v["description"], v["author"], v["kind"]) == (
        "Tone | </details> @octocat",
        DANA,
        "content",
    )
    assert (v["tested"], v["evaluation_score"], v["model"]) == (True, 0.95, None)
    assert (v["variables_added"], v["variables_dropped"]) == (["tone"], ["query"])
    assert v["diff"] == (
        "--- hr/1.2.0\n+++ hr/2.0.0\n@@ -1,3 +1,6 @@\n"
        "-You are helpful, brief and kind. Context: {context}\n"
        "+You are {tone}. Context: {context}\n"
        " ```\n"
        "-Question: {query}\n" + "".join(f"+{line}\n" for line in HOSTILE_CONTENT.splitlines()[2:])
    )


def test_review_evaluation_record_of_a_released_version(pr: PR) -> None:
    assert pr.data["evaluations"] == [
        {
            "prompt_id": "hr",
            "version": "1.2.0",
            "path": "prompts/hr/1.2.0.yaml",
            "tested": True,
            "evaluation_score": 0.88,
            "before": {"tested": False, "evaluation_score": None},
            "evaluated_by": DANA,
        }
    ]


def test_review_suite_change(pr: PR) -> None:
    assert pr.data["suites"] == [
        {
            "prompt_id": "faq",
            "path": "evals/faq.yaml",
            "status": "changed",
            "threshold": {"before": 0.8, "after": 0.7},
            "tolerance": {"before": 0, "after": 0},
            "cases_added": ["polite"],
            "cases_removed": ["short"],
            "cases_changed": [],
            "weakened": ["threshold lowered from 0.8 to 0.7", 'case "short" removed'],
        }
    ]


def test_review_policy_change(pr: PR) -> None:
    policy = pr.data["policy"]
    assert policy["broken"] is False
    names = ["development", "staging", "production", "sandbox"]
    assert policy["order"] == {"before": names, "after": names}
    assert policy["trusted_modules"] == {"before": [], "after": []}
    plain = {"require_tested": True, "min_score": None, "promote_from": None,
             "min_soak_seconds": None}  # fmt: skip
    assert policy["environments"] == [
        {"environment": "staging", "before": plain, "after": {**plain, "min_score": 0.9},
         "relaxed": []},
        {"environment": "sandbox", "before": plain, "after": {**plain, "require_tested": False},
         "relaxed": ["require_tested true -> false"]},
    ]  # fmt: skip


# -- Markdown --------------------------------------------------------------------------------


def _text(inline: Token) -> str:
    """The text a reader sees in an inline token (code spans included)."""
    return "".join(c.content for c in inline.children or [] if c.type != "html_inline")


def _tables(tokens: list[Token]) -> list[list[list[str]]]:
    """Every table as rows (header first) of cell texts."""
    tables: list[list[list[str]]] = []
    for i, t in enumerate(tokens):
        if t.type == "table_open":
            tables.append([])
        elif t.type == "tr_open":
            tables[-1].append([])
        elif t.type == "inline" and tokens[i - 1].type in ("th_open", "td_open"):
            tables[-1][-1].append(_text(t))
    return tables


def _literal(text: str) -> str:
    """What a cell shows for pull-request text: the text, its mentions defused."""
    return text.replace(" @", " @" + WORD_JOINER)


def test_markdown_starts_with_the_marker_and_the_verdict(pr: PR) -> None:
    out = pr.md_run.stdout
    assert out.startswith(MARKER + "\n")
    assert out.count(MARKER) == 1 + HOSTILE_CONTENT.count(MARKER)  # the other is in a diff
    tokens = MD.parse(out)
    assert (tokens[0].type, tokens[0].content) == ("html_block", MARKER + "\n")
    heading = [_text(tokens[i + 1]) for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert heading[0] == "promptreg review"
    assert heading[1:] == ["Problems", "Pointer moves", "development", "staging", "production",
                           "New versions", "Evaluation records of released versions",
                           "Evaluation suites", "Policy (promptreg.yaml)"]  # fmt: skip
    first = next(t for t in tokens if t.type == "inline" and "promptreg check --base" in _text(t))
    assert _text(first) == "\u274c promptreg check --base fails: 1 error(s), 1 warning(s)"
    since = next(t for t in tokens if t.type == "inline" and _text(t).startswith("Since "))
    assert _text(since) == (
        f"Since main (merge base {pr.data['merge_base'][:12]}), at {pr.data['head_commit'][:12]}:"
        " 4 pointer change(s), 1 new version(s), 1 evaluation record(s) of released versions,"
        " 1 suite change(s), 1 settings change."
    )


def test_markdown_summary_table_first(pr: PR) -> None:
    tokens = MD.parse(pr.md_run.stdout)
    first_table = next(i for i, t in enumerate(tokens) if t.type == "table_open")
    assert not any(t.type == "heading_open" and t.tag == "h3" for t in tokens[:first_table])
    summary = _tables(tokens)[0]
    by, reason = _literal(HOSTILE_BY), _literal(HOSTILE_REASON)
    assert summary == [
        ["environment", "prompt", "from", "to", "action", "deployed by", "reason", "gate"],
        ["development", "hr", "1.1.0", "1.0.0", "rollback", DANA, "1.1.0 answers in French",
         "\u2705 passes"],
        ["staging", "hr", "1.1.0", "2.0.0", "deploy", by, reason, "\u2705 passes"],
        ["production", "faq", "1.0.0", "\u2014", "remove", DANA, "retire the FAQ",
         "\u2705 passes"],
        ["production", "hr", "1.0.0", "2.0.0", "deploy", by, reason, "\u274c min-soak"],
    ]  # fmt: skip


def test_markdown_tables_of_each_section(pr: PR) -> None:
    tables = _tables(MD.parse(pr.md_run.stdout))
    problems, versions, evaluations, suites, policy = tables[1:]
    assert [row[:3] for row in problems] == [
        ["severity", "code", "where"],
        ["\u274c error", "min-soak", "deployments/production/hr.yaml:3"],
        ["\u26a0\ufe0f warning", "policy-relaxed", "promptreg.yaml:5"],
    ]
    assert versions[1] == ["hr", "2.0.0", "1.2.0", "+tone, \u2212query", "0.95", "\u2705 yes",
                           _literal("Tone | </details> @octocat")]  # fmt: skip
    assert evaluations[1] == ["hr", "1.2.0", "\u2705 yes", "0.88", "untested, score \u2014", DANA]
    assert suites[1] == ["evals/faq.yaml", "changed", "0.8 \u2192 0.7", "0 \u2192 0", "polite",
                         "short", "\u2014",
                         'threshold lowered from 0.8 to 0.7; case "short" removed']  # fmt: skip
    assert [row[0] for row in policy] == ["environment", "staging", "sandbox"]
    assert policy[2][3] == "\u26a0\ufe0f require_tested true -> false"


def test_markdown_diffs_sit_in_details_blocks(pr: PR) -> None:
    tokens = MD.parse(pr.md_run.stdout)
    html = [t.content for t in tokens if t.type == "html_block"]
    assert html == [
        MARKER + "\n",
        "<details><summary>hr 2.0.0 (against 1.2.0): +5 \u22122 line(s)</summary>\n",
        "</details>\n",
    ]
    (fence,) = [t for t in tokens if t.type == "fence"]
    assert fence.info == "diff"
    (v,) = json.loads(pr.json_run.stdout)["versions"]
    assert fence.content == v["diff"]  # the whole diff, and nothing after it, is code


def test_markdown_hostile_text_cannot_break_out(pr: PR) -> None:
    out = pr.md_run.stdout
    tokens = MD.parse(out)
    # No HTML but promptreg's own: the marker, one <details> and its </details>.
    assert not [c for t in tokens for c in t.children or [] if c.type == "html_inline"]
    assert len([t for t in tokens if t.type == "html_block"]) == 3
    rendered = MD.render(out)
    for tag in ("<script", "<img", "</details><script", 'href="javascript'):
        assert tag not in rendered
    assert rendered.count("<details>") == rendered.count("</details>\n") == 1
    assert "&lt;/details&gt;&lt;script&gt;" in rendered  # shown, as text
    # Every row of every table has as many cells as its header: no | escaped a cell.
    for table in _tables(tokens):
        assert {len(row) for row in table} == {len(table[0])}
    # An @-mention in pull-request text notifies nobody.
    assert "@octocat" not in "".join(_text(t) for t in tokens if t.type == "inline")


# -- the size limit --------------------------------------------------------------------------


def test_markdown_stays_within_githubs_comment_limit(repo: Path) -> None:
    build_main(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    big = "".join(f"Line {i} of a long prompt {{context}} {'`' * (i % 7)}\n" for i in range(4000))
    write(repo, "prompts/hr/2.0.0.yaml", version_yaml("hr", "2.0.0", big))
    write(repo, "prompts/faq/2.0.0.yaml", version_yaml("faq", "2.0.0", "Short {question}\n"))
    commit_all(repo, "two new versions, one of them long")
    proc = _review(repo, "--base", "main")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert len(big) > MAX_CHARS >= len(out) > MAX_CHARS - 2000
    tokens = MD.parse(out)
    (note,) = [t for t in tokens if t.type == "inline" and "more line(s) not shown" in _text(t)]
    assert "See promptreg diff hr 1.2.0 2.0.0." in _text(note)
    diffs = {v["prompt_id"]: v["diff"] for v in json.loads(_review(repo, "--base", "main",
             "--format", "json").stdout)["versions"]}  # fmt: skip
    faq, hr = [t for t in tokens if t.type == "fence"]
    assert faq.content == diffs["faq"]  # whole: it comes first
    # The long diff is cut at a line boundary, under a fence longer than its backtick runs ...
    assert diffs["hr"].startswith(hr.content) and len(hr.content) < len(diffs["hr"])
    assert hr.content.endswith("\n") and hr.markup == "`" * 7
    # ... still inside its fence and its <details>, and the document says so at the end.
    assert [t.content for t in tokens if t.type == "html_block"][-1] == "</details>\n"
    assert [t.type for t in tokens[-3:]] == ["paragraph_open", "inline", "paragraph_close"]
    assert _text(tokens[-2]).startswith("1 section(s) shortened to stay within 60,000 characters.")


def test_markdown_limit_counts_utf16_units(repo: Path) -> None:
    """An emoji is one character but two UTF-16 code units: the limit holds for both counts."""
    build_main(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    wide = "".join(f"{chr(0x1F600 + i % 64) * 20} {{context}}\n" for i in range(1500))
    assert len(wide) < MAX_CHARS < len(wide.encode("utf-16-le")) // 2
    write(repo, "prompts/hr/2.0.0.yaml", version_yaml("hr", "2.0.0", wide))
    commit_all(repo, "a long prompt of emoji")
    out = _review(repo, "--base", "main").stdout
    assert MAX_CHARS - 2000 < len(out.encode("utf-16-le")) // 2 <= MAX_CHARS
    assert "section(s) shortened" in out


# -- a change that passes ----------------------------------------------------------------------


def test_review_passes_with_a_soaked_promotion_and_a_chat_version(repo: Path) -> None:
    build_main(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, "deployments/production/hr.yaml", pointer("hr", "production", "1.1.0", "1.0.0",
          reason="promote after three days in staging"))  # fmt: skip
    chat = (
        'prompt_id: faq\nversion: "2.0.0"\ndescription: chat\nauthor: Sam\n'
        'created_at: "2026-11-20T10:00:00Z"\nmessages:\n'
        "  - {role: system, content: Answer from the FAQ.}\n"
        '  - {role: user, content: "{question} {lang}"}\n'
    )
    write(repo, "prompts/faq/2.0.0.yaml", chat)
    commit_all(repo, "promote hr 1.1.0; faq 2.0.0 as a chat prompt")
    proc = _review(repo, "--base", "main", "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    assert (data["passed"], data["errors"], data["problems"]) == (True, 0, [])
    (move,) = data["moves"]
    (policy,) = move["gate"]["policies"]
    assert (policy["source_version"], policy["returning"], policy["failed"]) == ("1.1.0", False, [])
    # Staging has run 1.1.0 since main's second commit, three days ago.
    assert 3 * 86400 - 600 <= policy["soaked_seconds"] <= 3 * 86400 + 600
    assert policy["source_since"] is not None and policy["source_since"] < ago(days=2)
    (v,) = data["versions"]
    assert (v["kind"], v["from"], v["variables_added"], v["variables_dropped"]) == (
        "messages", "1.0.0", ["lang"], [],
    )  # fmt: skip
    assert v["diff"].splitlines()[3:] == [
        "-Answer from the FAQ: {question}",
        "+[system]",
        "+Answer from the FAQ.",
        "+[user]",
        "+{question} {lang}",
    ]
    md = _review(repo, "--base", "main")
    assert md.returncode == 0
    assert "\u2705 **`promptreg check --base` passes**" in md.stdout
    assert "min\\_soak 1h: active there for 3d" in md.stdout


def test_review_deleted_pointer_file(repo: Path) -> None:
    build_main(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    git(repo, "rm", "-q", "deployments/production/faq.yaml")
    commit_all(repo, "delete the faq pointer")
    proc = _review(repo, "--base", "main", "--format", "json")
    assert proc.returncode == 1
    (move,) = json.loads(proc.stdout)["moves"]
    assert (move["from"], move["to"], move["action"], move["deleted"]) == ("1.0.0", None, "remove",
                                                                          True)  # fmt: skip
    assert (move["deployed_by"], move["reason"]) == (None, None)
    assert [p["code"] for p in move["gate"]["problems"]] == ["pointer-deleted"]
    assert move["gate"]["passed"] is False


def test_review_of_no_change(repo: Path) -> None:
    build_main(repo)
    proc = _review(repo, "--base", "main", "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    assert data["merge_base"] == data["head_commit"] == data["base_commit"]
    assert [data[k] for k in ("moves", "versions", "evaluations", "suites", "other_files")] == [
        [], [], [], [], [],
    ]  # fmt: skip
    assert (data["policy"], data["problems"], data["passed"]) == (None, [], True)
    out = _review(repo, "--base", "main").stdout
    assert ": no changes.\n" in out and "No pointer moves." in out
    assert "None: promptreg check --base reports nothing." in _text_of(out)


def _text_of(markdown: str) -> str:
    return "\n".join(_text(t) for t in MD.parse(markdown) if t.type == "inline")


def test_review_with_broken_settings_judges_by_the_bases_policy(repo: Path) -> None:
    build_main(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, "promptreg.yaml", "environments: [\n")
    write(repo, "deployments/staging/hr.yaml", pointer("hr", "staging", "1.2.0", "1.1.0"))
    write(repo, "notes/why.txt", "because\n")
    commit_all(repo, "break the settings, deploy untested hr 1.2.0")
    proc = _review(repo, "--base", "main", "--format", "json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["policy"] == {
        "broken": True, "environments": [],
        "order": {"before": ["development", "staging", "production", "sandbox"], "after": []},
        "trusted_modules": {"before": [], "after": []},
    }  # fmt: skip
    (move,) = data["moves"]
    # The check judges nothing by broken settings; the base's policy still holds.
    assert [(g["of"], g["failed"]) for g in move["gate"]["policies"]] == [("base", ["untested"])]
    assert [p["code"] for p in move["gate"]["problems"]] == ["untested"]
    assert {p["code"] for p in data["problems"]} >= {"untested", "yaml-syntax"}
    assert data["other_files"] == ["notes/why.txt"]
    assert "promptreg.yaml does not load at HEAD" in _review(repo, "--base", "main").stdout


# -- usage -------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [(), ("--base", "main", "--format", "html"), ("--base",)])
def test_review_usage_errors(repo: Path, args: tuple[str, ...]) -> None:
    build_main(repo)
    proc = _review(repo, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""


def test_review_unknown_base(repo: Path) -> None:
    build_main(repo)
    proc = _review(repo, "--base", "nope")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == "promptreg: --base 'nope' is not a known git revision\n"


def test_review_outside_git(tmp_path: Path) -> None:
    write(tmp_path, "prompts/hr/1.0.0.yaml", version_yaml("hr", "1.0.0"))
    proc = _review(tmp_path, "--base", "main")
    assert proc.returncode == 1 and proc.stdout == ""
    assert "needs a git repository" in proc.stderr


# -- escaping, one piece of text at a time ---------------------------------------------------

HOSTILE_TEXTS = [
    "</details><script>alert(1)</script>",
    "a | b || c \\| d",
    "```fence``` and `code` and ``` ` ```",
    "**bold** _em_ *em* ~~gone~~ $x^2$",
    "[link](javascript:alert(1)) ![img](https://x/y.png) <https://example.com>",
    "&amp; &lt;b&gt; &#60;script&#62; \\",
    "<!-- promptreg-review --> <!-- open",
    "line\nbreak\r\nand\rcarriage\u2028sep\u2029para\x85next\tab",
    "# heading\n> quote\n- item\n1. item\n---\n===",
    "bidi \u202eevil\u202c and \x00 nul \x1b[31m",
    "@octocat @org/team dana@example.com `@x`",
]


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_inline_text_is_literal_in_a_table_cell(text: str) -> None:
    from registry.review.escape import inline, one_line

    doc = f"| a | b |\n| --- | --- |\n| {inline(text, None)} | end |\n"
    tokens = MD.parse(doc)
    cells = _tables(tokens)[0]
    expected = one_line(text).replace("\x00", "\ufffd")
    assert cells[1] == [_defused(expected), "end"]
    # Nothing but text: no HTML, link, image, emphasis, code span or line break.
    kinds = {c.type for t in tokens if t.type == "inline" for c in t.children or []}
    assert kinds == {"text"}


def _defused(text: str) -> str:
    import re

    return re.sub(r"(?<![\w`])@(?=[\w-])", "@" + WORD_JOINER, text)


def test_one_line_replaces_breaks_and_invisible_controls() -> None:
    from registry.review.escape import one_line

    assert one_line("a\r\nb\rc\nd\u2028e\tf") == "a b c d e f"
    assert one_line("x\u202ey\x1bz") == "x\ufffdy\ufffdz"
    assert one_line("abcdef", 4) == "abc\u2026"


@pytest.mark.parametrize("body", ["plain\n", "```\n", " ```\n~~~\n", "x `````` y\n````\n", ""])
def test_fence_is_longer_than_any_backtick_run(body: str) -> None:
    from registry.review.escape import fence

    doc = fence(body, "diff") + "after\n"
    tokens = MD.parse(doc)
    assert tokens[0].type == "fence" and tokens[0].content == body
    assert _text(tokens[2]) == "after"


# -- the README's example ----------------------------------------------------------------------


def test_readme_example_is_what_review_prints(repo: Path) -> None:
    import re

    from tests.review_history import build_readme_example
    from tests.testing import ROOT

    build_readme_example(repo)
    proc = _review(repo, "--base", "main")
    assert proc.returncode == 1
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"^````markdown\n(<!-- promptreg-review -->\n.*?)^````$", readme,
                            re.M | re.S)  # fmt: skip
    assert example == proc.stdout
