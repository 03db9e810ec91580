"""Each command imports what it needs (issue 12): which modules a command loads, never how long it takes.

Every run is a fresh interpreter (``python -c``), since this process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import CASSETTES, ROOT

TEXT = CASSETTES / "vllm" / "report-empty-tool-calls-text-lost.yaml"

RUN_CLI = """
import json, sys
out, sys.argv = sys.argv[1], ["quirktape", *sys.argv[2:]]
from recorder.cli import main
try:
    main()
finally:
    with open(out, "w") as f:
        json.dump(sorted(sys.modules), f)
"""

SERVERS = {"httpx", "starlette", "uvicorn"}
CASSETTE_MODEL = {"pydantic", "yaml", "recorder.tape.cassette"}
TRANSLATION = {"translator.stream", "translator.accumulate"}
LAZY = "translator._lazy"  # the lazy-package helper every package of both uses: tiny, imported by all
JUDGE = {f"recorder.judge.{m}" for m in ("oracle", "latency", "view", "shrink", "mutate", "report", "diff", "gauntlet")}
CAPTURE = {f"recorder.capture.{m}" for m in ("importers", "record", "wire", "proxy", "gateway")} | {"http.cookiejar"}
REPLAY_EXTRAS = {f"recorder.replay.{m}" for m in ("transport", "anthropic_side", "serve", "asgi")}
REQUESTS = {"translator.grammar", "translator.gemini_request", "translator.openai_request"}


def loaded_by(tmp_path, *args: str) -> set[str]:
    """The modules ``quirktape ARGS`` had imported when it exited."""
    out = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", RUN_CLI, str(out), *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode in (0, 1), done.stderr
    return set(json.loads(out.read_text()))


def loaded_by_code(code: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["replay", "--help"], ["check", "--help"]])
def test_help_and_version_load_no_cassette_model_translator_judge_or_capture(tmp_path, args):
    loaded = loaded_by(tmp_path, *args)
    assert not loaded & (CASSETTE_MODEL | TRANSLATION | JUDGE | CAPTURE | REPLAY_EXTRAS | SERVERS)
    assert "pydantic_core" not in loaded and not any(m.startswith("translator.") for m in loaded - {LAZY})


@pytest.mark.parametrize("fmt", ["sse", "jsonl", "message"])
def test_replay_loads_the_cassette_and_the_translator_only(tmp_path, fmt):
    loaded = loaded_by(tmp_path, "replay", str(TEXT), "--format", fmt)
    assert CASSETTE_MODEL | TRANSLATION | {"recorder.replay.playback"} <= loaded
    assert not loaded & (JUDGE | CAPTURE | REPLAY_EXTRAS | REQUESTS | SERVERS | {"recorder.judge"})


def test_check_loads_the_oracle_not_the_tools_built_on_it(tmp_path):
    loaded = loaded_by(tmp_path, "check", str(TEXT))
    assert {"recorder.judge.oracle", "recorder.judge.catalogue"} <= loaded
    unused = {f"recorder.judge.{m}" for m in ("view", "shrink", "mutate", "report", "diff", "gauntlet")}
    assert not loaded & (unused | CAPTURE | REPLAY_EXTRAS | SERVERS)


def test_import_loads_the_importers_not_the_live_capture(tmp_path):
    chunk = {"choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}]}
    (tmp_path / "s.sse").write_text(f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n")
    loaded = loaded_by(
        tmp_path, "import", str(tmp_path / "s.sse"), "--dialect", "openai", "-o", str(tmp_path / "c.yaml")
    )
    assert (tmp_path / "c.yaml").exists()
    assert "recorder.capture.importers" in loaded
    assert not loaded & ({"recorder.capture.record", "recorder.capture.wire", "http.cookiejar"} | JUDGE | SERVERS)


@pytest.mark.parametrize("code", ["import recorder", "import translator", "import quirktape", "import recorder.cli"])
def test_importing_a_package_loads_none_of_its_modules(code):
    loaded = loaded_by_code(code)
    assert not loaded & (CASSETTE_MODEL | TRANSLATION | JUDGE | CAPTURE | REPLAY_EXTRAS | REQUESTS | SERVERS)
    assert "pydantic_core" not in loaded


@pytest.mark.parametrize(
    ("first", "name", "expected"),
    [
        ("import recorder.replay.playback", "recorder.replay", "recorder.replay.playback.replay"),
        ("import recorder.judge.report", "recorder.judge.report", "recorder.judge.report.report"),
        ("import recorder.judge.view", "recorder.judge.view", "recorder.judge.view.view"),
        ("import recorder.capture.record", "recorder.capture.record", "recorder.capture.record.record"),
        ("import translator.accumulate", "translator.accumulate", "translator.accumulate.accumulate"),
    ],
)
def test_a_function_named_like_its_module_stays_the_function_whichever_is_imported_first(first, name, expected):
    package, _, attribute = name.rpartition(".")
    module, _, function = expected.rpartition(".")
    code = (
        f"{first}\nimport importlib, sys\n"
        f"got = getattr(sys.modules[{package!r}], {attribute!r})\n"
        f"assert got is getattr(sys.modules[{module!r}], {function!r}), got\n"
        f"from {package} import {attribute} as again\nassert again is got\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


def test_every_public_name_resolves_to_its_definition():
    import quirktape
    import recorder
    import recorder.capture
    import recorder.judge
    import recorder.replay
    import recorder.tape
    import translator

    packages = [
        sys.modules[name] for name in ("recorder.capture", "recorder.judge", "recorder.replay", "recorder.tape")
    ]
    for package in [recorder, translator, quirktape, *packages]:
        assert set(package.__all__) <= set(dir(package)), package.__name__
        for name in package.__all__:
            assert getattr(package, name) is not None, (package.__name__, name)
    assert recorder.replay.__module__ == "recorder.replay.playback"
    assert recorder.judge.report is sys.modules["recorder.judge.report"].report
    assert quirktape.check_cassette is sys.modules["recorder.judge.oracle"].check_cassette
    with pytest.raises(AttributeError):
        recorder.tape.no_such_name  # noqa: B018


def test_option_values_read_on_first_use_are_those_of_their_modules(monkeypatch, capsysbinary):
    from helpers import run_cli

    from recorder.capture import FORMATS
    from recorder.capture.wire import DEFAULT_TIMEOUT
    from recorder.judge import SHRINKABLE, VARIANTS
    from recorder.tape import UPSTREAMS

    for command, option, values in [
        ("mutate", "--variant", VARIANTS),
        ("shrink", "--invariant", SHRINKABLE),
        ("import", "--format", ["auto", *FORMATS, "markdown", "quirktape"]),
        ("import", "--dialect", UPSTREAMS),
        ("proxy", "--dialect", UPSTREAMS),
    ]:
        code, _, err = run_cli(monkeypatch, capsysbinary, command, option, "no-such-value")
        assert code == 2 and ", ".join(f"'{v}'" for v in values) in err, (command, option, err)
    code, out, _ = run_cli(monkeypatch, capsysbinary, "record", "--help")
    assert code == 0 and f"[default: {DEFAULT_TIMEOUT}]" in " ".join(out.split())
