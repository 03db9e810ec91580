"""The plugin collects cassettes as tests: `pytest cassettes/` runs the oracle on each one."""

from __future__ import annotations

import pytest
from plugin_support import (
    DROP_SECOND_TOOL,
    GEMINI,
    MLX,
    RESET,
    VLLM,
    as_plain_vcrpy,
    break_expectation,
    copy_cassette,
    vcrpy_interaction,
    vcrpy_yaml,
)

# As vcrpy 9.4.2 wrote it for an httpx GET of a JSON API, with vcrpy's own top-level metadata.
VCRPY_JSON_API = """\
interactions:
- request:
    body: ''
    headers:
      accept:
      - '*/*'
      host:
      - api.github.com
    method: GET
    uri: https://api.github.com/users/octocat
  response:
    body:
      string: '{"login":"octocat","id":1}'
    headers:
      content-type:
      - application/json
    status:
      code: 200
      message: OK
metadata:
  recorded_by: ci
version: 1
"""

ANTHROPIC_STREAM = (
    'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message",'
    '"role":"assistant","content":[],"model":"claude","usage":{"input_tokens":3,"output_tokens":1}}}\n\n'
    'event: message_stop\ndata: {"type":"message_stop"}\n\n'
)
VCRPY_ANTHROPIC = vcrpy_yaml(
    [vcrpy_interaction("https://api.anthropic.com/v1/messages", ANTHROPIC_STREAM, "text/event-stream", "POST")],
    {"recorded_by": "ci"},
)

# A translator under test that refuses to read anything but Gemini.
ONLY_GEMINI = """
from translator import translate_stream


def translate(pieces, dialect, **kwargs):
    if dialect != "gemini":
        raise RuntimeError(f"a Gemini body read as {dialect}")
    return translate_stream(pieces, dialect, **kwargs)
"""

WEATHER = vcrpy_interaction("https://api.weather.example/v1/now?city=Oslo", '{"temp_c": 3}', "application/json")


def test_pointing_pytest_at_a_cassette_directory_runs_one_test_per_cassette(pytester):
    copy_cassette(pytester, VLLM)
    copy_cassette(pytester, MLX)
    result = pytester.runpytest("cassettes/", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "cassettes/report-empty-tool-calls-text-lost.yaml::oracle PASSED*",
            "cassettes/report-parallel-tool-calls-one-delta.yaml::oracle PASSED*",
        ]
    )


def test_a_cassette_file_named_on_the_command_line_is_collected(pytester):
    copy_cassette(pytester, VLLM)
    copy_cassette(pytester, MLX)
    result = pytester.runpytest("cassettes/report-parallel-tool-calls-one-delta.yaml")
    result.assert_outcomes(passed=1)


def test_a_wrong_expectation_fails_with_the_invariant_the_event_and_expected_vs_actual(pytester):
    path = copy_cassette(pytester, MLX)
    break_expectation(path, "prompt: Count the .md files under mlx-lm/", "prompt: Count the .txt files under mlx-lm/")
    copy_cassette(pytester, VLLM)
    result = pytester.runpytest("cassettes/")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ cassettes/report-parallel-tool-calls-one-delta.yaml _*",
            "quirktape: 1 invariant failed (expect)",
            "cassette:   cassettes/report-parallel-tool-calls-one-delta.yaml",
            "title:      mlx_lm.server sends two complete tool calls in one delta*",
            "translator: translator.translate_stream",
            "[[]expect[]]",
            "  *interaction 0: block 2: input expected {*'Count the .txt files under mlx-lm/*}, got {*.md files*}",
            "*--quirktape-update*",
            "FAILED cassettes/report-parallel-tool-calls-one-delta.yaml::oracle - quirktap*",
        ]
    )
    # A readable report, not a traceback through the plugin.
    assert "Traceback" not in result.stdout.str()
    assert "def runtest" not in result.stdout.str()


def test_a_cassette_that_does_not_validate_fails_with_a_one_line_reason(pytester):
    path = copy_cassette(pytester, RESET)
    break_expectation(path, "      code: 200\n", "      code: two hundred\n")
    result = pytester.runpytest("cassettes/")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["quirktape: cassettes/*: invalid cassette: interactions.0.response.status.code: *"])


def test_random_yaml_next_to_cassettes_is_not_collected(pytester):
    copy_cassette(pytester, VLLM)
    pytester.makefile(".yml", **{"cassettes/ci": "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n"})
    pytester.makefile(".yaml", **{"cassettes/notes": "interactions: were discussed\n"})
    result = pytester.runpytest("cassettes/", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["cassettes/report-empty-tool-calls-text-lost.yaml::oracle", "1 test collected*"])
    assert "ci.yml" not in result.stdout.str()
    assert "notes.yaml" not in result.stdout.str()


def test_plain_vcrpy_cassettes_under_a_directory_argument_are_left_alone(pytester):
    # A pytest-recording project that installs quirktape must not see its own cassettes turned into tests.
    vcrpy = (
        "version: 1\ninteractions:\n"
        "- request: {method: GET, uri: 'http://x/', body: '', headers: {}}\n"
        "  response: {status: {code: 200, message: OK}, headers: {}, body: {string: ok}}\n"
    )
    pytester.makefile(".yaml", **{"tests/cassettes/test_api": vcrpy})
    pytester.makepyfile(**{"tests/test_qt_col_api": "def test_api():\n    pass\n"})
    result = pytester.runpytest("tests/")
    result.assert_outcomes(passed=1)


def test_a_bare_pytest_run_does_not_collect_cassettes_nobody_configured(pytester):
    copy_cassette(pytester, VLLM)
    pytester.makepyfile(test_qt_col_unit="def test_unit():\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "oracle" not in result.stdout.str()


@pytest.mark.parametrize("where", ["cassettes/", "--quirktape-dir=cassettes"])
def test_a_cassette_without_an_llm_exchange_quirktape_translates_is_not_collected(pytester, where):
    other = VCRPY_JSON_API
    # vcrpy 9 writes its own top-level metadata: that is no sign of a quirktape cassette, and a
    # cassette with no exchange to translate must not turn into a test that passes having judged nothing.
    copy_cassette(pytester, VLLM)
    pytester.makefile(".yaml", **{"cassettes/other": other})
    result = pytester.runpytest(where, "--collect-only", "-q")
    result.stdout.fnmatch_lines(["cassettes/report-empty-tool-calls-text-lost.yaml::oracle", "1 test collected*"])
    assert "other.yaml" not in result.stdout.str()


def test_a_plain_vcrpy_cassette_of_anthropic_messages_is_judged_in_that_dialect(pytester):
    """Anthropic Messages is a dialect: what a gateway or an Anthropic-compatible endpoint sent is judged too."""
    pytester.makefile(".yaml", **{"cassettes/anthropic": VCRPY_ANTHROPIC})
    result = pytester.runpytest("cassettes/", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["cassettes/anthropic.yaml::oracle PASSED*"])


def test_a_plain_vcrpy_cassette_holding_an_llm_exchange_is_collected_and_judged(pytester):
    path = copy_cassette(pytester, MLX)
    as_plain_vcrpy(path)  # no metadata, no response.quirktape: nothing but vcrpy's own fields
    pytester.makepyfile(droptool=DROP_SECOND_TOOL)
    pytester.syspathinsert()
    pytester.runpytest("cassettes/").assert_outcomes(passed=1)
    result = pytester.runpytest("cassettes/", "--quirktape-translator=droptool:translate")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["[[]conservation[]]", "  *interaction 0: 2 upstream tool call(s) but 1 tool_use*"])


def test_a_plain_vcrpy_cassette_is_judged_in_the_dialect_its_body_speaks(pytester):
    # Read as the default dialect (openai), a Gemini body translates into an empty message that passes.
    as_plain_vcrpy(copy_cassette(pytester, GEMINI), {"recorded_by": "ci"})
    pytester.makepyfile(only_gemini=ONLY_GEMINI)
    pytester.syspathinsert()
    pytester.runpytest("cassettes/", "--quirktape-translator=only_gemini:translate").assert_outcomes(passed=1)


def test_only_the_llm_exchanges_of_a_mixed_cassette_are_judged(pytester):
    # An agent test's cassette: a weather API call, then the model's tool calls and their non-stream twin.
    path = copy_cassette(pytester, MLX)
    as_plain_vcrpy(path, {"recorded_by": "ci"}, before=(WEATHER,))
    pytester.runpytest("cassettes/").assert_outcomes(passed=1)
    pytester.makepyfile(droptool=DROP_SECOND_TOOL)
    pytester.syspathinsert()
    result = pytester.runpytest("cassettes/", "--quirktape-translator=droptool:translate")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "not judged: interaction 0 (no LLM exchange); the interactions below are numbered among the judged*",
            "[[]conservation[]]",
            "  *interaction 0: 2 upstream tool call(s) but 1 tool_use block(s)",
            "  *interaction 1: 2 upstream tool call(s) but 1 tool_use block(s)",
        ]
    )


def test_a_broken_cassette_under_a_directory_argument_fails_naming_the_file_and_the_error(pytester):
    copy_cassette(pytester, VLLM)
    invalid = copy_cassette(pytester, RESET, "cassettes/invalid.yaml")
    as_plain_vcrpy(invalid)
    break_expectation(invalid, "      code: 200\n", "      code: two hundred\n")
    pytester.makefile(".yaml", **{"cassettes/broken": "version: 1\ninteractions:\n- request: [unclosed\n"})
    (pytester.path / "cassettes/latin1.yaml").write_bytes(
        VCRPY_JSON_API.replace("octocat", "caf\xe9").encode("latin-1")
    )
    result = pytester.runpytest("cassettes/", "-rf", "-vv")
    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines_random(
        [
            "FAILED cassettes/broken.yaml::oracle - quirktape: cassettes/broken.yaml: not valid YAML at line 4: *",
            "FAILED cassettes/invalid.yaml::oracle - quirktape: cassettes/invalid.yaml: invalid cassette: "
            "interactions.0.response.status.code: *",
            "FAILED cassettes/latin1.yaml::oracle - quirktape: cassettes/latin1.yaml: not UTF-8 text (byte *)",
        ]
    )
    assert "Traceback" not in result.stdout.str()
