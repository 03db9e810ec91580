"""The OpenAI-compatible dialect end to end: upstream bytes -> accumulated Anthropic message.

Each expectation is written from the wire shape in quirks.md and the Anthropic spec.
"""

import json

import pytest
from helpers import blocks, chunk, error_of, message, sse, tool, translate

from translator import translate_response, violations


def test_content_next_to_empty_tool_calls_is_text():
    body = sse(
        chunk({"content": "1\n", "tool_calls": []}), chunk({"content": "2\n3", "tool_calls": []}), chunk({}, "stop")
    )
    msg = message(body)
    assert blocks(msg) == [("text", "1\n2\n3")]
    assert msg["stop_reason"] == "end_turn"


def test_several_complete_calls_in_one_delta_are_several_blocks():
    calls = [tool(0, "call_aaaaaaaa", "Agent", '{"n": 1}'), tool(1, "call_bbbbbbbb", "Agent", '{"n": 2}')]
    msg = message(sse(chunk({"tool_calls": calls}, "tool_calls")))
    assert blocks(msg) == [("tool_use", ("Agent", {"n": 1})), ("tool_use", ("Agent", {"n": 2}))]
    assert [b["id"] for b in msg["content"]] == ["call_aaaaaaaa", "call_bbbbbbbb"]


def test_mlx_finish_chunk_after_a_tool_call_adds_no_empty_text_block():
    body = sse(
        chunk({"role": "assistant", "content": "", "tool_calls": [tool(0, "x1234567", "read", '{"p": 1}')]}),
        chunk({"role": "assistant", "content": "", "tool_calls": []}, "tool_calls"),
    )
    assert blocks(message(body)) == [("tool_use", ("read", {"p": 1}))]


def test_id_and_name_repeated_on_every_chunk_is_one_block():
    frags = ['{"a"', ": 1,", ' "b": 2}']
    body = sse(*[chunk({"tool_calls": [tool(0, "call_same_id", "add", f)]}) for f in frags], chunk({}, "tool_calls"))
    msg = message(body)
    assert blocks(msg) == [("tool_use", ("add", {"a": 1, "b": 2}))]


def test_stop_after_tool_calls_is_tool_use():
    body = sse(chunk({"tool_calls": [tool(0, "call_12345678", "f", "{}")]}), chunk({}, "stop"))
    assert message(body)["stop_reason"] == "tool_use"


def test_tool_calls_finish_without_any_call_is_end_turn():
    assert message(sse(chunk({"content": "hi"}), chunk({}, "tool_calls")))["stop_reason"] == "end_turn"


def test_canonical_incremental_arguments_stream_as_deltas():
    frags = ["", "{", '"location"', ": ", '"San', ' Francisco"', "}"]
    body = sse(
        chunk({"tool_calls": [tool(0, "call_00_IhCA", "weather", frags[0])]}),
        *[chunk({"tool_calls": [tool(0, args=f)]}) for f in frags[1:]],
        chunk({"content": ""}, "tool_calls"),
    )
    events = translate(body)
    deltas = [e["delta"]["partial_json"] for e in events if e["type"] == "content_block_delta"]
    assert "".join(deltas) == '{"location": "San Francisco"}'
    assert "" not in deltas
    assert not violations(events)


def test_interleaved_parallel_calls_lose_nothing():
    body = sse(
        chunk({"tool_calls": [tool(0, "call_first00", "a", '{"x": ')]}),
        chunk({"tool_calls": [tool(1, "call_second0", "b", '{"y": ')]}),
        chunk({"tool_calls": [tool(0, args="1}")]}),
        chunk({"tool_calls": [tool(1, args="2}")]}),
        chunk({}, "tool_calls"),
    )
    events = translate(body)
    assert not violations(events)
    from translator import accumulate

    assert blocks(accumulate(events)) == [("tool_use", ("a", {"x": 1})), ("tool_use", ("b", {"y": 2}))]


def test_name_after_arguments_waits_for_the_name():
    body = sse(
        chunk({"tool_calls": [tool(0, "call_12345678", None, '{"command": ')]}),
        chunk({"tool_calls": [tool(0, name="bash", args='"ls -la"}')]}),
        chunk({}, "tool_calls"),
    )
    assert blocks(message(body)) == [("tool_use", ("bash", {"command": "ls -la"}))]


def test_fragmented_name_is_joined_before_arguments():
    body = sse(
        chunk({"tool_calls": [tool(0, "call_12345678", "edit_ex", "")]}),
        chunk({"tool_calls": [tool(0, name="isting_file", args='{"f": 1}')]}),
        chunk({}, "tool_calls"),
    )
    assert blocks(message(body)) == [("tool_use", ("edit_existing_file", {"f": 1}))]


def test_empty_name_and_id_on_continuations_continue_the_call():
    body = sse(
        chunk({"tool_calls": [tool(0, "chatcmpl-tool-a165", "get_weather", "")]}),
        chunk({"tool_calls": [tool(0, "", "", '{"city": "')]}),
        chunk({"tool_calls": [tool(0, "", "", 'Paris"}')]}),
        chunk({}, "tool_calls"),
    )
    assert blocks(message(body)) == [("tool_use", ("get_weather", {"city": "Paris"}))]


def test_missing_index_uses_position_for_named_calls():
    calls = [tool(None, "jm4owj31", "search", '{"q": "a"}'), tool(None, "jm4owj32", "search", '{"q": "b"}')]
    assert [b[1][1] for b in blocks(message(sse(chunk({"tool_calls": calls}, "stop"))))] == [{"q": "a"}, {"q": "b"}]


def test_all_index_zero_with_new_ids_are_separate_calls():
    body = sse(
        *[
            chunk({"tool_calls": [tool(0, f"call_function_xxx_{n}", "write_file", json.dumps({"path": f"{n}.txt"}))]})
            for n in range(3)
        ]
    )
    assert [b[1][1]["path"] for b in blocks(message(body))] == ["0.txt", "1.txt", "2.txt"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"filePath": "a.py"}, {"filePath": "a.py"}),
        ('"{\\"path\\": \\"/tmp\\"}"', {"path": "/tmp"}),
        ('""', {}),
        ("", {}),
        (None, {}),
    ],
)
def test_argument_shapes_always_give_an_object(args, expected):
    body = sse(chunk({"tool_calls": [tool(0, "call_12345678", "f", args)]}), chunk({}, "tool_calls"))
    msg = message(body)
    assert blocks(msg) == [("tool_use", ("f", expected))]


def test_tool_calls_as_a_lone_object():
    body = sse(
        chunk(
            {"tool_calls": {"index": 0, "id": "", "type": "function", "function": {"name": "f", "arguments": "{}"}}},
            "tool_calls",
        )
    )
    assert blocks(message(body)) == [("tool_use", ("f", {}))]


def test_tgi_name_inside_the_arguments_is_recovered():
    frags = ['{"function": {"_name": "get_weather", ', '"city": "Paris"}}']
    body = sse(
        *[chunk({"tool_calls": {"index": 0, "id": "", "function": {"name": None, "arguments": f}}}) for f in frags],
        chunk({}, "eos_token"),
    )
    assert blocks(message(body)) == [("tool_use", ("get_weather", {"city": "Paris"}))]


def test_truncated_arguments_are_max_tokens_not_tool_use():
    body = sse(chunk({"tool_calls": [tool(1, "toolu_sanitized", "write", '{"text": "half')]}), chunk({}, "stop"))
    msg = message(body)
    assert msg["stop_reason"] == "max_tokens"
    assert blocks(msg) == [("tool_use", ("write", {"text": "half"}))]


def test_text_after_tool_opens_a_new_text_block():
    body = sse(
        chunk({"content": "Looking."}),
        chunk({"tool_calls": [tool(0, "call_12345678", "find", '{"q": 1}')]}),
        chunk({"content": "Found it."}),
        chunk({}, "tool_calls"),
    )
    assert blocks(message(body)) == [("text", "Looking."), ("tool_use", ("find", {"q": 1})), ("text", "Found it.")]


def test_reasoning_fields_are_not_doubled():
    body = sse(
        chunk({"reasoning_content": "We", "reasoning": "We"}),
        chunk({"reasoning": " think"}),
        chunk({"content": "Answer"}),
        chunk({}, "stop"),
    )
    assert blocks(message(body)) == [("thinking", "We think"), ("text", "Answer")]


def test_reasoning_details_are_the_source_when_present():
    details = [
        {"type": "reasoning.text", "text": "plan", "signature": "sig-1"},
        {"type": "reasoning.encrypted", "data": "opaque"},
    ]
    body = sse(chunk({"reasoning": "plan", "reasoning_details": details}), chunk({"content": "ok"}, "stop"))
    msg = message(body)
    assert blocks(msg) == [("thinking", "plan"), ("redacted_thinking", "opaque"), ("text", "ok")]
    assert msg["content"][0]["signature"] == "sig-1"


def test_mistral_content_array_with_thinking():
    body = sse(
        chunk({"content": [{"type": "thinking", "thinking": [{"type": "text", "text": "Okay"}]}]}),
        chunk(
            {
                "content": [
                    {"type": "thinking", "thinking": [{"type": "text", "text": " 1."}]},
                    {"type": "text", "text": "3"},
                ]
            }
        ),
        chunk({"content": "91"}, "stop"),
    )
    assert blocks(message(body)) == [("thinking", "Okay 1."), ("text", "391")]


@pytest.mark.parametrize(
    ("mode", "pieces", "expected"),
    [
        ("tags", ["<thi", "nk>plan", "</th", "ink>answer"], [("thinking", "plan"), ("text", "answer")]),
        (
            "open",
            ["reconcile...", " done.</", "think>The root cause"],
            [("thinking", "reconcile... done."), ("text", "The root cause")],
        ),
        (None, ["<think>x</think>y"], [("text", "<think>x</think>y")]),
    ],
)
def test_inline_think_tags(mode, pieces, expected):
    body = sse(*[chunk({"content": p}) for p in pieces], chunk({}, "stop"))
    assert blocks(message(body, options={"think_tags": mode} if mode else None)) == expected


def test_usage_maps_cached_tokens():
    usage = {"prompt_tokens": 100, "completion_tokens": 7, "prompt_tokens_details": {"cached_tokens": 60}}
    msg = message(sse(chunk({"content": "x"}, "stop"), {"choices": [], "usage": usage}))
    assert msg["usage"]["input_tokens"] == 40
    assert msg["usage"]["cache_read_input_tokens"] == 60
    assert msg["usage"]["output_tokens"] == 7


def test_groq_vendor_usage_and_null_usage_never_overwrites():
    body = sse(
        chunk({"content": "x"}, "stop", x_groq={"usage": {"prompt_tokens": 23, "completion_tokens": 19}}),
        {"choices": [], "usage": None},
    )
    assert message(body)["usage"]["output_tokens"] == 19


def test_vllm_stop_string_is_a_stop_sequence():
    msg = message(sse(chunk({"content": "a"}), chunk({}, "stop", choice={"stop_reason": "###"})))
    assert (msg["stop_reason"], msg["stop_sequence"]) == ("stop_sequence", "###")


def test_content_filter_is_refusal():
    assert message(sse(chunk({"content": "partial"}, "content_filter")))["stop_reason"] == "refusal"


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        (
            sse(chunk({"content": "a"}), {"error": {"message": "TimeoutError", "type": "GatewayTimeout", "code": 504}}),
            "timeout_error",
        ),
        (
            sse(chunk({"content": "a"}), {"object": "error", "message": "bad", "type": "BadRequestError", "code": 400}),
            "invalid_request_error",
        ),
        (
            sse(
                {
                    "id": "gen-1",
                    "error": {"code": 502, "message": "down"},
                    "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
                }
            ),
            "overloaded_error",
        ),
        (
            b'data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n'
            b'event: error\ndata: {"error":{"message":"cap","code":429}}\n\n',
            "rate_limit_error",
        ),
        (
            b'error: {"code":400,"message":"context","type":"exceed_context_size_error"}\n\ndata: [DONE]\n\n',
            "invalid_request_error",
        ),
        (b"data: {not json}\n\n", "api_error"),
    ],
)
def test_in_band_errors_end_in_an_error_event(body, error_type):
    events = translate(body)
    assert events[-1]["type"] == "error"
    assert events[-1]["error"]["type"] == error_type
    assert not any(e["type"] == "message_stop" for e in events)
    assert not violations(events)


def test_content_before_an_error_is_kept():
    events = translate(sse(chunk({"content": "kept"}), {"error": {"message": "boom"}}))
    assert [e["delta"]["text"] for e in events if e["type"] == "content_block_delta"] == ["kept"]


@pytest.mark.parametrize("ending", ["eof", "reset", "timeout"])
def test_cut_streams_are_errors(ending):
    body = sse(chunk({"content": "half"}), done=False)
    assert error_of(body, ending=ending) is not None


def test_eof_after_a_finish_without_done_is_fine():
    assert message(sse(chunk({"content": "a"}, "stop"), done=False))["stop_reason"] == "end_turn"


def test_http_error_status_maps_to_the_anthropic_error_type():
    err = error_of(b'{"error": {"message": "slow down", "type": "rate_limit"}}', status=429)
    assert err == {"type": "rate_limit_error", "message": "slow down"}


def test_json_body_where_a_stream_was_expected_is_read_whole():
    body = json.dumps(
        {"id": "c", "model": "m", "choices": [{"index": 0, "message": {"content": "hi"}, "finish_reason": "stop"}]}
    )
    msg = message(body.encode(), ending="done")
    assert blocks(msg) == [("text", "hi")]


def test_non_streaming_response_matches_its_stream():
    completion = {
        "id": "chatcmpl-1",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Hi",
                    "reasoning_content": "think",
                    "tool_calls": [tool(None, "call_12345678", "f", '{"a": 1}')],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3},
    }
    from translator import accumulate

    events, _ = translate_response(json.dumps(completion).encode())
    assert blocks(accumulate(events)) == [("thinking", "think"), ("text", "Hi"), ("tool_use", ("f", {"a": 1}))]
    assert accumulate(events)["usage"]["input_tokens"] == 5


def test_model_and_ids_are_deterministic():
    body = sse({"choices": [], "id": "", "model": ""}, chunk({"content": "x"}, "stop"))
    first, second = translate(body), translate(body)
    assert first == second
    assert first[0]["message"]["model"] == "test-model"
    assert first[0]["message"]["id"].startswith("msg_")
