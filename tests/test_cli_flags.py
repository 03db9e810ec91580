"""Flags mean one thing in every command (``--upstream URL``, ``--dialect NAME``, ``-o FILE``, ``-d DIR``),
and the old spellings keep working: ``record --upstream DIALECT --base-url URL``, ``import --upstream
DIALECT``, ``-o DIR``, ``gauntlet --upstream-url``."""

from __future__ import annotations

import json

import pytest
import yaml
from helpers import CASSETTES, run_cli

from recorder.replay.asgi import running
from recorder.replay.serve import serve_app
from recorder.tape import load

TEXT = CASSETTES / "vllm" / "report-empty-tool-calls-text-lost.yaml"


def _raw_request(tmp_path) -> str:
    body = json.loads(load(TEXT).interactions[0].request.body)
    path = tmp_path / "raw.json"
    path.write_text(json.dumps(body))
    return str(path)


def test_record_new_and_old_spellings_record_the_same(tmp_path, monkeypatch, capsysbinary):
    raw = _raw_request(tmp_path)
    with running(serve_app(load(TEXT))) as url:
        new = ("--dialect", "openai", "--upstream", f"{url}/v1")
        old = ("--upstream", "openai", "--base-url", f"{url}/v1")
        for name, flags in (("new", new), ("old", old)):
            args = ("record", *flags, "--model", "m", "--raw-request", raw, "--stream", "-o", tmp_path / f"{name}.yaml")
            code, _, err = run_cli(monkeypatch, capsysbinary, *args)
            assert code == 0, err
    bodies = [load(tmp_path / f"{n}.yaml").interactions[0].response.raw for n in ("new", "old")]
    assert bodies[0] == bodies[1] == load(TEXT).interactions[0].response.raw


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--dialect", "openai"), "missing option --upstream URL"),
        (("--upstream", "http://127.0.0.1:9/v1"), "missing option --dialect"),
        (("--upstream", "gemini", "--dialect", "openai", "--base-url", "http://x/v1"), "contradicts --dialect openai"),
        (("--dialect", "openai", "--upstream", "http://a/v1", "--base-url", "http://b/v1"), "different URLs"),
    ],
)
def test_record_target_errors_are_one_line(tmp_path, monkeypatch, capsysbinary, flags, message):
    args = ("record", *flags, "--model", "m", "--raw-request", _raw_request(tmp_path), "-o", tmp_path / "x.yaml")
    code, _, err = run_cli(monkeypatch, capsysbinary, *args)
    assert code == 2 and err.count("\n") == 1 and message in err, err


def test_import_takes_dialect_and_its_old_spelling(tmp_path, monkeypatch, capsysbinary):
    stream = tmp_path / "s.sse"
    stream.write_bytes(load(TEXT).interactions[0].response.raw)
    for flag in ("--dialect", "--upstream"):
        out = tmp_path / f"{flag.strip('-')}.yaml"
        code, _, err = run_cli(monkeypatch, capsysbinary, "import", stream, flag, "openai", "-o", out)
        assert code == 0, err
    assert (tmp_path / "dialect.yaml").read_text() == (tmp_path / "upstream.yaml").read_text()


def test_mutate_writes_to_d_and_to_the_old_o(tmp_path, monkeypatch, capsysbinary):
    for flag in ("-d", "-o", "--out-dir"):
        folder = tmp_path / flag.strip("-")
        code, _, err = run_cli(monkeypatch, capsysbinary, "mutate", TEXT, "--variant", "crlf", flag, folder)
        assert code in (0, 1), err
        assert [p.suffix for p in folder.iterdir()] == [".yaml"]


def test_a_folder_flag_given_twice_differently_is_bad_usage(tmp_path, monkeypatch, capsysbinary):
    code, _, err = run_cli(monkeypatch, capsysbinary, "mutate", TEXT, "-d", tmp_path / "a", "-o", tmp_path / "b")
    assert code == 2 and err.count("\n") == 1 and "--out-dir was given twice" in err


@pytest.mark.parametrize("command", ["proxy", "gateway"])
def test_proxy_and_gateway_need_a_folder_under_either_spelling(monkeypatch, capsysbinary, command):
    code, _, err = run_cli(monkeypatch, capsysbinary, command, "--upstream", "http://127.0.0.1:9/v1")
    assert code == 2 and err.count("\n") == 1 and "missing option --out-dir" in err
    code, _, err = run_cli(monkeypatch, capsysbinary, command, "--upstream", "ftp://x", "-o", "somewhere")
    assert code == 2 and "must be an http(s) URL" in err  # -o DIR was taken: the next check speaks


def test_gauntlet_upstream_and_its_old_spelling_write_the_same_config(tmp_path, monkeypatch, capsysbinary):
    for flag in ("--upstream", "--upstream-url"):
        config = tmp_path / f"{flag.strip('-')}.yaml"
        args = ("gauntlet", TEXT, "--litellm-config", config, flag, "http://127.0.0.1:4321")
        code, _, err = run_cli(monkeypatch, capsysbinary, *args)
        assert code == 0, err
        assert "http://127.0.0.1:4321" in yaml.safe_dump(yaml.safe_load(config.read_text()))
    assert (tmp_path / "upstream.yaml").read_text() == (tmp_path / "upstream-url.yaml").read_text()


def test_the_litellm_config_never_overwrites_an_input_and_dash_is_stdout(tmp_path, monkeypatch, capsysbinary):
    import shutil

    monkeypatch.chdir(tmp_path)
    cassette = tmp_path / "c.yaml"
    shutil.copyfile(TEXT, cassette)
    before = cassette.read_bytes()
    code, _, err = run_cli(monkeypatch, capsysbinary, "gauntlet", cassette, "--litellm-config", cassette)
    assert code == 2 and "is also an input" in err and cassette.read_bytes() == before
    code, _, err = run_cli(monkeypatch, capsysbinary, "gauntlet", tmp_path, "--litellm-config", cassette)
    assert code == 2 and "is also an input" in err and cassette.read_bytes() == before
    code, out, err = run_cli(monkeypatch, capsysbinary, "gauntlet", cassette, "--litellm-config", "-")
    assert code == 0, err
    assert yaml.safe_load(out)["model_list"] and not (tmp_path / "-").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("check", TEXT, "--interaction", "1"), "--interaction goes with --output"),
        (("report", TEXT, "--interaction", "3"), "--interaction goes with --gateway-output"),
        (("view", TEXT, "-o", "-", "--max-holdback-ms", "-5"), "-5.0 is not in the range x>=0"),
        (("check", TEXT, "--max-holdback-ms", "-1"), "is not in the range x>=0"),
        (("gauntlet", TEXT, "--litellm-config", "-", "--gateway", "http://127.0.0.1:9"), "no gateway is driven"),
    ],
)
def test_a_flag_that_would_be_ignored_is_bad_usage(monkeypatch, capsysbinary, args, message):
    code, _, err = run_cli(monkeypatch, capsysbinary, *args)
    assert code == 2 and message in err, err
