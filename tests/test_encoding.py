"""Content encoding: a cassette whose body is stored compressed (vcrpy keeps ``content-encoding: gzip``
bodies as ``!!binary`` bytes) is read decoded by every reader: ``load``, ``check``, the pytest plugin,
``ReplayTransport`` and ``serve``; a body that does not decode is a one-line error, never an empty stream."""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib
from pathlib import Path

import httpx
import pytest
import yaml
from helpers import CORPUS, chunk, run_cli, sse

from recorder.replay import ReplayTransport
from recorder.replay.asgi import running
from recorder.replay.serve import library, serve_app
from recorder.tape import CassetteError, load, save

httpx2 = pytest.importorskip("httpx2")
openai = pytest.importorskip("openai")

WORDS = ["Pelicans ", "glide ", "über ", "the waves 🌊."]
TEXT = "".join(WORDS)
SSE = sse(*[chunk({"content": w}) for w in WORDS], chunk({}, "stop"))
REQUEST = {"model": "gpt-test", "messages": [{"role": "user", "content": "Say something."}], "stream": True}
BASE = "https://api.openai.com/v1"


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


# (Content-Encoding header, how the body was compressed): deflate is sent with and without its zlib wrapper.
ENCODINGS = [
    pytest.param("gzip", lambda b: gzip.compress(b, mtime=0), id="gzip"),
    pytest.param("deflate", zlib.compress, id="deflate"),
    pytest.param("deflate", raw_deflate, id="raw-deflate"),
]


def vcr_cassette(tmp_path: Path, encoding: str, body: bytes, *, tape: dict | None = None, name="c.yaml") -> Path:
    """A cassette as vcrpy records one: the compressed bytes as ``!!binary``, their headers beside them.

    ``metadata.expect`` is written from the words put on the wire, so ``check`` can only pass on the
    decoded body.
    """
    response = {
        "body": {"string": body},
        "headers": {
            "Content-Type": ["text/event-stream"],
            "Content-Encoding": [encoding],
            "Content-Length": [str(len(body))],
        },
        "status": {"code": 200, "message": "OK"},
    }
    if tape is not None:
        response["quirktape"] = tape
    data = {
        "interactions": [
            {
                "request": {
                    "body": json.dumps(REQUEST),
                    "headers": {"content-type": ["application/json"]},
                    "method": "POST",
                    "uri": f"{BASE}/chat/completions",
                },
                "response": response,
            }
        ],
        "version": 1,
        "metadata": {"expect": {"content": [{"type": "text", "text": TEXT}], "stop_reason": "end_turn"}},
    }
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=False), encoding="utf-8")
    assert "!!binary" in path.read_text()
    return path


def streamed_text(client) -> str:
    stream = client.chat.completions.create(model=REQUEST["model"], messages=REQUEST["messages"], stream=True)
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


# load: one rule for everyone downstream.


@pytest.mark.parametrize(("encoding", "compress"), ENCODINGS)
def test_load_decodes_the_body_and_drops_the_headers_that_described_it(tmp_path, encoding, compress):
    response = load(vcr_cassette(tmp_path, encoding, compress(SSE))).interactions[0].response
    assert response.raw == SSE
    assert {k.lower() for k in response.headers} == {"content-type"}
    assert response.is_stream


def test_a_saved_cassette_keeps_the_decoded_body_and_stock_vcrpy_agrees(tmp_path):
    vcr = pytest.importorskip("vcr")
    path = vcr_cassette(tmp_path, "gzip", gzip.compress(SSE))
    with vcr.VCR(record_mode="none").use_cassette(str(path)):  # vcrpy replays the gzip bytes; httpx decodes them
        reply = httpx.post(f"{BASE}/chat/completions", json=REQUEST)
    assert reply.content == load(path).interactions[0].response.raw == SSE
    save(load(path), tmp_path / "saved.yaml")
    text = (tmp_path / "saved.yaml").read_text()
    assert "!!binary" not in text and "ncoding" not in text
    assert load(tmp_path / "saved.yaml").interactions[0].response.raw == SSE


def test_offsets_count_decoded_bytes(tmp_path):
    first = SSE.index(b"\n\n") + 2
    path = vcr_cassette(tmp_path, "gzip", gzip.compress(SSE), tape={"offsets": [0, first]})
    with httpx.Client(transport=ReplayTransport(path)) as client:
        with client.stream("POST", f"{BASE}/chat/completions", json=REQUEST) as reply:
            assert list(reply.iter_raw()) == [SSE[:first], SSE[first:]]
    beyond = vcr_cassette(tmp_path, "gzip", gzip.compress(SSE), tape={"offsets": [0, len(SSE)]}, name="d.yaml")
    with pytest.raises(CassetteError, match="offset lies beyond"):
        load(beyond)


def test_a_cut_connection_may_end_inside_the_compressed_stream(tmp_path):
    packed = gzip.compress(SSE)
    cut = packed[: len(packed) * 2 // 3]
    reset = load(vcr_cassette(tmp_path, "gzip", cut, tape={"ending": "reset"})).interactions[0].response
    assert reset.raw and SSE.startswith(reset.raw) and reset.raw != SSE
    with pytest.raises(CassetteError, match="stops inside its gzip data"):
        load(vcr_cassette(tmp_path, "gzip", cut, name="done.yaml"))


# check and replay on the command line, and the pytest plugin.


@pytest.mark.parametrize(("encoding", "compress"), ENCODINGS)
def test_check_and_replay_read_the_decoded_stream(tmp_path, monkeypatch, capsysbinary, encoding, compress):
    path = vcr_cassette(tmp_path, encoding, compress(SSE))
    code, out, err = run_cli(monkeypatch, capsysbinary, "check", "--json", path)
    assert (code, err) == (0, "")
    checks = json.loads(out)["cassettes"][0]["checks"]
    assert {c["invariant"]: c["status"] for c in checks}["expect"] == "ok"
    assert [c for c in checks if c["status"] == "FAIL"] == []
    code, out, _ = run_cli(monkeypatch, capsysbinary, "replay", "--format", "message", path)
    message = json.loads(out)
    assert code == 0
    assert [b["text"] for b in message["content"]] == [TEXT] and message["stop_reason"] == "end_turn"


@pytest.mark.parametrize(
    ("encoding", "body", "fragment"),
    [
        pytest.param("gzip", b"\x1f\x8b\x08\x00" + bytes(range(40)), "not valid gzip data", id="corrupt-gzip"),
        pytest.param("gzip", SSE, "not valid gzip data", id="plain-under-gzip"),
        pytest.param("deflate", b"\xff" * 30, "not valid deflate data", id="corrupt-deflate"),
        pytest.param("gzip", gzip.compress(SSE)[:-12], "stops inside its gzip data", id="truncated"),
        pytest.param("gzip", gzip.compress(SSE) + b"junk", "not valid gzip data", id="trailing-junk"),
        pytest.param("br", SSE, "content-encoding 'br' cannot be decoded", id="unknown-encoding"),
    ],
)
def test_a_body_that_does_not_decode_is_a_one_line_error(tmp_path, monkeypatch, capsysbinary, encoding, body, fragment):
    path = vcr_cassette(tmp_path, encoding, body)
    code, out, err = run_cli(monkeypatch, capsysbinary, "check", path)
    said = [line for line in (out + err).splitlines() if fragment in line]
    assert code == 2 and len(said) == 1 and str(path) in said[0]
    code, out, err = run_cli(monkeypatch, capsysbinary, "replay", path)
    assert (code, out) == (2, "")
    assert err.startswith(f"quirktape: error: {path}: ") and fragment in err and err.count("\n") == 1


def test_the_pytest_plugin_checks_the_decoded_body(pytester, tmp_path):
    vcr_cassette(pytester.path, "gzip", gzip.compress(SSE), name="good.yaml")
    vcr_cassette(pytester.path, "gzip", SSE, name="bad.yaml")
    result = pytester.runpytest(f"--quirktape-dir={pytester.path}", "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines_random(["*good.yaml::oracle PASSED*", "*bad.yaml*not valid gzip data*"])


# What a client receives: the decoded bytes, without the headers of the encoded ones.


@pytest.mark.parametrize("lib", [httpx, httpx2], ids=["httpx", "httpx2"])
@pytest.mark.parametrize(("encoding", "compress"), ENCODINGS)
def test_the_openai_sdk_streams_the_text_over_replay_transport(tmp_path, lib, encoding, compress):
    transport = ReplayTransport(vcr_cassette(tmp_path, encoding, compress(SSE)))
    client = openai.OpenAI(api_key="placeholder", base_url=BASE, http_client=lib.Client(transport=transport))
    assert streamed_text(client) == TEXT


@pytest.mark.parametrize(("encoding", "compress"), ENCODINGS)
def test_the_async_openai_sdk_streams_the_text_over_replay_transport(tmp_path, encoding, compress):
    transport = ReplayTransport(vcr_cassette(tmp_path, encoding, compress(SSE)))

    async def run() -> str:
        http_client = httpx.AsyncClient(transport=transport)
        client = openai.AsyncOpenAI(api_key="placeholder", base_url=BASE, http_client=http_client, max_retries=0)
        stream = await client.chat.completions.create(model=REQUEST["model"], messages=REQUEST["messages"], stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream])
        await client.close()
        return text

    assert asyncio.run(run()) == TEXT


@pytest.mark.parametrize(("encoding", "compress"), ENCODINGS)
def test_serve_sends_the_decoded_stream_and_the_openai_sdk_reads_it(tmp_path, encoding, compress):
    path = vcr_cassette(tmp_path, encoding, compress(SSE))
    with running(serve_app(library([str(path)]))) as url:
        client = openai.OpenAI(api_key="placeholder", base_url=url + "/v1", max_retries=0)
        assert streamed_text(client) == TEXT
        with httpx.stream("POST", url + "/v1/chat/completions", json=REQUEST) as reply:
            body = b"".join(reply.iter_raw())
            headers = reply.headers
    assert body == SSE
    assert "content-encoding" not in headers and headers["content-type"] == "text/event-stream"


# The real thing: simonw/llm-gemini's cassettes (vcrpy, gzip, Gemini's streamed JSON array).

LLM_GEMINI = sorted((CORPUS / "raw" / "simonw__llm-gemini").glob("*.yaml"))
needs_corpus = pytest.mark.skipif(not LLM_GEMINI, reason=f"the shared corpus is absent ({CORPUS} not found)")


def wire_answers(path: Path) -> list[tuple[str, list[str]]]:
    """Per interaction, read straight from the file: (the answer's text, the functions called)."""
    answers = []
    for interaction in yaml.safe_load(path.read_text())["interactions"]:
        chunks = json.loads(gzip.decompress(interaction["response"]["body"]["string"]))
        parts = [
            p for c in chunks for cand in c.get("candidates", []) for p in cand.get("content", {}).get("parts", [])
        ]
        text = "".join(p["text"] for p in parts if "text" in p and not p.get("thought"))
        answers.append((text, [p["functionCall"]["name"] for p in parts if "functionCall" in p]))
    return answers


def declared_gemini(path: Path, tmp_path: Path) -> Path:
    """The corpus file as it is (compressed body, encoding headers), with its dialect declared, in tmp_path."""
    data = yaml.safe_load(path.read_text())
    for interaction in data["interactions"]:
        interaction["response"]["quirktape"] = {"dialect": "gemini", "stream": True}
    copy = tmp_path / path.name
    copy.write_text(yaml.safe_dump(data), encoding="utf-8")
    return copy


@needs_corpus
@pytest.mark.parametrize("path", LLM_GEMINI, ids=lambda p: p.name)
def test_llm_gemini_cassettes_are_read_decoded(path):
    raw = yaml.safe_load(path.read_text())["interactions"]
    assert all(i["response"]["headers"]["Content-Encoding"] == ["gzip"] for i in raw)
    cassette = load(path)
    for interaction, original in zip(cassette.interactions, raw):
        assert interaction.response.raw == gzip.decompress(original["response"]["body"]["string"])


@needs_corpus
@pytest.mark.parametrize("path", LLM_GEMINI, ids=lambda p: p.name)
def test_llm_gemini_cassettes_check_green_on_what_gemini_said(path, tmp_path, monkeypatch, capsysbinary):
    copy = declared_gemini(path, tmp_path)
    code, out, err = run_cli(monkeypatch, capsysbinary, "check", "--json", copy)
    assert (code, err) == (0, "")
    statuses = {c["invariant"]: c["status"] for c in json.loads(out)["cassettes"][0]["checks"]}
    assert statuses["conservation"] == statuses["rechunk"] == "ok"
    for index, (text, calls) in enumerate(wire_answers(path)):
        code, out, _ = run_cli(monkeypatch, capsysbinary, "replay", "--format", "message", "--interaction", index, copy)
        content = json.loads(out)["content"]
        assert code == 0
        assert "".join(b["text"] for b in content if b["type"] == "text") == text
        assert [b["name"] for b in content if b["type"] == "tool_use"] == calls
