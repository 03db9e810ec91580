"""--quirktape-rechunk=N: N more random cuts per cassette (seeds 1000, 1001, ...), named on failure."""

from __future__ import annotations

from plugin_support import MLX, VLLM, copy_cassette

# A translator that loses a character only when the body is cut exactly as `random:1001` cuts it:
# the oracle's own cuts (bytes, lines, random:1-3) cannot see it; the second extra seed does.
FRAGILE = """
from recorder.replay import rechunk
from translator import translate_stream


def translate(pieces, dialect, **kwargs):
    pieces = list(pieces)
    events, ir = translate_stream(pieces, dialect, **kwargs)
    body = b"".join(pieces)
    if len(pieces) > 1 and pieces == rechunk(body, "random:1001"):
        for event in events:
            delta = event.get("delta", {})
            if delta.get("type") == "text_delta" and delta["text"]:
                delta["text"] = delta["text"][:-1]
                break
    return events, ir
"""


def _setup(pytester):
    pytester.makepyfile(fragile=FRAGILE)
    pytester.syspathinsert()
    copy_cassette(pytester, VLLM)


def test_the_fixed_rechunkings_alone_miss_a_cut_dependent_bug(pytester):
    _setup(pytester)
    pytester.runpytest("cassettes/", "--quirktape-translator=fragile:translate").assert_outcomes(passed=1)
    pytester.runpytest(
        "cassettes/", "--quirktape-translator=fragile:translate", "--quirktape-rechunk=1"
    ).assert_outcomes(passed=1)


def test_extra_random_rechunkings_catch_it_and_name_the_seed(pytester):
    _setup(pytester)
    result = pytester.runpytest("cassettes/", "--quirktape-translator=fragile:translate", "--quirktape-rechunk=3")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "quirktape: 1 invariant failed (rechunk)",
            "[[]rechunk[]]",
            "  interaction 0: --rechunk random:1001 gives different events (event *)",
        ]
    )
    assert "random:1000 " not in result.stdout.str()
    assert "random:1002 " not in result.stdout.str()


def test_a_correct_translator_passes_many_random_rechunkings(pytester):
    copy_cassette(pytester, VLLM)
    copy_cassette(pytester, MLX)
    result = pytester.runpytest("cassettes/", "--quirktape-rechunk=25")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["quirktape: translator translator.translate_stream; +25 random rechunkings"])


def test_a_negative_count_is_a_usage_error(pytester):
    copy_cassette(pytester, VLLM)
    result = pytester.runpytest("cassettes/", "--quirktape-rechunk=-1")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--quirktape-rechunk needs a number of rechunkings >= 0*"])
