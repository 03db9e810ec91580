"""quirktape report / shrink / diff, and the Markdown round trip, against deliberately broken translators."""

import pytest
from broken_translators import drop_second_tool, text_as_json_deltas
from helpers import CASSETTES, run_cli

import recorder.tape.markdown as markdown
from recorder.judge import check_cassette, report, shrink
from recorder.tape import CassetteError, cassette_from_report, dumps, load

PARALLEL = CASSETTES / "mlx-lm" / "report-parallel-tool-calls-one-delta.yaml"
TEXT = CASSETTES / "vllm" / "report-empty-tool-calls-text-lost.yaml"


run = run_cli


def test_report_names_the_failure_and_round_trips_to_the_identical_cassette():
    cassette = load(PARALLEL)
    text = report(cassette, drop_second_tool)
    assert "**Verdict:** FAILS conservation, expect" in text
    assert (
        "| conservation | FAIL | data/call_lost: interaction 0: 2 upstream tool call(s) but 1 tool_use block(s)" in text
    )
    assert '-{"content_block": {"id": "a93e1c57' in text  # the lost call, in the event diff
    assert "tools `Agent`" in text
    assert dumps(cassette_from_report(text)) == dumps(cassette)


def test_large_cassettes_are_embedded_compressed(monkeypatch):
    monkeypatch.setattr(markdown, "INLINE_LIMIT", 100)
    cassette = load(TEXT)
    text = report(cassette)
    assert "quirktape-gzip-base64" in text and "```yaml" not in text
    assert dumps(cassette_from_report(text)) == dumps(cassette)


def test_a_credential_in_the_cassette_is_redacted_in_the_report():
    cassette = load(TEXT)
    key = "AIza" + "x" * 35
    cassette.metadata.source = f"https://example.invalid/?key={key}"
    text = report(cassette)
    assert key not in text and key not in dumps(cassette_from_report(text))
    assert cassette_from_report(text).metadata.source == "https://example.invalid/?key=REDACTED"


@pytest.mark.parametrize(
    "text",
    ["just text", "<!-- quirktape-report v1 -->\nno block", "<!-- quirktape-report v1 -->\n```yaml\n[unclosed\n```\n"],
)
def test_broken_reports_are_one_line_errors(text):
    with pytest.raises(CassetteError) as info:
        cassette_from_report(text)
    assert "\n" not in str(info.value)


def test_shrink_keeps_the_failure_and_removes_the_rest():
    cassette = load(PARALLEL)
    small = shrink(cassette, "conservation", drop_second_tool)
    checks = {c.invariant: c for c in check_cassette(small, drop_second_tool)}
    assert checks["conservation"].ok is False  # still reproduces
    assert len(dumps(small)) < len(dumps(cassette)) / 3  # and little else
    assert len(small.interactions) == 1
    body = small.interactions[0].response.body.string
    assert body.count('"name"') == 2  # both calls are needed to show the loss; the text, usage, ids are gone
    assert "dispatch" not in body and "usage" not in body


def test_shrink_on_a_differential_failure():
    small = shrink(load(TEXT), "differs", text_as_json_deltas)
    assert len(small.interactions[0].response.raw) < len(load(TEXT).interactions[0].response.raw) / 4
    with pytest.raises(CassetteError, match="nothing to shrink"):
        shrink(load(TEXT), "conservation", drop_second_tool)  # one tool-free stream: nothing is dropped


def test_cli_report_shrink_diff(tmp_path, monkeypatch, capsysbinary):
    code, out, _ = run(
        monkeypatch, capsysbinary, "report", PARALLEL, "--translator", "broken_translators:drop_second_tool"
    )
    assert code == 0 and out.startswith("<!-- quirktape-report v1 -->")
    code, _, err = run(
        monkeypatch,
        capsysbinary,
        "shrink",
        PARALLEL,
        "--translator",
        "broken_translators:drop_second_tool",
        "-o",
        tmp_path / "s.yaml",
    )
    assert code == 0 and err.startswith("conservation still fails")
    code, out, _ = run(
        monkeypatch, capsysbinary, "diff", PARALLEL, "--translator", "broken_translators:drop_second_tool"
    )
    assert code == 1 and out.startswith("# interaction 0\n--- ") and "# interaction 1" in out
    code, out, _ = run(monkeypatch, capsysbinary, "diff", PARALLEL, PARALLEL)
    assert (code, out.strip()) == (0, "identical")
    code, _, err = run(monkeypatch, capsysbinary, "shrink", PARALLEL, "-o", tmp_path / "x.yaml")
    assert code == 2 and "fails no invariant" in err


@pytest.mark.parametrize(
    "args",
    [
        ["report", "missing.yaml"],
        ["shrink", str(PARALLEL), "--translator", "no_such_module:x", "-o", "/tmp/never.yaml"],
        ["diff", str(PARALLEL)],
        ["diff", str(PARALLEL), "--translator", "broken_translators"],
    ],
)
def test_bad_input_exit_2(monkeypatch, capsysbinary, args):
    code, _, err = run(monkeypatch, capsysbinary, *args)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err


def test_help_has_examples(monkeypatch, capsysbinary):
    for command in ("report", "shrink", "diff", "mutate", "record", "serve", "proxy"):
        code, out, _ = run(monkeypatch, capsysbinary, command, "--help")
        assert code == 0 and f"Example: quirktape {command}" in out.replace("OPENAI_API_KEY=... ", "")


def test_import_markdown_gives_back_the_identical_cassette(tmp_path, monkeypatch, capsysbinary):
    bug, back = tmp_path / "bug.md", tmp_path / "back.yaml"
    code, _, _ = run(
        monkeypatch, capsysbinary, "report", PARALLEL, "--translator", "broken_translators:drop_second_tool", "-o", bug
    )
    assert code == 0
    for fmt in ("markdown", "auto"):
        code, _, err = run(monkeypatch, capsysbinary, "import", bug, "-o", back, "--format", fmt)
        assert code == 0, err
        assert (tmp_path / "back.yaml").read_text() == dumps(load(PARALLEL))


def test_a_credential_is_redacted_even_when_the_cassette_would_be_packed(monkeypatch):
    monkeypatch.setattr(markdown, "INLINE_LIMIT", 10)
    cassette = load(TEXT)
    key = "sk-proj-" + "a" * 30
    cassette.interactions[0].request.headers["authorization"] = [f"Bearer {key}"]
    text = report(cassette)
    assert "quirktape-gzip-base64" in text
    assert cassette_from_report(text).interactions[0].request.headers["authorization"] == ["REDACTED"]


def test_odd_recorded_requests_do_not_break_the_report():
    cassette = load(TEXT)
    for body in ('{"messages": {"a": 1}}', '{"messages": 5, "tools": 5}', '{"tools": [{"function": "f"}]}'):
        cassette.interactions[0].request.body = body
        assert "Client request" in report(cassette)


def raises(pieces, dialect, **kw):
    raise RuntimeError("boom")


def test_a_translator_that_raises_is_a_failed_row_not_a_traceback(monkeypatch, capsysbinary):
    checks = {c.invariant: c for c in check_cassette(load(TEXT), raises)}
    assert checks["grammar"].ok is False and "RuntimeError: boom" in checks["grammar"].details[0]
    code, out, _ = run(monkeypatch, capsysbinary, "check", TEXT, "--translator", "test_report_shrink_diff:raises")
    assert code == 1 and out.strip().endswith("1 failed")
    code, _, err = run(monkeypatch, capsysbinary, "replay", TEXT, "--translator", "test_report_shrink_diff:raises")
    assert code == 2 and err.count("\n") == 1 and "boom" in err


def test_shrink_never_ends_on_a_cassette_our_translator_fails_too():
    small = shrink(
        load(CASSETTES / "vertex" / "gem-04-parallel-calls-across-chunks.yaml"), "conservation", drop_second_tool
    )
    assert all(c.ok is not False for c in check_cassette(small) if c.invariant != "expect")
    assert any(c.ok is False for c in check_cassette(small, drop_second_tool))


def test_diff_of_two_cassettes_uses_one_translator(tmp_path, monkeypatch, capsysbinary):
    copy = tmp_path / "copy.yaml"
    copy.write_text(PARALLEL.read_text())
    code, out, _ = run(
        monkeypatch, capsysbinary, "diff", PARALLEL, copy, "--translator", "broken_translators:drop_second_tool"
    )
    assert (code, out.strip()) == (0, "identical")


def test_reports_survive_windows_line_ends():
    cassette = load(TEXT)
    assert dumps(cassette_from_report(report(cassette).replace("\n", "\r\n"))) == dumps(cassette)


def test_importing_a_quirktape_cassette_keeps_it_whole(tmp_path, monkeypatch, capsysbinary):
    source = CASSETTES / "groq" / "err-06-connection-reset-mid-stream.yaml"
    code, _, _ = run(monkeypatch, capsysbinary, "import", source, "-o", tmp_path / "c.yaml")
    assert code == 0 and dumps(load(tmp_path / "c.yaml")) == dumps(load(source))


def test_check_skips_yaml_that_is_not_a_cassette_in_directories(tmp_path, monkeypatch, capsysbinary):
    (tmp_path / "c.yaml").write_text(TEXT.read_text())
    (tmp_path / "workflow.yml").write_text("name: ci\non: push\n")
    code, out, _ = run(monkeypatch, capsysbinary, "check", tmp_path)
    assert code == 0 and "workflow" not in out


def test_finish_on_last_keeps_the_usage_that_rode_on_the_finish():
    from recorder.judge import answers, mutate

    cassette = load(CASSETTES / "groq" / "use-03-usage-in-vendor-field.yaml")
    variant = mutate(cassette, "finish-on-last")
    assert not isinstance(variant, str)
    assert answers(variant, "finish-on-last") == answers(cassette, "finish-on-last")
