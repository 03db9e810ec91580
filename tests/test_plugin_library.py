"""``pytest --quirktape-library``: the shipped cassettes as tests, judged with any translator."""

from __future__ import annotations

from plugin_support import DROP_SECOND_TOOL

from recorder.library import library_root


def test_the_library_is_collected_and_green_with_quirktapes_translator(pytester):
    result = pytester.runpytest("--quirktape-library", "-p", "no:randomly")
    # every bundled cassette holds an LLM exchange: one green test per file in the shipped library
    result.assert_outcomes(passed=len(list(library_root().rglob("*.yaml"))))


def test_a_broken_translator_fails_on_the_library(pytester):
    pytester.makepyfile(mygw=DROP_SECOND_TOOL)
    result = pytester.runpytest("--quirktape-library", "--quirktape-translator", "mygw:translate", "-p", "no:randomly")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 1
    result.stdout.fnmatch_lines(["*report-parallel-tool-calls-one-delta.yaml::oracle*"])


def test_the_library_is_never_updated(pytester):
    result = pytester.runpytest("--quirktape-library", "--quirktape-update")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*does not write into the shipped library*"])
