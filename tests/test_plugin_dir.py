"""--quirktape-dir and the quirktape_dirs ini option: where cassettes are collected from."""

from __future__ import annotations

from plugin_support import MLX, VLLM, break_expectation, copy_cassette

UNIT_TEST = "def test_unit():\n    pass\n"


def _project(pytester, ini: str = "") -> None:
    """tests/ (the testpaths) with one unit test, and a cassette library in fixtures/."""
    pytester.makeini(f"[pytest]\ntestpaths = tests\n{ini}")
    pytester.makepyfile(**{"tests/test_qt_dir_unit": UNIT_TEST})
    copy_cassette(pytester, VLLM, "fixtures/vllm/a.yaml")
    copy_cassette(pytester, MLX, "fixtures/mlx/b.yml")


def test_without_a_configured_directory_only_the_testpaths_run(pytester):
    _project(pytester)
    pytester.runpytest().assert_outcomes(passed=1)


def test_the_option_adds_the_directory_to_the_run(pytester):
    _project(pytester)
    result = pytester.runpytest("--quirktape-dir=fixtures", "-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines_random(
        [
            "tests/test_qt_dir_unit.py::test_unit PASSED*",
            "fixtures/vllm/a.yaml::oracle PASSED*",
            "fixtures/mlx/b.yml::oracle PASSED*",
        ]
    )


def test_the_option_is_repeatable(pytester):
    _project(pytester)
    result = pytester.runpytest("--quirktape-dir=fixtures/vllm", "--quirktape-dir", "fixtures/mlx")
    result.assert_outcomes(passed=3)


def test_the_ini_option_makes_a_bare_pytest_run_check_the_cassettes(pytester):
    _project(pytester, "quirktape_dirs = fixtures\n")
    break_expectation(pytester.path / "fixtures/mlx/b.yml", "output_tokens: 97", "output_tokens: 98")
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*usage.output_tokens expected 98, got 97"])


def test_with_the_ini_option_explicit_paths_still_choose_what_runs(pytester):
    _project(pytester, "quirktape_dirs = fixtures\n")
    pytester.runpytest("tests/").assert_outcomes(passed=1)
    pytester.runpytest("fixtures/vllm").assert_outcomes(passed=1)


def test_a_configured_directory_collects_cassettes_without_quirktape_metadata_but_not_other_yaml(pytester):
    _project(pytester)
    bare = (
        "version: 1\ninteractions:\n- request: {method: POST, uri: 'http://127.0.0.1/v1/chat/completions', body: '',"
        " headers: {}}\n  response:\n    status: {code: 200, message: OK}\n"
        "    headers: {content-type: [text/event-stream]}\n    body:\n      string: |+\n"
        '        data: {"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}]}\n\n'
        "        data: [DONE]\n\n"
    )
    pytester.makefile(".yaml", **{"fixtures/bare": bare, "fixtures/compose": "services:\n  db:\n    image: pg\n"})
    result = pytester.runpytest("--quirktape-dir=fixtures", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["*4 tests collected*"])
    assert "fixtures/bare.yaml::oracle" in result.stdout.str()
    assert "compose" not in result.stdout.str()


def test_a_broken_cassette_in_a_configured_directory_fails_instead_of_vanishing(pytester):
    _project(pytester)
    pytester.makefile(".yaml", **{"fixtures/broken": "version: 1\ninteractions:\n- request: [unclosed\n"})
    result = pytester.runpytest("--quirktape-dir=fixtures")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["quirktape: *fixtures/broken.yaml: not valid YAML at line *"])


def test_a_missing_directory_is_a_usage_error(pytester):
    _project(pytester)
    result = pytester.runpytest("--quirktape-dir=nowhere")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*quirktape: cassette directory */nowhere does not exist*"])
