"""The fixtures for hand-written tests: quirktape_cassette, quirktape_replay, quirktape_transport."""

from __future__ import annotations

import pytest
from plugin_support import MLX, RESET, VLLM, copy_cassette


def _cassettes(pytester) -> None:
    copy_cassette(pytester, VLLM)
    copy_cassette(pytester, MLX)
    copy_cassette(pytester, RESET)


def test_replay_gives_events_the_accumulated_message_and_the_error(pytester):
    _cassettes(pytester)
    pytester.makepyfile(
        test_qt_fx_replay="""
        import pytest

        @pytest.mark.parametrize("rechunk", ["recorded", "bytes", "lines", "random:7"])
        def test_parallel_calls(quirktape_replay, rechunk):
            run = quirktape_replay("cassettes/report-parallel-tool-calls-one-delta.yaml", rechunk=rechunk)
            assert run.events[0]["type"] == "message_start"
            assert [b["type"] for b in run.message["content"]] == ["text", "tool_use", "tool_use"]
            assert run.message["content"][2]["input"]["description"] == "Count .md files in mlx-lm"
            assert run.message["stop_reason"] == "tool_use"
            assert run.error is None

        def test_non_streaming_twin(quirktape_replay):
            run = quirktape_replay("cassettes/report-parallel-tool-calls-one-delta.yaml", interaction=1)
            assert len([b for b in run.message["content"] if b["type"] == "tool_use"]) == 2

        def test_cut_stream(quirktape_replay):
            run = quirktape_replay("cassettes/err-06-connection-reset-mid-stream.yaml")
            assert run.error["type"] == "api_error"
            assert run.message["content"][0]["text"] == "The three largest moons of Jupiter are"
            assert run.events[-1]["type"] == "error"
        """
    )
    pytester.runpytest().assert_outcomes(passed=6)


def test_cassette_loads_and_paths_resolve_next_to_the_test_file(pytester):
    copy_cassette(pytester, VLLM, "tests/data/vllm.yaml")
    pytester.makepyfile(
        **{
            "tests/test_qt_fx_load": """
            from recorder.tape import Cassette

            def test_load(quirktape_cassette, quirktape_replay):
                cassette = quirktape_cassette("data/vllm.yaml")
                assert isinstance(cassette, Cassette)
                assert cassette.metadata.provider == "vllm"
                assert quirktape_replay(cassette).message["content"][0]["text"].startswith("1\\n2\\n3")
            """
        }
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_transport_answers_an_httpx_client_from_the_cassette(pytester):
    _cassettes(pytester)
    pytester.makepyfile(
        test_qt_fx_transport="""
        import json

        import httpx

        PATH = "cassettes/report-empty-tool-calls-text-lost.yaml"

        def test_stream(quirktape_cassette, quirktape_transport):
            request = quirktape_cassette(PATH).interactions[0].request
            transport = quirktape_transport(PATH, rechunk="bytes")
            with httpx.Client(transport=transport, base_url="http://127.0.0.1:8000") as client:
                with client.stream("POST", "/v1/chat/completions", content=request.body) as response:
                    pieces = list(response.iter_raw())
            assert response.status_code == 200
            assert len(pieces) > 100  # one byte per read
            text = b"".join(pieces).decode()
            assert text.rstrip().endswith("data: [DONE]")
            assert transport.calls == [("POST", "http://127.0.0.1:8000/v1/chat/completions", 0)]

        def test_unmatched(quirktape_transport):
            transport = quirktape_transport(PATH)
            with httpx.Client(transport=transport) as client:
                response = client.post("http://127.0.0.1:8000/v1/chat/completions", json={"model": "other"})
            assert response.status_code == 404
            assert "no recorded interaction matches" in json.loads(response.content)["error"]["message"]
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_a_hand_written_test_catches_a_broken_translator(pytester):
    _cassettes(pytester)
    pytester.makepyfile(
        lossy="""
        from translator import translate_stream

        def translate(pieces, dialect, **kwargs):
            events, ir = translate_stream(pieces, dialect, **kwargs)
            return [e for e in events if e.get("delta", {}).get("type") != "input_json_delta"], None
        """
    )
    pytester.syspathinsert()
    pytester.makepyfile(
        test_qt_fx_args="""
        def test_arguments_survive(quirktape_replay):
            run = quirktape_replay("cassettes/report-parallel-tool-calls-one-delta.yaml")
            assert run.message["content"][1]["input"] == {
                "description": "Count .py files in mlx_lm",
                "prompt": "Count the .py files under mlx_lm/ and report the number.",
            }
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)
    result = pytester.runpytest("--quirktape-translator=lossy:translate")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E       AssertionError: assert {} == {*"])


def test_a_missing_cassette_is_a_one_line_error(pytester):
    pytester.makepyfile(
        test_qt_fx_missing="""
        def test_missing(quirktape_replay):
            quirktape_replay("cassettes/nope.yaml")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E*recorder.tape.cassette.CassetteError: cassettes/nope.yaml: no such file"])


def test_transport_serves_the_official_openai_sdk(pytester):
    pytest.importorskip("openai")
    _cassettes(pytester)
    pytester.makepyfile(
        test_qt_fx_sdk="""
        import json

        import httpx
        import openai

        PATH = "cassettes/report-parallel-tool-calls-one-delta.yaml"

        def test_parallel_calls_reach_the_sdk(quirktape_cassette, quirktape_transport):
            body = json.loads(quirktape_cassette(PATH).interactions[0].request.body)
            http_client = httpx.Client(transport=quirktape_transport(PATH))
            client = openai.OpenAI(
                api_key="unused", base_url="http://127.0.0.1:8000/v1", http_client=http_client, max_retries=0
            )
            chunks = list(client.chat.completions.create(**body))
            calls = [c for chunk in chunks for choice in chunk.choices for c in choice.delta.tool_calls or []]
            assert [c.function.name for c in calls] == ["Agent", "Agent"]
            assert json.loads(calls[1].function.arguments)["description"] == "Count .md files in mlx-lm"
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)
