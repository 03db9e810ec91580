"""record, serve and proxy over loopback: bytes, pieces and endings survive; secrets never do."""

import base64
import json
import threading

import anyio
import httpx
import pytest
from helpers import CASSETTES, CORPUS, run_cli
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

from recorder.capture import import_file, proxy_app, record
from recorder.replay import replay
from recorder.replay.asgi import bind, running
from recorder.replay.serve import library, serve_app
from recorder.tape import find_secrets, load, redact_headers, redact_url
from translator import accumulate

TEXT = CASSETTES / "vllm" / "report-empty-tool-calls-text-lost.yaml"
CUT = CASSETTES / "groq" / "err-06-connection-reset-mid-stream.yaml"
SECRET = "sk-test-planted-credential-0123456789"


def recorded_request(path):
    return json.loads(load(path).interactions[0].request.body)


def record_from_serve(path, modes=(True,)):
    """(the original cassette, what ``record`` captured from ``serve`` replaying it)."""
    original = load(path)
    with running(serve_app(original)) as url:
        cassette = record(
            upstream="openai",
            base_url=url + "/v1",
            model="m",
            request=recorded_request(path),
            raw=True,
            modes=modes,
            api_key=None,
        )
    return original, cassette


def test_record_from_serve_round_trips_bytes_pieces_and_ending():
    original, cassette = record_from_serve(TEXT, (True, False))
    for ours, theirs in zip(cassette.interactions, original.interactions):
        assert ours.response.raw == theirs.response.raw
        assert ours.response.status.code == theirs.response.status.code
        assert ours.response.quirktape.ending == theirs.response.quirktape.ending
    assert cassette.interactions[0].response.quirktape.offsets == original.interactions[0].response.quirktape.offsets
    assert len(cassette.interactions[0].response.quirktape.t_ms) == len(
        original.interactions[0].response.quirktape.offsets
    )


def test_a_stream_cut_mid_way_is_recorded_with_every_byte():
    original, cassette = record_from_serve(CUT, (True,))
    response = cassette.interactions[0].response
    assert response.quirktape.ending == "reset"
    assert response.raw == original.interactions[0].response.raw


def leaky_upstream(echo_in_body: bool) -> Starlette:
    async def answer(request):
        async def body():
            yield b'data: {"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}\n\n'
            if echo_in_body:
                yield b"data: " + base64.b64encode(SECRET.encode()) + b"\n\n"
            yield b"data: [DONE]\n\n"

        headers = {"set-cookie": f"session={SECRET}", "x-echo": SECRET, "content-type": "text/event-stream"}
        return StreamingResponse(body(), headers=headers)

    return Starlette(routes=[Route("/{path:path}", answer, methods=["POST"])])


@pytest.mark.parametrize("upstream", ["openai", "gemini"])
def test_planted_secrets_never_reach_the_file(tmp_path, monkeypatch, capsysbinary, upstream):
    request = tmp_path / "req.json"
    request.write_text(json.dumps({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}))
    monkeypatch.setenv("PLANTED_KEY", SECRET)
    out = tmp_path / "c.yaml"
    with running(leaky_upstream(echo_in_body=False)) as url:
        code, err = cli(
            monkeypatch,
            capsysbinary,
            "record",
            "--upstream",
            upstream,
            "--base-url",
            f"{url}/v1?key={SECRET}&api-key={SECRET}",
            "--model",
            "m",
            "--request",
            request,
            "--api-key-env",
            "PLANTED_KEY",
            "-o",
            out,
        )
    assert code == 0, err
    text = out.read_text()
    assert not find_secrets(text, [SECRET]) and SECRET not in err
    cassette = load(out)
    request_headers = cassette.interactions[0].request.headers
    assert request_headers.get("authorization", request_headers.get("x-goog-api-key")) == ["REDACTED"]
    assert cassette.interactions[0].response.headers["set-cookie"] == ["REDACTED"]
    assert "key=REDACTED" in cassette.interactions[0].request.uri


def test_a_credential_in_the_body_refuses_the_write(tmp_path, monkeypatch, capsysbinary):
    request = tmp_path / "req.json"
    request.write_text(json.dumps({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}))
    monkeypatch.setenv("PLANTED_KEY", SECRET)
    with running(leaky_upstream(echo_in_body=True)) as url:
        code, err = cli(
            monkeypatch,
            capsysbinary,
            "record",
            "--upstream",
            "openai",
            "--base-url",
            url + "/v1",
            "--model",
            "m",
            "--request",
            request,
            "--api-key-env",
            "PLANTED_KEY",
            "--stream",
            "-o",
            tmp_path / "c.yaml",
        )
    assert code == 2 and "refusing to write" in err and err.count("\n") == 1
    assert not (tmp_path / "c.yaml").exists()


def test_redaction_rules():
    headers = redact_headers(
        {"authorization": ["Bearer x"], "x-custom": [f"pre-{SECRET}"], "accept": ["*/*"]}, [SECRET]
    )
    assert headers == {"authorization": ["REDACTED"], "x-custom": ["REDACTED"], "accept": ["*/*"]}
    assert (
        redact_url(f"http://h/p?alt=sse&key={SECRET}&other={SECRET}", [SECRET])
        == "http://h/p?alt=sse&key=REDACTED&other=REDACTED"
    )
    for form in (
        SECRET,
        base64.b64encode(SECRET.encode()).decode(),
        base64.urlsafe_b64encode(SECRET.encode()).decode().rstrip("="),
    ):
        assert find_secrets(f"...{form}...", [SECRET]) == ["credential #1"]


def cli(monkeypatch, capsysbinary, *args):
    code, _, err = run_cli(monkeypatch, capsysbinary, *args)
    return code, err


def test_record_against_a_closed_port_is_one_line_and_exit_2(tmp_path, monkeypatch, capsysbinary):
    sock = bind()
    port = sock.getsockname()[1]
    sock.close()
    request = tmp_path / "req.json"
    request.write_text(json.dumps({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}))
    code, err = cli(
        monkeypatch,
        capsysbinary,
        "record",
        "--upstream",
        "openai",
        "--base-url",
        f"http://127.0.0.1:{port}/v1",
        "--model",
        "m",
        "--request",
        request,
        "-o",
        tmp_path / "c.yaml",
    )
    assert code == 2 and err.startswith("quirktape: error: cannot reach") and err.count("\n") == 1


def test_official_openai_sdk_streams_through_serve():
    openai = pytest.importorskip("openai")
    request = recorded_request(TEXT)
    with running(serve_app(library([str(TEXT)]))) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="placeholder", max_retries=0)
        chunks = list(
            client.chat.completions.create(
                model=request["model"], messages=request["messages"], max_tokens=512, stream=True
            )
        )
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        == load(TEXT).metadata.expect.content[0]["text"]
    )
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_unmatched_request_to_serve_is_a_404_json_error():
    with running(serve_app(load(TEXT))) as url:
        reply = httpx.post(url + "/v1/chat/completions", json={"model": "other", "stream": True, "messages": []})
    assert reply.status_code == 404 and reply.json()["error"]["type"] == "not_found_error"


def gated_upstream(gate: threading.Event) -> Starlette:
    async def answer(request):
        async def body():
            yield b'data: {"choices":[{"index":0,"delta":{"content":"first"}}]}\n\n'
            await anyio.to_thread.run_sync(gate.wait)
            yield b'data: {"choices":[{"index":0,"delta":{"content":" rest"},"finish_reason":"stop"}]}\n\n'
            yield b"data: [DONE]\n\n"

        return StreamingResponse(body(), media_type="text/event-stream")

    return Starlette(routes=[Route("/{path:path}", answer, methods=["POST"])])


def test_proxy_passes_the_first_piece_before_the_rest_exists_and_records(tmp_path):
    gate = threading.Event()
    with running(gated_upstream(gate)) as upstream, running(proxy_app(upstream, tmp_path)) as proxy:
        with httpx.Client(timeout=10) as client:
            with client.stream(
                "POST",
                proxy + "/v1/chat/completions",
                json={"model": "m", "stream": True},
                headers={"authorization": f"Bearer {SECRET}"},
            ) as reply:
                pieces = reply.iter_raw()
                first = next(pieces)  # the upstream has not produced the rest yet: no buffering
                gate.set()
                rest = b"".join(pieces)
    assert first.startswith(b'data: {"choices":[{"index":0,"delta":{"content":"first"}')
    written = list(tmp_path.glob("*.yaml"))
    assert len(written) == 1
    cassette = load(written[0])
    assert cassette.interactions[0].response.raw == first + rest
    assert cassette.interactions[0].response.quirktape.ending == "done"
    assert SECRET not in written[0].read_text()


def test_proxy_passes_bytes_unchanged(tmp_path):
    original = load(TEXT)
    with running(serve_app(original)) as upstream, running(proxy_app(upstream, tmp_path)) as proxy:
        reply = httpx.post(
            proxy + "/v1/chat/completions",
            content=original.interactions[0].request.body,
            headers={"content-type": "application/json"},
        )
    assert reply.content == original.interactions[0].response.raw
    assert load(next(tmp_path.glob("*.yaml"))).interactions[0].response.raw == reply.content


def test_serve_cli_bad_inputs(monkeypatch, capsysbinary):
    for args in (
        ["serve", "missing.yaml"],
        ["serve", str(TEXT), "--pace", "fast"],
        ["serve", str(TEXT), "--match", "colour"],
        ["proxy", "--upstream", "ftp://x", "-o", "/tmp/x"],
    ):
        code, err = cli(monkeypatch, capsysbinary, *args)
        assert code == 2 and err.count("\n") == 1, err


def test_proxy_keeps_a_cut_upstream_cut(tmp_path):
    original = load(CUT)
    with running(serve_app(original)) as upstream, running(proxy_app(upstream, tmp_path)) as proxy:
        received = b""
        with pytest.raises(httpx.RemoteProtocolError):
            body = original.interactions[0].request.body
            with httpx.stream("POST", proxy + "/v1/chat/completions", content=body) as reply:
                for piece in reply.iter_raw():
                    received += piece
    cassette = load(next(tmp_path.glob("*.yaml")))
    assert cassette.interactions[0].response.quirktape.ending == "reset"
    assert cassette.interactions[0].response.raw == received == original.interactions[0].response.raw


def test_http_error_statuses_are_recorded_as_they_are():
    path = CASSETTES / "openai" / "err-05-rate-limit-429.yaml"
    original, cassette = record_from_serve(path, (True,))
    ours, theirs = cassette.interactions[0].response, original.interactions[0].response
    assert (ours.status.code, ours.raw) == (theirs.status.code, theirs.raw) == (429, theirs.raw)


def test_anthropic_request_becomes_an_openai_request():
    from translator import to_openai_request

    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}}
    body = to_openai_request(
        {
            "model": "m",
            "max_tokens": 100,
            "system": [{"type": "text", "text": "Be brief."}],
            "stop_sequences": ["###"],
            "thinking": {"type": "enabled", "budget_tokens": 8000},
            "tools": [{"name": "read", "description": "Read.", "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
            "stream": True,
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "look"}, image]},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": "hm", "signature": "x"},
                        {"type": "text", "text": "ok"},
                        {"type": "tool_use", "id": "call_1", "name": "read", "input": {"p": 1}},
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "call_1", "content": [{"type": "text", "text": "data"}]},
                        {"type": "text", "text": "next"},
                    ],
                },
            ],
        },
        reasoning_field="reasoning_content",
    )
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}},
            ],
        },
        {
            "role": "assistant",
            "content": "ok",
            "reasoning_content": "hm",
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "read", "arguments": '{"p": 1}'}}],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "data"},
        {"role": "user", "content": "next"},
    ]
    assert body["tools"] == [
        {"type": "function", "function": {"name": "read", "description": "Read.", "parameters": {"type": "object"}}}
    ]
    assert (body["tool_choice"], body["parallel_tool_calls"], body["stop"], body["max_tokens"]) == (
        "required",
        False,
        ["###"],
        100,
    )
    assert (body["reasoning_effort"], body["stream"], body["stream_options"]) == (
        "medium",
        True,
        {"include_usage": True},
    )


# --- which dialect a proxied or recorded exchange is in: the bytes say, never a default ------------

GEMINI_SSE = (
    b'data: {"candidates": [{"content": {"role": "model", "parts": [{"text": "Bon"}]}}],'
    b' "modelVersion": "gemini-2.5-flash"}\r\n\r\n'
    b'data: {"candidates": [{"content": {"role": "model", "parts": [{"text": "jour"}]}, "finishReason": "STOP"}],'
    b' "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2}, "modelVersion": "gemini-2.5-flash"}\r\n\r\n'
)
ANTHROPIC_SSE = (
    b'event: message_start\ndata: {"type": "message_start", "message": {"id": "msg_1", "type": "message",'
    b' "role": "assistant", "content": [], "model": "claude", "usage": {"input_tokens": 3, "output_tokens": 1}}}\n\n'
    b'event: content_block_start\ndata: {"type": "content_block_start", "index": 0,'
    b' "content_block": {"type": "text", "text": ""}}\n\n'
    b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0,'
    b' "delta": {"type": "text_delta", "text": "Hi"}}\n\n'
    b'event: message_stop\ndata: {"type": "message_stop"}\n\n'
)
COHERE_SSE = (
    b'event: content-delta\ndata: {"type": "content-delta", "index": 0,'
    b' "delta": {"message": {"content": {"text": "Hi"}}}}\n\n'
)
OVERLOADED = b'{"error": {"message": "overloaded", "type": "server_error"}}'


def fixed_upstream(body: bytes, status: int = 200, media_type: str = "text/event-stream") -> Starlette:
    """An upstream that answers every POST with ``body``, whatever the path."""

    async def answer(request):
        async def pieces():
            yield body

        return StreamingResponse(pieces(), status_code=status, media_type=media_type)

    return Starlette(routes=[Route("/{path:path}", answer, methods=["POST"])])


def proxied(tmp_path, upstream_app: Starlette, path: str, **options) -> tuple[httpx.Response, list[str]]:
    """One POST through the proxy: (what the client got, the proxy's log lines)."""
    lines: list[str] = []
    with (
        running(upstream_app) as upstream,
        running(proxy_app(upstream, tmp_path, log=lines.append, **options)) as proxy,
    ):
        reply = httpx.post(proxy + path, json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
    return reply, lines


@pytest.mark.parametrize(
    "path",
    [
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        "/v1beta/models/gemini-2.5-flash:streamgeneratecontent?alt=sse",
    ],
)
def test_proxy_records_stream_generate_content_as_gemini(tmp_path, monkeypatch, capsysbinary, path):
    reply, lines = proxied(tmp_path, fixed_upstream(GEMINI_SSE), path)
    assert reply.content == GEMINI_SSE and lines == []
    (written,) = tmp_path.glob("*.yaml")
    cassette = load(written)
    tape = cassette.interactions[0].response.quirktape
    assert (tape.dialect, tape.stream, cassette.metadata.provider) == ("gemini", True, "gemini")
    code, text, err = run_cli(monkeypatch, capsysbinary, "replay", written, "--format", "message")
    assert code == 0 and json.loads(text)["content"] == [{"type": "text", "text": "Bonjour"}], err


def test_proxy_passes_on_but_does_not_record_what_nothing_tells(tmp_path):
    upstream = fixed_upstream(OVERLOADED, 503, "application/json")
    reply, lines = proxied(tmp_path, upstream, "/llm/generate")
    assert (reply.status_code, reply.content) == (503, OVERLOADED)
    assert not list(tmp_path.glob("*.yaml"))
    assert len(lines) == 1 and "POST" in lines[0] and "/llm/generate" in lines[0] and "pass --dialect" in lines[0]
    reply, lines = proxied(tmp_path, upstream, "/llm/generate", dialect="openai")
    assert reply.content == OVERLOADED and lines == []
    (written,) = tmp_path.glob("*.yaml")
    response = load(written).interactions[0].response
    assert (response.quirktape.dialect, response.quirktape.stream, response.raw) == ("openai", False, OVERLOADED)


def test_proxy_records_an_anthropic_compatible_upstream_in_its_own_dialect(tmp_path):
    reply, lines = proxied(tmp_path, fixed_upstream(ANTHROPIC_SSE), "/v1/messages", dialect="openai")
    assert reply.content == ANTHROPIC_SSE and lines == []
    (written,) = tmp_path.glob("*.yaml")
    assert load(written).interactions[0].response.quirktape.dialect == "anthropic"


def test_proxy_does_not_record_a_format_it_cannot_read(tmp_path):
    reply, lines = proxied(tmp_path, fixed_upstream(COHERE_SSE), "/v2/chat", dialect="openai")
    assert reply.content == COHERE_SSE and not list(tmp_path.glob("*.yaml"))
    assert len(lines) == 1 and "refused: a Cohere v2 chat response" in lines[0]


def test_proxy_cli_has_a_dialect_option(monkeypatch, capsysbinary):
    code, out, _ = run_cli(monkeypatch, capsysbinary, "proxy", "--help")
    assert code == 0 and "--dialect [anthropic|gemini|ollama|openai|responses]" in out


def test_record_refuses_an_answer_it_cannot_translate(tmp_path, monkeypatch, capsysbinary):
    request = tmp_path / "req.json"
    request.write_text(json.dumps({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}))
    with running(fixed_upstream(COHERE_SSE)) as url:
        code, err = cli(
            monkeypatch,
            capsysbinary,
            "record",
            "--upstream",
            "openai",
            "--base-url",
            url + "/v1",
            "--model",
            "m",
            "--request",
            request,
            "-o",
            tmp_path / "c.yaml",
        )
    assert code == 2 and err.count("\n") == 1 and "refused: a Cohere v2 chat response" in err, err
    assert not (tmp_path / "c.yaml").exists()


GEMINI_PARALLEL = (
    CORPUS / "raw" / "charmbracelet__fantasy" / "TestGoogleCommon__gemini-2.5-flash__multi_tool_streaming.yaml"
)


@pytest.mark.skipif(not GEMINI_PARALLEL.is_file(), reason=f"the shared corpus is absent ({GEMINI_PARALLEL})")
def test_a_real_gemini_stream_through_the_proxy_is_recorded_as_gemini_with_both_calls(tmp_path):
    original = import_file(GEMINI_PARALLEL)
    first = original.interactions[0]
    path = first.request.uri.split("googleapis.com", 1)[1]  # /v1beta/models/…:streamGenerateContent?alt=sse
    with running(serve_app(original)) as upstream, running(proxy_app(upstream, tmp_path)) as proxy:
        reply = httpx.post(proxy + path, content=first.request.body, headers={"content-type": "application/json"})
    (written,) = tmp_path.glob("*.yaml")
    recorded = load(written)
    response = recorded.interactions[0].response
    assert reply.content == response.raw == first.response.raw
    assert (response.quirktape.dialect, response.quirktape.stream) == ("gemini", True)
    calls = [b for b in accumulate(replay(recorded).events)["content"] if b["type"] == "tool_use"]
    assert len(calls) == response.raw.count(b'"functionCall"') == 2
