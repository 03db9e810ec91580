"""No default dialect: the URL path or the payloads decide, a foreign format is refused, and
anything that tells nothing asks for ``--upstream`` (import) instead of being read as OpenAI.

The samples are written by hand from each API's documented stream: the OpenAI Responses API
(``response.*`` events) and Anthropic Messages, both dialects quirktape reads, and Cohere v2 chat
(``message-start``, ``content-delta``…), which it does not.
"""

from __future__ import annotations

import json

import pytest
import yaml
from helpers import CORPUS, run_cli

from recorder.capture import import_bytes, import_file
from recorder.tape import body_framing, is_snake_gemini, load, payload_dialect, to_wire_keys, url_dialect

RESPONSES_API = [
    {
        "type": "response.created",
        "sequence_number": 0,
        "response": {"id": "resp_1", "object": "response", "status": "in_progress", "model": "gpt-4o", "output": []},
    },
    {
        "type": "response.output_text.delta",
        "sequence_number": 1,
        "item_id": "msg_1",
        "output_index": 0,
        "content_index": 0,
        "delta": "Hi",
    },
    {
        "type": "response.completed",
        "sequence_number": 2,
        "response": {"id": "resp_1", "object": "response", "status": "completed", "model": "gpt-4o", "output": []},
    },
]
COHERE_V2 = [
    {"id": "c0ffee", "type": "message-start", "delta": {"message": {"role": "assistant", "content": []}}},
    {"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}},
    {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Hi"}}}},
    {"type": "content-end", "index": 0},
    {"type": "message-end", "delta": {"finish_reason": "COMPLETE"}},
]
ANTHROPIC = [
    {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": "claude-sonnet-4-0",
            "stop_reason": None,
            "usage": {"input_tokens": 3, "output_tokens": 1},
        },
    },
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
    {"type": "content_block_stop", "index": 0},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}},
    {"type": "message_stop"},
]
FOREIGN_STREAMS = {
    "a Cohere v2 chat response": COHERE_V2,
}
"""What the refusal says each one is, and its events."""
SILENT = [{"id": "x-1", "created": 1}, {"id": "x-1", "created": 2, "text": "Hi"}]
"""Chunks whose shape no dialect claims: nothing tells how to read them."""


def as_sse(payloads: list[dict]) -> str:
    """Each payload as an SSE event named by its ``type``, as these APIs send them."""
    return "".join(
        f"event: {p['type']}\ndata: {json.dumps(p)}\n\n" if "type" in p else f"data: {json.dumps(p)}\n\n"
        for p in payloads
    )


FRAMINGS = {
    "sse": as_sse,
    "jsonl": lambda payloads: "\n".join(json.dumps(p) for p in payloads) + "\n",
    "json-array": lambda payloads: json.dumps(payloads, indent=2),
}


def import_cli(monkeypatch, capsysbinary, tmp_path, text: str, *extra: str) -> tuple[int, str]:
    src = tmp_path / "input.txt"
    src.write_text(text)
    code, _, err = run_cli(monkeypatch, capsysbinary, "import", src, "-o", tmp_path / "c.yaml", *extra)
    return code, err


@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize("reason", FOREIGN_STREAMS)
def test_a_foreign_stream_is_refused_with_its_reason(tmp_path, monkeypatch, capsysbinary, reason, framing):
    code, err = import_cli(monkeypatch, capsysbinary, tmp_path, FRAMINGS[framing](FOREIGN_STREAMS[reason]))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert f"refused: {reason}" in err
    assert not (tmp_path / "c.yaml").exists()


@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize(("dialect", "events"), [("anthropic", ANTHROPIC), ("responses", RESPONSES_API)])
def test_dialects_beyond_chat_completions_import_as_themselves_and_are_judged(
    tmp_path, monkeypatch, capsysbinary, framing, dialect, events
):
    """What a gateway sent its client, an Anthropic-compatible endpoint or the Responses API: read as such."""
    code, err = import_cli(monkeypatch, capsysbinary, tmp_path, FRAMINGS[framing](events))
    assert code == 0, err
    assert load(tmp_path / "c.yaml").interactions[0].response.quirktape.dialect == dialect
    code, out, err = run_cli(monkeypatch, capsysbinary, "replay", tmp_path / "c.yaml", "--format", "message")
    assert code == 0 and json.loads(out)["content"] == [{"type": "text", "text": "Hi"}], err
    code, out, err = run_cli(monkeypatch, capsysbinary, "check", tmp_path / "c.yaml")
    assert code == 0, out


def test_a_complete_anthropic_message_imports_as_a_non_streaming_interaction(tmp_path, monkeypatch, capsysbinary):
    message = {**ANTHROPIC[0]["message"], "content": [{"type": "text", "text": "Hi"}], "stop_reason": "end_turn"}
    code, err = import_cli(monkeypatch, capsysbinary, tmp_path, json.dumps(message, indent=2))
    assert code == 0, err
    tape = load(tmp_path / "c.yaml").interactions[0].response.quirktape
    assert (tape.dialect, tape.stream) == ("anthropic", False)


@pytest.mark.parametrize("framing", FRAMINGS)
def test_chunks_that_tell_nothing_ask_for_upstream(tmp_path, monkeypatch, capsysbinary, framing):
    text = FRAMINGS[framing](SILENT)
    code, err = import_cli(monkeypatch, capsysbinary, tmp_path, text)
    assert code == 2 and err.count("\n") == 1 and "pass --upstream" in err and "no default" in err, err
    assert not (tmp_path / "c.yaml").exists()
    code, err = import_cli(monkeypatch, capsysbinary, tmp_path, text, "--upstream", "openai")
    assert code == 0, err
    assert load(tmp_path / "c.yaml").interactions[0].response.quirktape.dialect == "openai"


def test_the_format_name_and_the_payloads_must_agree(tmp_path, monkeypatch, capsysbinary):
    gemini = [{"candidates": [{"content": {"role": "model", "parts": [{"text": "Hi"}]}, "finishReason": "STOP"}]}]
    code, err = import_cli(monkeypatch, capsysbinary, tmp_path, as_sse(gemini), "--format", "openai-sse")
    assert code == 2 and "the payloads are gemini, not openai" in err and err.count("\n") == 1
    code, err = import_cli(monkeypatch, capsysbinary, tmp_path, json.dumps(SILENT[0]), "--format", "gemini-response")
    assert code == 0, err  # the format's name is the only thing that tells, and it was given on purpose
    assert load(tmp_path / "c.yaml").interactions[0].response.quirktape.dialect == "gemini"


@pytest.mark.parametrize(
    ("url", "dialect"),
    [
        (
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
            "gemini",
        ),
        ("/v1beta/models/gemini-2.5-pro:STREAMGENERATECONTENT", "gemini"),
        ("/v1/projects/p/locations/l/publishers/google/models/m:streamgeneratecontent", "gemini"),
        ("/v1beta/models/gemini-2.5-pro%3AgenerateContent", "gemini"),
        ("/V1/Chat/Completions/", "openai"),
        ("http://localhost:11434/API/CHAT", "ollama"),
        ("/v1/completions", "openai-completions"),
        ("/api/generate", "ollama-generate"),
        ("https://api.anthropic.com/v1/Messages?beta=true", "anthropic"),
        ("/v1/responses", "responses"),
        ("/v2/chat", "cohere"),
        ("/v1/models", None),
    ],
)
def test_url_paths_are_read_case_insensitively(url, dialect):
    assert url_dialect(url) == dialect


def vcr(uri: str, status: int, body: str) -> bytes:
    response = {"status": {"code": status, "message": "x"}, "headers": {}, "body": {"string": body}}
    interaction = {"request": {"method": "POST", "uri": uri, "body": "{}", "headers": {}}, "response": response}
    return yaml.safe_dump({"interactions": [interaction], "version": 1}).encode()


@pytest.mark.parametrize(
    ("uri", "body", "dialect"),
    [
        (
            "https://GENERATIVELANGUAGE.googleapis.com/v1beta/models/m:StreamGenerateContent?alt=sse",
            '[{"error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED"}}]',
            "gemini",
        ),
        ("https://api.example.com/V1/CHAT/COMPLETIONS", '{"error": {"message": "overloaded"}}', "openai"),
    ],
)
def test_an_error_body_tells_nothing_and_the_url_decides_whatever_its_case(uri, body, dialect):
    cassette = import_bytes(vcr(uri, 429, body))
    assert cassette.interactions[0].response.quirktape.dialect == dialect


def test_payload_shapes():
    assert payload_dialect({"object": "chat.completion", "choices": []}) == "openai"
    assert payload_dialect({"candidates": [], "usage_metadata": {}}) == "gemini"
    assert payload_dialect({"model": "m", "created_at": "t", "message": {"content": "x"}, "done": False}) == "ollama"
    assert payload_dialect({"model": "m", "created_at": "t", "response": "x", "done": False}) == "ollama-generate"
    assert payload_dialect({"object": "text_completion", "choices": [{"text": "x"}]}) == "openai-completions"
    assert payload_dialect({"error": {"message": "x"}}) is None


def test_body_framing():
    assert body_framing('{\n  "a": 1\n}') == "whole"
    assert body_framing('{"a": 1}\n', "application/x-ndjson") == "ndjson"
    assert body_framing('{"a": 1}\n{"a": 2}\n') == "ndjson"
    assert body_framing('[{"a": 1}') == "array"
    assert body_framing("data: {}\n\n") == "sse"


def test_snake_gemini_mid_stream_chunks_are_recognised_and_user_data_keeps_its_keys():
    chunk = {"candidates": [{"content": {"parts": [{"function_call": {"name": "f", "args": {"a_b": 1}}}]}}]}
    assert is_snake_gemini(chunk) and not is_snake_gemini({"candidates": [{"content": {"parts": [{"text": "x"}]}}]})
    answer = {"function_response": {"name": "f", "response": {"result_value": {"inner_key": 1}}}}
    assert to_wire_keys(
        {"candidates": [{"content": {"parts": [chunk["candidates"][0]["content"]["parts"][0], answer]}}]}
    ) == {
        "candidates": [
            {
                "content": {
                    "parts": [
                        {"functionCall": {"name": "f", "args": {"a_b": 1}}},
                        {"functionResponse": {"name": "f", "response": {"result_value": {"inner_key": 1}}}},
                    ]
                }
            }
        ]
    }
    sdk = {"sdk_http_response": {"headers": {"x_goog_trace": "1"}}, "usage_metadata": {"prompt_token_count": 1}}
    assert to_wire_keys(sdk) == {
        "sdk_http_response": sdk["sdk_http_response"],
        "usageMetadata": {"promptTokenCount": 1},
    }


VERCEL = CORPUS / "raw" / "vercel__ai"


@pytest.mark.skipif(not VERCEL.is_dir(), reason=f"the shared corpus is absent ({VERCEL} not found)")
def test_real_chunk_lists_without_a_url_are_read_in_the_dialect_their_payloads_speak():
    """vercel/ai keeps bare payloads, one per line: Gemini's when the first has ``candidates`` (SOURCES.md)."""
    paths = sorted(VERCEL.glob("*.chunks.txt"))
    assert paths
    for path in paths:
        first = json.loads(path.read_text().splitlines()[0])
        expected = "gemini" if "candidates" in first else "openai"
        assert import_file(path).interactions[0].response.quirktape.dialect == expected, path.name
