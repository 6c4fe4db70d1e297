"""``llm_rubric``: the suite's judge model grades an output against a rubric and replies with
promptfoo's llm-rubric verdict, a JSON object ``{"pass": bool, "score": 0..1, "reason": str}``.

The request asks for that object in words and sends ``temperature: 0``, but no
``response_format``: ``json_object`` is refused or ignored by several OpenAI-compatible servers
(LM Studio accepts only ``json_schema``), and a judge that cannot be used on every endpoint a
target can is a trap. The reply is read leniently (a Markdown code fence or text around the
object is dropped), then strictly: a reply without the three fields, of the right types, fails
the assertion and says what was wrong. The score counts toward the suite's score; the reason
is the assertion's message, whether it passed or not.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from registry.errors import ModelCallError
from registry.evals.results import AssertionResult

if TYPE_CHECKING:
    from registry.evals.providers.openai import OpenAIClient

KIND = "llm_rubric"
SYSTEM = (
    "You grade an output against a rubric. The output passes when it satisfies the rubric."
    " Reply with only a JSON object, no other text:"
    ' {"reason": "<why, in one or two sentences>", "pass": <true or false>,'
    ' "score": <a number from 0 to 1: how well the output satisfies the rubric>}'
)
_SHOWN = 120


def rubric_request(model: str, rubric: str, output: str) -> dict[str, Any]:
    """The judge's request body."""
    user = f"<Output>\n{output}\n</Output>\n<Rubric>\n{rubric}\n</Rubric>"
    return {
        "model": model,
        "temperature": 0,
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}],
    }


def _shown(text: str) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= _SHOWN else flat[: _SHOWN - 3] + "...")


def _json_object(text: str) -> Any:
    """The reply as JSON: as it is, else from its first ``{`` to its last ``}`` (a code fence
    or a sentence around the object). Raises ValueError."""
    try:
        return json.loads(text)
    except ValueError:
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end < start:
            raise
        return json.loads(text[start : end + 1])


def parse_verdict(text: str) -> tuple[bool, float, str]:
    """``(pass, score, reason)`` of a judge's reply; ValueError saying what is wrong."""
    try:
        data = _json_object(text.strip())
    except ValueError:
        raise ValueError(f"the reply is not a JSON object: {_shown(text)}") from None
    if not isinstance(data, dict):
        raise ValueError(f"the reply is not a JSON object: {_shown(text)}")
    passed, score, reason = data.get("pass"), data.get("score"), data.get("reason")
    if not isinstance(passed, bool):
        raise ValueError(f'"pass" must be true or false, got {_value(data, "pass")}')
    if isinstance(score, bool) or not isinstance(score, int | float):
        raise ValueError(f'"score" must be a number from 0 to 1, got {_value(data, "score")}')
    if not (math.isfinite(score) and 0 <= score <= 1):
        raise ValueError(f'"score" must be a number from 0 to 1, got {score!r}')
    if not isinstance(reason, str):
        raise ValueError(f'"reason" must be text, got {_value(data, "reason")}')
    return passed, float(score), reason


def _value(data: dict[str, Any], key: str) -> str:
    return "nothing" if key not in data else _shown(json.dumps(data[key]))


class RubricJudge:
    """Grades outputs with one judge model; thread-safe (the client is)."""

    def __init__(self, client: OpenAIClient, model: str) -> None:
        self.client = client
        self.model = model

    def grade(self, rubric: str, output: str) -> AssertionResult:
        """The judge's verdict as an assertion result; a failed request or a malformed
        reply fails the assertion (score 0) with a message saying so."""
        try:
            answer = self.client.send(rubric_request(self.model, rubric, output))
        except ModelCallError as exc:
            return AssertionResult(KIND, False, 0.0, f"the judge's request failed: {exc}")
        try:
            passed, score, reason = parse_verdict(answer.text)
        except ValueError as exc:
            return AssertionResult(
                KIND, False, 0.0, f"the judge {self.model} gave no usable verdict: {exc}"
            )
        shown = reason.strip() or "(no reason given)"
        return AssertionResult(KIND, passed, score, f"judge {self.model}: {shown}")
