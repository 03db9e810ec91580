"""Content that was dropped or bent: refusals keep their words and say they are refusals; cache writes
are not counted twice.

Wire shapes: OpenAI's ``refusal`` field (structured outputs: ``delta.refusal`` streams the model's refusal
text, ``message.refusal`` holds it whole); ``finish_reason: "content_filter"``; Gemini's SAFETY finish with
``finishMessage``; OpenRouter's ``prompt_tokens_details.cache_write_tokens`` and the LiteLLM proxy's
``cache_creation_input_tokens`` (both included in ``prompt_tokens``); the Anthropic API's own refusal,
``stop_details: {type, category, explanation}`` (peers/anthropic-sdk-python/refusal_response.sse).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import chunk, sdk_final_message, sse

from translator import accumulate, translate_response, translate_stream

REFUSED = "I'm sorry, I can't help with that."
NO_CATEGORY = {"type": "refusal", "category": None, "explanation": None}


def _message(body: bytes, dialect: str = "openai") -> tuple[dict, list[dict]]:
    events, _ = translate_stream([body], dialect, ending="done")
    return accumulate(events), events


def test_an_openai_refusal_keeps_its_words_and_ends_as_a_refusal():
    body = sse(
        chunk({"role": "assistant", "refusal": ""}),
        *[chunk({"refusal": p}) for p in ("I'm sorry, ", "I can't help with that.")],
        chunk({}, "stop"),
    )
    message, events = _message(body)
    assert message["content"] == [{"type": "text", "text": REFUSED}]
    assert message["stop_reason"] == "refusal" and message["stop_details"] == NO_CATEGORY
    final = sdk_final_message(events)
    assert final.stop_reason == "refusal" and final.stop_details.type == "refusal" and final.content[0].text == REFUSED


def test_a_complete_openai_refusal_is_the_same_message():
    response = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4o",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": None, "refusal": REFUSED}, "finish_reason": "stop"}
        ],
    }
    message = accumulate(translate_response(json.dumps(response).encode())[0])
    assert (message["content"], message["stop_reason"], message["stop_details"]) == (
        [{"type": "text", "text": REFUSED}],
        "refusal",
        NO_CATEGORY,
    )


def test_a_content_filter_finish_is_a_refusal_with_stop_details():
    message, _ = _message(sse(chunk({"role": "assistant", "content": "Here is"}), chunk({}, "content_filter")))
    assert message["stop_reason"] == "refusal" and message["stop_details"] == NO_CATEGORY
    assert message["content"] == [{"type": "text", "text": "Here is"}]


def test_a_gemini_safety_stop_carries_its_message_as_the_explanation():
    payload = {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": "Sure,"}]},
                "finishReason": "SAFETY",
                "finishMessage": "Blocked: dangerous content.",
            }
        ],
        "modelVersion": "gemini-2.5-flash",
    }
    message, _ = _message(b"data: " + json.dumps(payload).encode() + b"\r\n\r\n", "gemini")
    assert message["stop_reason"] == "refusal"
    assert message["stop_details"] == {
        "type": "refusal",
        "category": None,
        "explanation": "Blocked: dangerous content.",
    }


def test_other_stops_carry_no_stop_details():
    _, events = _message(sse(chunk({"role": "assistant", "content": "Hi"}), chunk({}, "stop")))
    assert "stop_details" not in next(e for e in events if e["type"] == "message_delta")["delta"]


API = Path(__file__).resolve().parents[2] / "shared" / "peers" / "anthropic-sdk-python" / "refusal_response.sse"


@pytest.mark.skipif(not API.is_file(), reason="../shared/peers is absent")
def test_an_anthropic_refusal_keeps_its_category_and_explanation():
    message, _ = _message(API.read_bytes(), "anthropic")
    assert message["stop_details"] == {
        "type": "refusal",
        "category": "cyber",
        "explanation": "This request was refused due to policy.",
    }


@pytest.mark.parametrize(
    "usage",
    [
        {
            "prompt_tokens": 1200,
            "completion_tokens": 7,
            "prompt_tokens_details": {"cached_tokens": 200, "cache_write_tokens": 900},
        },
        {
            "prompt_tokens": 1200,
            "completion_tokens": 7,
            "cache_read_input_tokens": 200,
            "cache_creation_input_tokens": 900,
        },
    ],
    ids=["openrouter", "litellm-proxy"],
)
def test_cache_writes_are_not_counted_twice(usage):
    message, _ = _message(sse(chunk({"role": "assistant", "content": "Hi"}), chunk({}, "stop", usage=usage)))
    assert message["usage"] == {
        "input_tokens": 100,  # 1200 prompt tokens = 100 new + 200 read from the cache + 900 written to it
        "output_tokens": 7,
        "cache_read_input_tokens": 200,
        "cache_creation_input_tokens": 900,
    }
