"""The Gemini / Vertex dialect end to end, expectations from quirks.md part H and the reports."""

import json

import pytest
from helpers import blocks

from translator import Translator, accumulate, stream_error, translate_response, translate_stream, violations
from translator.gemini import decode_signature, encode_signature


def resp(*parts, finish=None, usage=None, **extra):
    candidate = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    out = {"candidates": [candidate], "modelVersion": "gemini-2.5-pro", "responseId": "resp-1", **extra}
    if usage:
        out["usageMetadata"] = usage
    return out


def sse(*payloads) -> bytes:
    return "".join(f"data: {json.dumps(p)}\r\n\r\n" for p in payloads).encode()


def run(body: bytes, ending="eof", **kw) -> list[dict]:
    events, _ = translate_stream([body], "gemini", ending=ending, **kw)
    assert violations(events) == []
    return events


def msg(body: bytes, **kw) -> dict:
    return accumulate(run(body, **kw))


def test_function_call_with_args_in_one_part_keeps_its_arguments():
    args = {"pattern": "GetExerciseAnchors", "path": "lib/domain/repositories/workout_set_repository.dart"}
    m = msg(sse(resp({"functionCall": {"name": "grep_tool", "args": args}}), resp({"text": ""}, finish="STOP")))
    assert blocks(m) == [("tool_use", ("grep_tool", args))]
    assert m["stop_reason"] == "tool_use"


def test_thought_parts_are_thinking_and_flag_changes_switch_blocks():
    body = sse(resp({"text": "Plan.", "thought": True}, {"text": "Answer"}), resp({"text": "!"}, finish="STOP"))
    assert blocks(msg(body)) == [("thinking", "Plan."), ("text", "Answer!")]


def test_parallel_calls_and_missing_args():
    body = sse(
        resp({"functionCall": {"name": "a", "args": {"x": 1}}}, {"functionCall": {"name": "read_theme"}}, finish="STOP")
    )
    m = msg(body)
    assert blocks(m) == [("tool_use", ("a", {"x": 1})), ("tool_use", ("read_theme", {}))]
    assert m["content"][0]["id"] != m["content"][1]["id"]


def test_signatures_are_carried_with_their_place():
    body = sse(
        resp({"text": "thinking", "thought": True}),
        resp({"functionCall": {"name": "f", "args": {}, "id": "g1bmv6il"}, "thoughtSignature": "SIGCALL"}),
        resp({"text": "", "thoughtSignature": "SIGTAIL"}, finish="STOP"),
    )
    content = msg(body)["content"]
    assert [(b["type"], b.get("signature")) for b in content] == [
        ("thinking", "gemini:call:SIGCALL"),
        ("tool_use", None),
        ("thinking", "gemini:tail:SIGTAIL"),
    ]
    assert content[1]["id"] == "g1bmv6il"


def test_two_signatures_in_one_run_get_two_blocks():
    body = sse(
        resp(
            {"text": "t", "thought": True, "thoughtSignature": "A"},
            {"functionCall": {"name": "f"}, "thoughtSignature": "B"},
            finish="STOP",
        )
    )
    sigs = [b.get("signature") for b in msg(body)["content"] if b["type"] == "thinking"]
    assert sigs == ["gemini:thought:A", "gemini:call:B"]


def test_signature_codec_round_trip():
    assert decode_signature(encode_signature("call", "Eq+/=")) == ("call", "Eq+/=")
    assert decode_signature("quirktape:unsigned") is None
    assert decode_signature("gemini:nowhere:x") is None


def test_vertex_streamed_arguments_are_rebuilt_by_path():
    def fc(**kw):
        return resp({"functionCall": kw})

    body = sse(
        fc(name="cookRecipe", willContinue=True),
        fc(
            partialArgs=[{"jsonPath": "$.recipe.ingredients[0].amount", "stringValue": "16", "willContinue": True}],
            willContinue=True,
        ),
        fc(partialArgs=[{"jsonPath": "$.recipe.ingredients[0].amount", "stringValue": " oz"}], willContinue=True),
        fc(willContinue=True),
        fc(
            partialArgs=[
                {"jsonPath": "$.recipe.servings", "numberValue": 4},
                {"jsonPath": "$.recipe.vegan", "boolValue": False},
            ],
            willContinue=True,
        ),
        fc(),
        fc(name="getWeather", willContinue=True),
        fc(partialArgs=[{"jsonPath": "$.location", "stringValue": "Boston"}]),
        resp({"text": ""}, finish="STOP"),
    )
    assert blocks(msg(body)) == [
        ("tool_use", ("cookRecipe", {"recipe": {"ingredients": [{"amount": "16 oz"}], "servings": 4, "vegan": False}})),
        ("tool_use", ("getWeather", {"location": "Boston"})),
    ]


@pytest.mark.parametrize(
    ("finish", "stop"),
    [
        ("STOP", "end_turn"),
        ("MAX_TOKENS", "max_tokens"),
        ("SAFETY", "refusal"),
        ("RECITATION", "refusal"),
        ("LANGUAGE", "end_turn"),
    ],
)
def test_finish_reasons(finish, stop):
    m = msg(sse(resp({"text": "partial"}, finish=finish)))
    assert m["stop_reason"] == stop and blocks(m) == [("text", "partial")]


def test_malformed_function_call_is_an_error_not_an_empty_success():
    events = run(sse({"candidates": [{"finishReason": "MALFORMED_FUNCTION_CALL", "finishMessage": "bad call"}]}))
    assert stream_error(events)["type"] == "api_error" and "bad call" in stream_error(events)["message"]


def test_blocked_prompt_is_a_refusal_with_no_content():
    m = msg(sse({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": {"promptTokenCount": 9}}))
    assert m["content"] == [] and m["stop_reason"] == "refusal" and m["usage"]["input_tokens"] == 9


def test_usage_is_cumulative_and_counts_thoughts_as_output():
    usage = {
        "promptTokenCount": 12,
        "cachedContentTokenCount": 4,
        "toolUsePromptTokenCount": 65,
        "candidatesTokenCount": 71,
        "thoughtsTokenCount": 89,
    }
    body = sse(resp({"text": "a"}, usage={"trafficType": "ON_DEMAND"}), resp({"text": "b"}, finish="STOP", usage=usage))
    u = msg(body)["usage"]
    assert (u["input_tokens"], u["cache_read_input_tokens"], u["output_tokens"]) == (73, 4, 160)


def test_in_band_error_after_content():
    events = run(
        sse(resp({"text": "half"}), {"error": {"code": 503, "message": "high demand", "status": "UNAVAILABLE"}})
    )
    assert stream_error(events) == {"type": "overloaded_error", "message": "high demand"}
    assert blocks(accumulate(events)) == [("text", "half")]


def test_stream_without_finish_reason_is_cut():
    assert stream_error(run(sse(resp({"text": "half"}))))["type"] == "api_error"


def test_json_array_framing_split_anywhere():
    body = (
        "["
        + "\r\n,\r\n".join(
            json.dumps(p, indent=1) for p in [resp({"text": "Hel"}), resp({"text": "lo ]}"}, finish="STOP")]
        )
        + "\r\n]"
    ).encode()
    expected = run(body)
    assert blocks(accumulate(expected)) == [("text", "Hello ]}")]
    for cut in range(0, len(body), 7):
        t = Translator("gemini")
        got = t.feed(body[:cut]) + t.feed(body[cut:]) + t.close("eof")
        assert got == expected


def test_json_array_without_its_closing_bracket_is_cut():
    body = ("[" + json.dumps(resp({"text": "Hel"}))).encode()
    assert stream_error(run(body))["type"] == "api_error"


def test_complete_response_and_array_wrapped_http_error():
    events, _ = translate_response(
        json.dumps(resp({"functionCall": {"name": "add_numbers", "args": {"a": 17, "b": 25}}}, finish="STOP")).encode(),
        "gemini",
    )
    assert blocks(accumulate(events)) == [("tool_use", ("add_numbers", {"a": 17, "b": 25}))]
    events, _ = translate_stream(
        [b'[{"error": {"code": 400, "message": "missing thought_signature", "status": "INVALID_ARGUMENT"}}]'],
        "gemini",
        status=400,
    )
    assert stream_error(events) == {"type": "invalid_request_error", "message": "missing thought_signature"}


def test_signatures_round_trip_into_the_next_gemini_request():
    from translator import to_gemini_request

    stream = sse(
        resp({"text": "Let me add.", "thought": True, "thoughtSignature": "SIG-THOUGHT"}),
        resp({"functionCall": {"name": "add_numbers", "args": {"a": 17, "b": 25}}, "thoughtSignature": "SIG-CALL"}),
        resp({"functionCall": {"name": "add_numbers", "args": {"a": 1, "b": 2}}}),
        resp({"text": "", "thoughtSignature": "SIG-TAIL"}, finish="STOP"),
    )
    assistant = accumulate(run(stream))
    calls = [b for b in assistant["content"] if b["type"] == "tool_use"]
    anthropic_request = {
        "model": "gemini-2.5-pro",
        "max_tokens": 200,
        "system": "Be brief.",
        "tools": [
            {
                "name": "add_numbers",
                "description": "Add.",
                "input_schema": {"type": "object", "properties": {"a": {}, "b": {}}},
            }
        ],
        "tool_choice": {"type": "tool", "name": "add_numbers"},
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "messages": [
            {"role": "user", "content": "Use the add_numbers tool to compute 17 + 25."},
            {"role": "assistant", "content": assistant["content"]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": c["id"], "content": "42"} for c in calls],
            },
        ],
    }
    body = to_gemini_request(json.loads(json.dumps(anthropic_request)))
    model_parts = body["contents"][1]["parts"]
    assert model_parts == [
        {"text": "Let me add.", "thought": True, "thoughtSignature": "SIG-THOUGHT"},
        {"functionCall": {"name": "add_numbers", "args": {"a": 17, "b": 25}}, "thoughtSignature": "SIG-CALL"},
        {"functionCall": {"name": "add_numbers", "args": {"a": 1, "b": 2}}},
        {"text": "", "thoughtSignature": "SIG-TAIL"},
    ]
    replies = body["contents"][2]["parts"]
    assert [r["functionResponse"]["name"] for r in replies] == ["add_numbers", "add_numbers"]
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["add_numbers"]}}
    assert body["generationConfig"] == {
        "maxOutputTokens": 200,
        "thinkingConfig": {"includeThoughts": True, "thinkingBudget": 1024},
    }
    assert body["tools"][0]["functionDeclarations"][0]["name"] == "add_numbers"


def test_openai_compat_thought_signature_is_carried():
    from helpers import chunk, message, tool
    from helpers import sse as openai_sse

    call = tool(None, "jm4owj31", "f", "{}", extra_content={"google": {"thought_signature": "EjQK"}})
    m = message(openai_sse(chunk({"tool_calls": [call]}, "stop")))
    assert [(b["type"], b.get("signature")) for b in m["content"]] == [
        ("thinking", "gemini:call:EjQK"),
        ("tool_use", None),
    ]


@pytest.mark.parametrize("path", ["$" + ".a" * 990, "$.a[30000000]", "nonsense"])
def test_hostile_partial_args_paths_are_errors_not_crashes(path):
    body = sse(
        resp({"functionCall": {"name": "f", "willContinue": True}}),
        resp({"functionCall": {"partialArgs": [{"jsonPath": path, "numberValue": 1}]}}, finish="STOP"),
    )
    assert stream_error(run(body))["type"] == "api_error"


def test_signature_on_a_continuation_and_nameless_calls():
    body = sse(
        resp({"functionCall": {"name": "f", "willContinue": True}}),
        resp(
            {"functionCall": {"partialArgs": [{"jsonPath": "$.x", "numberValue": 1}]}, "thoughtSignature": "S"},
            finish="STOP",
        ),
    )
    content = msg(body)["content"]
    assert [(b["type"], b.get("signature")) for b in content] == [("thinking", "gemini:call:S"), ("tool_use", None)]
    assert content[1]["input"] == {"x": 1}
    assert stream_error(run(sse(resp({"functionCall": {"args": {"x": 1}}}, finish="STOP"))))["type"] == "api_error"


def test_json_array_cut_after_a_finish_is_still_cut():
    body = ("[" + json.dumps(resp({"text": "a"}, finish="STOP")) + ',{"candidates":[{"content":{"parts":[{"te').encode()
    assert stream_error(run(body))["type"] == "api_error"


def test_usage_keeps_the_last_value_of_each_field():
    early = {"promptTokenCount": 100, "cachedContentTokenCount": 40, "thoughtsTokenCount": 50}
    body = sse(
        resp({"text": "a"}, usage=early),
        resp({"text": "b"}, finish="STOP", usage={"promptTokenCount": 100, "candidatesTokenCount": 5}),
    )
    u = msg(body)["usage"]
    assert (u["input_tokens"], u["cache_read_input_tokens"], u["output_tokens"]) == (60, 40, 55)


def test_byte_order_mark_before_a_whole_json_body():
    events, _ = translate_response(b"\xef\xbb\xbf" + json.dumps(resp({"text": "hi"}, finish="STOP")).encode(), "gemini")
    assert blocks(accumulate(events)) == [("text", "hi")]


def test_request_merges_same_role_turns_and_falls_back_to_the_skip_sentinel():
    from translator import to_gemini_request

    body = to_gemini_request(
        {
            "messages": [
                {"role": "user", "content": "go"},
                {"role": "assistant", "content": [{"type": "text", "text": "calling"}]},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "tool_use", "id": "toolu_1", "name": "a", "input": {}},
                        {"type": "tool_use", "id": "toolu_2", "name": "b", "input": {}},
                    ],
                },
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "1"}]},
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "toolu_2", "content": "2", "is_error": True}],
                },
            ]
        }
    )
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    model = body["contents"][1]["parts"]
    assert model[1] == {
        "functionCall": {"name": "a", "args": {}},
        "thoughtSignature": "skip_thought_signature_validator",
    }
    assert "thoughtSignature" not in model[2]
    assert [p["functionResponse"] for p in body["contents"][2]["parts"]] == [
        {"name": "a", "response": {"output": "1"}},
        {"name": "b", "response": {"error": "2"}},
    ]


def test_a_json_array_cut_mid_streamed_call_keeps_the_call_as_sse_does():
    """The same Vertex chunks, cut inside a partialArgs call, as SSE and as a streamed JSON array: same call kept."""
    chunks = [
        {
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [{"functionCall": {"name": "getWeather", "willContinue": True}}],
                    }
                }
            ]
        },
        {
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [
                            {
                                "functionCall": {
                                    "partialArgs": [
                                        {"jsonPath": "$.location", "stringValue": "Boston", "willContinue": True}
                                    ],
                                    "willContinue": True,
                                }
                            }
                        ],
                    }
                }
            ]
        },
    ]
    as_sse = b"".join(b"data: " + json.dumps(c).encode() + b"\r\n\r\n" for c in chunks)
    as_array = b"[" + b",\r\n".join(json.dumps(c).encode() for c in chunks)  # cut: no closing ]
    results = []
    for body in (as_sse, as_array):
        events, _ = translate_stream([body], "gemini", ending="eof")
        message = accumulate(events)
        results.append([(b["type"], b.get("name"), b.get("input")) for b in message["content"]])
        assert events[-1]["type"] == "error"
    assert results[0] == results[1] == [("tool_use", "getWeather", {"location": "Boston"})]
