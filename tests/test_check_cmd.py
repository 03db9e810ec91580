"""``quirktape check`` reports every cassette, says what kind each finding is, and exits by the worst."""

from __future__ import annotations

import json
import shutil

from helpers import CASSETTES, run_cli

TEXT = CASSETTES / "vllm" / "report-empty-tool-calls-text-lost.yaml"
PARALLEL = CASSETTES / "mlx-lm" / "report-parallel-tool-calls-one-delta.yaml"


def _library(tmp_path):
    shutil.copy(TEXT, tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text(TEXT.read_text().replace("dialect: openai", "dialect: klingon"))
    (tmp_path / "c.yaml").write_text("interactions: [\n")
    shutil.copy(PARALLEL, tmp_path / "d.yaml")
    return tmp_path


def test_one_broken_cassette_does_not_hide_the_others(tmp_path, monkeypatch, capsysbinary):
    code, out, err = run_cli(monkeypatch, capsysbinary, "check", _library(tmp_path))
    assert code == 2, err
    rows = [line.split() for line in out.splitlines() if line[:1] not in (" ", "")]
    judged = {row[2].rsplit("/", 1)[-1] for row in rows if row[0] in ("ok", "FAIL", "warn")}
    assert judged == {"a.yaml", "d.yaml"}
    assert [row[2].rsplit("/", 1)[-1] for row in rows if row[0] == "ERR"] == ["b.yaml", "c.yaml"]
    assert "b.yaml: unknown upstream dialect 'klingon'" in out
    assert "c.yaml: not valid YAML at line 2" in out


def test_json_is_printed_even_when_a_cassette_is_unreadable(tmp_path, monkeypatch, capsysbinary):
    code, out, _ = run_cli(monkeypatch, capsysbinary, "check", _library(tmp_path), "--json")
    doc = json.loads(out)
    assert code == 2 and doc["unreadable"] == 2 and doc["failed"] == 0
    errors = {c["path"].rsplit("/", 1)[-1]: c.get("error") for c in doc["cassettes"]}
    assert errors["a.yaml"] is None and "klingon" in errors["b.yaml"]


def test_failures_carry_their_category_and_kind(tmp_path, monkeypatch, capsysbinary):
    shutil.copy(PARALLEL, tmp_path / "d.yaml")
    args = ("check", tmp_path, "--translator", "broken_translators:drop_second_tool")
    code, out, _ = run_cli(monkeypatch, capsysbinary, *args, "--json")
    doc = json.loads(out)
    assert code == 1 and doc["failures_by_category"]["data"] >= 1
    conservation = next(c for c in doc["cassettes"][0]["checks"] if c["invariant"] == "conservation")
    assert {"category": "data", "kind": "call_lost"}.items() <= conservation["findings"][0].items()
    code, text, _ = run_cli(monkeypatch, capsysbinary, *args, "--failures-only")
    rows = [line.split()[0] for line in text.splitlines() if line[:1] not in (" ", "")]
    assert code == 1 and set(rows[:-2]) == {"FAIL"}  # then the coverage and summary lines
    assert "data/call_lost: interaction 0: 2 upstream tool call(s) but 1 tool_use block(s)" in text


def test_policy_differences_warn_for_a_foreign_translator_unless_strict(tmp_path, monkeypatch, capsysbinary):
    (tmp_path / "pinging.py").write_text(
        "from translator import translate_stream\n"
        "def translate(pieces, dialect, **kw):\n"
        "    pieces = list(pieces)\n"
        "    events, ir = translate_stream(pieces, dialect, **kw)\n"
        "    return events[:1] + [{'type': 'ping'}] * (len(pieces) % 2) + events[1:], ir\n"
    )
    monkeypatch.chdir(tmp_path)  # the module is found in the current directory, as pytest finds it
    code, out, _ = run_cli(monkeypatch, capsysbinary, "check", TEXT, "--translator", "pinging:translate")
    assert code == 0 and "warn  rechunk" in out and "warning: policy/event_boundaries" in out
    code, out, _ = run_cli(monkeypatch, capsysbinary, "check", TEXT, "--translator", "pinging:translate", "--strict")
    assert code == 1 and "FAIL  rechunk" in out


def test_a_translator_with_the_wrong_signature_is_named_as_such(tmp_path, monkeypatch, capsysbinary):
    (tmp_path / "wrong.py").write_text("def translate(body):\n    return [], None\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(monkeypatch, capsysbinary, "check", TEXT, "--translator", "wrong:translate")
    assert code == 2 and err.count("\n") == 1 and "translator signature" in err
