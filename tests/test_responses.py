"""The OpenAI Responses API (``POST /v1/responses``) as an upstream dialect: parser, coverage, the official
``openai`` SDK's reading of every Responses cassette, the request translation and its round trip, import,
record and gateway.

Where each wire fact comes from is said beside it. The shapes are the documented ones (OpenAI's
Responses streaming reference, the ``openai`` SDK's event types) unless a vendor is named: vLLM
(vllm-project/vllm PRs #35184, #29947, #24938, #38190), llama-server (its ``server-task.cpp``,
``to_json_oaicompat_resp``), LiteLLM (#22102, #40243), xAI (vercel/ai#13372), gpt-5.3-codex-spark
(litellm#27792, earendil-works/pi#2745). The cassettes under ``cassettes/openai-responses/`` say the
same in their ``source`` and ``notes``.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from helpers import CASSETTES, blocks, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from recorder.capture import gateway_app, import_bytes, proxy_app
from recorder.capture.record import record, upstream_calls
from recorder.judge import check_cassette
from recorder.replay import rechunk, replay
from recorder.replay.asgi import running
from recorder.tape import UPSTREAMS, body_dialect, load, parse_cassette, payload_dialect, url_dialect
from translator import accumulate, to_responses_request, translate_response, translate_stream, violations
from translator.coverage import trace_findings
from translator.ir import ERROR, FINISH, REASONING, SIGNATURE, TEXT, TOOL
from translator.responses import decode_signature, encode_signature
from translator.responses_request import reasoning_item
from translator.stream import Translator

LIBRARY = CASSETTES / "openai-responses"


def cassettes() -> list[Path]:
    return sorted(LIBRARY.glob("*.yaml"))


class Events:
    """Responses events with running sequence numbers, as the API numbers them."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, kind: str, **fields) -> dict:
        event = {"type": kind, "sequence_number": self.n, **fields}
        self.n += 1
        return event


def stream(*events: dict | str, named: bool = True) -> bytes:
    """Each event as SSE, named by its type (as OpenAI sends them) or as bare data lines (as LiteLLM does)."""
    out = []
    for event in events:
        if isinstance(event, str):
            out.append(event)
        elif named and "type" in event:
            out.append(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n")
        else:
            out.append(f"data: {json.dumps(event)}\n\n")
    return "".join(out).encode()


def response(status: str = "in_progress", output: list | None = None, usage: dict | None = None, **extra) -> dict:
    return {
        "id": "resp_1",
        "object": "response",
        "model": "gpt-5",
        "status": status,
        "output": output or [],
        "usage": usage,
        **extra,
    }


def message(body: bytes, **kwargs) -> dict:
    events, _ = translate_stream([body], "responses", **kwargs)
    assert violations(events) == []
    return accumulate(events)


def ir_of(body: bytes) -> list[tuple]:
    return translate_stream([body], "responses", keep_ir=True)[1] or []


def unread(body: bytes, whole: bool = False) -> list[str]:
    """Coverage findings that fail (gaps only warn)."""
    translator = Translator("responses", trace=True)
    translator.feed(body)
    translator.close("eof")
    return [str(f) for f in trace_findings(translator.dialect, translator.trace or [], whole) if not f.gap]


def message_item(text: str, item_id: str = "msg_1", **extra) -> dict:
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {"id": item_id, "type": "message", "role": "assistant", "status": "completed", "content": [part], **extra}


def call_item(arguments: str, call_id: str = "call_abcdefgh", item_id: str = "fc_1", name: str = "get_weather") -> dict:
    return {
        "id": item_id,
        "type": "function_call",
        "status": "completed",
        "arguments": arguments,
        "call_id": call_id,
        "name": name,
    }


USAGE = {
    "input_tokens": 1536,
    "input_tokens_details": {"cached_tokens": 1024},
    "output_tokens": 180,
    "output_tokens_details": {"reasoning_tokens": 128},
    "total_tokens": 1716,
}


# -- text and its copies (RSP-01) ---------------------------------------------------------------------


def text_stream(tokens: list[str]) -> bytes:
    """OpenAI's documented text sequence: every delta is repeated by output_text.done, content_part.done,
    output_item.done and the response.completed snapshot."""
    e, text = Events(), "".join(tokens)
    part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    return stream(
        e("response.created", response=response()),
        e("response.in_progress", response=response()),
        e(
            "response.output_item.added",
            output_index=0,
            item={**message_item(""), "status": "in_progress", "content": []},
        ),
        e("response.content_part.added", item_id="msg_1", output_index=0, content_index=0, part=part),
        *[e("response.output_text.delta", item_id="msg_1", output_index=0, content_index=0, delta=t) for t in tokens],
        e("response.output_text.done", item_id="msg_1", output_index=0, content_index=0, text=text),
        e("response.content_part.done", item_id="msg_1", output_index=0, content_index=0, part={**part, "text": text}),
        e("response.output_item.done", output_index=0, item=message_item(text)),
        e("response.completed", response=response("completed", [message_item(text)], USAGE)),
    )


def test_text_deltas_and_their_four_copies_are_one_text():
    msg = message(text_stream(["Hello", "!", " How", " can", " I", " help", "?"]))
    assert blocks(msg) == [("text", "Hello! How can I help?")]
    assert msg["stop_reason"] == "end_turn"
    assert unread(text_stream(["Hi"])) == []


def test_usage_cached_tokens_are_not_input_twice_and_reasoning_tokens_are_inside_output():
    # OpenAI usage: input_tokens includes input_tokens_details.cached_tokens, output_tokens includes
    # output_tokens_details.reasoning_tokens (the Responses usage object's documented meaning)
    usage = message(text_stream(["Hi"]))["usage"]
    assert usage["input_tokens"] == 512 and usage["cache_read_input_tokens"] == 1024
    assert usage["output_tokens"] == 180


def test_the_stream_and_its_complete_response_are_the_same_message():
    whole = json.dumps(response("completed", [message_item("Hello! How can I help?")], USAGE)).encode()
    complete = accumulate(translate_response(whole, "responses")[0])
    streamed = message(text_stream(["Hello! How", " can I help?"]))
    assert blocks(complete) == blocks(streamed) and complete["usage"] == streamed["usage"]


def test_the_same_bytes_in_any_pieces_give_the_same_events():
    body = text_stream(["Grüße", " 👋", "!"])
    whole = translate_stream([body], "responses")[0]
    for strategy in ("bytes", "lines"):
        assert translate_stream(rechunk(body, strategy), "responses")[0] == whole


# -- reasoning (RSP-02, RSP-03, RSP-04) ----------------------------------------------------------------


def reasoning_stream(encrypted: str | None = "gAAAAAenc") -> bytes:
    """OpenAI reasoning with two summary parts (summary_index 0 and 1); encrypted_content only in the
    finished item (community.openai.com/t/…/1286934 shows such an item), then a function call."""
    e = Events()
    parts = ["**Checking**\n\nThe user wants Paris.", "**Calling**\n\nget_weather it is."]
    done = {"id": "rs_1", "type": "reasoning", "summary": [{"type": "summary_text", "text": p} for p in parts]}
    if encrypted:
        done["encrypted_content"] = encrypted
    events = [
        e("response.created", response=response()),
        e("response.output_item.added", output_index=0, item={"id": "rs_1", "type": "reasoning", "summary": []}),
    ]
    for index, text in enumerate(parts):
        where = {"item_id": "rs_1", "output_index": 0, "summary_index": index}
        events += [
            e("response.reasoning_summary_part.added", **where, part={"type": "summary_text", "text": ""}),
            e("response.reasoning_summary_text.delta", **where, delta=text[:9]),
            e("response.reasoning_summary_text.delta", **where, delta=text[9:]),
            e("response.reasoning_summary_text.done", **where, text=text),
            e("response.reasoning_summary_part.done", **where, part={"type": "summary_text", "text": text}),
        ]
    call = call_item('{"city":"Paris"}')
    events += [
        e("response.output_item.done", output_index=0, item=done),
        e("response.output_item.added", output_index=1, item={**call, "arguments": "", "status": "in_progress"}),
        e("response.function_call_arguments.delta", item_id="fc_1", output_index=1, delta='{"city":'),
        e("response.function_call_arguments.delta", item_id="fc_1", output_index=1, delta='"Paris"}'),
        e("response.function_call_arguments.done", item_id="fc_1", output_index=1, arguments='{"city":"Paris"}'),
        e("response.output_item.done", output_index=1, item=call),
        e("response.completed", response=response("completed", [done, call], USAGE)),
    ]
    return stream(*events)


def test_summary_parts_are_one_thinking_block_signed_with_the_encrypted_content():
    msg = message(reasoning_stream())
    thinking, call = msg["content"]
    assert thinking["thinking"] == "**Checking**\n\nThe user wants Paris.\n\n**Calling**\n\nget_weather it is."
    assert thinking["signature"] == "responses:summary:rs_1:gAAAAAenc"
    assert (call["type"], call["id"], call["name"], call["input"]) == (
        "tool_use",
        "call_abcdefgh",
        "get_weather",
        {"city": "Paris"},
    )
    assert msg["stop_reason"] == "tool_use"
    assert unread(reasoning_stream()) == []


def test_a_summary_without_encrypted_content_cannot_go_back_so_it_is_not_signed():
    thinking = message(reasoning_stream(encrypted=None))["content"][0]
    assert thinking["signature"] == "quirktape:unsigned"


def test_full_reasoning_text_with_content_index_counting_up_per_delta():
    # vLLM (gpt-oss): response.reasoning_text.delta with content_index 8, 9, 10… on one part
    # (vllm-project/vllm#35184), the same for output_text.delta (#29947); keys sorted
    e = Events()
    words = [" say", " hello", " in", " one", " word."]
    item = {
        "id": "04429e29",
        "summary": [],
        "type": "reasoning",
        "content": [{"text": "".join(words), "type": "reasoning_text"}],
    }
    body = stream(
        e("response.output_item.added", output_index=0, item={**item, "content": None}),
        e(
            "response.reasoning_part.added",
            item_id="04429e29",
            output_index=0,
            content_index=0,
            part={"text": "", "type": "reasoning_text"},
        ),
        *[
            e("response.reasoning_text.delta", item_id="04429e29", output_index=0, content_index=n + 8, delta=w)
            for n, w in enumerate(words)
        ],
        e("response.reasoning_text.done", item_id="04429e29", output_index=0, content_index=12, text="".join(words)),
        e("response.output_item.done", output_index=0, item=item),
        *[
            e("response.output_text.delta", item_id="m", output_index=1, content_index=n, delta=t)
            for n, t in enumerate(["Hel", "lo"])
        ],
        e("response.output_text.done", item_id="m", output_index=1, content_index=1, text="Hello"),
        e("response.completed", response=response("completed", [item, message_item("Hello", "m")])),
    )
    msg = message(body)
    assert blocks(msg) == [("thinking", " say hello in one word."), ("text", "Hello")]
    assert msg["content"][0]["signature"] == "responses:text:04429e29:"


def test_the_summary_of_an_item_whose_full_text_came_is_a_copy():
    # an item with both content (reasoning_text) and summary (Llama Stack summarises after the fact,
    # ogx-ai/ogx#5451): the full text is the reasoning, the summary is not appended to it
    item = {
        "id": "rs_1",
        "type": "reasoning",
        "content": [{"type": "reasoning_text", "text": "long thought"}],
        "summary": [{"type": "summary_text", "text": "short"}],
    }
    complete = accumulate(translate_response(json.dumps(response("completed", [item])).encode(), "responses")[0])
    assert blocks(complete) == [("thinking", "long thought")]


def test_xai_summary_events_and_complete_content_are_the_same_thinking():
    # xAI streams reasoning as reasoning_summary_text but returns it as reasoning_text content when
    # complete (vercel/ai#13372): both are the thinking block
    path = LIBRARY / "rsp-03-xai-summary-when-streamed-content-when-complete.yaml"
    cassette = load(path)
    streamed, complete = (accumulate(replay(cassette, i).events) for i in (0, 1))
    assert blocks(streamed) == blocks(complete)


# -- function calls (RSP-05, RSP-06) -----------------------------------------------------------------


def test_arguments_only_in_function_call_arguments_done_are_not_lost():
    # gpt-5.3-codex-spark: added with arguments "", no delta, the JSON only in .done (litellm#27792)
    e = Events()
    call = call_item('{"command":"ls -la"}', name="Bash")
    body = stream(
        e("response.output_item.added", output_index=0, item={**call, "arguments": "", "status": "in_progress"}),
        e("response.function_call_arguments.done", item_id="fc_1", output_index=0, arguments=call["arguments"]),
        e("response.output_item.done", output_index=0, item=call),
        e("response.completed", response=response("completed", [call])),
    )
    assert blocks(message(body)) == [("tool_use", ("Bash", {"command": "ls -la"}))]
    assert [f[4] for f in ir_of(body) if f[0] == TOOL and f[4]] == ['{"command":"ls -la"}']  # once, not per copy


def test_arguments_only_in_the_finished_item_or_the_terminal_snapshot():
    for body in (
        stream(
            {"type": "response.output_item.done", "output_index": 0, "item": call_item('{"a":1}')},
            {"type": "response.completed", "response": response("completed")},
        ),
        stream({"type": "response.completed", "response": response("completed", [call_item('{"a":1}')])}),
    ):
        assert blocks(message(body)) == [("tool_use", ("get_weather", {"a": 1}))]


def test_parallel_calls_interleaved_by_output_index_are_two_calls():
    # llama.cpp streams parallel calls interleaved (can1357/oh-my-pi#1882); events carry output_index and item_id
    e = Events()
    added = [{**call_item("", f"call_{n}aaaaaaa", f"fc_{n}", "read"), "status": "in_progress"} for n in (0, 1)]
    body = stream(
        e("response.output_item.added", output_index=0, item=added[0]),
        e("response.function_call_arguments.delta", item_id="fc_0", output_index=0, delta='{"path":'),
        e("response.output_item.added", output_index=1, item=added[1]),
        e("response.function_call_arguments.delta", item_id="fc_1", output_index=1, delta='{"path":'),
        e("response.function_call_arguments.delta", item_id="fc_0", output_index=0, delta='"a.txt"}'),
        e("response.function_call_arguments.delta", item_id="fc_1", output_index=1, delta='"b.md"}'),
        e("response.completed", response=response("completed")),
    )
    assert blocks(message(body)) == [
        ("tool_use", ("read", {"path": "a.txt"})),
        ("tool_use", ("read", {"path": "b.md"})),
    ]


# -- missing and malformed lifecycle (RSP-07, RSP-08, RSP-09, RSP-10, RSP-17) ---------------------------


def test_deltas_without_created_or_item_events_then_done_sentinel():
    # LiteLLM for gpt-5.3-codex: data lines only, output_text.delta first, then response.completed
    # and data: [DONE] (BerriAI/litellm#22102); anything after [DONE] is not part of the response
    delta = {
        "type": "response.output_text.delta",
        "item_id": "msg_1",
        "output_index": 0,
        "content_index": 0,
        "delta": "pong",
    }
    body = stream(
        delta, {"type": "response.completed", "response": response("completed", [message_item("pong")])}, named=False
    )
    msg = message(body + b"data: [DONE]\n\n" + stream(delta, named=False))
    assert blocks(msg) == [("text", "pong")] and msg["stop_reason"] == "end_turn"


def test_a_null_added_item_and_sparse_output_indexes():
    # openai/openai-python#3125: output_item.added with item null; later indexes skip
    e = Events()
    body = stream(
        e("response.output_item.added", output_index=0, item=None),
        e("response.output_text.delta", item_id="msg_1", output_index=1, content_index=0, delta="Hi"),
        e("response.output_item.added", output_index=3, item={**call_item(""), "status": "in_progress"}),
        e("response.function_call_arguments.delta", item_id="fc_1", output_index=3, delta='{"city":"Oslo"}'),
        e("response.completed", response=response("completed", [message_item("Hi"), call_item('{"city":"Oslo"}')])),
    )
    assert blocks(message(body)) == [("text", "Hi"), ("tool_use", ("get_weather", {"city": "Oslo"}))]
    assert unread(body) == []


def test_llama_server_events_without_output_index_name_calls_by_call_id():
    # llama-server (server-task.cpp, to_json_oaicompat_resp): no output_index, content_index or
    # sequence_number; function_call items have call_id "fc_<id>" and no id, and deltas say item_id
    # "fc_<id>"; every output_item.done comes at the end
    items = [
        {"arguments": "", "call_id": f"fc_{n}", "name": "read", "type": "function_call", "status": "in_progress"}
        for n in "ab"
    ]
    body = stream(
        {"type": "response.created", "response": {"id": "resp_1", "object": "response", "status": "in_progress"}},
        {
            "type": "response.output_item.added",
            "item": {
                "id": "rs_1",
                "summary": [],
                "type": "reasoning",
                "content": [],
                "encrypted_content": "",
                "status": "in_progress",
            },
        },
        {"type": "response.reasoning_text.delta", "delta": "Two files.", "item_id": "rs_1"},
        {"type": "response.output_item.added", "item": items[0]},
        {"type": "response.function_call_arguments.delta", "delta": '{"path":"a"}', "item_id": "fc_a"},
        {"type": "response.output_item.added", "item": items[1]},
        {"type": "response.function_call_arguments.delta", "delta": '{"path":"b"}', "item_id": "fc_b"},
        {
            "type": "response.output_item.done",
            "item": {
                "id": "rs_1",
                "summary": [],
                "type": "reasoning",
                "content": [{"text": "Two files.", "type": "reasoning_text"}],
                "encrypted_content": "",
            },
        },
        *[
            {
                "type": "response.output_item.done",
                "item": {**item, "status": "completed", "arguments": f'{{"path":"{n}"}}'},
            }
            for item, n in zip(items, "ab")
        ],
        {
            "type": "response.completed",
            "response": {"id": "resp_1", "object": "response", "status": "completed", "model": "qwen3", "output": []},
        },
    )
    msg = message(body)
    assert blocks(msg) == [
        ("thinking", "Two files."),
        ("tool_use", ("read", {"path": "a"})),
        ("tool_use", ("read", {"path": "b"})),
    ]
    assert msg["content"][0]["signature"] == "responses:text:rs_1:"  # signed when the calls began, not at the end


def test_the_terminal_snapshot_adds_only_what_the_stream_did_not_carry():
    # Switchyard#777: content only in response.completed's output; cc-switch#6756: ids drift between
    # the deltas and the snapshot; Plexus#644: the snapshot's output is [] after streamed items
    delta = {"type": "response.output_text.delta", "item_id": "msg_streamed", "output_index": 0, "delta": "Hel"}
    drifted = stream(
        delta, {"type": "response.completed", "response": response("completed", [message_item("Hello", "msg_other")])}
    )
    assert blocks(message(drifted)) == [("text", "Hello")]
    empty = stream(delta, {"type": "response.completed", "response": response("completed", [])})
    assert blocks(message(empty)) == [("text", "Hel")]


# -- finish (RSP-12, RSP-13, RSP-14) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "stop"),
    [("max_output_tokens", "max_tokens"), ("content_filter", "refusal"), ("steered", "end_turn")],
)
def test_incomplete_details_reason_is_the_stop_reason(reason, stop):
    # incomplete_details.reason: max_output_tokens | content_filter (OpenAI and Azure's documented enum;
    # the SDK knows max_messages and steered too, unknown reasons are end_turn as FIN-07 says)
    body = stream(
        {"type": "response.output_text.delta", "item_id": "m", "output_index": 0, "delta": "Once"},
        {"type": "response.incomplete", "response": response("incomplete", incomplete_details={"reason": reason})},
    )
    assert message(body)["stop_reason"] == stop


def test_completed_with_every_allowed_token_spent_is_max_tokens():
    # gpt-5: status completed, incomplete_details null, the answer cut at max_output_tokens=200
    # (community.openai.com/t/…/1355725)
    def body(spent: int) -> bytes:
        usage = {"input_tokens": 10, "output_tokens": spent}
        return json.dumps(
            response("completed", [message_item("- Jail: A small room")], usage, max_output_tokens=200)
        ).encode()

    assert accumulate(translate_response(body(200), "responses")[0])["stop_reason"] == "max_tokens"
    assert accumulate(translate_response(body(150), "responses")[0])["stop_reason"] == "end_turn"


def test_a_refusal_part_keeps_its_words_and_makes_the_turn_a_refusal():
    # response.refusal.delta / .done on a {"type": "refusal"} part (OpenAI structured-outputs refusals)
    e = Events()
    words = "I'm sorry, I can't help with that."
    body = stream(
        e(
            "response.content_part.added",
            item_id="m",
            output_index=0,
            content_index=0,
            part={"type": "refusal", "refusal": ""},
        ),
        e("response.refusal.delta", item_id="m", output_index=0, content_index=0, delta=words),
        e("response.refusal.done", item_id="m", output_index=0, content_index=0, refusal=words),
        e(
            "response.completed",
            response=response(
                "completed",
                [
                    {
                        "id": "m",
                        "type": "message",
                        "role": "assistant",
                        "content": [{"type": "refusal", "refusal": words}],
                    }
                ],
            ),
        ),
    )
    msg = message(body)
    assert blocks(msg) == [("text", words)] and msg["stop_reason"] == "refusal"


def test_url_citation_annotations_become_one_citation_each():
    # response.output_text.annotation.added, then the same annotation in the finished part and item
    note = {"type": "url_citation", "start_index": 6, "end_index": 11, "url": "https://example.org/", "title": "Ex"}
    e = Events()
    cited = message_item("Paris [src].", "m")
    cited["content"][0]["annotations"] = [note]
    body = stream(
        e("response.output_text.delta", item_id="m", output_index=0, content_index=0, delta="Paris [src]."),
        e(
            "response.output_text.annotation.added",
            item_id="m",
            output_index=0,
            content_index=0,
            annotation_index=0,
            annotation=note,
        ),
        e("response.output_item.done", output_index=0, item=cited),
        e("response.completed", response=response("completed", [cited])),
    )
    (block,) = message(body)["content"]
    assert block["citations"] == [
        {
            "type": "web_search_result_location",
            "url": "https://example.org/",
            "title": "Ex",
            "encrypted_index": "",
            "cited_text": "[src]",
        }
    ]
    assert unread(body) == []


# -- errors (RSP-15, RSP-16, RSP-18) --------------------------------------------------------------------


def error_of(body: bytes) -> dict | None:
    events, _ = translate_stream([body], "responses")
    return events[-1]["error"] if events[-1]["type"] == "error" else None


def test_response_failed_keeps_the_text_then_errors_by_its_code():
    failed = response("failed", error={"code": "rate_limit_exceeded", "message": "slow down"})
    body = stream(
        {"type": "response.output_text.delta", "item_id": "m", "output_index": 0, "delta": "Prince"},
        {"type": "response.failed", "response": failed},
    )
    events, _ = translate_stream([body], "responses")
    assert accumulate(events)["content"] == [{"type": "text", "text": "Prince"}]
    assert events[-1]["error"] == {"type": "rate_limit_error", "message": "slow down"}


def test_error_payloads_in_every_shape_are_errors():
    flat = {"type": "error", "code": "server_error", "message": "boom", "param": None, "sequence_number": 3}
    assert error_of(stream(flat, named=False))["type"] == "api_error"
    assert error_of(stream({**flat, "code": "rate_limit_exceeded"}, named=False))["type"] == "rate_limit_error"
    assert error_of(stream({**flat, "code": "image_too_large"}, named=False))["type"] == "invalid_request_error"
    assert error_of(stream(flat))["type"] == "api_error"  # event: error, read by the translator's own error path
    # LiteLLM before #40243 and vLLM before #40418: a chat-style frame without a type
    assert (
        error_of(stream({"error": {"message": "litellm.InternalServerError: x", "code": "500"}}))["type"] == "api_error"
    )
    # an HTTP error body (the Responses error envelope), and a complete response that failed
    events, _ = translate_response(
        b'{"error": {"message": "no", "type": "invalid_request_error", "param": "input", "code": null}}',
        "responses",
        status=400,
    )
    assert events[-1]["error"]["type"] == "invalid_request_error"
    whole = json.dumps(response("failed", error={"code": "server_error", "message": "x"})).encode()
    assert translate_response(whole, "responses")[0][-1]["error"]["type"] == "api_error"


def test_a_stream_without_a_terminal_event_is_cut_never_a_success():
    # Ollama's /v1/responses closes with no terminal event when generation fails (ollama#17531)
    body = stream({"type": "response.output_text.delta", "item_id": "m", "output_index": 0, "delta": "2, 3"})
    assert error_of(body)["type"] == "api_error"


# -- coverage: zero false alarms on the library, and unknown content still caught ------------------------


@pytest.mark.parametrize("path", cassettes(), ids=lambda p: p.stem)
def test_every_responses_cassette_is_read_entirely(path):
    cassette = load(path)
    for index, interaction in enumerate(cassette.interactions):
        translator = Translator("responses", status=interaction.response.status.code, trace=True)
        translator.feed(interaction.response.raw)
        translator.close(interaction.response.quirktape.ending)
        findings = trace_findings(translator.dialect, translator.trace or [], translator.whole is not None)
        assert [str(f) for f in findings if not f.gap] == [], f"interaction {index}"


EVENT_KINDS = [
    {"type": "response.output_text.delta", "item_id": "m", "output_index": 0, "content_index": 0, "delta": "Hi"},
    {"type": "response.output_item.added", "output_index": 0, "item": {"id": "m", "type": "message", "content": []}},
    {
        "type": "response.content_part.done",
        "item_id": "m",
        "output_index": 0,
        "content_index": 0,
        "part": {"type": "output_text", "text": "Hi"},
    },
    {"type": "response.completed", "response": response("completed", [message_item("Hi", "m")])},
]
WHERE = {1: ("item",), 2: ("part",), 3: ("response", "output", 0, "content", 0)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, len(EVENT_KINDS) - 1),
    name=st.from_regex(r"zz_[a-z]{1,8}", fullmatch=True),
    value=st.one_of(st.text(min_size=1), st.integers(1, 9), st.lists(st.text(min_size=1), min_size=1)),
    named=st.booleans(),
)
def test_a_content_field_no_declaration_knows_is_unread(which, name, value, named):
    """The property the coverage declarations must keep: any field they do not know, at any depth they
    walk, that carries a value, is a failure naming its path."""
    event = json.loads(json.dumps(EVENT_KINDS[which]))
    node = event
    for step in WHERE.get(which, ()):
        node = node[step]
    node[name] = value
    found = unread(stream(EVENT_KINDS[0], event, named=named))
    assert any(name in f for f in found), found


def test_an_unknown_event_is_unread_named_or_not():
    custom = {
        "type": "response.custom_tool_call_input.delta",
        "item_id": "ctc_1",
        "output_index": 0,
        "delta": "print(1)",
    }
    assert any("a named event this dialect does not read" in f for f in unread(stream(custom)))
    assert any("produced nothing" in f for f in unread(stream(custom, named=False)))


def test_gaps_warn_and_never_fail():
    search = {
        "id": "ws_1",
        "type": "web_search_call",
        "status": "completed",
        "action": {"type": "search", "query": "q"},
    }
    body = stream(
        {"type": "response.output_item.done", "output_index": 0, "item": search},
        {"type": "response.completed", "response": response("completed", [search])},
    )
    check = {c.invariant: c for c in check_cassette(one(body))}["coverage"]
    assert check.ok is True and check.status == "warn" and "item.action" in check.details[0]


def one(body: bytes) -> object:
    return parse_cassette(
        {
            "interactions": [
                {
                    "request": {"method": "POST", "uri": "http://127.0.0.1/v1/responses", "body": ""},
                    "response": {
                        "status": {"code": 200, "message": "OK"},
                        "headers": {"content-type": ["text/event-stream"]},
                        "body": {"string": body.decode()},
                        "quirktape": {"dialect": "responses", "stream": True, "ending": "done"},
                    },
                }
            ]
        }
    )


# -- the official openai SDK reads every Responses cassette as we do ---------------------------------------

SDK_REJECTS = {
    "rsp-03-vllm-full-reasoning-text-content-index-per-delta": (IndexError, "content_index counts deltas, not parts"),
    "rsp-07-litellm-deltas-without-created-or-item-then-done": (RuntimeError, "response.created"),
    "rsp-07-vllm-message-without-added-or-deltas": (RuntimeError, "before receiving its output item"),
    "rsp-09-llama-cpp-no-output-index-calls-by-call-id": (RuntimeError, "Duplicate response output index None"),
}
"""Streams the SDK's accumulator (``responses.stream``) refuses: the quirk the cassette documents.
Its raw event parser (``responses.create(stream=True)``) still reads them, and is compared below."""


def sdk_client(pieces: list[bytes]) -> object:
    openai, httpx2 = pytest.importorskip("openai"), pytest.importorskip("httpx2")

    def handler(request):
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=iter(pieces))

    return openai.OpenAI(
        api_key="placeholder",
        base_url="http://127.0.0.1:9/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
        max_retries=0,
    )


def sdk_reading(events) -> tuple[str, str, list, bool]:
    """What the SDK's typed events say: (text, reasoning, calls, failed). The answer is the terminal
    event's output, else the finished items, else (a cut stream) the deltas it parsed."""
    done, terminal, deltas, failed = {}, None, {"text": [], "reasoning": []}, False
    for event in events:
        kind = event.type
        if kind == "response.output_item.done":
            done[len(done)] = event.item
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            terminal = event.response.output
            failed = failed or kind == "response.failed"
        elif kind == "error":
            failed = True
        elif kind in ("response.output_text.delta", "response.refusal.delta"):
            deltas["text"].append(event.delta)
        elif kind in ("response.reasoning_text.delta", "response.reasoning_summary_text.delta"):
            deltas["reasoning"].append(event.delta)
    items = terminal or [done[n] for n in sorted(done)]
    if not items:
        return "".join(deltas["text"]), "".join(deltas["reasoning"]), [], failed
    text, reasoning, calls = [], [], []
    for item in items:
        if item.type == "message":
            text += [getattr(part, "text", None) or getattr(part, "refusal", "") for part in item.content]
        elif item.type == "reasoning":
            full = [part.text for part in item.content or []]
            reasoning.append("".join(full) if full else "\n\n".join(part.text for part in item.summary))
        elif item.type == "function_call":
            calls.append((item.name, json.loads(item.arguments)))
    return "".join(text), "".join(reasoning), calls, failed


def our_reading(ir: list[tuple]) -> tuple[str, str, list, bool]:
    calls: dict = {}
    for fact in ir:
        if fact[0] == TOOL:
            call = calls.setdefault(fact[1], ["", []])
            call[0] += fact[3] or ""
            call[1].append(fact[4] or "")
    return (
        "".join(f[1] for f in ir if f[0] == TEXT),
        "".join(f[1] for f in ir if f[0] == REASONING),
        [(name, json.loads("".join(args))) for name, args in calls.values()],
        any(f[0] == ERROR for f in ir),
    )


def responses_streams():
    for path in cassettes():
        for index, interaction in enumerate(load(path).interactions):
            if interaction.response.is_stream and interaction.response.status.code == 200:
                yield pytest.param(path, index, id=f"{path.stem}#{index}")


@pytest.mark.parametrize(("path", "index"), list(responses_streams()))
def test_the_openai_sdk_reads_every_responses_cassette_as_we_do(path, index):
    cassette = load(path)
    response_ = cassette.interactions[index].response
    pieces = rechunk(response_.raw, "recorded", response_.quirktape.offsets)
    ours = our_reading(replay(cassette, index).ir or [])
    openai = pytest.importorskip("openai")
    try:
        theirs = sdk_reading(sdk_client(pieces).responses.create(model="m", input="hi", stream=True))
    except openai.APIError as exc:  # a chat-style error frame: the SDK raises, we end in an error event
        assert ours[3], exc
        return
    assert theirs[:3] == ours[:3]
    assert theirs[3] <= ours[3]  # a failure the SDK saw is one we saw (a cut stream is ours alone)
    rejected = SDK_REJECTS.get(path.stem)
    if rejected:  # the accumulator refuses this quirk; we read it
        with pytest.raises(rejected[0]):
            with sdk_client(pieces).responses.stream(model="m", input="hi") as accumulated:
                accumulated.until_done()
    else:
        with sdk_client(pieces).responses.stream(model="m", input="hi") as accumulated:
            assert sdk_reading(accumulated)[:3] == ours[:3]


# -- request translation, and the round trip -----------------------------------------------------------


REQUEST = {
    "model": "gpt-5",
    "max_tokens": 8192,
    "stream": True,
    "system": [{"type": "text", "text": "You are a weather assistant."}],
    "thinking": {"type": "enabled", "budget_tokens": 2048},
    "temperature": 1,
    "stop_sequences": ["END"],
    "tools": [
        {
            "name": "get_weather",
            "description": "Weather",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ],
    "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Weather in Paris?"},
                {"type": "image", "source": {"type": "url", "url": "https://example.org/p.png"}},
            ],
        }
    ],
}


def test_an_anthropic_request_as_a_responses_request():
    body = to_responses_request(REQUEST)
    assert body["instructions"] == "You are a weather assistant."
    assert body["input"] == [
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "Weather in Paris?"},
                {"type": "input_image", "image_url": "https://example.org/p.png", "detail": "auto"},
            ],
        }
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather",
            "parameters": REQUEST["tools"][0]["input_schema"],
            "strict": False,
        }
    ]
    assert (body["tool_choice"], body["parallel_tool_calls"]) == ("required", False)
    assert body["reasoning"] == {"effort": "low", "summary": "auto"} and body["include"] == [
        "reasoning.encrypted_content"
    ]
    assert (body["max_output_tokens"], body["temperature"], body["store"], body["stream"]) == (8192, 1, False, True)
    assert "stop" not in body and "stop_sequences" not in body  # the Responses API has no stop sequences
    assert to_responses_request({**REQUEST, "tool_choice": {"type": "tool", "name": "get_weather"}})["tool_choice"] == {
        "type": "function",
        "name": "get_weather",
    }
    plain = to_responses_request(
        {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}, stream=False
    )
    assert plain == {
        "model": "m",
        "input": [{"role": "user", "content": "hi"}],
        "max_output_tokens": 5,
        "store": False,
        "stream": False,
    }


def test_the_round_trip_sends_the_reasoning_the_call_and_its_result_back():
    """Turn 1 is translated from the upstream's stream; the client's turn 2 carries our message back:
    reasoning goes back with its encrypted content and no id (store: false answers an id with 404,
    RSP-19), the call as a function_call item, the tool result as its function_call_output."""
    turn1 = message(reasoning_stream())
    result = {
        "type": "tool_result",
        "tool_use_id": turn1["content"][1]["id"],
        "content": [{"type": "text", "text": "18°C"}],
    }
    follow_up = {
        **REQUEST,
        "messages": [
            *REQUEST["messages"],
            {"role": "assistant", "content": turn1["content"]},
            {"role": "user", "content": [result]},
        ],
    }
    items = to_responses_request(follow_up)["input"][1:]
    assert items == [
        {
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": turn1["content"][0]["thinking"]}],
            "encrypted_content": "gAAAAAenc",
        },
        {"type": "function_call", "call_id": "call_abcdefgh", "name": "get_weather", "arguments": '{"city": "Paris"}'},
        {"type": "function_call_output", "call_id": "call_abcdefgh", "output": "18°C"},
    ]
    assert not any("id" in item for item in items)


def test_reasoning_goes_back_only_in_a_form_the_upstream_accepts():
    # vLLM reads reasoning items back (vllm#28248, content before summary since #36516) and its
    # schema wants the id; a summary without encrypted content is refused with store: false
    full = {"type": "thinking", "thinking": "long thought", "signature": encode_signature("text", "rs_9", "")}
    assert reasoning_item(full) == {
        "id": "rs_9",
        "type": "reasoning",
        "summary": [],
        "content": [{"type": "reasoning_text", "text": "long thought"}],
    }
    assert (
        reasoning_item({"type": "thinking", "thinking": "s", "signature": encode_signature("summary", "rs_1", "")})
        is None
    )
    assert reasoning_item({"type": "thinking", "thinking": "g", "signature": "gemini:call:abc"}) is None
    assert reasoning_item(
        {"type": "thinking", "thinking": "", "signature": encode_signature("summary", "rs_1", "enc")}
    ) == {"type": "reasoning", "summary": [], "encrypted_content": "enc"}
    assert decode_signature(encode_signature("summary", "rs_1", "gAAA==")) == ("summary", "rs_1", "gAAA==")
    assert decode_signature("responses:nonsense") is None
    turn = [
        {"type": "text", "text": "Let me look."},
        full,
        {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
        {"type": "text", "text": "Done."},
    ]
    items = to_responses_request({"model": "m", "messages": [{"role": "assistant", "content": turn}]})["input"]
    assert [i.get("type") or i["role"] for i in items] == ["assistant", "reasoning", "function_call", "assistant"]


def test_every_bundled_responses_request_translates():
    for path in cassettes():
        request = load(path).metadata.request
        assert request, f"{path.name} has no metadata.request"
        body = to_responses_request(request)
        assert body["input"] and body["store"] is False


# -- dialect detection, import, record, gateway, check ----------------------------------------------------


def test_the_dialect_is_read_off_urls_payloads_and_bodies():
    assert "responses" in UPSTREAMS
    assert url_dialect("https://api.openai.com/v1/responses") == "responses"
    assert payload_dialect({"type": "response.output_text.delta", "delta": "x"}) == "responses"
    assert payload_dialect(response("completed")) == "responses"
    assert body_dialect(text_stream(["Hi"]).decode()) == "responses"


@pytest.mark.parametrize(
    ("body", "fmt", "stream_"),
    [
        (text_stream(["Hi"]), "responses-sse", True),
        (json.dumps(response("completed", [message_item("Hi")]), indent=2).encode(), "responses-response", False),
    ],
)
def test_import_tells_responses_streams_and_complete_responses(body, fmt, stream_):
    from recorder.capture.importers import detect_format

    assert detect_format(body) == fmt
    cassette = import_bytes(body)
    tape = cassette.interactions[0].response.quirktape
    assert (tape.dialect, tape.stream) == ("responses", stream_)
    assert cassette.interactions[0].request.uri.endswith("/v1/responses")
    assert blocks(accumulate(replay(cassette, 0).events)) == [("text", "Hi")]


def test_record_sends_the_translation_to_responses_and_keeps_both_twins():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append((request.url.path, body, request.headers.get("authorization")))
        if body["stream"]:  # an iterator, so the body streams as it does off a socket
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=iter([text_stream(["Hi"])])
            )
        whole = json.dumps(response("completed", [message_item("Hi")], USAGE)).encode()
        return httpx.Response(200, headers={"content-type": "application/json"}, content=iter([whole]))

    request = {"model": "x", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
    cassette = record(
        upstream="responses",
        base_url="https://api.example/v1",
        model="gpt-5",
        request=request,
        raw=False,
        modes=(True, False),
        api_key="sk-test-1234567890",
        transport=httpx.MockTransport(handler),
    )
    assert [(path, body["stream"], body["model"]) for path, body, _ in seen] == [
        ("/v1/responses", True, "gpt-5"),
        ("/v1/responses", False, "gpt-5"),
    ]
    assert seen[0][2] == "Bearer sk-test-1234567890"
    assert [i.response.quirktape.dialect for i in cassette.interactions] == ["responses", "responses"]
    assert {c.invariant: c.ok for c in check_cassette(cassette)}["stream-nonstream"] is True
    url, _, raw = upstream_calls("responses", "http://h/v1/", "gpt-5", {"input": "hi"}, True, True, None)
    assert (url, json.loads(raw)) == ("http://h/v1/responses", {"input": "hi", "stream": True, "model": "gpt-5"})


def test_the_gateway_speaks_responses_to_the_upstream(tmp_path):
    received = []

    async def upstream(request):
        received.append((request.url.path, json.loads(await request.body())))

        async def pieces():
            for piece in rechunk(reasoning_stream(), "lines"):
                yield piece

        return StreamingResponse(pieces(), media_type="text/event-stream")

    async def refuse(request):
        return JSONResponse({"error": {"message": "x"}}, status_code=404)

    app = Starlette(
        routes=[Route("/v1/responses", upstream, methods=["POST"]), Route("/{p:path}", refuse, methods=["POST"])]
    )
    with running(app) as base, running(gateway_app(f"{base}/v1", "responses", tmp_path, ping_after=None)) as gateway:
        with httpx.stream("POST", f"{gateway}/v1/messages", json=REQUEST, timeout=30) as reply:
            events = [json.loads(line[6:]) for line in reply.iter_lines() if line.startswith("data: ")]
    msg = accumulate(events)
    assert [b["type"] for b in msg["content"]] == ["thinking", "tool_use"] and msg["stop_reason"] == "tool_use"
    assert received[0][0] == "/v1/responses" and received[0][1]["include"] == ["reasoning.encrypted_content"]
    (written,) = tmp_path.glob("*.yaml")
    cassette = load(written)
    assert cassette.interactions[0].response.quirktape.dialect == "responses"
    assert cassette.metadata.request["messages"] == REQUEST["messages"]


def test_the_proxy_records_a_responses_exchange_in_its_dialect(tmp_path):
    body = text_stream(["Hi"])

    async def upstream(request):
        async def pieces():
            yield body

        return StreamingResponse(pieces(), media_type="text/event-stream")

    lines: list[str] = []
    app = Starlette(routes=[Route("/v1/responses", upstream, methods=["POST"])])
    with running(app) as base, running(proxy_app(base, tmp_path, log=lines.append)) as proxy:
        reply = httpx.post(f"{proxy}/v1/responses", json={"model": "gpt-5", "input": "hi", "stream": True}, timeout=30)
    assert reply.content == body and lines == []
    (written,) = tmp_path.glob("*.yaml")
    tape = load(written).interactions[0].response.quirktape
    assert (tape.dialect, tape.stream) == ("responses", True)


def test_check_on_the_responses_library_is_green(monkeypatch, capsysbinary):
    code, out, _ = run_cli(monkeypatch, capsysbinary, "check", LIBRARY, "--json")
    doc = json.loads(out)
    assert code == 0, [
        (c["path"], ch["invariant"]) for c in doc["cassettes"] for ch in c["checks"] if ch.get("ok") is False
    ]
    assert len(doc["cassettes"]) == len(cassettes())


def test_every_catalogued_responses_quirk_has_a_cassette():
    from recorder.judge.catalogue import ENTRIES

    tags = {tag for path in cassettes() for tag in load(path).metadata.tags}
    assert {i for i in ENTRIES if i.startswith("RSP-")} <= tags
    readme = (CASSETTES / "README.md").read_text()
    assert all(f"`{i}`" in readme for i in ENTRIES if i.startswith("RSP-"))


def test_signature_facts_and_finish_are_read_from_the_library():
    ir = replay(load(LIBRARY / "rsp-02-reasoning-summary-parts-encrypted-then-call.yaml"), 0).ir or []
    assert [f[1].split(":")[1] for f in ir if f[0] == SIGNATURE] == ["summary"]
    assert [f[1] for f in ir if f[0] == FINISH] == ["end_turn"]
