"""Cassettes without expect: listed after the run, failed under --quirktape-strict / ini quirktape_strict."""

from __future__ import annotations

import pytest
from plugin_support import MLX, VLLM, copy_cassette, without_expect


def _cassettes(pytester) -> None:
    """Two cassettes, one of them (the vllm one) without expect."""
    without_expect(copy_cassette(pytester, VLLM))
    copy_cassette(pytester, MLX)


def test_cassettes_without_expect_are_listed_in_the_summary(pytester):
    _cassettes(pytester)
    result = pytester.runpytest("cassettes/")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*quirktape: cassettes without expect*",
            "cassettes/report-empty-tool-calls-text-lost.yaml",
            "1 cassette without an expect block: pytest --quirktape-update writes expect from quirktape's "
            "translation; --quirktape-strict fails such cassettes",
        ]
    )
    listed = result.stdout.str().split("cassettes without expect")[1]
    assert "report-parallel-tool-calls-one-delta.yaml" not in listed


def test_no_note_when_every_cassette_has_expect(pytester):
    copy_cassette(pytester, MLX)
    result = pytester.runpytest("cassettes/")
    result.assert_outcomes(passed=1)
    assert "without expect" not in result.stdout.str()


@pytest.mark.parametrize("option, ini", [("--quirktape-strict", ""), (None, "quirktape_strict = true")])
def test_strict_fails_a_cassette_without_expect(pytester, option, ini):
    _cassettes(pytester)
    pytester.makeini(f"[pytest]\n{ini}\n")
    result = pytester.runpytest("cassettes/", *([option] if option else []))
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "quirktape: 1 invariant failed (expect)",
            "cassette:   cassettes/report-empty-tool-calls-text-lost.yaml",
            "*",
            "[[]expect[]]",
            "  no expect block (--quirktape-strict)",
            "(if the translation is right: pytest --quirktape-update writes expect)",
        ]
    )
    result.stdout.fnmatch_lines(["quirktape: *strict: a cassette without expect fails*"])  # the report header
