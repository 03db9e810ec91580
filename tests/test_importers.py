"""Importers for recordings people already have: vcrpy and go-vcr cassettes, llama-stack
recordings, HAR files and Ollama NDJSON, each read into one interaction per LLM exchange.

Every sample here is written by hand from the format's description, small and inline.
"""

from __future__ import annotations

import base64
import gzip
import json
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from helpers import blocks, chunk, sse, tool
from test_cli import run

from recorder.capture import FORMATS, detect_format, import_bytes, import_file
from recorder.judge import check_cassette
from recorder.replay import replay
from recorder.tape import REDACTED, Cassette, CassetteError, load, save
from translator import DIALECTS, accumulate, stream_error

OPENAI_URL = "https://api.example.com/v1/chat/completions"
GEMINI_STREAM_URL = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent"

TURN_1 = sse(chunk({"tool_calls": [tool(0, "call_1", "get_weather", '{"city": "Paris"}')]}, "tool_calls"))
TURN_2 = sse(chunk({"content": "It is "}), chunk({"content": "sunny."}), chunk({}, "stop"))

GEMINI_CHUNKS = [
    {"candidates": [{"content": {"role": "model", "parts": [{"text": "Bon"}]}}], "modelVersion": "gemini-2.5-flash"},
    {
        "candidates": [{"content": {"role": "model", "parts": [{"text": "jour"}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2},
        "modelVersion": "gemini-2.5-flash",
    },
]
GEMINI_ARRAY = ("[" + "\r\n,\r\n".join(json.dumps(c, indent=2) for c in GEMINI_CHUNKS) + "\r\n]").encode()

OLLAMA_NDJSON = (
    '{"model":"llama3.1","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"Hel"},'
    '"done":false}\n'
    '{"model":"llama3.1","created_at":"2024-01-01T00:00:01Z","message":{"role":"assistant","content":"lo"},'
    '"done":false}\n'
    '{"model":"llama3.1","created_at":"2024-01-01T00:00:02Z","message":{"role":"assistant","content":""},'
    '"done":true,"done_reason":"stop","prompt_eval_count":5,"eval_count":2}\n'
)


def vcr_interaction(uri, body, *, method="POST", request=None, parsed=None, headers=None, status=200, **response):
    req = {"method": method, "uri": uri, "headers": {"authorization": ["Bearer sk-secret-123456"]}}
    if parsed is not None:
        req["parsed_body"] = parsed
    else:
        req["body"] = request if request is not None else json.dumps({"model": "gpt-4o", "stream": True})
    resp = {
        "status": {"code": status, "message": "OK" if status == 200 else "Error"},
        "headers": headers or {"Content-Type": ["text/event-stream"]},
        **response,
    }
    if body is not None:
        resp["body"] = {"string": body}
    return {"request": req, "response": resp}


def vcr_yaml(*interactions) -> bytes:
    return yaml.safe_dump({"interactions": list(interactions), "version": 1}, sort_keys=False).encode()


def text_of(cassette: Cassette, index: int = 0) -> str:
    message = accumulate(replay(cassette, index).events)
    return "".join(b.get("text", "") for b in message["content"] if b["type"] == "text")


def oracle_failures(cassette: Cassette) -> list[str]:
    return [f"{c.invariant}: {c.details}" for c in check_cassette(cassette) if c.ok is False]


# --- vcrpy ---------------------------------------------------------------------------------------


def test_vcr_several_interactions_and_a_non_llm_one():
    raw = vcr_yaml(
        vcr_interaction(OPENAI_URL, TURN_1.decode()),
        vcr_interaction("https://huggingface.co/api/models/x?expand=y", None, method="GET", parsed_body={"id": "x"}),
        vcr_interaction(OPENAI_URL, TURN_2.decode()),
    )
    assert detect_format(raw) == "vcr"
    cassette = import_bytes(raw, metadata={"source": "where/it/came.yaml"})
    assert len(cassette.interactions) == 2
    assert cassette.metadata.source == "where/it/came.yaml"
    assert cassette.metadata.model == "test-model"  # the response's own model wins over the request's
    assert cassette.metadata.skipped == [
        "interaction 1: GET https://huggingface.co/api/models/x?expand=y: not an LLM endpoint"
    ]
    first, second = cassette.interactions
    assert first.request.uri == OPENAI_URL and json.loads(first.request.body) == {"model": "gpt-4o", "stream": True}
    assert first.request.headers["authorization"] == [REDACTED]
    assert first.response.raw == TURN_1 and second.response.raw == TURN_2
    tape = second.response.quirktape
    assert (tape.dialect, tape.stream, tape.ending) == ("openai", True, "done")
    assert list(tape.offsets) == [0, *(i + 2 for i in range(len(TURN_2) - 2) if TURN_2[i : i + 2] == b"\n\n")]
    assert len(tape.offsets) == 4  # three chunks and [DONE]: one read per event
    assert [b["type"] for b in accumulate(replay(cassette, 0).events)["content"]] == ["tool_use"]
    assert text_of(cassette, 1) == "It is sunny."
    for index in range(2):
        single = Cassette(interactions=[cassette.interactions[index]])
        assert not oracle_failures(single)


def test_vcr_gzip_binary_body_is_decompressed_and_content_encoding_dropped(tmp_path):
    headers = {
        "Content-Type": ["application/json; charset=UTF-8"],
        "Content-Encoding": ["gzip"],
        "Content-Length": ["123"],
        "Vary": ["Origin"],
    }
    raw = vcr_yaml(vcr_interaction(GEMINI_STREAM_URL, gzip.compress(GEMINI_ARRAY), headers=headers))
    assert b"!!binary" in raw
    cassette = import_bytes(raw)
    response = cassette.interactions[0].response
    assert response.raw == GEMINI_ARRAY
    assert "content-encoding" not in response.headers and "content-length" not in response.headers
    assert response.headers["vary"] == ["Origin"]
    tape = response.quirktape
    assert (tape.dialect, tape.stream, tape.ending) == ("gemini", True, "done")
    assert len(tape.offsets) == 2 and GEMINI_ARRAY[tape.offsets[1] :].lstrip(b",\r\n").startswith(b"{")
    assert cassette.metadata.model == "gemini-2.5-flash"
    assert text_of(cassette) == "Bonjour"
    assert not oracle_failures(cassette)
    # the result is a cassette stock vcrpy replays
    vcr = pytest.importorskip("vcr")
    save(cassette, tmp_path / "c.yaml")
    with vcr.VCR(record_mode="none").use_cassette(str(tmp_path / "c.yaml")):
        with httpx.Client() as client:
            reply = client.post(GEMINI_STREAM_URL, content=b"{}")
    assert reply.content == GEMINI_ARRAY


def test_vcr_gzip_sse_body_for_an_openai_compatible_endpoint():
    headers = {"Content-Type": ["text/event-stream"], "Content-Encoding": ["gzip"]}
    raw = vcr_yaml(vcr_interaction(OPENAI_URL, gzip.compress(TURN_2), headers=headers))
    response = import_bytes(raw).interactions[0].response
    assert response.raw == TURN_2 and response.quirktape.dialect == "openai"


def test_pydantic_ai_parsed_bodies_and_a_non_streaming_response():
    request = {"model": "gemini-2.5-pro", "contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    complete = {
        "candidates": [{"content": {"role": "model", "parts": [{"text": "Hello!"}]}, "finishReason": "STOP"}],
        "modelVersion": "gemini-2.5-pro",
    }
    raw = vcr_yaml(
        vcr_interaction(
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent",
            None,
            parsed=request,
            headers={"content-type": ["application/json; charset=UTF-8"]},
            parsed_body=complete,
        )
    )
    cassette = import_bytes(raw)
    interaction = cassette.interactions[0]
    assert json.loads(interaction.request.body) == request
    assert json.loads(interaction.response.raw) == complete
    assert interaction.response.quirktape.stream is False and not interaction.response.is_stream
    assert interaction.response.quirktape.offsets is None
    assert text_of(cassette) == "Hello!"
    assert not oracle_failures(cassette)


def test_yaml_timestamps_in_parsed_bodies_stay_strings():
    raw = (
        "interactions:\n- request:\n    method: POST\n    uri: " + OPENAI_URL + "\n"
        "    parsed_body:\n      model: m\n      metadata:\n        day: 2024-01-02\n"
        "  response:\n    status: {code: 200, message: OK}\n    headers: {}\n"
        "    body:\n      string: " + json.dumps(TURN_2.decode()) + "\nversion: 1\n...\n"
    ).encode()
    cassette = import_bytes(raw)
    assert json.loads(cassette.interactions[0].request.body) == {"model": "m", "metadata": {"day": "2024-01-02"}}
    assert cassette.interactions[0].response.headers["content-type"] == ["text/event-stream"]


def test_vcr_json_cassette():
    raw = json.dumps({"version": 1, "interactions": [vcr_interaction(OPENAI_URL, TURN_2.decode())]}).encode()
    assert detect_format(raw) == "vcr"
    assert text_of(import_bytes(raw)) == "It is sunny."


def test_credentials_in_the_url_are_redacted():
    url = GEMINI_STREAM_URL + "?alt=sse&key=AIzaSECRET"
    body = "".join(f"data: {json.dumps(c)}\r\n\r\n" for c in GEMINI_CHUNKS)
    cassette = import_bytes(vcr_yaml(vcr_interaction(url, body)))
    assert "AIzaSECRET" not in cassette.interactions[0].request.uri
    assert cassette.interactions[0].request.uri.endswith("alt=sse&key=" + REDACTED)
    assert len(cassette.interactions[0].response.quirktape.offsets) == 2


def test_ollama_native_ndjson_inside_a_vcr_cassette():
    headers = {"Content-Type": ["application/x-ndjson"]}
    raw = vcr_yaml(
        vcr_interaction("http://localhost:11434/api/chat", OLLAMA_NDJSON, headers=headers),
        vcr_interaction("https://huggingface.co/llama3.1/resolve/main/tokenizer.json", "", method="HEAD", status=401),
    )
    cassette = import_bytes(raw)
    assert len(cassette.interactions) == 1 and len(cassette.metadata.skipped) == 1
    tape = cassette.interactions[0].response.quirktape
    assert (tape.dialect, tape.stream, tape.ending) == ("ollama", True, "done")
    lines = OLLAMA_NDJSON.splitlines(keepends=True)
    assert list(tape.offsets) == [0, len(lines[0]), len(lines[0]) + len(lines[1])]
    assert cassette.metadata.model == "llama3.1"
    if "ollama" not in DIALECTS:
        pytest.skip("the ollama translator dialect is not there yet")
    assert text_of(cassette) == "Hello"
    assert not oracle_failures(cassette)


def test_ollama_stream_or_not_follows_the_content_type_for_a_single_line():
    last = OLLAMA_NDJSON.splitlines()[-1]
    ndjson = {"Content-Type": ["application/x-ndjson"]}
    json_type = {"Content-Type": ["application/json; charset=utf-8"]}
    raw = vcr_yaml(
        vcr_interaction("http://localhost:11434/api/chat", last + "\n", headers=ndjson),
        vcr_interaction("http://localhost:11434/api/chat", last, headers=json_type),
    )
    streamed, whole = (i.response for i in import_bytes(raw).interactions)
    assert (streamed.quirktape.stream, list(streamed.quirktape.offsets), streamed.quirktape.ending) == (
        True,
        [0],
        "done",
    )
    assert (whole.quirktape.stream, whole.quirktape.dialect) == (False, "ollama")


def test_anthropic_interactions_import_in_their_own_dialect_with_the_request_kept():
    anthropic = (
        'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message",'
        '"role":"assistant","content":[],"model":"claude","usage":{"input_tokens":1,"output_tokens":1}}}\n\n'
    )
    request = {"model": "claude", "max_tokens": 8, "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
    mixed = vcr_yaml(
        vcr_interaction("https://proxy.example.com/v1/messages", anthropic, request=json.dumps(request)),
        vcr_interaction(OPENAI_URL, TURN_2),
    )
    cassette = import_bytes(mixed)
    assert [i.response.quirktape.dialect for i in cassette.interactions] == ["anthropic", "openai"]
    assert cassette.metadata.request == request


def test_an_unknown_url_with_an_llm_body_is_kept():
    cassette = import_bytes(vcr_yaml(vcr_interaction("https://gateway.example.com/llm/stream", TURN_2.decode())))
    assert cassette.interactions[0].response.quirktape.dialect == "openai"


# --- go-vcr --------------------------------------------------------------------------------------


def go_vcr(*bodies: str) -> bytes:
    interactions = [
        {
            "id": n,
            "request": {
                "proto": "HTTP/1.1",
                "content_length": 20,
                "body": json.dumps({"model": "kimi", "stream": True}),
                "headers": {"Authorization": ["Bearer sk-go-secret"], "Content-Type": ["application/json"]},
                "url": OPENAI_URL,
                "method": "POST",
            },
            "response": {
                "proto": "HTTP/1.1",
                "content_length": -1,
                "body": body,
                "headers": {"Content-Type": ["text/event-stream"]},
                "status": "200 OK",
                "code": 200,
                "duration": "1.5s",
            },
        }
        for n, body in enumerate(bodies)
    ]
    return ("---\n" + yaml.safe_dump({"version": 2, "interactions": interactions}, sort_keys=False)).encode()


def test_go_vcr_v2():
    raw = go_vcr(TURN_1.decode(), TURN_2.decode())
    assert detect_format(raw) == "go-vcr"
    cassette = import_bytes(raw)
    assert len(cassette.interactions) == 2
    first = cassette.interactions[0]
    assert first.request.uri == OPENAI_URL and first.request.headers["authorization"] == [REDACTED]
    assert first.request.headers["content-type"] == ["application/json"]
    assert (first.response.status.code, first.response.status.message) == (200, "OK")
    assert first.response.headers == {"content-type": ["text/event-stream"]}
    assert text_of(cassette, 1) == "It is sunny."
    assert cassette.metadata.model == "test-model"


def test_go_vcr_error_status():
    raw = go_vcr('{"error": {"message": "rate limited", "type": "rate_limit_error"}}').replace(
        b"200 OK", b"429 Too Many Requests"
    )
    raw = raw.replace(b"code: 200", b"code: 429")
    cassette = import_bytes(raw)
    response = cassette.interactions[0].response
    assert (response.status.code, response.status.message) == (429, "Too Many Requests")
    assert stream_error(replay(cassette).events)["type"] == "rate_limit_error"


# --- llama-stack ---------------------------------------------------------------------------------


def llama_stack(body, streaming=True) -> bytes:
    return json.dumps(
        {
            "test_id": "tests/x.py::test_y",
            "request": {
                "method": "POST",
                "url": "http://localhost:8000/v1/v1/chat/completions",
                "headers": {},
                "body": {"model": "Qwen/Qwen3-0.6B", "messages": [{"role": "user", "content": "hi"}], "stream": True},
                "endpoint": "/v1/chat/completions",
                "model": "Qwen/Qwen3-0.6B",
            },
            "response": {"body": body, "is_streaming": streaming},
            "id_normalization_mapping": {},
        }
    ).encode()


def wrapped(payload: dict, kind: str = "ChatCompletionChunk") -> dict:
    return {"__type__": f"openai.types.chat.chat_completion_chunk.{kind}", "__data__": payload}


def test_llama_stack_streaming_recording():
    chunks = [
        chunk({"content": "Hi", "function_call": None, "refusal": None, "tool_calls": None}),
        chunk({"content": None, "reasoning": None}, "stop", usage=None),
    ]
    raw = llama_stack([wrapped(c) for c in chunks])
    assert detect_format(raw) == "llama-stack"
    cassette = import_bytes(raw)
    interaction = cassette.interactions[0]
    compact = [json.dumps(c, separators=(",", ":")) for c in chunks]
    assert interaction.response.raw == "".join(f"data: {c}\n\n" for c in [*compact, "[DONE]"]).encode()
    tape = interaction.response.quirktape
    assert (tape.dialect, tape.stream, tape.ending, len(tape.offsets)) == ("openai", True, "done", 3)
    assert json.loads(interaction.request.body)["model"] == "Qwen/Qwen3-0.6B"
    assert interaction.request.uri == "http://localhost:8000/v1/v1/chat/completions"
    assert text_of(cassette) == "Hi" and not oracle_failures(cassette)
    cut = import_bytes(raw, done=False).interactions[0].response
    assert b"[DONE]" not in cut.raw and cut.quirktape.ending == "eof"


def test_llama_stack_non_streaming_recording():
    complete = {
        "id": "rec-1",
        "object": "chat.completion",
        "model": "Qwen/Qwen3-0.6B",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "4"}, "finish_reason": "stop"}],
    }
    cassette = import_bytes(llama_stack(wrapped(complete, "ChatCompletion"), streaming=False))
    response = cassette.interactions[0].response
    assert json.loads(response.raw) == complete and response.quirktape.stream is False
    assert response.headers["content-type"] == ["application/json"]
    assert text_of(cassette) == "4"


# --- HAR -----------------------------------------------------------------------------------------


def har_entry(url, text, *, method="POST", status=200, encoding=None, mime="text/event-stream", post=None):
    content = {"size": len(text or ""), "mimeType": mime}
    if text is not None:
        content["text"] = text
    if encoding:
        content["encoding"] = encoding
    return {
        "startedDateTime": "2025-01-01T00:00:00.000Z",
        "time": 12.5,
        "request": {
            "method": method,
            "url": url,
            "httpVersion": "HTTP/2",
            "headers": [
                {"name": ":authority", "value": "api.example.com"},
                {"name": "Authorization", "value": "Bearer sk-har-secret"},
                {"name": "Content-Type", "value": "application/json"},
            ],
            "cookies": [],
            "queryString": [],
            **({"postData": {"mimeType": "application/json", "text": post}} if post else {}),
            "headersSize": -1,
            "bodySize": -1,
        },
        "response": {
            "status": status,
            "statusText": "" if status != 200 else "OK",
            "httpVersion": "HTTP/2",
            "headers": [{"name": "content-type", "value": mime}, {"name": "set-cookie", "value": "session=abc"}],
            "cookies": [],
            "content": content,
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
        },
        "cache": {},
        "timings": {"send": 0, "wait": 10, "receive": 2.5},
    }


def har(*entries) -> bytes:
    return json.dumps(
        {"log": {"version": "1.2", "creator": {"name": "WebInspector"}, "entries": list(entries)}}
    ).encode()


def test_har_with_base64_and_plain_bodies_and_other_traffic():
    post = json.dumps({"model": "gpt-4o", "stream": True})
    raw = har(
        har_entry("https://app.example.com/index.html", "<html></html>", method="GET", mime="text/html"),
        har_entry(OPENAI_URL, base64.b64encode(TURN_1).decode(), encoding="base64", post=post),
        har_entry(OPENAI_URL, TURN_2.decode(), post=post),
        har_entry(OPENAI_URL, None, status=0),
    )
    assert detect_format(raw) == "har"
    cassette = import_bytes(raw)
    assert [i.response.raw for i in cassette.interactions] == [TURN_1, TURN_2]
    assert [note.split(":")[0] for note in cassette.metadata.skipped] == ["interaction 0", "interaction 3"]
    assert "status 0" in cassette.metadata.skipped[1]
    request = cassette.interactions[0].request
    assert request.body == post and request.headers["authorization"] == [REDACTED]
    assert ":authority" not in request.headers
    assert cassette.interactions[0].response.headers["set-cookie"] == [REDACTED]
    assert text_of(cassette, 1) == "It is sunny."


def test_har_base64_gzip_body():
    entry = har_entry(OPENAI_URL, base64.b64encode(gzip.compress(TURN_2)).decode(), encoding="base64")
    entry["response"]["headers"].append({"name": "content-encoding", "value": "gzip"})
    response = import_bytes(har(entry)).interactions[0].response
    assert response.raw == TURN_2 and "content-encoding" not in response.headers


# --- Ollama NDJSON on its own ---------------------------------------------------------------------


def test_ollama_ndjson_file():
    raw = OLLAMA_NDJSON.encode()
    assert detect_format(raw) == "ollama-ndjson"
    cassette = import_bytes(raw)
    response = cassette.interactions[0].response
    assert response.raw == raw and response.headers["content-type"] == ["application/x-ndjson"]
    assert (response.quirktape.dialect, response.quirktape.ending) == ("ollama", "done")
    assert len(response.quirktape.offsets) == 3 and cassette.metadata.model == "llama3.1"
    assert cassette.interactions[0].request.uri.endswith("/api/chat")
    cut = import_bytes(raw.rsplit(b"\n", 2)[0] + b"\n")
    assert cut.interactions[0].response.quirktape.ending == "eof"


# --- picking one exchange, the CLI, bad inputs -----------------------------------------------------


def test_interaction_picks_one_exchange():
    raw = vcr_yaml(vcr_interaction(OPENAI_URL, TURN_1.decode()), vcr_interaction(OPENAI_URL, TURN_2.decode()))
    picked = import_bytes(raw, interaction=1)
    assert len(picked.interactions) == 1 and picked.interactions[0].response.raw == TURN_2
    with pytest.raises(CassetteError, match="interaction 2 does not exist .*holds 2 LLM exchanges"):
        import_bytes(raw, interaction=2)
    with pytest.raises(CassetteError, match="interaction 1 does not exist"):
        import_bytes(TURN_2, interaction=1)
    assert import_bytes(TURN_2, interaction=0).interactions[0].response.raw == TURN_2
    forced = import_bytes(raw, upstream="gemini")
    assert {i.response.quirktape.dialect for i in forced.interactions} == {"gemini"}


def test_cli_imports_a_recording(tmp_path, monkeypatch, capsysbinary):
    src = tmp_path / "rec.yaml"
    src.write_bytes(
        vcr_yaml(
            vcr_interaction(OPENAI_URL, TURN_1.decode()),
            vcr_interaction("https://huggingface.co/x", "", method="GET"),
            vcr_interaction(OPENAI_URL, TURN_2.decode()),
        )
    )
    code, _, err = run(monkeypatch, capsysbinary, "import", src, "-o", tmp_path / "c.yaml", "--interaction", "1")
    assert code == 0, err
    assert "skipped interaction 1: GET https://huggingface.co/x: not an LLM endpoint" in err
    cassette = load(tmp_path / "c.yaml")
    assert [i.response.raw for i in cassette.interactions] == [TURN_2]
    assert cassette.metadata.source == str(src)
    code, _, err = run(monkeypatch, capsysbinary, "import", src, "-o", tmp_path / "d.yaml", "--interaction", "5")
    assert code == 2 and err.count("\n") == 1 and "interaction 5 does not exist" in err
    code, out, _ = run(monkeypatch, capsysbinary, "check", tmp_path / "c.yaml")
    assert code == 0, out


def test_every_new_format_is_a_cli_choice():
    assert {"vcr", "go-vcr", "llama-stack", "har", "ollama-ndjson"} <= set(FORMATS)


@pytest.mark.parametrize(
    ("raw", "fmt", "message"),
    [
        (b"interactions: [\n", "auto", "not valid YAML"),
        (b"interactions: 3\n", "vcr", "no top-level 'interactions' list"),
        (b"interactions:\n- 7\n", "vcr", "interaction 0 has no request and response"),
        (b"data: {}\n\n", "vcr", "no top-level 'interactions' list"),
        (b"data: {}\n\n", "go-vcr", "no top-level 'interactions' list"),
        (b"interactions: []\n", "vcr", "no LLM exchange to import"),
        (b'{"log": {"entries": "x"}}', "har", "not a HAR file"),
        (b'{"log": {"entries": [3]}}', "har", "entry 0 has no request and response"),
        (b'{"request": {}, "response": {}}', "llama-stack", "not a llama-stack recording"),
        (b'{"request": {"url": "u"}, "response": {"body": []}}', "llama-stack", "holds no chunks"),
        (b'{"model":"m","message":{}}\n{oops\n', "ollama-ndjson", "line 2 is not JSON"),
    ],
)
def test_bad_inputs_are_one_line_cassette_errors(raw, fmt, message):
    with pytest.raises(CassetteError, match=message) as info:
        import_bytes(raw, fmt)
    assert "\n" not in str(info.value)


def test_bad_bodies_inside_recordings_name_the_interaction():
    broken = vcr_yaml(vcr_interaction(OPENAI_URL, b"\x1f\x8b not really gzip", headers={"Content-Encoding": ["gzip"]}))
    with pytest.raises(CassetteError, match="interaction 0: the body looks gzip-compressed"):
        import_bytes(broken)
    no_status = vcr_yaml({"request": {"method": "POST", "uri": OPENAI_URL}, "response": {"body": {"string": "x"}}})
    with pytest.raises(CassetteError, match="interaction 0: no usable status code"):
        import_bytes(no_status)
    bad_base64 = har(har_entry(OPENAI_URL, "%%%not base64%%%", encoding="base64"))
    with pytest.raises(CassetteError, match="entry 0: content.text says base64 but is not"):
        import_bytes(bad_base64)
    only_other = har(har_entry("https://app.example.com/", "<html/>", method="GET", mime="text/html"))
    with pytest.raises(CassetteError, match="no LLM exchange to import .*not an LLM endpoint"):
        import_bytes(only_other)


def test_import_file_names_the_file(tmp_path):
    src = tmp_path / "bad.har"
    src.write_bytes(b'{"log": {}}')
    with pytest.raises(CassetteError, match=f"^{src}: not a HAR file"):
        import_file(src, "har")


# --- complete (non-streamed) responses ------------------------------------------------------------

COMPLETION = {
    "id": "chatcmpl-9",
    "object": "chat.completion",
    "created": 1735689600,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Let me check.",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {"prompt_tokens": 21, "completion_tokens": 9, "total_tokens": 30},
}
GEMINI_COMPLETE = {
    "candidates": [{"content": {"role": "model", "parts": [{"text": "Bonjour"}]}, "finishReason": "STOP", "index": 0}],
    "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2, "totalTokenCount": 6},
    "modelVersion": "gemini-2.5-flash",
}
OLLAMA_COMPLETE = {
    "model": "llama3.1",
    "created_at": "2024-01-01T00:00:02Z",
    "message": {"role": "assistant", "content": "Hello"},
    "done": True,
    "done_reason": "stop",
    "prompt_eval_count": 5,
    "eval_count": 2,
}
# dialect: (the response, the endpoint it answers, the message it is: content, stop reason, token counts)
RESPONSES = {
    "openai": (
        COMPLETION,
        "/v1/chat/completions",
        [("text", "Let me check."), ("tool_use", ("get_weather", {"city": "Paris"}))],
        "tool_use",
        (21, 9),
    ),
    "gemini": (GEMINI_COMPLETE, "/v1beta/models/unknown:generateContent", [("text", "Bonjour")], "end_turn", (4, 2)),
    "ollama": (OLLAMA_COMPLETE, "/api/chat", [("text", "Hello")], "end_turn", (5, 2)),
}


@pytest.mark.parametrize(
    ("dialect", "indent"),
    [
        ("openai", None),
        ("openai", 2),
        ("gemini", None),
        ("gemini", 2),
        ("ollama", None),
        ("ollama", 2),
    ],
)
def test_a_complete_response_is_a_non_streaming_interaction(tmp_path, monkeypatch, capsysbinary, dialect, indent):
    document, path, content, stop_reason, (tokens_in, tokens_out) = RESPONSES[dialect]
    raw = json.dumps(document, indent=indent).encode()
    assert detect_format(raw) == f"{dialect}-response"
    src, out = tmp_path / "response.json", tmp_path / "c.yaml"
    src.write_bytes(raw)
    for fmt in (f"{dialect}-response", "auto"):
        code, _, err = run(monkeypatch, capsysbinary, "import", src, "-o", out, "--format", fmt)
        assert code == 0, err
    interaction = load(out).interactions[0]
    response = interaction.response
    assert response.raw == raw and response.headers == {"content-type": ["application/json"]}
    tape = response.quirktape
    assert (tape.dialect, tape.stream, tape.ending, tape.offsets) == (dialect, False, "done", None)
    assert urlsplit(interaction.request.uri).path == path
    code, text, err = run(monkeypatch, capsysbinary, "replay", out, "--format", "message")
    assert code == 0, err
    message = json.loads(text)
    assert blocks(message) == content and message["stop_reason"] == stop_reason
    assert (message["usage"]["input_tokens"], message["usage"]["output_tokens"]) == (tokens_in, tokens_out)


def test_one_streamed_chunk_on_its_own_is_still_a_stream():
    raw = json.dumps(chunk({"content": "Hi"}, "stop")).encode()
    assert detect_format(raw) == "chunks-jsonl"
    assert import_bytes(raw).interactions[0].response.quirktape.stream is True


# --- several inputs in one cassette: a stream and its complete twin ---------------------------------

STREAMED_TWIN = sse(
    chunk({"role": "assistant", "content": "Let me "}),
    chunk({"content": "check."}),
    chunk({"tool_calls": [tool(0, "call_1", "get_weather", '{"city": ')]}),
    chunk({"tool_calls": [tool(0, args='"Paris"}')]}, "tool_calls"),
)


def checks_of(monkeypatch, capsysbinary, path) -> tuple[int, dict[str, str]]:
    code, text, _ = run(monkeypatch, capsysbinary, "check", path, "--json")
    return code, {c["invariant"]: c["status"] for c in json.loads(text)["cassettes"][0]["checks"]}


@pytest.mark.parametrize(
    ("stream_name", "stream", "response"),
    [
        ("stream.sse", STREAMED_TWIN, COMPLETION),
        ("stream.json", GEMINI_ARRAY, GEMINI_COMPLETE),  # :streamGenerateContent pairs with :generateContent
    ],
    ids=["openai", "gemini"],
)
def test_a_stream_and_its_complete_twin_are_compared(
    tmp_path, monkeypatch, capsysbinary, stream_name, stream, response
):
    (tmp_path / stream_name).write_bytes(stream)
    (tmp_path / "response.json").write_text(json.dumps(response, indent=2))
    out = tmp_path / "c.yaml"
    code, _, err = run(
        monkeypatch, capsysbinary, "import", tmp_path / stream_name, tmp_path / "response.json", "-o", out
    )
    assert code == 0, err
    cassette = load(out)
    assert [i.response.quirktape.stream for i in cassette.interactions] == [True, False]
    assert cassette.metadata.source == f"{tmp_path / stream_name}, {tmp_path / 'response.json'}"
    code, statuses = checks_of(monkeypatch, capsysbinary, out)
    assert statuses["stream-nonstream"] == "ok" and code == 0, statuses


def test_a_twin_that_differs_fails_stream_nonstream(tmp_path, monkeypatch, capsysbinary):
    different = json.loads(json.dumps(COMPLETION))
    different["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] = '{"city": "Lyon"}'
    (tmp_path / "stream.sse").write_bytes(STREAMED_TWIN)
    (tmp_path / "response.json").write_text(json.dumps(different))
    out = tmp_path / "c.yaml"
    code, _, err = run(
        monkeypatch, capsysbinary, "import", tmp_path / "stream.sse", tmp_path / "response.json", "-o", out
    )
    assert code == 0, err
    code, statuses = checks_of(monkeypatch, capsysbinary, out)
    assert statuses["stream-nonstream"] == "FAIL" and code == 1


def test_one_bad_input_among_several_writes_nothing(tmp_path, monkeypatch, capsysbinary):
    (tmp_path / "stream.sse").write_bytes(STREAMED_TWIN)
    (tmp_path / "broken.json").write_text('{"choices": [')
    out = tmp_path / "c.yaml"
    code, _, err = run(
        monkeypatch, capsysbinary, "import", tmp_path / "stream.sse", tmp_path / "broken.json", "-o", out
    )
    assert code == 2 and err.count("\n") == 1 and "broken.json: line 1 is not JSON" in err, err
    assert not out.exists()


# --- Gemini as the google SDK serialises it (snake_case) -------------------------------------------

SNAKE_CHUNKS = [
    {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {
                            "function_call": {
                                "name": "get_weather",
                                "args": {"city_name": "Paris", "unit_system": "metric"},
                            },
                            "thought_signature": "c2lnLTE=",
                        },
                        {"function_call": {"name": "get_time", "args": {"time_zone": "Europe/Paris"}}},
                    ],
                },
                "index": 0,
            }
        ],
        "model_version": "gemini-2.5-flash",
        "response_id": "resp-1",
    },
    {
        "candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}, "finish_reason": "STOP", "index": 0}],
        "usage_metadata": {"prompt_token_count": 12, "candidates_token_count": 9, "total_token_count": 21},
        "model_version": "gemini-2.5-flash",
        "response_id": "resp-1",
    },
]
SNAKE_CALLS = [
    ("tool_use", ("get_weather", {"city_name": "Paris", "unit_system": "metric"})),
    ("tool_use", ("get_time", {"time_zone": "Europe/Paris"})),
]
SNAKE_INPUTS = {
    "jsonl": "\n".join(json.dumps(c) for c in SNAKE_CHUNKS),
    "sse": "".join(f"data: {json.dumps(c)}\r\n\r\n" for c in SNAKE_CHUNKS),
    "llama-stack": json.dumps(
        {
            "request": {
                "method": "POST",
                "url": "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1"
                "/publishers/google/models/gemini-2.5-flash:streamGenerateContent",
                "headers": {},
                "body": {"contents": [{"role": "user", "parts": [{"text": "Weather and time in Paris?"}]}]},
            },
            "response": {
                "body": [
                    {"__type__": "google.genai.types.GenerateContentResponse", "__data__": c} for c in SNAKE_CHUNKS
                ],
                "is_streaming": True,
            },
        }
    ),
}


@pytest.mark.parametrize("form", SNAKE_INPUTS)
def test_snake_case_gemini_keeps_both_parallel_calls(tmp_path, monkeypatch, capsysbinary, form):
    src, out = tmp_path / "snake.txt", tmp_path / "c.yaml"
    src.write_text(SNAKE_INPUTS[form])
    code, _, err = run(monkeypatch, capsysbinary, "import", src, "-o", out)
    assert code == 0, err
    cassette = load(out)
    assert cassette.interactions[0].response.quirktape.dialect == "gemini"
    assert len(cassette.metadata.import_notes) == 1 and "snake_case" in cassette.metadata.import_notes[0]
    assert "snake_case" in err and cassette.metadata.model == "gemini-2.5-flash"
    code, text, err = run(monkeypatch, capsysbinary, "replay", out, "--format", "message")
    assert code == 0, err
    message = json.loads(text)
    assert [b for b in blocks(message) if b[0] == "tool_use"] == SNAKE_CALLS
    assert any("c2lnLTE=" in (b.get("signature") or "") for b in message["content"])
    assert (message["usage"]["input_tokens"], message["usage"]["output_tokens"]) == (12, 9)


def test_a_snake_case_complete_gemini_response_is_normalised_too():
    complete = {**SNAKE_CHUNKS[0], "usage_metadata": SNAKE_CHUNKS[1]["usage_metadata"]}
    complete["candidates"] = [{**complete["candidates"][0], "finish_reason": "STOP"}]
    cassette = import_bytes(json.dumps(complete, indent=2).encode())
    assert cassette.interactions[0].response.quirktape.stream is False
    assert [b for b in blocks(accumulate(replay(cassette).events)) if b[0] == "tool_use"] == SNAKE_CALLS
    assert cassette.metadata.import_notes


def test_a_vcrpy_9_cassette_with_its_own_metadata_is_imported_as_vcrpy_not_taken_as_is(tmp_path):
    """vcrpy 9 keeps a top-level ``metadata``: that alone does not make a quirktape cassette."""
    stream = sse(chunk({"content": "Hi"}, "stop")).decode()
    document = {
        "version": 1,
        "metadata": {"recorded_by": "vcrpy"},
        "interactions": [
            {
                "request": {"method": "GET", "uri": "https://api.example.com/v1/users/1", "body": None, "headers": {}},
                "response": {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": '{"id": 1}'}},
            },
            {
                "request": {"method": "POST", "uri": "https://api.example.com/v1/chat/completions", "body": "{}"},
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"content-type": ["text/event-stream"]},
                    "body": {"string": stream},
                },
            },
        ],
    }
    raw = yaml.safe_dump(document).encode()
    assert detect_format(raw) == "vcr"
    cassette = import_bytes(raw)
    assert [i.request.method for i in cassette.interactions] == ["POST"]
    assert cassette.interactions[0].response.quirktape.dialect == "openai"


def test_a_byte_order_mark_before_the_input_is_read_past(tmp_path):
    """A BOM (as Windows editors save text) before a vcrpy cassette or an SSE stream: imported as without it."""
    sse = 'data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\ndata: [DONE]\n\n'
    vcr = vcr_yaml(vcr_interaction("https://api.openai.com/v1/chat/completions", sse))
    for name, text in (("s.sse", sse), ("c.yaml", vcr.decode() if isinstance(vcr, bytes) else vcr)):
        plain, marked = tmp_path / name, tmp_path / f"bom-{name}"
        plain.write_text(text, encoding="utf-8")
        marked.write_bytes(b"\xef\xbb\xbf" + text.encode())
        assert detect_format(marked.read_bytes()) == detect_format(plain.read_bytes()), name
        assert import_file(marked).interactions[0].response.quirktape.dialect == "openai", name
