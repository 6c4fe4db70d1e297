"""A small deterministic stand-in for a model, the target of the example suites
(``target: "evals.example_model:answer"``), so the example registry evaluates answers
offline. It reads the rendered prompt the way an obedient model would: it answers from the
context it was given, cites the section only when the prompt asks for a citation, says it
does not know when the context does not cover the question, replies with JSON when asked,
and follows a support prompt's rules. Replace it with a real model by one line in a suite:
``target: {provider: openai}`` (README, "Evaluation")."""

from __future__ import annotations

import json
import re

_SECTION = re.compile(r"(?i)\bsection\s+(\d+(?:\.\d+)*)")
_WORD = re.compile(r"[a-z]{4,}")
_STOP = frozenset({"what", "when", "where", "which", "does", "have", "with", "from", "this"})
_URGENT = ("cannot", "can't", "down", "outage", "failed", "never arrived", "lost")


def answer(rendered: object, case: dict) -> str:
    """The answer to ``rendered`` (a text prompt, or chat messages); ``case`` is unused."""
    if isinstance(rendered, list):
        return _support_reply([str(m["content"]) for m in rendered])
    text = str(rendered)
    if "JSON" in text and "Ticket:" in text:
        return _ticket_json(text.split("Ticket:", 1)[1].strip())
    return _policy_answer(text)


def _policy_answer(prompt: str) -> str:
    lines = prompt.splitlines()
    question = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("Question:")), "")
    context = next((ln.strip() for ln in lines if _SECTION.search(ln) and "example" not in ln), "")
    words = {w for w in _WORD.findall(question.lower()) if w not in _STOP}
    if not context or not words & set(_WORD.findall(context.lower())):
        return "I do not know: the policy context does not answer that question."
    fact = context.split(":", 1)[1].strip() if ":" in context else context
    if re.search(r"(?i)\bcite\b", prompt):
        section = _SECTION.search(context)
        assert section is not None
        return f"{fact} (Section {section.group(1)})"
    return fact


def _ticket_json(ticket: str) -> str:
    first = re.split(r"(?<=[.!?])\s", ticket, maxsplit=1)[0]
    summary = first if len(first) <= 80 else first[:77] + "..."
    urgent = any(word in ticket.lower() for word in _URGENT)
    return json.dumps({"summary": summary, "priority": "high" if urgent else "medium"})


def _support_reply(contents: list[str]) -> str:
    system, message = contents[0], contents[-1]
    product = re.search(r"support agent for (.+?)\.", system)
    plan = re.search(r"on the (\w+) plan", system)
    reply = [f"Thanks for contacting {product.group(1) if product else 'us'} support."]
    if plan:
        reply.append(f"As a {plan.group(1)} plan customer you can reach us at any time.")
    if "refund" in message.lower() or "money back" in message.lower():
        if "never promise refunds" in system.lower():
            reply.append("I cannot promise a refund, but I can open a ticket for you.")
        else:
            reply.append("I will refund you right away.")
    else:
        reply.append("I am sorry about that; let us look into it together.")
    if "order number" in system.lower():
        reply.append("Could you share your order number?")
    return " ".join(reply)
