"""Secrets never leave the machine: one detector for every cassette, report, log line and printed message.

A table of planted credential shapes (``shapes``) goes through every path that writes or prints:
``record``, the recording ``proxy``, the recording ``gateway``, ``import`` of every format (and of a
pasted ``curl -v`` log), and ``report``. None may reach a file, stdout, stderr or a log; and none of
the real content of the bundled cassettes and the shared corpus may be mistaken for one.
"""

from __future__ import annotations

import base64
import json
import random
import string
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from helpers import CASSETTES, CORPUS, ROOT, run_cli
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

import recorder.tape.markdown as markdown
from recorder.capture import FORMATS, gateway_app, import_file, proxy_app
from recorder.replay.asgi import running
from recorder.tape import (
    MARKER,
    REDACTED,
    SHAPES,
    Cassette,
    CassetteError,
    cassette_from_report,
    dumps,
    embed,
    load,
    parse_cassette,
    redact_headers,
    redact_url,
    safe_dumps,
    save,
    scrub_cassette,
    scrub_text,
)
from recorder.tape.redact import findings, scrub_body

# --- the planted shapes -----------------------------------------------------------------------------

_RNG = random.Random(20261128)


def token(n: int = 32, alphabet: str = string.ascii_letters + string.digits) -> str:
    """A random credential body with upper case, lower case and digits (as real keys have)."""
    while True:
        text = "".join(_RNG.choice(alphabet) for _ in range(n))
        kinds = [any(c in group for c in text) for group in (string.ascii_lowercase, string.ascii_uppercase)]
        if any(c.isdigit() for c in text) and (all(kinds) or alphabet != string.ascii_letters + string.digits):
            return text


def _b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@dataclass(frozen=True)
class Shape:
    id: str
    secret: str  # what must never be written or printed
    text: str | None  # how it sits in free text (a body, a log line, a report); None: only in headers
    header: tuple[str, str]  # how it sits in an HTTP header
    key: str | None = None  # the JSON key it sits under in a request body


def shapes() -> list[Shape]:
    """A fresh table (new random secrets each call), so a request's and a response's never coincide."""
    prefixed = {
        "OpenAI project key": "sk-proj-" + token(48),
        "Anthropic key": "sk-ant-api03-" + token(40) + "-" + token(12),
        "OpenRouter key": "sk-or-v1-" + token(64, "0123456789abcdef"),
        "Google API key": "AIza" + token(35),
        "Groq key": "gsk_" + token(52),
        "xAI key": "xai-" + token(48),
        "Hugging Face token": "hf_" + token(34),
        "GitHub token": "ghp_" + token(36),
        "GitHub fine-grained token": "github_pat_11" + token(20) + "_" + token(59),
        "GitLab token": "glpat-" + token(20),
        "Slack bot token": "xoxb-" + token(12, string.digits) + "-" + token(13, string.digits) + "-" + token(24),
        "Stripe live key": "sk_live_" + token(24),
        "Perplexity key": "pplx-" + token(48),
        "Replicate token": "r8_" + token(37),
        "AWS access key id": "AKIA" + token(16, string.ascii_uppercase + string.digits),
        "JWT": _b64url({"alg": "HS256", "typ": "JWT"}) + "." + _b64url({"sub": token(10)}) + "." + token(43),
    }
    out = [Shape(name, s, f"the key is {s} here", (f"x-echo-{n}", s)) for n, (name, s) in enumerate(prefixed.items())]
    s = token(28)
    out.append(Shape("Bearer value", s, f"Authorization: Bearer {s}", ("x-echo-bearer", f"Bearer {s}")))
    s = base64.b64encode(f"alice:{token(18)}".encode()).decode()
    out.append(Shape("Basic value", s, f"Authorization: Basic {s}", ("x-echo-basic", f"Basic {s}")))
    s = token(20)
    out.append(
        Shape("URL userinfo", s, f"see https://alice:{s}@llm.internal/v1", ("x-echo-url", f"https://alice:{s}@h/"))
    )
    s = token(24)
    out.append(Shape("?key= query", s, f"GET /v1beta/models/m:generateContent?key={s}", ("x-echo-link", f"/p?key={s}")))
    s = token(30)
    out.append(Shape("X-Custom-Token header", s, f"X-Custom-Token: {s}", ("X-Custom-Token", s)))
    s = token(32)
    out.append(Shape("api-key header (Azure)", s, f"api-key: {s}", ("api-key", s)))
    s = token(40)
    out.append(Shape("session cookie", s, f"Cookie: session={s}", ("set-cookie", f"session={s}; Path=/; HttpOnly")))
    s = token(32)
    out.append(Shape('"api_key" in JSON', s, json.dumps({"api_key": s}), ("x-api-key", s), key="api_key"))
    s = token(24)
    out.append(
        Shape('"client_secret" in JSON', s, json.dumps({"client_secret": s}), ("x-client-secret", s), "client_secret")
    )
    s = token(16)
    out.append(Shape("password assignment", s, f'password = "{s}"', ("x-password", s), key="password"))
    s = token(40)
    out.append(Shape("high-entropy header value", s, None, ("x-relay", s)))
    return out


TABLE = shapes()


def leaked(text: str, table: list[Shape]) -> list[str]:
    return [shape.id for shape in table if shape.secret in text]


def content(table: list[Shape]) -> str:
    """Every free-text form in one model answer."""
    return " | ".join(shape.text for shape in table if shape.text)


def request_body(table: list[Shape]) -> dict:
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": content(table)}]}
    body.update({shape.key: shape.secret for shape in table if shape.key})
    return body


def _query(table: list[Shape]) -> str:
    return next(s.secret for s in table if s.id == "?key= query")


def planted_url(table: list[Shape], path: str = "/v1/chat/completions") -> str:
    userinfo = next(s.secret for s in table if s.id == "URL userinfo")
    return f"https://alice:{userinfo}@llm.example{path}?key={_query(table)}"


def openai_chunk(text: str, finish: str | None = None) -> dict:
    delta = {"content": text} if text else {}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def openai_sse(table: list[Shape]) -> str:
    chunks = [openai_chunk(content(table)), openai_chunk("", "stop")]
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"


# --- the detector, shape by shape -------------------------------------------------------------------


def test_the_table_has_at_least_twenty_shapes_and_the_detector_names_its_rules():
    assert len(TABLE) >= 20 and len({s.secret for s in TABLE}) == len(TABLE)
    assert len(SHAPES) >= 20


@pytest.mark.parametrize("shape", TABLE, ids=[s.id for s in TABLE])
def test_each_shape_is_redacted_in_text_headers_json_and_urls(shape):
    if shape.text:
        assert shape.secret not in scrub_text(shape.text)
        assert shape.secret not in scrub_text(json.dumps({"content": shape.text}))  # escaped inside JSON too
        assert REDACTED in scrub_text(shape.text)
    name, value = shape.header
    assert shape.secret not in json.dumps(redact_headers({name.lower(): [value]}, []))
    assert shape.secret not in scrub_text(f"> {name}: {value}")  # a curl -v line
    if shape.key:
        assert scrub_text(json.dumps({"model": "m", shape.key: shape.secret})) == json.dumps(
            {"model": "m", shape.key: REDACTED}
        )


def test_urls_lose_userinfo_and_credential_query_values():
    assert redact_url("http://user:hunter2pw@h:8/v1?alt=sse&key=AIzaXYZ12345", []) == (
        "http://REDACTED@h:8/v1?alt=sse&key=REDACTED"
    )
    assert scrub_text("source: http://user:hunter2pw@h:8/v1") == "source: http://REDACTED@h:8/v1"


@pytest.mark.parametrize(
    "prose",
    [
        "Basic usage of the sk-learn library",
        "Bearer tokens are sent in the Authorization header.",
        '{"usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}, "max_tokens": 100}',
        '{"logprobs": {"content": [{"token": "Hello", "logprob": -0.01}]}}',
        "api_key = os.environ.get('OPENAI_API_KEY')",
        'client = OpenAI(api_key="EMPTY")',
        '{"id": "call_Zt5Kq8Wn2Rv6Yb9Pc3MxLp4Hs7Dk2Fj9Ga", "signature": "EqQBCkgIARABGAIiQGV4YW1wbGU="}',
        "curl -H 'x-goog-api-key: $GEMINI_API_KEY' https://host/v1beta/models?key=...",
        "data: eyJub3QiOiAiYSBqd3QifQ==",
    ],
)
def test_prose_and_protocol_fields_are_left_alone(prose):
    assert scrub_text(prose) == prose


def test_allowed_values_are_kept():
    text = "the docs' example key sk-proj-EXAMPLE0123456789abcdefghij and a real one sk-proj-" + token(40)
    kept = scrub_text(text, allow=["sk-proj-EXAMPLE0123456789abcdefghij"])
    assert "sk-proj-EXAMPLE0123456789abcdefghij" in kept and kept.count(REDACTED) == 1


def test_a_scrubbed_body_keeps_its_reads_in_place():
    secret = "sk-proj-" + token(40)
    body = f'data: {{"a": "x {secret} y"}}\n\ndata: [DONE]\n\n'
    second = body.index("data: [DONE]")
    inside = body.index(secret) + 10
    scrubbed, offsets, times = scrub_body(body, [0, inside, second], [1.0, 2.0, 3.0])
    assert scrubbed == body.replace(secret, REDACTED)
    assert offsets == [0, scrubbed.index(REDACTED), scrubbed.index("data: [DONE]")] and times == [1.0, 2.0, 3.0]
    raw, offsets, _ = scrub_body(body.encode() + b"\xff", [0, second], None)
    assert raw == scrubbed.encode() + b"\xff" and offsets == [0, scrubbed.index("data: [DONE]")]


# --- no false positives on real content --------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(CASSETTES.rglob("*.yaml")), ids=lambda p: str(p.relative_to(CASSETTES)))
def test_bundled_cassettes_hold_nothing_the_detector_redacts(path):
    cassette = load(path)
    assert dumps(scrub_cassette(cassette)) == dumps(cassette)


CORPUS_FILES = sorted(p for p in (CORPUS / "raw").rglob("*") if p.is_file()) if CORPUS.is_dir() else []


@pytest.mark.skipif(not CORPUS_FILES, reason=f"the shared corpus is absent ({CORPUS})")
def test_the_shared_corpus_holds_nothing_the_detector_redacts_once_imported():
    changed = []
    for path in CORPUS_FILES:
        cassette = import_file(path)
        if dumps(scrub_cassette(cassette)) != dumps(cassette):
            changed.append(path.name)
    assert not changed


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the shared corpus is absent ({CORPUS})")
def test_the_shared_corpus_and_docs_text_have_no_findings():
    texts = [p for p in CORPUS.rglob("*") if p.is_file()] + list((ROOT.parent / "shared" / "docs").rglob("*.md"))
    found = {p.name: findings(p.read_bytes().decode("latin-1")) for p in texts}
    assert not {name: spans for name, spans in found.items() if spans}


# --- every path that writes or prints ----------------------------------------------------------------


def planted_upstream(table: list[Shape], seen: list[dict] | None = None) -> Starlette:
    """An upstream whose answer holds every planted shape, in its headers and its body."""

    async def answer(request: Request):
        if seen is not None:
            seen.append(dict(request.headers))
        body = await request.body()
        stream = json.loads(body or b"{}").get("stream", True)
        headers = [(name, value) for name, value in (s.header for s in table)]
        if not stream:
            message = {"role": "assistant", "content": content(table)}
            whole = {"id": "c", "object": "chat.completion", "model": "m"}
            whole["choices"] = [{"index": 0, "message": message, "finish_reason": "stop"}]
            response = JSONResponse(whole)
        else:

            async def pieces():
                yield openai_sse(table).encode()

            response = StreamingResponse(pieces(), media_type="text/event-stream")
        for name, value in headers:
            response.headers.append(name, value)
        return response

    return Starlette(routes=[Route("/{path:path}", answer, methods=["POST"])])


def test_record_writes_and_prints_no_planted_shape(tmp_path, monkeypatch, capsysbinary):
    sent, answer = shapes(), shapes()
    raw = tmp_path / "raw.json"
    raw.write_text(json.dumps(request_body(sent)))
    key = "sk-proj-" + token(48)
    monkeypatch.setenv("PLANTED_KEY", key)
    query = _query(sent)
    out = tmp_path / "c.yaml"
    with running(planted_upstream(answer)) as url:
        code, stdout, stderr = run_cli(
            monkeypatch, capsysbinary, "record", "--upstream", "openai", "--base-url", f"{url}/v1?key={query}",
            "--model", "m", "--raw-request", raw, "--api-key-env", "PLANTED_KEY", "-o", out,
        )  # fmt: skip
    assert code == 0, stderr
    written = out.read_text()
    assert leaked(written + stdout + stderr, sent + answer) == [] and key not in written + stderr
    assert load(out).interactions[0].response.quirktape.ending == "done"


def test_proxy_writes_and_logs_no_planted_shape(tmp_path):
    sent, answer = shapes(), shapes()
    lines: list[str] = []
    request_headers = [(name, value) for name, value in (s.header for s in sent)]
    request_headers += [("authorization", f"Bearer sk-proj-{token(48)}"), ("cookie", f"session={token(40)}")]
    query = _query(sent)
    with (
        running(planted_upstream(answer)) as upstream,
        running(proxy_app(upstream, tmp_path, log=lines.append)) as proxy,
    ):
        reply = httpx.post(
            f"{proxy}/v1/chat/completions?key={query}",
            content=json.dumps(request_body(sent)),
            headers=request_headers,
        )
    assert reply.status_code == 200 and json.dumps(content(answer))[1:-1] in reply.text  # the client gets it all
    assert lines == []
    (written,) = tmp_path.glob("*.yaml")
    text = written.read_text()
    assert leaked(text + "\n".join(lines), sent + answer) == [] and lines == []
    assert all(value not in text for _, value in request_headers[-2:])


def test_gateway_writes_and_logs_no_planted_shape(tmp_path):
    sent, answer = shapes(), shapes()
    lines: list[str] = []
    key = "sk-proj-" + token(48)
    anthropic = {
        "model": "m",
        "max_tokens": 64,
        "stream": True,
        "messages": [{"role": "user", "content": content(sent)}],
        "metadata": {"user_id": "u1", **{s.key: s.secret for s in sent if s.key}},
    }
    with running(planted_upstream(answer)) as upstream:
        app = gateway_app(upstream + "/v1", "openai", tmp_path, api_key=key, log=lines.append)
        with running(app) as gateway:
            reply = httpx.post(gateway + "/v1/messages", json=anthropic, timeout=10)
    assert reply.status_code == 200
    (written,) = tmp_path.glob("*.yaml")
    text = written.read_text()
    assert leaked(text + "\n".join(lines), sent + answer) == [] and key not in text


def _sse(events: list[dict]) -> str:
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)


def body_inputs(text: str) -> dict[str, str]:
    """Each body format, holding ``text`` as the model's answer."""
    openai_chunks = [openai_chunk(text), openai_chunk("", "stop")]
    gemini = {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}]}
    gemini["modelVersion"] = "gemini-2.5-flash"
    ollama = [
        {"model": "llama3.1", "message": {"role": "assistant", "content": text}, "done": False},
        {"model": "llama3.1", "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop"},
    ]
    message = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude", "content": []}
    message["usage"] = {"input_tokens": 3, "output_tokens": 1}
    anthropic = [
        {"type": "message_start", "message": message},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 5}},
        {"type": "message_stop"},
    ]
    whole_message = {**message, "content": [{"type": "text", "text": text}], "stop_reason": "end_turn"}
    return {
        "openai-sse": "".join(f"data: {json.dumps(c)}\n\n" for c in openai_chunks) + "data: [DONE]\n\n",
        "gemini-sse": f"data: {json.dumps(gemini)}\r\n\r\n",
        "gemini-json": json.dumps([gemini], indent=2),
        "chunks-jsonl": "\n".join(json.dumps(c) for c in openai_chunks) + "\n",
        "chunks-json": json.dumps(openai_chunks),
        "ollama-ndjson": "\n".join(json.dumps(c) for c in ollama) + "\n",
        "openai-response": json.dumps(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": "m",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            }
        ),
        "gemini-response": json.dumps(gemini),
        "ollama-response": json.dumps({**ollama[0], "done": True, "done_reason": "stop"}),
        "anthropic-sse": _sse(anthropic),
        "anthropic-response": json.dumps(whole_message),
    }


def unscrubbed_cassette_data(table: list[Shape]) -> dict:
    """A cassette as a careless hand (or another tool) would write it: every shape in place."""
    headers = {}
    for name, value in (s.header for s in table):
        headers.setdefault(name.lower(), []).append(value)
    return {
        "version": 1,
        "interactions": [
            {
                "request": {
                    "method": "POST",
                    "uri": planted_url(table),
                    "body": json.dumps(request_body(table)),
                    "headers": headers,
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"content-type": ["text/event-stream"], **headers},
                    "body": {"string": openai_sse(table)},
                    "quirktape": {"dialect": "openai", "stream": True},
                },
            }
        ],
        "metadata": {"title": "planted", "source": planted_url(table, "/issues/1"), "notes": [content(table)]},
    }


def recording_inputs(table: list[Shape]) -> dict[str, str]:
    """Each recording format, holding every shape: URL, request headers and body, response headers and body."""
    data = unscrubbed_cassette_data(table)
    exchange = data["interactions"][0]
    request, response = exchange["request"], exchange["response"]
    flat = [{"name": name, "value": value} for name, values in request["headers"].items() for value in values]
    go_request = {"url": request["uri"], "method": "POST", "headers": request["headers"], "body": request["body"]}
    go_response = {"body": response["body"]["string"], "headers": response["headers"], "code": 200}
    go = {"version": 2, "interactions": [{"request": go_request, "response": {**go_response, "status": "200 OK"}}]}
    har_request = {"method": "POST", "url": request["uri"], "headers": flat, "postData": {"text": request["body"]}}
    har_response = {"status": 200, "statusText": "OK", "headers": flat}
    har_response["content"] = {"text": response["body"]["string"]}
    har = {"log": {"version": "1.2", "entries": [{"request": har_request, "response": har_response}]}}
    chunks = [{"__type__": "ChatCompletionChunk", "__data__": openai_chunk(content(table))}]
    llama_headers = {k: v[0] for k, v in request["headers"].items()}
    llama = {
        "request": {"method": "POST", "url": request["uri"], "headers": llama_headers, "body": request_body(table)},
        "response": {"body": chunks, "is_streaming": True},
    }
    vcr_response = {k: v for k, v in response.items() if k != "quirktape"}
    vcr = {"version": 1, "interactions": [{"request": request, "response": vcr_response}]}
    report = f"{MARKER}\n# planted\n\n{content(table)}\n\n{embed(parse_cassette(data))}\n"
    curl = "\n".join(
        ["*   Trying 127.0.0.1:8000...", f"> POST /v1/chat/completions?key={_query(table)} HTTP/1.1"]
        + [f"> {name}: {value}" for name, value in (s.header for s in table)]
        + [">", "< HTTP/1.1 200 OK", "< content-type: text/event-stream"]
        + [f"< {name}: {value}" for name, value in (s.header for s in table)]
        + ["<", openai_sse(table)]
    )  # fmt: skip
    return {
        "vcr": yaml.safe_dump(vcr, sort_keys=False),
        "go-vcr": json.dumps(go),
        "llama-stack": json.dumps(llama),
        "har": json.dumps(har),
        "markdown": report,
        "quirktape": dumps(parse_cassette(data)),
        "curl -v log": curl,
    }


IMPORT_FORMATS = [f for f in FORMATS if not f.startswith("responses")] + ["markdown", "quirktape", "curl -v log"]


@pytest.mark.parametrize("fmt", IMPORT_FORMATS)
def test_import_of_every_format_writes_and_prints_no_planted_shape(tmp_path, monkeypatch, capsysbinary, fmt):
    table = shapes()
    inputs = {**body_inputs(content(table)), **recording_inputs(table)}
    assert fmt in inputs, f"no sample for the format {fmt}"
    source = tmp_path / "input.txt"
    source.write_text(inputs[fmt])
    out = tmp_path / "c.yaml"
    args = ["--format", "openai-sse" if fmt == "curl -v log" else fmt]
    args += ["--source", planted_url(table, "/issue")] if fmt not in ("markdown", "quirktape") else []
    code, stdout, stderr = run_cli(monkeypatch, capsysbinary, "import", source, "-o", out, *args)
    assert code == 0, stderr
    assert leaked(out.read_text() + stdout + stderr, table) == []
    load(out)  # still a valid cassette


@pytest.mark.parametrize("packed", [False, True], ids=["inline", "gzip+base64"])
def test_report_writes_and_prints_no_planted_shape(tmp_path, monkeypatch, capsysbinary, packed):
    if packed:
        monkeypatch.setattr(markdown, "INLINE_LIMIT", 100)
    table = shapes()
    path = tmp_path / "planted.yaml"
    path.write_text(dumps(parse_cassette(unscrubbed_cassette_data(table))))
    code, stdout, stderr = run_cli(monkeypatch, capsysbinary, "report", path, "-o", tmp_path / "bug.md")
    assert code == 0, stderr
    text = (tmp_path / "bug.md").read_text()
    embedded = dumps(cassette_from_report(text))
    assert leaked(text + stdout + stderr, table) == [] and leaked(embedded, table) == []
    assert ("quirktape-gzip-base64" in text) is packed
    code, stdout, stderr = run_cli(monkeypatch, capsysbinary, "report", path)
    assert code == 0 and leaked(stdout + stderr, table) == [] and MARKER in stdout


# --- known secrets: redacted where credentials travel, refused anywhere else -------------------------


def echoing_upstream(echo: str, split: bool = False) -> Starlette:
    """An upstream that says the credential back: in one event, or token by token (``split``)."""
    said = [echo[: len(echo) // 2], echo[len(echo) // 2 :]] if split else [echo]

    async def answer(request: Request):
        async def pieces():
            yield f"data: {json.dumps(openai_chunk('the key you sent: '))}\n\n".encode()
            for part in said:
                yield f"data: {json.dumps(openai_chunk(part))}\n\n".encode()
            yield f"data: {json.dumps(openai_chunk('', 'stop'))}\n\ndata: [DONE]\n\n".encode()

        return StreamingResponse(pieces(), media_type="text/event-stream")

    return Starlette(routes=[Route("/{path:path}", answer, methods=["POST"])])


def anthropic_request(tmp_path: Path) -> Path:
    path = tmp_path / "req.json"
    path.write_text(json.dumps({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}))
    return path


def test_a_gemini_key_in_the_base_url_echoed_by_the_upstream_refuses_the_write(tmp_path, monkeypatch, capsysbinary):
    key = "AIza" + token(35)
    out = tmp_path / "g.yaml"
    with running(echoing_upstream(key)) as url:
        code, stdout, stderr = run_cli(
            monkeypatch, capsysbinary, "record", "--upstream", "openai", "--base-url", f"{url}/v1?key={key}",
            "--model", "m", "--request", anthropic_request(tmp_path), "--stream", "-o", out,
        )  # fmt: skip
    assert code == 2 and "refusing to write: credential #1" in stderr and stderr.count("\n") == 1
    assert key not in stdout + stderr and not out.exists()


def test_record_refuses_a_base_url_with_a_password_without_printing_it(tmp_path, monkeypatch, capsysbinary):
    password = "hunter2-" + token(12)
    code, stdout, stderr = run_cli(
        monkeypatch, capsysbinary, "record", "--upstream", "openai", "--base-url",
        f"http://alice:{password}@127.0.0.1:9/v1", "--model", "m", "--request", anthropic_request(tmp_path),
        "-o", tmp_path / "c.yaml",
    )  # fmt: skip
    assert code == 2 and stderr.count("\n") == 1 and "Basic auth" in stderr and "http://REDACTED@127.0.0.1:9" in stderr
    assert password not in stdout + stderr and not (tmp_path / "c.yaml").exists()


@pytest.mark.parametrize("command", ["proxy", "gateway"])
def test_proxy_and_gateway_refuse_an_upstream_with_a_password(tmp_path, monkeypatch, capsysbinary, command):
    password = "hunter2-" + token(12)
    upstream = f"http://alice:{password}@127.0.0.1:9/v1"
    code, stdout, stderr = run_cli(
        monkeypatch, capsysbinary, command, "--upstream", upstream, "-o", tmp_path, "--port", "0"
    )
    assert code == 2 and stderr.count("\n") == 1 and "Basic auth" in stderr and password not in stdout + stderr


def test_record_both_does_not_carry_the_streamed_twins_cookie(tmp_path, monkeypatch, capsysbinary):
    seen: list[dict] = []
    table = shapes()
    with running(planted_upstream(table, seen)) as url:
        code, _, stderr = run_cli(
            monkeypatch, capsysbinary, "record", "--upstream", "openai", "--base-url", f"{url}/v1", "--model", "m",
            "--request", anthropic_request(tmp_path), "-o", tmp_path / "c.yaml",
        )  # fmt: skip
    assert code == 0, stderr
    assert len(seen) == 2 and not [h for h in seen if "cookie" in h]


def test_the_proxy_never_carries_one_exchanges_cookie_to_the_next(tmp_path):
    seen: list[dict] = []
    with running(planted_upstream(shapes(), seen)) as upstream, running(proxy_app(upstream, tmp_path)) as proxy:
        for _ in range(2):
            httpx.post(proxy + "/v1/chat/completions", json={"model": "m", "stream": True})
    assert len(seen) == 2 and "cookie" not in seen[1]


@pytest.mark.parametrize("split", [False, True], ids=["whole", "token-by-token"])
def test_a_proxied_credential_echoed_by_the_upstream_is_not_recorded_and_the_client_gets_everything(tmp_path, split):
    secret = token(30)  # under a header name no list holds, in a shape no rule knows
    lines: list[str] = []
    with (
        running(echoing_upstream(secret, split)) as upstream,
        running(proxy_app(upstream, tmp_path, log=lines.append)) as proxy,
    ):
        reply = httpx.post(proxy + "/v1/chat/completions", json={"stream": True}, headers={"X-Custom-Token": secret})
    assert reply.status_code == 200 and reply.text.endswith("data: [DONE]\n\n")
    assert (secret in reply.text) != split and secret[:15] in reply.text and secret[15:] in reply.text
    assert not list(tmp_path.glob("*.yaml"))
    assert len(lines) == 1 and "refusing to write: credential #1" in lines[0] and secret not in lines[0]


def _said(key: str, half: int) -> dict[str, tuple[str, str]]:
    """A credential that only the dialect's parser sees whole: (dialect, body) by how it hides (cut at ``half``)."""
    sse = "".join(f"data: {json.dumps(c)}\n\n" for c in (openai_chunk(key[:half]), openai_chunk(key[half:])))

    def openai_delta(delta: dict) -> str:
        return f"data: {json.dumps({'choices': [{'index': 0, 'delta': delta}]})}\n\n"

    call = {"index": 0, "id": "c1", "type": "function", "function": {"name": "f", "arguments": ""}}
    args = [json.dumps({"k": key})[: 7 + half], json.dumps({"k": key})[7 + half :]]
    escaped = "".join(f"\\u{ord(ch):04x}" for ch in key)
    call_part = {"functionCall": {"name": "f", "args": {"k": "KEY"}}}
    gemini_args = json.dumps({"candidates": [{"content": {"parts": [call_part]}}]}).replace("KEY", escaped)
    return {
        "text": ("openai", sse + "data: [DONE]\n\n"),
        "reasoning": (
            "openai",
            openai_delta({"reasoning_content": key[:half]}) + openai_delta({"reasoning_content": key[half:]}),
        ),
        "tool arguments": (
            "openai",
            openai_delta({"tool_calls": [call]})
            + "".join(openai_delta({"tool_calls": [{"index": 0, "function": {"arguments": a}}]}) for a in args),
        ),
        "escaped text, whole response": (
            "openai",
            json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": "KEY"}}]}).replace(
                "KEY", escaped
            ),
        ),
        "escaped Gemini arguments": ("gemini", f"data: {gemini_args}\n\n"),
    }


def _cassette_saying(dialect: str, body: str) -> Cassette:
    kind = "text/event-stream" if "data:" in body else "application/json"
    return parse_cassette(
        {
            "interactions": [
                {
                    "request": {"method": "POST", "uri": "http://127.0.0.1:9/v1/chat/completions", "body": ""},
                    "response": {
                        "status": {"code": 200, "message": "OK"},
                        "headers": {"content-type": [kind]},
                        "body": {"string": body},
                        "quirktape": {"dialect": dialect},
                    },
                }
            ]
        }
    )


@pytest.mark.parametrize("how", list(_said("k" * 20, 10)))
def test_a_known_credential_the_upstream_said_in_pieces_refuses_the_write(how):
    key = token(32)  # a shape no rule knows: only knowing it finds it
    cassette = _cassette_saying(*_said(key, 16)[how])
    assert key not in cassette.interactions[0].response.body.string
    with pytest.raises(CassetteError, match="credential #2 would appear .*in what the upstream said") as caught:
        safe_dumps(cassette, ["another-" + token(20), key])
    assert key not in str(caught.value)
    assert safe_dumps(cassette, ["another-" + token(20)])  # what is not a known credential is written


@pytest.mark.parametrize("how", list(_said("k" * 20, 10)))
def test_a_credential_shape_said_in_pieces_is_refused_unless_allowed(how, tmp_path):
    key = "sk-proj-" + token(32)
    cassette = _cassette_saying(*_said(key, 6)[how])  # no piece alone looks like a key
    with pytest.raises(CassetteError, match=r"looks like a credential \(OpenAI-style key.*--allow-value") as caught:
        save(cassette, tmp_path / "c.yaml")
    assert key not in str(caught.value) and not (tmp_path / "c.yaml").exists()
    save(cassette, tmp_path / "c.yaml", allow=[key])
    assert load(tmp_path / "c.yaml").interactions[0].response.raw == cassette.interactions[0].response.raw


@pytest.mark.parametrize("at", [0, 40, 104, 112])
def test_a_credential_said_across_the_scan_windows_is_found(monkeypatch, tmp_path, at):
    """What the upstream said is scanned in overlapping windows (a long stream is never held whole): a
    credential that crosses from one window into the next is whole in their overlap."""
    import recorder.tape.cassette as cassette_module

    monkeypatch.setattr(cassette_module, "_SAID_SLICE", 40)  # the body is fed 40 bytes at a time
    monkeypatch.setattr(cassette_module, "_WINDOW", 100)
    monkeypatch.setattr(cassette_module, "_OVERLAP", 60)
    key = "sk-proj-" + token(32)
    words = ["wwwwww "] * 40
    pieces = [*words[: at // 8], key[:6], key[6:20], key[20:], *words[at // 8 :]]
    body = "".join(f"data: {json.dumps(openai_chunk(p))}\n\n" for p in pieces) + "data: [DONE]\n\n"
    with pytest.raises(CassetteError, match="looks like a credential"):
        save(_cassette_saying("openai", body), tmp_path / "c.yaml")


def test_printed_messages_are_scrubbed(tmp_path, monkeypatch, capsysbinary):
    secret = "sk-proj-" + token(40)
    code, stdout, stderr = run_cli(monkeypatch, capsysbinary, "replay", tmp_path / f"{secret}.yaml")
    assert code == 2 and "no such file" in stderr and secret not in stdout + stderr and REDACTED in stderr


def test_allow_value_keeps_a_look_alike_on_import(tmp_path, monkeypatch, capsysbinary):
    look_alike = "sk-proj-DOCSEXAMPLE0123456789abcdefgh"
    source = tmp_path / "s.sse"
    source.write_text(body_inputs(f"use {look_alike} in the docs")["openai-sse"])
    for allow, kept in (((), False), (("--allow-value", look_alike), True)):
        code, _, stderr = run_cli(monkeypatch, capsysbinary, "import", source, "-o", tmp_path / "c.yaml", *allow)
        assert code == 0, stderr
        assert (look_alike in (tmp_path / "c.yaml").read_text()) is kept


def _split_stream(table: list[Shape], filler: int) -> str:
    """Every free-text shape twice: whole in one delta, and cut in the middle of its secret across two
    deltas; after ``filler`` plain deltas, so that some land on each side of a printed batch's edge."""
    texts = [" plain"] * filler
    for shape in table:
        if shape.text:
            cut = shape.text.index(shape.secret) + len(shape.secret) // 2
            texts += [f" {shape.text} |", f" {shape.text[:cut]}", f"{shape.text[cut:]} |"]
    chunks = [openai_chunk(t) for t in texts] + [openai_chunk("", "stop")]
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"


@pytest.mark.parametrize("rechunk", ["recorded", "bytes"])
@pytest.mark.parametrize("fmt", ["sse", "jsonl", "message"])
def test_replay_prints_no_planted_shape_split_across_events(tmp_path, monkeypatch, capsysbinary, fmt, rechunk):
    table = shapes()
    source, path = tmp_path / "s.sse", tmp_path / "planted.yaml"
    source.write_text(_split_stream(table, 4090 if rechunk == "recorded" else 0))
    path.write_text(dumps(import_file(source, "openai-sse")))  # written unscrubbed: a hostile cassette
    assert all(shape.secret in path.read_text() for shape in table if shape.text)
    code, stdout, stderr = run_cli(monkeypatch, capsysbinary, "replay", path, "--format", fmt, "--rechunk", rechunk)
    assert code == 0, stderr
    assert leaked(stdout + stderr, table) == [] and REDACTED in stdout
    if fmt != "message":
        assert stdout.count('"text_delta"') >= 3 * sum(1 for shape in table if shape.text)


def test_the_pre_filters_skip_no_rule_that_finds_something(monkeypatch):
    import recorder.tape.redact as redact

    table = shapes()
    free = [shape.text for shape in table if shape.text]
    texts = [content(table), json.dumps(content(table)), openai_sse(table), content(table).upper(), *free]
    texts += ["\n".join(free), "\n".join(f"{name}: {value}" for shape in table for name, value in [shape.header])]
    guarded = [findings(text) for text in texts]
    monkeypatch.setattr(redact, "_rules_for", lambda text: redact._RULES)
    assert guarded == [findings(text) for text in texts] and all(guarded)
