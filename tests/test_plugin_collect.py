"""The plugin collects cassettes as tests: `pytest cassettes/` runs the oracle on each one."""

from __future__ import annotations

from plugin_support import MLX, RESET, VLLM, break_expectation, copy_cassette


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
            "  interaction 0: block 2: input expected {*'Count the .txt files under mlx-lm/*}, got {*.md files*}",
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
