"""``@pytest.mark.quirktape`` and ``quirktape_patch``: every httpx/httpx2 client in a test answered from a
cassette (the official SDKs built with no client of ours), chunk-faithful, upstream or Anthropic side;
unused interactions; the record modes against a live upstream on loopback."""

from __future__ import annotations

import json

import httpx
import pytest
import yaml
from helpers import CASSETTES
from plugin_support import GEMINI, RESET, VLLM, copy_cassette

from recorder.replay.asgi import running
from recorder.replay.serve import serve_app
from recorder.tape import load

pytest.importorskip("openai")
pytest.importorskip("anthropic")

VLLM_REQUEST = json.loads(load(CASSETTES / VLLM).interactions[0].request.body)
OPENAI_KW = {k: VLLM_REQUEST[k] for k in ("model", "messages", "tools") if k in VLLM_REQUEST}
# What the vLLM cassette's stream says, read off its body: every content delta, in order.
VLLM_TEXT = "".join(
    choice["delta"].get("content") or ""
    for line in load(CASSETTES / VLLM).interactions[0].response.raw.decode().splitlines()
    if line.startswith("data: {")
    for choice in json.loads(line[6:])["choices"]
)


def test_the_openai_sdk_sync_and_async_is_answered_without_a_client_of_ours(pytester):
    copy_cassette(pytester, VLLM)
    pytester.makepyfile(
        test_qt_patch_openai=f"""
        import asyncio
        import openai
        import pytest

        KW = {OPENAI_KW!r}
        TEXT = {VLLM_TEXT!r}

        @pytest.mark.quirktape("cassettes/report-empty-tool-calls-text-lost.yaml")
        def test_sync(quirktape):
            client = openai.OpenAI(api_key="sk-placeholder")
            chunks = list(client.chat.completions.create(stream=True, **KW))
            assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == TEXT
            assert [call[2] for call in quirktape.transport.calls] == [0]

        @pytest.mark.quirktape("cassettes/report-empty-tool-calls-text-lost.yaml")
        def test_async(quirktape):
            async def go():
                client = openai.AsyncOpenAI(api_key="sk-placeholder")
                stream = await client.chat.completions.create(stream=True, **KW)
                return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
            assert asyncio.run(go()) == TEXT

        @pytest.mark.quirktape("cassettes/report-empty-tool-calls-text-lost.yaml")
        def test_non_streaming_twin():
            reply = openai.OpenAI(api_key="sk-placeholder").chat.completions.create(stream=False, **KW)
            assert reply.choices[0].message.content
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)


def test_reads_and_the_ending_are_the_recorded_ones(pytester):
    copy_cassette(pytester, VLLM)
    copy_cassette(pytester, RESET)
    vllm = load(CASSETTES / VLLM).interactions[0].response
    reset = json.loads(load(CASSETTES / RESET).interactions[0].request.body)
    offsets = [*vllm.quirktape.offsets, len(vllm.raw)]
    sizes = [b - a for a, b in zip(offsets, offsets[1:])]
    pytester.makepyfile(
        test_qt_patch_reads=f"""
        import httpx
        import pytest

        @pytest.mark.quirktape("cassettes/report-empty-tool-calls-text-lost.yaml")
        def test_reads():
            with httpx.Client() as client:
                with client.stream("POST", "https://api.example.com/v1/chat/completions", json={VLLM_REQUEST!r}) as r:
                    assert [len(piece) for piece in r.iter_raw()] == {sizes!r}

        @pytest.mark.quirktape("cassettes/err-06-connection-reset-mid-stream.yaml")
        def test_reset():
            with httpx.Client() as client:
                with client.stream("POST", "https://api.example.com/v1/chat/completions", json={reset!r}) as r:
                    with pytest.raises(httpx.RemoteProtocolError):
                        r.read()
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_the_anthropic_side_answers_the_anthropic_sdk(pytester):
    copy_cassette(pytester, VLLM)
    request = load(CASSETTES / VLLM).metadata.request
    pytester.makepyfile(
        test_qt_patch_anthropic=f"""
        import anthropic
        import pytest

        REQUEST = {request!r}

        @pytest.mark.quirktape("cassettes/report-empty-tool-calls-text-lost.yaml", side="anthropic")
        def test_claude_side(quirktape):
            client = anthropic.Anthropic(api_key="sk-ant-placeholder")
            kw = {{k: REQUEST[k] for k in ("model", "max_tokens", "messages", "tools") if k in REQUEST}}
            with client.messages.stream(**kw) as stream:
                message = stream.get_final_message()
            text = "".join(b.text for b in message.content if b.type == "text")
            assert text == {VLLM_TEXT!r}
            assert quirktape.transport.received[0]["messages"] == REQUEST["messages"]
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)


def test_google_genai_on_v1_matches_a_cassette_recorded_on_v1beta(pytester):
    pytest.importorskip("google.genai")
    copy_cassette(pytester, GEMINI)
    interaction = load(CASSETTES / GEMINI).interactions[0]
    assert "/v1beta/" in interaction.request.uri
    contents = json.loads(interaction.request.body)["contents"]
    pytester.makepyfile(
        test_qt_patch_genai=f"""
        import pytest
        from google import genai
        from google.genai import types

        CONTENTS = {contents!r}

        def parts(version):
            client = genai.Client(api_key="placeholder", http_options=types.HttpOptions(api_version=version))
            stream = client.models.generate_content_stream(model="gemini-2.5-flash", contents=CONTENTS)
            return [p for chunk in stream for c in (chunk.candidates or [])[:1] for p in (c.content.parts or [])]

        @pytest.mark.quirktape("cassettes/{GEMINI.split("/")[1]}")
        def test_v1(quirktape):
            assert any(p.function_call for p in parts("v1"))
            assert "/v1/" in quirktape.transport.calls[0][1]

        @pytest.mark.quirktape("cassettes/{GEMINI.split("/")[1]}", match=("method", "exact_path", "body"))
        def test_v1_strict():
            with pytest.raises(genai.errors.ClientError, match="no recorded interaction"):
                parts("v1")
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_unused_interactions_fail_when_asked(pytester):
    copy_cassette(pytester, VLLM)
    pytester.makepyfile(
        test_qt_patch_unused=f"""
        import openai
        import pytest

        @pytest.mark.quirktape("cassettes/report-empty-tool-calls-text-lost.yaml")
        def test_streams_only():
            list(openai.OpenAI(api_key="sk-placeholder").chat.completions.create(stream=True, **{OPENAI_KW!r}))
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)
    result = pytester.runpytest("-p", "no:randomly", "--quirktape-unused=fail")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*report-empty-tool-calls-text-lost.yaml: recorded interaction 1 never used*"])
    warned = pytester.runpytest("-p", "no:randomly", "--quirktape-unused=warn")
    assert warned.parseoutcomes()["passed"] == 1 and "errors" not in warned.parseoutcomes()
    warned.stdout.fnmatch_lines(["*QuirktapeUnused: quirktape: report-empty-tool-calls-text-lost.yaml: recorded*"])


def test_clients_are_restored_after_the_test(pytester):
    copy_cassette(pytester, VLLM)
    pytester.makepyfile(
        test_qt_patch_restore="""
        import httpx
        import pytest

        ORIGINAL = httpx.HTTPTransport.handle_request

        @pytest.mark.quirktape("cassettes/report-empty-tool-calls-text-lost.yaml")
        def test_patched():
            assert httpx.HTTPTransport.handle_request is not ORIGINAL

        def test_after():
            assert httpx.HTTPTransport.handle_request is ORIGINAL
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_a_replayed_body_is_read_once():
    from recorder.replay import ReplayTransport

    client = httpx.Client(transport=ReplayTransport(CASSETTES / VLLM))
    response = client.send(client.build_request("POST", "http://x/v1/chat/completions", json=VLLM_REQUEST), stream=True)
    assert b"".join(response.stream) == load(CASSETTES / VLLM).interactions[0].response.raw
    with pytest.raises(httpx.StreamConsumed):
        list(response.stream)


# -- record modes ----------------------------------------------------------------------------------------------------

SECRET = "sk-live-Zq8Kd02mTnW4xVbP7rLs"


def _recording_test(pytester, url: str, marker: str = "") -> None:
    pytester.makepyfile(
        test_qt_record=f"""
        import openai
        import pytest

        @pytest.mark.quirktape("new.yaml"{marker})
        def test_live(quirktape):
            client = openai.OpenAI(api_key={SECRET!r}, base_url={url + "/v1"!r}, timeout=30, max_retries=0)
            chunks = list(client.chat.completions.create(stream=True, **{OPENAI_KW!r}))
            assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == {VLLM_TEXT!r}
        """
    )


def test_once_records_a_missing_cassette_then_replays_it_offline(pytester):
    upstream = load(CASSETTES / VLLM)
    with running(serve_app(upstream)) as url:
        _recording_test(pytester, url)
        pytester.runpytest("-p", "no:randomly").assert_outcomes(errors=1)  # none: never records
        assert not (pytester.path / "new.yaml").exists()
        pytester.runpytest("-p", "no:randomly", "--quirktape-record=once").assert_outcomes(passed=1)
    text = (pytester.path / "new.yaml").read_text()
    assert SECRET not in text
    recorded = load(pytester.path / "new.yaml")
    assert len(recorded.interactions) == 1
    live = recorded.interactions[0]
    assert live.request.headers["authorization"] == ["REDACTED"]
    assert live.response.raw == upstream.interactions[0].response.raw
    assert live.response.quirktape.dialect == "openai" and live.response.quirktape.ending == "done"
    assert len(live.response.quirktape.t_ms) == len(live.response.quirktape.offsets) >= 1
    assert recorded.metadata.provider == "openai" and recorded.metadata.model == OPENAI_KW["model"]
    # The upstream is gone: the default mode replays the cassette without the network.
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)
    pytester.runpytest("-p", "no:randomly", "--quirktape-record=once").assert_outcomes(passed=1)
    assert (pytester.path / "new.yaml").read_text() == text


def test_new_appends_what_nothing_matches_and_all_records_again(pytester):
    upstream = load(CASSETTES / VLLM)
    with running(serve_app(upstream)) as url:
        _recording_test(pytester, url, marker=', record="once"')
        pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)
        data = yaml.safe_load((pytester.path / "new.yaml").read_text())
        data["interactions"][0]["request"]["body"] = data["interactions"][0]["request"]["body"].replace(
            OPENAI_KW["model"], "another-model"
        )
        (pytester.path / "new.yaml").write_text(yaml.safe_dump(data))
        pytester.runpytest("-p", "no:randomly", "--quirktape-record=new_episodes").assert_outcomes(passed=1)
        assert len(load(pytester.path / "new.yaml").interactions) == 2
        pytester.runpytest("-p", "no:randomly", "--quirktape-record=all").assert_outcomes(passed=1)
        assert len(load(pytester.path / "new.yaml").interactions) == 1


def test_a_gateway_on_loopback_is_passed_through_and_its_upstream_recorded_with_the_anthropic_request(tmp_path):
    """The whole chain live: the anthropic SDK -> quirktape's own gateway (a passthrough host, in this
    process) -> an upstream on loopback. The gateway's own upstream call is answered through the patched
    httpx, so it is what gets recorded, with the Anthropic request the SDK sent."""
    from urllib.parse import urlsplit

    import anthropic

    from recorder.capture.gateway import gateway_app
    from recorder.patch import Patch

    upstream = load(CASSETTES / VLLM)
    request = {k: v for k, v in upstream.metadata.request.items() if k in ("model", "max_tokens", "messages")}
    with running(serve_app(upstream)) as up, running(gateway_app(up + "/v1", "openai", tmp_path / "gw")) as gw:
        with Patch(tmp_path / "new.yaml", record="once", passthrough=[urlsplit(gw).netloc]) as patch:
            client = anthropic.Anthropic(api_key="sk-ant-placeholder", base_url=gw, max_retries=0, timeout=30)
            message = client.messages.create(**request)
        assert patch.save()
    assert "".join(b.text for b in message.content if b.type == "text") == VLLM_TEXT
    recorded = load(tmp_path / "new.yaml")
    assert recorded.metadata.request["messages"] == request["messages"]
    # a non-streamed create: the gateway asked the upstream for the non-streaming twin
    assert [i.response.raw for i in recorded.interactions] == [upstream.interactions[1].response.raw]


def test_a_client_that_stops_reading_early_leaves_the_whole_answer_recorded(tmp_path):
    """The client broke out after two chunks; the upstream had not stopped: the record holds every read
    and the upstream's own ending, not a cut that never happened."""
    import openai

    from recorder.patch import Patch

    upstream = load(CASSETTES / VLLM)
    with running(serve_app(upstream)) as url, Patch(tmp_path / "early.yaml", record="all") as patch:
        client = openai.OpenAI(api_key="sk-placeholder", base_url=url + "/v1", max_retries=0, timeout=30)
        stream = client.chat.completions.create(stream=True, **OPENAI_KW)
        for n, _ in enumerate(stream):
            if n == 1:
                break
        stream.close()
    assert patch.save()
    response = load(tmp_path / "early.yaml").interactions[0].response
    assert response.raw == upstream.interactions[0].response.raw
    assert response.quirktape.ending == "done"


def test_an_unmatched_request_says_what_differs():
    from recorder.replay import ReplayTransport

    request = json.loads(json.dumps(VLLM_REQUEST))
    request["messages"][0]["content"] = "something else"
    client = httpx.Client(transport=ReplayTransport(CASSETTES / VLLM))
    message = client.post("http://x/v1/chat/completions", json=request).json()["error"]["message"]
    assert message.endswith("closest: interaction 0, which differs in body messages")


@pytest.mark.parametrize(
    ("marker", "line"),
    [
        ("", "*cassettes/test_qt_marker/test_marked.yaml: no such cassette*"),
        ('("new.yaml", side="anthropic", record="once")', "*records the upstream's answers*"),
        ('("x.yaml", recrod="once")', "*quirktape: unknown option recrod (known: *record*)*"),
    ],
)
def test_a_marker_that_cannot_run_is_one_clear_error(pytester, marker, line):
    pytester.makepyfile(
        test_qt_marker=f"import pytest\n\n@pytest.mark.quirktape{marker}\ndef test_marked():\n    pass\n"
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([line])


def test_an_ini_typo_stops_the_run(pytester):
    pytester.makepyfile(test_qt_ini="def test_nothing():\n    pass\n")
    pytester.makeini("[pytest]\nquirktape_record = onse\n")
    result = pytester.runpytest("-p", "no:randomly")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*ini quirktape_record: unknown record mode 'onse'*"])
