"""Ollama's native ``/api/chat`` stream (NDJSON) read into IR facts.

Each line is ``{"model", "created_at", "message": {"role", "content", "thinking"?,
"tool_calls"?}, "done": false}``; the last has ``"done": true`` with ``done_reason``
and the token counts. Tool calls arrive whole, arguments as an object (TC-02, TC-10).
"""

from __future__ import annotations

from typing import Any

from .coverage import KEY, READ, gap, meta
from .ir import DONE, FINISH, META, REASONING, TEXT, TOOL, USAGE, count, error_fact, not_an_object
from .think import ThinkSplitter

FINISH_REASONS = {"stop": "end_turn", "length": "max_tokens"}
"""Ollama done_reason -> Anthropic stop_reason; anything else is ``end_turn``."""


class OllamaStream:
    done_sentinel = None  # the last line says done: true

    def __init__(self, options: dict | None = None) -> None:
        self.serial = 0
        self.meta_done = False
        mode = (options or {}).get("think_tags")
        self.think = ThinkSplitter(mode) if mode else None

    def payload(self, obj: dict) -> list[tuple]:
        if obj.get("error"):
            return [error_fact(obj)]
        out: list[tuple] = []
        if not self.meta_done and isinstance(obj.get("model"), str):
            self.meta_done = True
            out.append((META, None, obj["model"]))
        message = obj.get("message")
        if isinstance(message, dict):
            self._message(message, out)
        if obj.get("done"):
            out.extend(self.end())
            reason = obj.get("done_reason")
            out.append(
                (FINISH, FINISH_REASONS.get(reason, "end_turn") if isinstance(reason, str) else "end_turn", None)
            )
            usage = {}
            prompt, completion = count(obj.get("prompt_eval_count")), count(obj.get("eval_count"))
            if prompt is not None:
                usage["input_tokens"] = prompt
            if completion is not None:
                usage["output_tokens"] = completion
            if usage:
                out.append((USAGE, usage))
            out.append((DONE,))
        return out

    def response(self, obj: Any) -> list[tuple]:
        return self.payload(obj) if isinstance(obj, dict) else [not_an_object(obj)]

    def absorbed(self) -> int:
        """Think tags consumed and text held back: content read that yields no fact yet."""
        return self.think.absorbed if self.think else 0

    def end(self) -> list[tuple]:
        return self.think.flush() if self.think else []

    def _message(self, message: dict, out: list) -> None:
        thinking = message.get("thinking")
        if isinstance(thinking, str) and thinking:
            out.append((REASONING, thinking))
        content = message.get("content")
        if isinstance(content, str) and content:
            out.extend(self.think.split(content) if self.think else [(TEXT, content)])
        calls = message.get("tool_calls")
        for call in calls if isinstance(calls, list) else []:
            fn = call.get("function") if isinstance(call, dict) else None
            if not isinstance(fn, dict):
                continue
            args = fn.get("arguments")
            call_id = call.get("id") if isinstance(call.get("id"), str) else None
            name = fn.get("name") if isinstance(fn.get("name"), str) else None
            key, self.serial = self.serial, self.serial + 1
            if isinstance(args, str):
                out.append((TOOL, key, call_id, name, args, None))
            else:
                out.append((TOOL, key, call_id, name, None, args if args is not None else {}))


# -- what a payload holds, field by field (coverage) ------------------------------------------------

_TIMING = meta("Ollama: durations in nanoseconds")

FIELDS = {
    "model": KEY,
    "created_at": meta("creation time"),
    "message": {
        "role": meta('always "assistant"'),
        "content": READ,
        "thinking": READ,
        "tool_calls": READ,
        "images": gap("images in the answer"),
    },
    "done": READ,
    "done_reason": READ,
    "prompt_eval_count": READ,
    "eval_count": READ,
    "total_duration": _TIMING,
    "load_duration": _TIMING,
    "prompt_eval_duration": _TIMING,
    "eval_duration": _TIMING,
    "context": meta("the tokens of the conversation so far, for the next request"),
    "error": READ,
}
"""One line of ``/api/chat`` (streamed) or its complete response."""
