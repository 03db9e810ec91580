"""--quirktape-translator=module:callable: any translator can be checked, not only ours."""

from __future__ import annotations

from plugin_support import DROP_SECOND_TOOL, MLX, VLLM, copy_cassette


def _setup(pytester) -> None:
    pytester.makepyfile(droptool=DROP_SECOND_TOOL)
    pytester.syspathinsert()
    copy_cassette(pytester, VLLM)
    copy_cassette(pytester, MLX)


def test_a_translator_that_drops_the_second_tool_call_is_caught(pytester):
    _setup(pytester)
    pytester.runpytest("cassettes/").assert_outcomes(passed=2)
    result = pytester.runpytest("cassettes/", "--quirktape-translator=droptool:translate")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "quirktape: translator droptool:translate",
            "*_ cassettes/report-parallel-tool-calls-one-delta.yaml _*",
            "quirktape: 2 invariants failed (conservation, expect)",
            "*",
            "translator: droptool:translate",
            "[[]conservation[]]",
            "  *interaction 0: 2 upstream tool call(s) but 1 tool_use block(s)",
            "  *interaction 1: 2 upstream tool call(s) but 1 tool_use block(s)",
            "[[]expect[]]",
            "  *interaction 0: block 2: expected {'type': 'tool_use', 'name': 'Agent', *}, got nothing",
        ]
    )


def test_the_ini_option_names_the_translator_too(pytester):
    _setup(pytester)
    pytester.makeini("[pytest]\nquirktape_translator = droptool:translate\n")
    pytester.runpytest("cassettes/").assert_outcomes(passed=1, failed=1)


def test_the_fixtures_replay_through_the_translator_under_test(pytester):
    _setup(pytester)
    pytester.makepyfile(
        test_qt_tr_calls="""
        def test_two_calls(quirktape_replay):
            run = quirktape_replay("cassettes/report-parallel-tool-calls-one-delta.yaml")
            assert sum(b["type"] == "tool_use" for b in run.message["content"]) == 2
        """
    )
    pytester.runpytest("test_qt_tr_calls.py").assert_outcomes(passed=1)
    result = pytester.runpytest("test_qt_tr_calls.py", "--quirktape-translator=droptool:translate")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E       assert 1 == 2"])


def test_a_module_next_to_the_invocation_directory_is_found_without_sys_path_setup(pytester):
    pytester.makepyfile(droptool=DROP_SECOND_TOOL)  # no syspathinsert: found like `python -m pytest` would
    copy_cassette(pytester, MLX)
    result = pytester.runpytest("cassettes/", "--quirktape-translator=droptool:translate")
    result.assert_outcomes(failed=1)


def test_a_bad_translator_spec_is_a_usage_error(pytester):
    copy_cassette(pytester, VLLM)
    for spec, message in (
        ("droptool", "*--translator must look like module:callable, not 'droptool'*"),
        ("no_such_module:translate", "*cannot load translator 'no_such_module:translate'*"),
        ("json:nothing_here", "*cannot load translator 'json:nothing_here'*"),
        ("json:__name__", "*translator 'json:__name__' is not callable*"),
    ):
        result = pytester.runpytest("cassettes/", f"--quirktape-translator={spec}")
        assert result.ret == 4, spec
        result.stderr.fnmatch_lines([f"*quirktape: {message[1:]}"])
