"""Built-in model providers: the OpenAI-compatible chat-completions client (openai), the
``provider: openai`` mapping of a suite's target or judge (config), the response cache
(cache) and the retry policy (retry). Nothing here imports httpx until a request is sent.

How a case loop uses it::

    from registry.errors import ModelCallError
    from registry.evals.providers.cache import ResponseCache
    from registry.evals.providers.config import decode_config
    from registry.evals.providers.openai import OpenAIClient

    config = decode_config(raw_target, role="target", timeout=suite.timeout,
                           where=f"{suite.path}:{line}")      # EvaluationError: every problem
    cache = None if no_cache or verifying else ResponseCache.default()
    with OpenAIClient(config, cache=cache) as client:         # EvaluationError: key unset
        try:                                                   # (share it between threads)
            answer = client.complete(version.model, rendered, what=f"{pid} {version}")
        except ModelCallError as exc:                          # the case fails with str(exc)
            ...
        answer.text, answer.latency_ms, answer.usage, answer.cached
    record_target = config.label                               # "openai@host[:port]"

A judge is ``decode_config(raw_judge, role="judge", ...)`` (``model`` required, in
``config.model``) and ``client.complete({"name": config.model, "temperature": 0}, messages)``
or ``client.send(body)`` with a body of its own. ``config_problems(raw, role)`` lists the
problems of a mapping without reading the environment, for ``check``.
"""
