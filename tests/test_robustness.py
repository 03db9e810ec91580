"""Malformed upstreams: the translator answers with Anthropic events, never a traceback,
and never a stream the official SDK would reject."""

import json

import pytest
from helpers import blocks, chunk, message, sse, tool, translate
from hypothesis import given
from hypothesis import strategies as st

from translator import accumulate, encode_sse, stream_error, violations

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "choices",
                    "delta",
                    "content",
                    "tool_calls",
                    "function",
                    "arguments",
                    "name",
                    "index",
                    "id",
                    "usage",
                    "finish_reason",
                    "reasoning",
                    "reasoning_content",
                    "error",
                    "prompt_tokens",
                    "x_groq",
                    "object",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@given(st.lists(json_values, min_size=1, max_size=5))
def test_any_json_payloads_give_a_valid_stream(payloads):
    body = "".join(f"data: {json.dumps(p)}\n\n" for p in payloads).encode()
    events = translate(body)
    assert violations(events) == []
    for event in events:
        encode_sse(event)


@pytest.mark.parametrize(
    "payload",
    [
        {"choices": 5},
        {"choices": {"index": 0, "delta": {"content": "lost?"}}},
        chunk("a string delta"),
        chunk({"content": {"text": "dict content"}}),
        chunk({"reasoning_content": ["list"]}),
    ],
)
def test_shapes_no_upstream_sends_are_errors_not_silent_drops(payload):
    events = translate(sse(payload))
    assert stream_error(events)["type"] == "api_error"
    assert violations(events) == []


@pytest.mark.parametrize(
    "usage",
    [
        {"prompt_tokens": "10"},
        {"prompt_tokens_details": "x", "prompt_tokens": 3},
        {"completion_tokens": float("nan")},
        {"completion_tokens": True},
    ],
)
def test_usage_with_odd_types_is_ignored_not_fatal(usage):
    events = translate(sse(chunk({"content": "x"}, "stop"), {"choices": [], "usage": usage}))
    assert violations(events) == [] and accumulate(events)["content"][0]["text"] == "x"
    assert all(isinstance(v, int) for v in accumulate(events)["usage"].values())


def test_usage_counts_update_one_by_one():
    body = sse(
        chunk({"content": "x"}, usage={"prompt_tokens": 10, "completion_tokens": 1}),
        chunk({}, "stop", usage={"completion_tokens": 5}),
    )
    usage = message(body)["usage"]
    assert (usage["input_tokens"], usage["output_tokens"]) == (10, 5)


def test_deeply_nested_payload_is_an_error():
    assert stream_error(translate(b"data: " + b"[" * 5000 + b"\n\n"))["type"] == "api_error"


def test_split_surrogate_pair_can_still_be_encoded():
    events = translate(sse(chunk({"content": "\ud83d"}), chunk({"content": "\ude00"}), chunk({}, "stop")))
    assert b"".join(encode_sse(e) for e in events)


@pytest.mark.parametrize(
    ("frags", "finish", "expected"),
    [
        (['{"code":"line1\nline2"}'], "tool_calls", {"_unparsed_arguments": '{"code":"line1\nline2"}'}),
        (['{"code":"ok", ', '"n": 1-2}'], "tool_calls", {"code": "ok", "_unparsed_arguments": '"n": 1-2}'}),
        (['{"n":1.'], "length", {"n": 1.0}),
        (['{"n":-'], "length", {"n": 0}),
        (['{"a":"x", "b'], "length", {"a": "x", "b": None}),
    ],
)
def test_tool_json_the_sdk_would_reject_is_never_sent(frags, finish, expected):
    body = sse(
        *[
            chunk({"tool_calls": [tool(0, "call_12345678" if n == 0 else None, "f" if n == 0 else None, f)]})
            for n, f in enumerate(frags)
        ],
        chunk({}, finish),
    )
    events = translate(body)
    sent = "".join(e["delta"]["partial_json"] for e in events if e["type"] == "content_block_delta")
    assert json.loads(sent) == expected
    assert violations(events) == []


def test_second_object_for_the_same_call_is_a_second_call():
    body = sse(
        chunk({"tool_calls": [tool(0, "call_12345678", "write", '{"path": "a"} {"pa')]}),
        chunk({"tool_calls": [tool(0, args='th": "b"}')]}),
        chunk({}, "tool_calls"),
    )
    assert blocks(message(body)) == [("tool_use", ("write", {"path": "a"})), ("tool_use", ("write", {"path": "b"}))]


def test_known_id_with_another_name_and_no_index_is_another_call():
    calls = [tool(None, "call_12345678", "f", '{"a": 1}'), tool(None, "call_12345678", "g", '{"b": 2}')]
    events = translate(sse(chunk({"tool_calls": calls}, "tool_calls")))
    assert violations(events) == []
    assert [b[1][0] for b in blocks(accumulate(events))] == ["f", "g"]


def test_byte_order_mark_does_not_hide_the_first_event():
    assert blocks(message(b"\xef\xbb\xbf" + sse(chunk({"content": "first"}, "stop")))) == [("text", "first")]


def test_whole_payload_lines_without_blank_lines_up_to_done():
    body = (
        b'data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\n'
        b'data: {"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}\n'
        b"data: [DONE]\n\n"
    )
    assert blocks(message(body)) == [("text", "Hello")]


def test_responses_without_upstream_ids_get_different_ids():
    def body(name):
        call = {"index": 0, "id": "0", "function": {"name": name, "arguments": "{}"}}
        return sse({"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]})

    one, two = translate(body("f")), translate(body("g"))
    assert one[0]["message"]["id"] != two[0]["message"]["id"]
    assert one[1]["content_block"]["id"] != two[1]["content_block"]["id"]
