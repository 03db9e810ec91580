"""No network during replay: cassette checks and tests using the quirktape fixtures cannot reach real hosts."""

from __future__ import annotations

import pytest
from plugin_support import VLLM, copy_cassette

PHONES_HOME = """
import socket

from translator import translate_stream


def translate(pieces, dialect, **kwargs):
    try:
        socket.create_connection(("telemetry.example.com", 443), timeout=1)
    except Exception:
        pass  # swallowed: the check must fail anyway
    return translate_stream(pieces, dialect, **kwargs)
"""


def test_a_translator_that_reaches_a_real_host_fails_the_cassette(pytester):
    pytester.makepyfile(phones_home=PHONES_HOME)
    pytester.syspathinsert()
    copy_cassette(pytester, VLLM)
    result = pytester.runpytest("cassettes/", "--quirktape-translator=phones_home:translate")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["quirktape: network blocked during replay: tried to reach telemetry.example.com:443 (translator phones_home*"]
    )


def test_a_fixture_test_that_reaches_a_real_host_fails_with_a_clear_message(pytester):
    copy_cassette(pytester, VLLM)
    pytester.makepyfile(
        test_qt_net_sdk="""
        import socket

        def test_resolves(quirktape_replay):
            quirktape_replay("cassettes/report-empty-tool-calls-text-lost.yaml")
            socket.getaddrinfo("api.openai.com", 443)

        def test_connects_by_address(quirktape_transport):
            s = socket.socket()
            try:
                s.connect(("203.0.113.7", 8080))
            finally:
                s.close()

        def test_swallowed(quirktape_cassette):
            try:
                socket.create_connection(("example.org", 80), timeout=1)
            except Exception:
                pass
        """
    )
    result = pytester.runpytest("-rf", "-vv")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines_random(
        [
            "*NetworkBlocked: quirktape: network blocked during replay: tried to reach api.openai.com:443",
            "*NetworkBlocked: quirktape: network blocked during replay: tried to reach 203.0.113.7:8080",
            "FAILED test_qt_net_sdk.py::test_swallowed - Failed: quirktape: network blocked during replay: "
            "tried to reach example.org:80",
        ]
    )


def test_loopback_stays_open(pytester):
    pytester.makepyfile(
        test_qt_net_local="""
        import socket

        def test_loopback_server(quirktape_no_network):
            server = socket.socket()
            server.bind(("127.0.0.1", 0))
            server.listen(1)
            port = server.getsockname()[1]
            for host in ("127.0.0.1", "localhost"):
                client = socket.create_connection((host, port), timeout=5)
                conn, _ = server.accept()
                conn.close()
                client.close()
            server.close()
            assert quirktape_no_network.attempts == []
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_a_test_can_expect_a_blocked_attempt(pytester):
    pytester.makepyfile(
        test_qt_net_expected="""
        import socket

        import pytest

        from recorder.plugin import NetworkBlocked

        def test_blocked(quirktape_no_network):
            with pytest.raises(NetworkBlocked, match="tried to reach example.net:443"):
                socket.getaddrinfo("example.net", 443)
            quirktape_no_network.attempts.clear()
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_the_network_is_restored_after_the_test(pytester):
    pytester.makepyfile(
        test_qt_net_restore="""
        import socket

        ORIGINAL = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

        def test_a(quirktape_no_network):
            assert socket.getaddrinfo is not ORIGINAL[2]

        def test_b():
            assert (socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo) == ORIGINAL
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_an_sdk_that_would_call_the_real_api_fails_with_the_host_it_tried(pytester):
    pytest.importorskip("openai")
    pytester.makepyfile(
        test_qt_net_real_api="""
        import openai

        def test_forgot_the_transport(quirktape_transport):
            client = openai.OpenAI(api_key="unused", max_retries=0)
            client.chat.completions.create(model="gpt-x", messages=[{"role": "user", "content": "hi"}])
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["E   *NetworkBlocked: quirktape: network blocked during replay: tried to reach api.openai.com:443"]
    )
