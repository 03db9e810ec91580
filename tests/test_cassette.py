import difflib
import json
from pathlib import Path

import httpx
import pytest
import yaml
from helpers import CASSETTES, cassette_paths

from recorder.tape import Cassette, CassetteError, dumps, load, parse_cassette, save, save_expect

MINIMAL = {
    "version": 1,
    "interactions": [
        {
            "request": {"method": "POST", "uri": "http://127.0.0.1:9/v1/chat/completions", "body": "", "headers": {}},
            "response": {
                "status": {"code": 200, "message": "OK"},
                "headers": {},
                "body": {"string": "data: [DONE]\n\n"},
            },
        }
    ],
}


def write(tmp_path, text, name="c.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("just: [unclosed", "not valid YAML"),
        ("- a list", "not a cassette"),
        (json.dumps({"interactions": []}), "at least one interaction"),
        (
            json.dumps(
                {
                    **MINIMAL,
                    "interactions": [
                        {
                            **MINIMAL["interactions"][0],
                            "request": {"method": "GET", "uri": "x", "body": "", "headers": {}, "extra": 1},
                        }
                    ],
                }
            ),
            "extra",
        ),
        (
            yaml.safe_dump(
                {
                    **MINIMAL,
                    "interactions": [
                        {
                            **MINIMAL["interactions"][0],
                            "response": {
                                **MINIMAL["interactions"][0]["response"],
                                "headers": {"content-type": "text/plain"},
                            },
                        }
                    ],
                }
            ),
            "headers",
        ),
        (
            yaml.safe_dump(
                {
                    **MINIMAL,
                    "interactions": [
                        {
                            **MINIMAL["interactions"][0],
                            "response": {**MINIMAL["interactions"][0]["response"], "quirktape": {"offsets": [0, 99]}},
                        }
                    ],
                }
            ),
            "offset",
        ),
    ],
)
def test_malformed_files_are_rejected_with_one_line(tmp_path, text, fragment):
    with pytest.raises(CassetteError) as info:
        load(write(tmp_path, text))
    message = str(info.value)
    assert fragment in message and "\n" not in message


def test_missing_file(tmp_path):
    with pytest.raises(CassetteError, match="no such file"):
        load(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    "body",
    [
        "data: a\r\n\r\ndata: b\r\n\r\n",
        'data: {"t": "ünïcödé \u2028 😀"}\n\n',
        "trailing spaces   \n\n  leading\n",
        "no newline at all",
        b"data: \xff\xfe broken utf-8\n\n",
    ],
)
def test_save_and_load_keep_the_body_exactly(tmp_path, body):
    data = json.loads(json.dumps(MINIMAL))
    cassette = parse_cassette(data)
    cassette.interactions[0].response.body.string = body
    path = tmp_path / "c.yaml"
    save(cassette, path)
    assert load(path).interactions[0].response.body.string == body
    assert path.read_bytes().isascii()


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "c.yaml"
    save(parse_cassette(MINIMAL), path)
    before = path.read_bytes()

    def broken_write(*args, **kwargs):
        raise OSError("disk full")

    import recorder.tape.cassette as module

    monkeypatch.setattr(module.os, "replace", broken_write)
    with pytest.raises(OSError):
        save(parse_cassette({**MINIMAL, "metadata": {"title": "new"}}), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.yaml"]


def test_dump_is_stable():
    cassette = parse_cassette(MINIMAL)
    assert dumps(parse_cassette(yaml.safe_load(dumps(cassette)))) == dumps(cassette)


@pytest.mark.parametrize("path", cassette_paths(), ids=lambda p: str(p.relative_to(p.parents[1])))
def test_stock_vcrpy_replays_each_bundled_cassette_to_httpx(path):
    vcr = pytest.importorskip("vcr")
    cassette: Cassette = load(path)
    first = cassette.interactions[0]
    recorder = vcr.VCR(record_mode="none")
    with recorder.use_cassette(str(path)):
        with httpx.Client() as client:
            response = client.request(first.request.method, first.request.uri, content=first.request.body or b"")
    assert response.status_code == first.response.status.code
    assert response.content == first.response.raw


def test_saved_files_get_ordinary_permissions(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        save(parse_cassette(MINIMAL), tmp_path / "c.yaml")
    finally:
        os.umask(umask)
    assert (tmp_path / "c.yaml").stat().st_mode & 0o777 == 0o644


def test_save_expect_touches_only_the_expect_block(tmp_path):
    source = CASSETTES / "openai" / "mix-01-text-then-tool.yaml"
    path = tmp_path / "c.yaml"
    path.write_text(source.read_text())
    cassette = load(path)
    cassette.metadata.expect.stop_reason = "max_tokens"
    save_expect(path, cassette)
    before, after = source.read_text().splitlines(), path.read_text().splitlines()
    head = before.index("        expect:")  # in the first response's quirktape.metadata
    assert after[:head] == before[:head]  # everything before the expectation is byte-identical
    assert _outside_expect(after, 8) == _outside_expect(before, 8) != before  # and the rest is as it was
    assert load(path).metadata.expect.stop_reason == "max_tokens"
    assert dumps(load(path)) == dumps(cassette)


# -- where the metadata is written: the first response's quirktape, not the top level ------------------------------

META = {"title": "t", "provider": "p", "tags": ["MIX-01"], "expect": {"stop_reason": "end_turn"}}


def _with(metadata_at: str, metadata: dict | None = None, interactions: int = 1) -> dict:
    """MINIMAL as quirktape writes it (a ``quirktape`` mapping in each response), ``interactions`` times, its
    metadata at the ``top`` (the old shape), in interaction ``N``'s quirktape (``"0"``: the new shape), or ``none``."""
    data = json.loads(json.dumps(MINIMAL))
    data["interactions"] = [json.loads(json.dumps(MINIMAL["interactions"][0])) for _ in range(interactions)]
    for interaction in data["interactions"]:
        interaction["response"]["quirktape"] = {"ending": "done"}
    metadata = META if metadata is None else metadata
    if metadata_at == "top":
        data["metadata"] = metadata
    elif metadata_at != "none":
        data["interactions"][int(metadata_at)]["response"]["quirktape"] = {"metadata": metadata, "ending": "done"}
    return data


def _old_shape(path: Path) -> str:
    """A bundled cassette as quirktape wrote it before: its metadata at the top level."""
    data = yaml.safe_load(path.read_text())
    metadata = data["interactions"][0]["response"]["quirktape"].pop("metadata")
    return yaml.safe_dump({**data, "metadata": metadata}, sort_keys=False)


def test_the_old_shape_still_loads(tmp_path):
    cassette = load(write(tmp_path, yaml.safe_dump(_with("top"))))
    assert (cassette.metadata.title, cassette.metadata.tags, cassette.metadata.expect.stop_reason) == (
        "t",
        ["MIX-01"],
        "end_turn",
    )


def test_the_new_shape_loads_into_the_same_model():
    assert parse_cassette(_with("0")) == parse_cassette(_with("top"))
    assert parse_cassette(_with("0")).metadata.provider == "p"


def test_the_metadata_is_written_first_in_the_first_response_and_nowhere_else():
    cassette = parse_cassette(_with("top", interactions=2))
    data = yaml.safe_load(dumps(cassette))
    assert list(data) == ["version", "interactions"]
    first, second = (i["response"] for i in data["interactions"])
    assert list(first) == ["status", "headers", "quirktape", "body"]  # the title above the body
    assert list(first["quirktape"]) == ["metadata", "dialect", "ending"]
    assert first["quirktape"]["metadata"]["title"] == "t" and first["quirktape"]["metadata"]["expect"] == {
        "stop_reason": "end_turn"
    }
    assert "metadata" not in second["quirktape"]
    text = dumps(cassette)
    assert text.index("title: t") < text.index("    body:\n      string:") and "\nmetadata:" not in text


def test_an_old_shape_file_round_trips_to_the_new_shape(tmp_path):
    path = write(tmp_path, yaml.safe_dump(_with("top")))
    old = load(path)
    save(old, path)
    assert "metadata" not in yaml.safe_load(path.read_text())
    assert load(path) == old
    assert dumps(load(path)) == dumps(old)


def test_when_both_places_hold_metadata_the_first_responses_wins_and_the_top_level_is_not_written():
    """quirktape never writes both: a top-level ``metadata`` next to it is vcrpy's own (get_metadata)."""
    data = _with("0")
    data["metadata"] = {"recorded_by": "ci", "title": "vcrpy's"}
    cassette = parse_cassette(data)
    assert cassette.metadata.title == "t" and not hasattr(cassette.metadata, "recorded_by")
    assert "recorded_by" not in dumps(cassette) and "metadata" in data  # and the input is not changed
    assert data["interactions"][0]["response"]["quirktape"]["metadata"] is META


def test_metadata_on_a_later_interaction_is_refused_in_one_line():
    with pytest.raises(CassetteError) as info:
        parse_cassette(_with("1", interactions=2), "c.yaml")
    message = str(info.value)
    assert message.startswith("c.yaml: interactions.1.response.quirktape.metadata: ") and "\n" not in message


def test_bad_metadata_in_the_first_response_is_named_where_it_is():
    with pytest.raises(CassetteError) as info:
        parse_cassette(_with("0", {"title": "t", "tags": "MIX-01"}), "c.yaml")
    assert str(info.value).startswith("c.yaml: invalid cassette: interactions.0.response.quirktape.metadata.tags: ")
    with pytest.raises(CassetteError, match=r"c.yaml: invalid cassette: metadata.tags: "):
        parse_cassette(_with("top", {"tags": "MIX-01"}), "c.yaml")


def test_parse_cassette_leaves_its_input_as_it_was():
    data = _with("0")
    before = json.dumps(data, sort_keys=True)
    parse_cassette(data)
    assert json.dumps(data, sort_keys=True) == before


def test_the_importer_takes_either_shape_as_a_cassette_with_its_metadata(tmp_path):
    from recorder.capture.importers import detect_format, import_file

    for shape in ("0", "top"):
        path = write(tmp_path, yaml.safe_dump(_with(shape)), f"{shape}.yaml")
        assert detect_format(path.read_bytes()) == "quirktape"
        assert import_file(path).metadata == parse_cassette(_with("top")).metadata
    plain = json.loads(json.dumps(MINIMAL))
    plain["metadata"] = {"recorded_by": "ci"}  # vcrpy's own top-level metadata: a plain vcrpy cassette
    assert detect_format(yaml.safe_dump(plain).encode()) == "vcr"


# -- save_expect on either shape --------------------------------------------------------------------------------------


def _edited(path: Path, change) -> tuple[list[str], list[str], Cassette]:
    before = path.read_text().splitlines()
    cassette = load(path)
    change(cassette.metadata)
    save_expect(path, cassette)
    after = path.read_text().splitlines()
    assert dumps(load(path)) == dumps(cassette)
    return before, after, cassette


def _diff(before: list[str], after: list[str]) -> list[str]:
    return [line for line in difflib.ndiff(before, after) if line[:1] in "+-"]


def _outside_expect(lines: list[str], indent: int) -> list[str]:
    """The lines without the ``expect`` block of the metadata whose keys are at column ``indent``."""
    key = " " * indent + "expect:"
    if key not in lines:
        return lines
    start = lines.index(key)
    stop = start + 1
    while stop < len(lines) and (not lines[stop].strip() or len(lines[stop]) - len(lines[stop].lstrip()) > indent):
        stop += 1
    return lines[:start] + lines[stop:]


def test_save_expect_splices_an_old_shape_file_in_place(tmp_path):
    """A file keeps its shape as it keeps its formatting: only the expect lines change."""
    path = write(tmp_path, _old_shape(CASSETTES / "openai" / "mix-01-text-then-tool.yaml"))

    def change(metadata):
        metadata.expect.stop_reason = "max_tokens"

    before, after, _ = _edited(path, change)
    assert _diff(before, after) == ["-     stop_reason: tool_use", "+     stop_reason: max_tokens"]
    assert "metadata" in yaml.safe_load(path.read_text())  # still the old shape


def test_save_expect_adds_and_removes_the_block_inside_the_first_response(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text((CASSETTES / "openai" / "mix-01-text-then-tool.yaml").read_text())
    original = path.read_text().splitlines()

    def drop(metadata):
        metadata.expect = None

    before, after, _ = _edited(path, drop)
    removed = _diff(before, after)
    assert removed and all(line.startswith("-         ") for line in removed)  # expect's lines, nothing else
    assert removed[0] == "-         expect:"

    def restore(metadata):
        metadata.expect = load(CASSETTES / "openai" / "mix-01-text-then-tool.yaml").metadata.expect

    _, after, _ = _edited(path, restore)
    added = _diff(original, after)
    assert all(line.startswith(("+         ", "-         ")) for line in added)  # rewritten in place
    data = yaml.safe_load(path.read_text())
    assert list(data["interactions"][0]["response"]["quirktape"]) == ["metadata", "dialect", "stream", "ending"]
    assert list(data["interactions"][0]["response"]["quirktape"]["metadata"])[-1] == "expect"


def test_save_expect_leaves_vcrpys_own_top_level_metadata_alone(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        (CASSETTES / "openai" / "mix-01-text-then-tool.yaml").read_text() + "metadata:\n  recorded_by: ci\n"
    )

    def change(metadata):
        metadata.expect.stop_reason = "max_tokens"

    before, after, _ = _edited(path, change)
    assert _outside_expect(after, 8) == _outside_expect(before, 8)
    assert after[-2:] == ["metadata:", "  recorded_by: ci"]
    assert yaml.safe_load(path.read_text())["metadata"] == {"recorded_by": "ci"}


def test_save_expect_writes_a_flow_style_metadata_whole_in_the_new_shape(tmp_path):
    path = write(tmp_path, json.dumps(_with("top")))  # JSON is YAML: a flow mapping, no block to splice into
    cassette = load(path)
    cassette.metadata.expect.stop_reason = "max_tokens"
    save_expect(path, cassette)
    written = yaml.safe_load(path.read_text())
    assert "metadata" not in written
    assert written["interactions"][0]["response"]["quirktape"]["metadata"]["expect"] == {"stop_reason": "max_tokens"}
