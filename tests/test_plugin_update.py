"""--quirktape-update: failing expectations are rewritten from the current translation, and shown."""

from __future__ import annotations

import pytest
from plugin_support import DROP_SECOND_TOOL, MLX, RESET, VLLM, break_expectation, copy_cassette

from recorder.cassette import load
from recorder.oracle import expect_from, expect_problems
from recorder.replay import replay


def test_update_rewrites_only_the_failing_cassette_and_prints_the_change(pytester):
    broken = copy_cassette(pytester, MLX)
    break_expectation(broken, "      input_tokens: 300\n", "      input_tokens: 301\n")
    fine = copy_cassette(pytester, VLLM)
    fine_before = fine.read_bytes()
    result = pytester.runpytest("cassettes/", "--quirktape-update")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*quirktape: expectations rewritten (--quirktape-update)*",
            "--- cassettes/report-parallel-tool-calls-one-delta.yaml (old)",
            "+++ cassettes/report-parallel-tool-calls-one-delta.yaml (new)",
            "-    input_tokens: 301",
            "+    input_tokens: 300",
            "1 cassette rewritten",
        ]
    )
    assert fine.read_bytes() == fine_before  # a passing cassette is not touched
    expect = load(broken).metadata.expect
    assert expect.usage == {"input_tokens": 300, "output_tokens": 97, "cache_read_input_tokens": 512}
    assert [b["type"] for b in expect.content] == ["text", "tool_use", "tool_use"]
    # Everything but the wrong number is as it was: the file is the original again.
    assert broken.read_bytes() == copy_cassette(pytester, MLX, "original.yaml").read_bytes()
    pytester.runpytest("cassettes/").assert_outcomes(passed=2)


def test_without_update_nothing_is_written(pytester):
    broken = copy_cassette(pytester, MLX)
    break_expectation(broken, "      input_tokens: 300\n", "      input_tokens: 301\n")
    before = broken.read_bytes()
    result = pytester.runpytest("cassettes/")
    result.assert_outcomes(failed=1)
    assert broken.read_bytes() == before
    assert "expectations rewritten" not in result.stdout.str()


def test_update_rewrites_content_and_error_expectations(pytester):
    path = copy_cassette(pytester, RESET)
    break_expectation(path, "      text: The three largest moons of Jupiter are\n", "      text: The moons\n")
    break_expectation(path, "      type: api_error\n", "      type: overloaded_error\n")
    result = pytester.runpytest("cassettes/", "--quirktape-update")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["-    text: The moons", "+    text: The three largest moons of Jupiter are"])
    result.stdout.fnmatch_lines(["-    type: overloaded_error", "+    type: api_error"])
    expect = load(path).metadata.expect
    assert expect.error == {"type": "api_error"}
    assert expect.content == [{"type": "text", "text": "The three largest moons of Jupiter are"}]


def test_update_cannot_bless_a_translation_that_breaks_other_invariants(pytester):
    pytester.makepyfile(droptool=DROP_SECOND_TOOL)
    pytester.syspathinsert()
    path = copy_cassette(pytester, MLX)
    result = pytester.runpytest("cassettes/", "--quirktape-update", "--quirktape-translator=droptool:translate")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "quirktape: 1 invariant failed (conservation)",
            "--quirktape-update: expect rewritten in cassettes/report-parallel-tool-calls-one-delta.yaml",
            "[[]conservation[]]",
            "  interaction 0: 2 upstream tool call(s) but 1 tool_use block(s)",
        ]
    )
    assert len(load(path).metadata.expect.content) == 2  # rewritten, but the test still fails


@pytest.mark.parametrize("name", [VLLM, MLX, RESET, "gemini/gem-02-thought-then-signed-call.yaml"])
def test_expect_from_a_translation_is_an_expectation_that_translation_meets(name):
    from helpers import CASSETTES

    cassette = load(CASSETTES / name)
    events = replay(cassette).events
    expect = expect_from(events)
    assert expect_problems(expect, events) == []
    assert expect.usage.keys() == {"input_tokens", "output_tokens"}
    broken = expect.model_copy(update={"stop_reason": "refusal"})
    assert expect_problems(broken, events) != []
