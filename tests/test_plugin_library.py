"""``pytest --quirktape-library``: the shipped cassettes as tests, judged with any translator."""

from __future__ import annotations

from plugin_support import DROP_SECOND_TOOL

from recorder.library import library_root
from recorder.plugin import _llm_dialect


def _llm_cassettes() -> int:
    """The library's cassettes holding an LLM exchange, counted the way the plugin decides it."""
    import yaml

    count = 0
    for path in library_root().rglob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and any(_llm_dialect(i) for i in data.get("interactions", [])):
            count += 1
    return count


def test_the_library_is_collected_and_green_with_quirktapes_translator(pytester):
    result = pytester.runpytest("--quirktape-library", "-p", "no:randomly")
    result.assert_outcomes(passed=_llm_cassettes())


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
