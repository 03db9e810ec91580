"""--quirktape-update: failing expectations are rewritten from the current translation, and shown."""

from __future__ import annotations

import difflib

import pytest
from plugin_support import (
    DROP_SECOND_TOOL,
    MLX,
    RESET,
    VLLM,
    as_plain_vcrpy,
    break_expectation,
    copy_cassette,
    without_expect,
)
from vcr.persisters.filesystem import FilesystemPersister
from vcr.serializers import yamlserializer

from recorder.judge import expect_from, expect_problems
from recorder.replay import replay
from recorder.tape import load


def test_update_rewrites_only_the_failing_cassette_and_prints_the_change(pytester):
    broken = copy_cassette(pytester, MLX)
    break_expectation(broken, "      input_tokens: 300\n", "      input_tokens: 301\n")
    fine = copy_cassette(pytester, VLLM)
    fine_before = fine.read_bytes()
    result = pytester.runpytest("cassettes/", "--quirktape-update")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*quirktape: expectations written (--quirktape-update)*",
            "--- cassettes/report-parallel-tool-calls-one-delta.yaml (old)",
            "+++ cassettes/report-parallel-tool-calls-one-delta.yaml (new)",
            "-    input_tokens: 301",
            "+    input_tokens: 300",
            "1 cassette written",
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
    assert "expectations written" not in result.stdout.str()


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


def test_update_with_a_foreign_translator_is_a_usage_error_and_writes_nothing(pytester):
    # The translator under test dropped a tool call: expectations written from it would bless the loss.
    pytester.makepyfile(droptool=DROP_SECOND_TOOL)
    pytester.syspathinsert()
    path = copy_cassette(pytester, MLX)
    before = path.read_bytes()
    for args, ini in (
        (["--quirktape-translator=droptool:translate"], ""),
        ([], "quirktape_translator = droptool:translate"),
    ):
        pytester.makeini(f"[pytest]\n{ini}\n")
        result = pytester.runpytest("cassettes/", "--quirktape-update", *args)
        assert result.ret == 4, args
        result.stderr.fnmatch_lines(
            [
                "*quirktape: --quirktape-update writes expectations only from quirktape's own translator, "
                "not from the translator under test (droptool:translate)*"
            ]
        )
        assert path.read_bytes() == before


@pytest.mark.parametrize("expect", ["wrong", "missing"])
def test_update_is_refused_where_another_invariant_fails_and_says_which(pytester, expect):
    # The non-streaming twin says something else than the stream: stream-nonstream fails, and an
    # expectation written now would bless one of the two.
    path = copy_cassette(pytester, MLX)
    break_expectation(path, '"content": "I\'ll dispatch two agents in parallel.",', '"content": "I\'ll dispatch two.",')
    if expect == "wrong":
        break_expectation(path, "      input_tokens: 300\n", "      input_tokens: 301\n")
    else:
        without_expect(path)
    before = path.read_bytes()
    result = pytester.runpytest("cassettes/", "--quirktape-update")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "--quirktape-update: expect not written: blocked by stream-nonstream (an expectation is written only "
            "from a translation that passes every other invariant)",
            "[[]stream-nonstream[]]",
        ]
    )
    assert path.read_bytes() == before
    assert "expectations written" not in result.stdout.str()


def test_update_writes_an_expect_block_for_a_cassette_without_one(pytester):
    path = copy_cassette(pytester, VLLM)
    without_expect(path)
    result = pytester.runpytest("cassettes/", "--quirktape-update")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*quirktape: expectations written (--quirktape-update)*",
            "+++ cassettes/report-empty-tool-calls-text-lost.yaml (new)",
            "+expect:",
            "1 cassette written",
        ]
    )
    assert "without expect" not in result.stdout.str()
    cassette = load(path)
    for index in range(len(cassette.interactions)):
        assert expect_problems(cassette.metadata.expect, replay(cassette, index).events) == []
    assert cassette.metadata.expect.content == expect_from(replay(cassette).events).content
    pytester.runpytest("cassettes/", "--quirktape-strict").assert_outcomes(passed=1)


def test_update_writes_expect_into_a_plain_vcrpy_cassette_that_vcrpy_still_loads(pytester):
    path = copy_cassette(pytester, MLX)
    as_plain_vcrpy(path, {"recorded_by": "ci"})
    before = path.read_text(encoding="utf-8").splitlines()
    pytester.runpytest("cassettes/", "--quirktape-update").assert_outcomes(passed=1)
    after = path.read_text(encoding="utf-8").splitlines()
    assert [line for line in difflib.ndiff(before, after) if line.startswith("- ")] == []  # only added lines
    requests, responses, metadata = FilesystemPersister.load_cassette(path, yamlserializer)
    assert len(requests) == len(responses) == 2
    assert metadata["recorded_by"] == "ci"
    assert [block["type"] for block in metadata["expect"]["content"]] == ["text", "tool_use", "tool_use"]


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
