"""The official google-genai SDK reads our Gemini cassettes' bytes into the same text,
thoughts and function calls as our translator: the cassettes are faithful Gemini wire data,
and our reading of them agrees with Google's own."""

import json

import pytest
from helpers import cassette_paths

from recorder.replay import rechunk, replay
from recorder.tape import load
from translator.ir import ERROR, REASONING, TEXT, TOOL

genai = pytest.importorskip("google.genai", reason="google-genai is not installed")
httpx2 = pytest.importorskip("httpx2")
types = pytest.importorskip("google.genai.types")


def gemini_streams():
    for path in cassette_paths():
        cassette = load(path)
        for index, interaction in enumerate(cassette.interactions):
            response = interaction.response
            if response.quirktape.dialect == "gemini" and response.is_stream and response.status.code == 200:
                yield pytest.param(path, index, id=f"{path.parent.name}/{path.name}#{index}")


def sdk_parts(body: bytes, pieces: list[bytes]) -> list:
    def handler(request):
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=iter(pieces))

    client = genai.Client(
        api_key="placeholder",
        http_options=types.HttpOptions(
            base_url="http://127.0.0.1:9", httpx_client=httpx2.Client(transport=httpx2.MockTransport(handler))
        ),
    )
    parts = []
    for chunk in client.models.generate_content_stream(model="m", contents="hi"):
        for candidate in (chunk.candidates or [])[:1]:
            if candidate.content and candidate.content.parts:
                parts.extend(candidate.content.parts)
    return parts


STREAMS = list(gemini_streams())


@pytest.mark.skipif(not STREAMS, reason="no Gemini cassettes in the library")
@pytest.mark.parametrize(("path", "index"), STREAMS)
def test_google_sdk_sees_what_we_see(path, index):
    cassette = load(path)
    response = cassette.interactions[index].response
    body = response.raw
    if body.lstrip().startswith(b"["):
        pytest.skip("google-genai only reads alt=sse streams; the JSON-array framing is checked by our own tests")
    ir = replay(cassette, index).ir or []
    try:
        parts = sdk_parts(body, rechunk(body, "recorded", response.quirktape.offsets))
    except genai.errors.APIError as exc:  # an in-band error: Google's SDK raises, we end in an error event
        assert any(f[0] == ERROR for f in ir), exc
        return
    assert "".join(p.text or "" for p in parts if not p.thought and p.text) == "".join(f[1] for f in ir if f[0] == TEXT)
    assert "".join(p.text or "" for p in parts if p.thought and p.text) == "".join(
        f[1] for f in ir if f[0] == REASONING
    )
    sdk_calls = [p.function_call for p in parts if p.function_call]
    if any(c.partial_args or c.will_continue for c in sdk_calls):
        sdk_calls = [c for c in sdk_calls if c.name]  # Vertex streamed arguments: the SDK leaves them in pieces
        assert [c.name for c in sdk_calls] == [f[3] for f in ir if f[0] == TOOL and f[3]]
        return
    theirs = [(c.name, json.loads(json.dumps(c.args or {}))) for c in sdk_calls]
    ours = [(f[3], f[5]) for f in ir if f[0] == TOOL]
    assert theirs == ours
