"""Ollama's native /api/chat NDJSON dialect, expectations from Ollama's wire format."""

import json

import pytest

from translator import accumulate, stream_error, translate_response, translate_stream, violations


def line(content="", done=False, **message_extra):
    out = {
        "model": "llama3.2",
        "created_at": "2026-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": content, **message_extra},
        "done": done,
    }
    return out


def body(*lines) -> bytes:
    return b"".join(json.dumps(x).encode() + b"\n" for x in lines)


def run(data: bytes, **kw) -> list[dict]:
    events, _ = translate_stream([data], "ollama", **kw)
    assert violations(events) == []
    return events


FINAL = {**line(done=True), "done_reason": "stop", "prompt_eval_count": 26, "eval_count": 12}


def test_text_thinking_and_usage():
    m = accumulate(run(body(line(thinking="hmm"), line("Hel"), line("lo"), FINAL)))
    assert [(b["type"], b.get("text") or b.get("thinking")) for b in m["content"]] == [
        ("thinking", "hmm"),
        ("text", "Hello"),
    ]
    assert (m["stop_reason"], m["usage"]["input_tokens"], m["usage"]["output_tokens"]) == ("end_turn", 26, 12)


def test_whole_tool_call_with_object_arguments_is_tool_use():
    call = {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}
    m = accumulate(run(body(line(tool_calls=[call]), FINAL)))
    assert [(b["name"], b["input"]) for b in m["content"]] == [("get_weather", {"city": "Paris"})]
    assert m["stop_reason"] == "tool_use"


@pytest.mark.parametrize("cut", range(0, 200, 7))
def test_lines_split_anywhere(cut):
    data = body(line("Hel"), line("lo"), FINAL)
    expected = run(data)
    events, _ = translate_stream([data[:cut], data[cut:]], "ollama")
    assert events == expected


def test_last_line_without_newline_and_length():
    data = body(line("a")) + json.dumps({**line(done=True), "done_reason": "length"}).encode()
    assert accumulate(run(data))["stop_reason"] == "max_tokens"


def test_cut_stream_and_errors():
    assert stream_error(run(body(line("half"))))["type"] == "api_error"
    assert (
        stream_error(run(b'{"error":"model \\"x\\" not found, try pulling it first"}', status=404))["type"]
        == "not_found_error"
    )
    assert stream_error(run(body(line("a")) + b'{"error":"unexpected server status"}\n'))["type"] == "api_error"


def test_non_streaming_response():
    events, _ = translate_response(json.dumps({**line("hi"), "done": True, "done_reason": "stop"}).encode(), "ollama")
    assert accumulate(events)["content"] == [{"type": "text", "text": "hi"}]
