from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType

import pytest

from registry.errors import EvaluationError
from registry.evals.run import EvalResult, run_suite
from registry.evals.suite import Assertion, Case, Suite, load_suite
from registry.models import Message, PromptVersion

SUITE = "evals/hr.yaml"
CONTENT = PromptVersion("hr", "1.0.0", content="Context: {context}\nQuestion: {query}")
JSON_PROMPT = PromptVersion("hr", "1.0.0", content='{{"answer": "{query}"}}')
CHAT = PromptVersion(
    "hr",
    "1.0.0",
    messages=(
        Message("system", "Answer from: {context}"),
        Message("user", "{query}"),
    ),
)
VARS = "{context: Leave policy 4.2, query: How many days?}"


def write_suite(root: Path, body: str) -> Path:
    path = root / SUITE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def write_module(root: Path, name: str, body: str) -> None:
    (root / f"{name}.py").write_text(textwrap.dedent(body), encoding="utf-8")


def run(
    root: Path,
    body: str,
    version: PromptVersion = CONTENT,
    progress: Callable[[int, int], None] | None = None,
) -> EvalResult:
    suite = load_suite(write_suite(root, body), SUITE)
    return run_suite(version, suite, root, progress)


def one_case(asserts: str, vars: str = VARS, threshold: float = 1.0) -> str:
    lines = "\n".join(f"      - {a}" for a in asserts.strip().splitlines())
    return (
        f"prompt_id: hr\nthreshold: {threshold}\ncases:\n  - name: only\n"
        f"    vars: {vars}\n    assert:\n{lines}\n"
    )


HOOKS = """
def yes(output, case):
    return True

def no(output, case):
    return False

def half(output, case):
    return 0.5

def one(output, case):
    return 1

def too_big(output, case):
    return 2.0

def text(output, case):
    return "x"

def nan(output, case):
    return float("nan")

def boom(output, case):
    raise ValueError("judge is down")

def leaves(output, case):
    raise SystemExit(0)

def sees_case(output, case):
    return case == {"name": "only", "vars": {"query": "Q"}} and output == '{"answer": "Q"}'
"""


# --- assertion types -------------------------------------------------------------------------


def test_every_assertion_type_passes(tmp_path: Path) -> None:
    write_module(tmp_path, "hooks", HOOKS)
    result = run(
        tmp_path,
        one_case(
            """
            {type: contains, value: '"answer"'}
            {type: not_contains, value: As an AI}
            {type: equals, value: '{"answer": "Q"}'}
            {type: regex, value: '(?i)ANSWER.*q'}
            {type: min_length, value: 15}
            {type: max_length, value: 15}
            {type: is_json}
            {type: python, value: "hooks:yes"}
            {type: python, value: "hooks:sees_case"}
            """,
            vars="{query: Q}",
        ),
        version=JSON_PROMPT,
    )
    case = result.cases[0]
    assert [a.passed for a in case.assertions] == [True] * 9
    assert all(a.message == "" for a in case.assertions)
    assert (result.score, result.passed, case.passed, case.error) == (1.0, True, True, None)


@pytest.mark.parametrize(
    ("assertion", "message"),
    [
        ("{type: contains, value: section 9}", "does not contain 'section 9'"),
        ('{type: not_contains, value: "answer"}', "contains 'answer' at character 2"),
        (
            '{type: equals, value: \'{"answer": "R"}\'}',
            "differs from the expected text at character 12",
        ),
        ("{type: regex, value: '^Answer'}", "no match for regex '^Answer'"),
        ("{type: min_length, value: 16}", "15 characters, fewer than 16"),
        ("{type: max_length, value: 14}", "15 characters, more than 14"),
        ('{type: python, value: "hooks:no"}', "hooks:no returned False"),
    ],
)
def test_every_assertion_type_fails(tmp_path: Path, assertion: str, message: str) -> None:
    write_module(tmp_path, "hooks", HOOKS)
    result = run(tmp_path, one_case(assertion, vars="{query: Q}"), version=JSON_PROMPT)
    (a,) = result.cases[0].assertions
    assert (a.passed, a.score, result.score, result.passed) == (False, 0.0, 0.0, False)
    assert message in a.message


def test_is_json_fails_on_text(tmp_path: Path) -> None:
    result = run(tmp_path, one_case("{type: is_json}"))
    (a,) = result.cases[0].assertions
    assert not a.passed
    assert a.message.startswith("output is not JSON: ")


def test_contains_is_case_sensitive_and_equals_exact(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        one_case("{type: contains, value: leave policy}\n{type: equals, value: 'Context: Leave'}"),
    )
    assert [a.passed for a in result.cases[0].assertions] == [False, False]


# --- python assertions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "score", "passed", "message"),
    [
        ("hooks:yes", 1.0, True, ""),
        ("hooks:no", 0.0, False, "hooks:no returned False"),
        ("hooks:half", 0.5, True, ""),  # numeric: passes at the suite threshold (0.5)
        ("hooks:one", 1.0, True, ""),
        ("hooks:too_big", 0.0, False, "hooks:too_big returned 2.0; it must return a bool"),
        ("hooks:text", 0.0, False, "hooks:text returned 'x'; it must return a bool"),
        ("hooks:nan", 0.0, False, "hooks:nan returned nan"),
        ("hooks:boom", 0.0, False, "hooks:boom raised ValueError: judge is down"),
        ("hooks:leaves", 0.0, False, "hooks:leaves raised SystemExit"),
    ],
)
def test_python_assertion_results(
    tmp_path: Path, ref: str, score: float, passed: bool, message: str
) -> None:
    write_module(tmp_path, "hooks", HOOKS)
    result = run(tmp_path, one_case(f'{{type: python, value: "{ref}"}}', threshold=0.5))
    (a,) = result.cases[0].assertions
    assert (a.score, a.passed) == (score, passed)
    assert a.message.startswith(message)
    assert "Traceback" not in a.message
    assert result.score == score


def test_numeric_python_score_below_threshold_does_not_pass(tmp_path: Path) -> None:
    write_module(tmp_path, "hooks", HOOKS)
    result = run(tmp_path, one_case('{type: python, value: "hooks:half"}', threshold=0.6))
    (a,) = result.cases[0].assertions
    assert (a.score, a.passed, a.message) == (0.5, False, "hooks:half scored 0.5")


def test_python_hook_in_a_package(tmp_path: Path) -> None:
    pkg = tmp_path / "judges"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "tone.py").write_text("def polite(output, case):\n    return 'Question' in output\n")
    result = run(tmp_path, one_case('{type: python, value: "judges.tone:polite"}'))
    assert result.passed


# --- scoring ---------------------------------------------------------------------------------


def test_weights(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        one_case(
            "{type: contains, value: Leave, weight: 3}\n{type: contains, value: nowhere}",
            threshold=0.75,
        ),
    )
    assert result.score == 0.75
    assert result.cases[0].score == 0.75
    assert result.passed  # score == threshold passes


def test_score_is_mean_over_all_assertions_of_all_cases(tmp_path: Path) -> None:
    body = f"""\
        prompt_id: hr
        threshold: 0.75
        cases:
          - name: a
            vars: {VARS}
            assert:
              - {{type: contains, value: Leave}}
              - {{type: contains, value: nowhere}}
          - name: b
            vars: {VARS}
            assert:
              - {{type: contains, value: Question}}
              - {{type: min_length, value: 1}}
        """
    result = run(tmp_path, body)
    assert [c.score for c in result.cases] == [0.5, 1.0]
    assert [c.passed for c in result.cases] == [False, True]
    assert (result.score, result.passed) == (0.75, True)


@pytest.mark.parametrize(("threshold", "passed"), [(0.5, True), (0.51, False), (0.000001, True)])
def test_threshold_boundary(tmp_path: Path, threshold: float, passed: bool) -> None:
    result = run(
        tmp_path,
        one_case(
            "{type: contains, value: Leave}\n{type: contains, value: nope}", threshold=threshold
        ),
    )
    assert result.score == 0.5
    assert result.passed is passed


def test_score_is_rounded_so_float_noise_does_not_decide(tmp_path: Path) -> None:
    # 0.1 + 0.2 is not 0.3 in binary floating point; the recorded score is.
    result = run(
        tmp_path,
        one_case(
            "{type: contains, value: Leave, weight: 0.1}\n"
            "{type: contains, value: Question, weight: 0.2}\n"
            "{type: contains, value: nope, weight: 0.7}",
            threshold=0.3,
        ),
    )
    assert result.score == 0.3
    assert result.passed


def test_to_dict(tmp_path: Path) -> None:
    result = run(tmp_path, one_case("{type: contains, value: nope}", threshold=0.5))
    assert result.to_dict() == {
        "prompt_id": "hr",
        "version": "1.0.0",
        "score": 0.0,
        "threshold": 0.5,
        "passed": False,
        "suite": SUITE,
        "cases": [
            {
                "name": "only",
                "score": 0.0,
                "passed": False,
                "error": None,
                "assertions": [
                    {
                        "type": "contains",
                        "passed": False,
                        "score": 0.0,
                        "message": "output does not contain 'nope'",
                    }
                ],
            }
        ],
    }


# --- rendering and targets -------------------------------------------------------------------


def test_chat_prompt_is_judged_as_contents_joined_by_blank_line(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        one_case('{type: equals, value: "Answer from: Leave policy 4.2\\n\\nHow many days?"}'),
        version=CHAT,
    )
    assert result.passed, result.cases[0].assertions[0].message


def test_render_failure_fails_the_case_and_names_the_variable(tmp_path: Path) -> None:
    body = f"""\
        prompt_id: hr
        threshold: 0.5
        cases:
          - name: missing query
            vars: {{context: c}}
            assert:
              - {{type: min_length, value: 1}}
              - {{type: min_length, value: 1}}
          - name: fine
            vars: {VARS}
            assert:
              - {{type: min_length, value: 1}}
        """
    result = run(tmp_path, body)
    broken, fine = result.cases
    assert broken.error is not None and "missing variable(s) query" in broken.error
    assert (broken.score, broken.passed) == (0.0, False)
    assert [a.score for a in broken.assertions] == [0.0, 0.0]
    assert fine.passed
    assert result.score == pytest.approx(1 / 3, abs=1e-6)


def test_a_variable_the_version_does_not_use_is_ignored(tmp_path: Path) -> None:
    """One suite serves every version of a prompt, so a case may pass a variable only some
    versions use; the others render without it, as an application's call would."""
    result = run(
        tmp_path, one_case("{type: min_length, value: 1}", vars="{context: a, query: b, x: 1}")
    )
    assert result.cases[0].error is None and result.cases[0].passed


TARGET = """
seen = []

def call(rendered, case):
    seen.append((rendered, case))
    if isinstance(rendered, list):
        return " | ".join(m["role"] + ":" + m["content"] for m in rendered)
    return "MODEL SAYS " + case["vars"]["query"].upper()

def number(rendered, case):
    return 42

def down(rendered, case):
    raise TimeoutError("model timed out")
"""


def test_target_output_is_judged(tmp_path: Path) -> None:
    write_module(tmp_path, "model", TARGET)
    body = one_case("{type: equals, value: MODEL SAYS HOW MANY DAYS?}").replace(
        "threshold: 1.0\n", 'threshold: 1.0\ntarget: "model:call"\n'
    )
    assert run(tmp_path, body).passed


def test_target_receives_the_chat_messages(tmp_path: Path) -> None:
    write_module(tmp_path, "model", TARGET)
    body = one_case(
        "{type: equals, value: 'system:Answer from: Leave policy 4.2 | user:How many days?'}"
    ).replace("threshold: 1.0\n", "threshold: 1.0\ntarget: model:call\n")
    assert run(tmp_path, body, version=CHAT).passed


@pytest.mark.parametrize(
    ("function", "error"),
    [
        ("number", "target model:number returned int; it must return the output text (str)"),
        ("down", "target model:down raised TimeoutError: model timed out"),
    ],
)
def test_target_failure_fails_the_case(tmp_path: Path, function: str, error: str) -> None:
    write_module(tmp_path, "model", TARGET)
    body = one_case("{type: min_length, value: 0}").replace(
        "threshold: 1.0\n", f"threshold: 1.0\ntarget: model:{function}\n"
    )
    result = run(tmp_path, body)
    case = result.cases[0]
    assert (case.error, case.passed, result.score) == (error, False, 0.0)


# --- imports ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "why"),
    [
        (
            "no_such_module:fn",
            "no_such_module is neither a .py file in the registry (no_such_module.py or"
            " no_such_module/__init__.py) nor listed in trusted_modules of promptreg.yaml"
            " (on the base branch)",
        ),
        ("hooks:missing", "module 'hooks' has no attribute 'missing'"),
        ("hooks:SEEN", "hooks:SEEN is not callable"),
        ("broken:fn", "cannot import 'broken': ZeroDivisionError: division by zero"),
    ],
)
def test_python_import_failure_is_reported_before_any_case(
    tmp_path: Path, ref: str, why: str
) -> None:
    write_module(tmp_path, "hooks", HOOKS + "\nSEEN = 1\n")
    write_module(tmp_path, "broken", "1 / 0\n")
    calls: list[tuple[int, int]] = []
    with pytest.raises(EvaluationError) as info:
        run(
            tmp_path,
            one_case(f'{{type: min_length, value: 1}}\n{{type: python, value: "{ref}"}}'),
            progress=lambda done, total: calls.append((done, total)),
        )
    assert str(info.value) == f"{SUITE}:8: python assertion {ref!r}: {why}"
    assert calls == []


def test_target_import_failure_names_the_suite_line(tmp_path: Path) -> None:
    body = one_case("{type: min_length, value: 1}").replace(
        "threshold: 1.0\n", "threshold: 1.0\ntarget: nowhere.model:call\n"
    )
    with pytest.raises(
        EvaluationError,
        match=r"^evals/hr.yaml:3: target 'nowhere.model:call': nowhere.model is neither a .py file",
    ):
        run(tmp_path, body)


def test_every_import_failure_is_reported_at_once(tmp_path: Path) -> None:
    body = one_case('{type: python, value: "a:b"}\n{type: python, value: "c:d"}').replace(
        "threshold: 1.0\n", "threshold: 1.0\ntarget: e:f\n"
    )
    with pytest.raises(EvaluationError) as info:
        run(tmp_path, body)
    lines = str(info.value).splitlines()
    assert [line.split(": ", 2)[1] for line in lines] == [
        "target 'e:f'",
        "python assertion 'a:b'",
        "python assertion 'c:d'",
    ]


def test_malformed_reference_in_a_hand_built_suite(tmp_path: Path) -> None:
    suite = Suite(
        SUITE,
        "hr",
        0.5,
        "not a reference",
        (Case("c", MappingProxyType({}), (Assertion("python", "os.path"),), 1),),
    )
    with pytest.raises(EvaluationError) as info:
        run_suite(PromptVersion("hr", "1.0.0", content="x"), suite, tmp_path)
    assert str(info.value).splitlines() == [
        f"{SUITE}: target 'not a reference': must look like 'module:function'",
        f"{SUITE}: python assertion 'os.path': must look like 'module:function'",
    ]


def test_suite_for_another_prompt_is_refused(tmp_path: Path) -> None:
    other = PromptVersion("billing", "1.0.0", content="x")
    with pytest.raises(EvaluationError, match="the suite is for prompt 'hr', not 'billing'"):
        run(tmp_path, one_case("{type: min_length, value: 1}"), version=other)


def test_sys_path_and_modules_are_restored(tmp_path: Path) -> None:
    write_module(tmp_path, "hooks_restore", HOOKS)
    before_path = list(sys.path)
    result = run(tmp_path, one_case('{type: python, value: "hooks_restore:yes"}'))
    assert result.passed
    assert sys.path == before_path
    assert "hooks_restore" not in sys.modules
    assert not (tmp_path / "__pycache__").exists()
    with pytest.raises(EvaluationError):
        run(tmp_path, one_case('{type: python, value: "hooks_restore:absent"}'))
    assert sys.path == before_path


def test_each_run_imports_the_hooks_of_its_own_root(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    for root, answer in ((first, "True"), (second, "False")):
        root.mkdir()
        write_module(root, "judge", f"def ok(output, case):\n    return {answer}\n")
    body = one_case('{type: python, value: "judge:ok"}')
    assert run(first, body).passed
    assert not run(second, body).passed


def test_progress_is_called_once_per_case(tmp_path: Path) -> None:
    cases = "".join(
        f"  - name: case {i}\n    vars: {VARS}\n    assert: [{{type: min_length, value: 1}}]\n"
        for i in range(3)
    )
    calls: list[tuple[int, int]] = []
    run(
        tmp_path,
        f"prompt_id: hr\nthreshold: 1\ncases:\n{cases}",
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]


# --- loading ---------------------------------------------------------------------------------


def test_load_suite_records(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        """\
        prompt_id: hr
        threshold: 0.85
        target: null
        description: the basics
        cases:
          - name: cites
            vars: {context: c, query: q, n: 3, flag: true}
            assert:
              - {type: contains, value: "4.2", weight: 2, description: cites the section}
              - {type: is_json}
        """,
    )
    suite = load_suite(path, SUITE)
    assert (suite.path, suite.prompt_id, suite.threshold, suite.target) == (SUITE, "hr", 0.85, None)
    (case,) = suite.cases
    assert (case.name, dict(case.vars), case.line) == (
        "cites",
        {"context": "c", "query": "q", "n": 3, "flag": True},
        6,
    )
    assert case.assertions == (
        Assertion("contains", "4.2", 2.0, "cites the section"),
        Assertion("is_json", None),
    )
    assert [a.line for a in case.assertions] == [9, 10]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("prompt_id: hr\nthreshold: [1\n", ["evals/hr.yaml:3: YAML syntax error"]),
        ("prompt_id: hr\nthreshold: 1\n", ['evals/hr.yaml:1: missing required field "cases"']),
        (
            one_case("{type: startswith, value: x}"),
            ['evals/hr.yaml:7: cases[0].assert[0].type: unknown assertion type "startswith"'],
        ),
        (
            one_case("{type: regex, value: '(unclosed'}"),
            [
                "evals/hr.yaml:7: cases[0].assert[0].value: regex '(unclosed' does not compile:"
                " missing ), unterminated subpattern"
            ],
        ),
        (
            one_case("{type: is_json, value: false}"),
            ["evals/hr.yaml:7: cases[0].assert[0].value: is_json takes no value (got False)"],
        ),
        (
            one_case("{type: python, value: not-a-ref}"),
            ['evals/hr.yaml:7: cases[0].assert[0].value: "not-a-ref" is not valid'],
        ),
        ("- just a list\n", ["evals/hr.yaml:1: the top level is a list, not a mapping"]),
        ("prompt_id: hr\nprompt_id: hr\n", ["evals/hr.yaml:2: duplicate key 'prompt_id'"]),
    ],
)
def test_malformed_suite_names_file_and_line(
    tmp_path: Path, body: str, expected: list[str]
) -> None:
    path = write_suite(tmp_path, body)
    with pytest.raises(EvaluationError) as info:
        load_suite(path, SUITE)
    lines = str(info.value).splitlines()
    assert len(lines) == len(expected)
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start), line


def test_every_problem_is_reported_one_per_line(tmp_path: Path) -> None:
    body = """\
        prompt_id: hr
        threshold: 2
        cases:
          - name: a
            assert:
              - {type: contains}
              - {type: min_length, value: -1}
        """
    with pytest.raises(EvaluationError) as info:
        load_suite(write_suite(tmp_path, body), SUITE)
    lines = str(info.value).splitlines()
    assert [line.split(": ")[0] for line in lines] == [
        "evals/hr.yaml:2",
        "evals/hr.yaml:6",
        "evals/hr.yaml:7",
    ]


def test_semantic_problems_are_all_reported(tmp_path: Path) -> None:
    body = """\
        prompt_id: hr
        threshold: 1
        cases:
          - name: a
            assert: [{type: regex, value: "["}]
          - name: a
            assert: [{type: regex, value: "(?P<x"}]
        """
    with pytest.raises(EvaluationError) as info:
        load_suite(write_suite(tmp_path, body), SUITE)
    lines = str(info.value).splitlines()
    assert [line.split(": ")[0] for line in lines] == [
        "evals/hr.yaml:5",
        "evals/hr.yaml:6",
        "evals/hr.yaml:7",
    ]
    assert "duplicate case name 'a'" in lines[1]


def test_missing_suite_file(tmp_path: Path) -> None:
    with pytest.raises(EvaluationError, match=r"^evals/hr.yaml: cannot read the file"):
        load_suite(tmp_path / SUITE, SUITE)
