"""quirks.md part L: every synthetic variant of every cassette gives the same translation
(wherever the catalogue says it must), and each variant really changes the wire."""

import pytest
from helpers import CASSETTES, cassette_paths

from recorder.judge import VARIANTS, answers, check_cassette, mutate
from recorder.tape import load

PATHS = cassette_paths()


@pytest.mark.parametrize("path", PATHS, ids=[str(p.relative_to(p.parents[1])) for p in PATHS])
def test_variants_do_not_change_the_translation(path):
    cassette = load(path)
    for name in VARIANTS:
        variant = mutate(cassette, name)
        if isinstance(variant, str):
            continue
        assert [i.response.raw for i in variant.interactions] != [i.response.raw for i in cassette.interactions], name
        assert answers(variant, name) == answers(cassette, name), name
        assert not [c.details for c in check_cassette(variant) if c.ok is False], name  # written variants check clean


def test_each_variant_applies_somewhere():
    applied = {name: 0 for name in VARIANTS}
    for path in PATHS:
        cassette = load(path)
        for name in VARIANTS:
            applied[name] += not isinstance(mutate(cassette, name), str)
    assert all(applied.values()), applied


def test_variant_shapes():
    cassette = load(CASSETTES / "openai" / "mix-01-text-then-tool.yaml")
    assert b"\r\n\r\n" in mutate(cassette, "crlf").interactions[0].response.raw
    assert b": quirktape keepalive" in mutate(cassette, "comments").interactions[0].response.raw
    assert b"[DONE]" not in mutate(cassette, "no-done").interactions[0].response.raw
    assert mutate(cassette, "no-done").interactions[0].response.quirktape.ending == "eof"
    assert "variant:crlf" in mutate(cassette, "crlf").metadata.tags


def test_data_after_done_is_not_a_no_done_case():
    assert "FIN-08" in mutate(load(CASSETTES / "vllm" / "fin-08-data-after-done.yaml"), "no-done")
