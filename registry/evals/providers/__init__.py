"""Built-in model providers: the OpenAI-compatible chat-completions client (openai), its
target/judge config (config), the response cache (cache) and the retry policy (retry).

Nothing here imports httpx until a request is sent. The interface the case loop uses:

- ``decode_config(raw, role="target"|"judge", timeout=suite.timeout, where=...)`` ->
  ``OpenAIConfig`` (``.label`` is ``openai@host``, the record's ``target``); raises
  EvaluationError listing every problem. ``config_problems(raw, role)`` lists them for check.
- ``OpenAIClient(config, cache=ResponseCache.default() or None)``: one per config, shared by
  all threads; ``.complete(version.model, rendered)`` -> ``Completion(text, latency_ms,
  usage, cached)``; a failed request raises ``registry.errors.ModelCallError`` (fail the case
  with ``str(exc)``); ``.close()`` at the end.
"""
