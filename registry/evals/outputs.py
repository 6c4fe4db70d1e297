"""Producing a case's output inside the evaluation child: the version rendered with the case's
vars, then either the rendered text itself, what a ``module:function`` target returns, or the
answer of the model target (``target: {provider: openai, ...}``).

``model_clients`` opens the one client per configured endpoint (the target's, the judge's)
that every case shares, after checking everything a request needs (the config, the key, the
version's ``model:`` block), so a problem stops the run before any case. ``Producer`` is safe
to call from several threads at once: the clients are thread-safe and nothing else is shared.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

from registry.errors import CaseError, EvaluationError, ModelCallError, TemplateError
from registry.evals.imports import Hook, describe_error
from registry.evals.suite import Case, Endpoint, Suite
from registry.models import PromptVersion
from registry.paths import version_path

if TYPE_CHECKING:
    from registry.evals.providers.config import Role
    from registry.evals.providers.openai import OpenAIClient
    from registry.evals.rubric import RubricJudge


def judged_text(rendered: Any) -> str:
    """The rendered prompt as one text: a chat prompt's contents joined by a blank line."""
    if isinstance(rendered, str):
        return rendered
    return "\n\n".join(m["content"] for m in rendered)


def case_arg(case: Case) -> dict[str, Any]:
    """What hooks receive as ``case``: its name and a copy of its vars."""
    return {"name": case.name, "vars": dict(case.vars)}


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


class Producer:
    """Makes the output of each case; ``produce_output`` raises CaseError when it cannot."""

    def __init__(
        self,
        version: PromptVersion,
        target: Hook | None = None,
        target_ref: str | None = None,
        client: OpenAIClient | None = None,
    ) -> None:
        self.version = version
        self.target = target
        self.target_ref = target_ref
        self.client = client

    def produce_output(self, case: Case) -> tuple[str, float | None]:
        """The output text and the milliseconds its target took (a model answer's request
        latency, the original one when it came from the cache; a hook's run time; None when
        the rendered prompt itself is judged)."""
        try:
            rendered = self.version.render(**case.vars)
        except TemplateError as exc:
            raise CaseError(f"render failed: {exc}") from None
        if self.client is not None:
            return self._ask_model(rendered)
        if self.target is not None:
            return self._call_hook(rendered, case)
        return judged_text(rendered), None

    def _ask_model(self, rendered: Any) -> tuple[str, float | None]:
        assert self.client is not None
        v = self.version
        try:
            answer = self.client.complete(
                v.model, rendered, what=version_path(v.prompt_id, v.version)
            )
        except ModelCallError as exc:
            raise CaseError(f"target {exc}") from None
        return answer.text, answer.latency_ms

    def _call_hook(self, rendered: Any, case: Case) -> tuple[str, float | None]:
        assert self.target is not None
        started = time.perf_counter()
        try:
            got = self.target(rendered, case_arg(case))
        except (Exception, SystemExit) as exc:
            raise CaseError(f"target {self.target_ref} raised {describe_error(exc)}") from None
        if not isinstance(got, str):
            raise CaseError(
                f"target {self.target_ref} returned {type(got).__name__};"
                " it must return the output text (str)"
            )
        return got, _elapsed_ms(started)


def case_limit(suite: Suite) -> float:
    """Seconds a case may take before the run fails: the suite's ``timeout``, plus for each
    model request of the most demanding case (the target's, one per llm_rubric assertion)
    every attempt's connect, send and read waits and the longest backoffs between them."""
    if not suite.calls_models:
        return suite.timeout
    from registry.evals.providers.retry import RetryPolicy

    policy = RetryPolicy()
    waits = max(policy.max_delay, policy.max_retry_after)
    request = policy.attempts * 3 * suite.timeout + (policy.attempts - 1) * waits
    most = max(
        (suite.model_target is not None) + sum(a.type == "llm_rubric" for a in c.assertions)
        for c in suite.cases
    )
    return suite.timeout + most * request


def _open_client(
    stack: ExitStack, endpoint: Endpoint, role: Role, suite: Suite, cache: bool
) -> OpenAIClient:
    from registry.evals.providers.cache import ResponseCache
    from registry.evals.providers.config import decode_config
    from registry.evals.providers.openai import OpenAIClient

    where = suite.path if endpoint.line is None else f"{suite.path}:{endpoint.line}"
    config = decode_config(endpoint.to_dict(), role=role, timeout=suite.timeout, where=where)
    try:
        client = OpenAIClient(config, cache=ResponseCache.default() if cache else None)
    except EvaluationError as exc:
        raise EvaluationError(f"{where}: {role} {exc}") from None
    return stack.enter_context(client)


@contextmanager
def model_clients(
    version: PromptVersion, suite: Suite, *, cache: bool = True
) -> Iterator[tuple[OpenAIClient | None, RubricJudge | None]]:
    """The target's client (None without a model target) and the llm_rubric judge (None
    without llm_rubric assertions), closed afterwards. ``cache=False`` neither reads nor
    writes the response cache. Raises EvaluationError, naming the suite line, for a config
    that cannot be used, an unset key, a version whose ``model:`` block cannot be sent, or
    llm_rubric assertions without a judge."""
    from registry.evals.providers.openai import build_request
    from registry.evals.rubric import RubricJudge

    with ExitStack() as stack:
        client = judge = None
        if suite.model_target is not None:
            # Checked once, here, so a version without model.name fails before any case.
            build_request(version.model, "", what=version_path(version.prompt_id, version.version))
            client = _open_client(stack, suite.model_target, "target", suite, cache)
        if suite.uses_rubric:
            if suite.judge is None or suite.judge.model is None:
                raise EvaluationError(
                    f"{suite.path}: llm_rubric assertions need the suite's judge model; add"
                    " judge: {provider: openai, model: ...}"
                )
            judge_client = _open_client(stack, suite.judge, "judge", suite, cache)
            judge = RubricJudge(judge_client, suite.judge.model)
        yield client, judge
