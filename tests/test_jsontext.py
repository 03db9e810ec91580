import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from translator import JsonPrefix, loads_partial, normalize_arguments
from translator.jsontext import mend_surrogates

leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text())
values = st.recursive(
    leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3), max_leaves=8
)
objects = st.dictionaries(st.text(), values, max_size=4)


@given(objects, st.integers(min_value=0, max_value=10**6))
def test_every_prefix_of_an_object_is_accepted_and_complete_only_at_the_end(obj, cut):
    text = json.dumps(obj, ensure_ascii=cut % 2 == 0)
    cut = cut % (len(text) + 1)
    scanner = JsonPrefix()
    assert scanner.feed(text[:cut])
    assert scanner.feed(text[cut:])
    assert scanner.complete
    partial = JsonPrefix()
    partial.feed(text[: len(text) - 1])
    assert not partial.complete


@pytest.mark.parametrize("text", ['"str"', "[1]", "{'a': 1}", '{"a": bad}', '{"a":1}{"b":2}', '{"a" 1}', '{"a":1,}x'])
def test_invalid_object_prefixes_are_rejected(text):
    assert not JsonPrefix().feed(text)


def test_failed_feed_keeps_the_state_before_the_fragment():
    scanner = JsonPrefix()
    assert scanner.feed('{"a": [1, ')
    assert not scanner.feed("oops]}")
    suffix = scanner.repair_suffix("oops]}")
    repaired = json.loads('{"a": [1, ' + suffix)
    assert repaired == {"a": [1, None], "_unparsed_arguments": "oops]}"}


@pytest.mark.parametrize(
    "prefix",
    ['{"a": "hel', '{"a": 1, "b', '{"k', '{"a": tr', '{"a": {"b": 1', "{", '{"a": "x\\', '{"a": "\\ud83d\\ude'],
)
def test_repair_suffix_always_closes_to_an_object(prefix):
    scanner = JsonPrefix()
    assert scanner.feed(prefix)
    settled = prefix[: len(prefix) - len(scanner.unsettled)]
    value = json.loads(settled + scanner.repair_suffix("rest"))
    assert isinstance(value, dict) and value["_unparsed_arguments"] == "rest"


@pytest.mark.parametrize(
    ("fragments", "unsettled"),
    [
        (['{"a": "\\ud8'], "\\ud8"),
        (['{"a": "x\\'], "\\"),
        (['{"a": "\\u00e9'], ""),
        (['{"a": "\\ud83d'], "\\ud83d"),
        (['{"a": "\\ud83d', "\\", "ud"], "\\ud83d\\ud"),
        (['{"a": "\\ud83d\\ude00'], ""),
        (['{"a": "\\ud83d\\ud83d'], "\\ud83d"),
        (['{"a": "\\ud83dx'], ""),
        (['{"a": "\\ud83d"'], ""),
        (['{"a": "\\\\ud83d'], ""),
        (['{"a": "x\ud83d'], "\ud83d"),
        (['{"a": "x\ud83d', "\ude00"], ""),
    ],
)
def test_unsettled_is_the_character_not_yet_whole(fragments, unsettled):
    scanner = JsonPrefix()
    assert all(scanner.feed(f) for f in fragments)
    assert scanner.unsettled == unsettled


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ('{"a": "\\ud8', {"a": ""}),
        ('{"a": "x\\u0', {"a": "x"}),
        ('{"a": "x\\ud83d\\ude', {"a": "x"}),
        ('{"a": "\\ud83d\\ude00\\ud83d', {"a": "\U0001f600"}),
        ('{"a": ["\\ud83d', {"a": [""]}),
        ('{"k\\ud8', {"k": None}),
    ],
)
def test_a_cut_character_is_dropped_and_the_rest_parses_strictly(prefix, expected):
    jiter = pytest.importorskip("jiter")  # the official SDK's parser, stricter than json about surrogates
    scanner = JsonPrefix()
    assert scanner.feed(prefix)
    closed = prefix[: len(prefix) - len(scanner.unsettled)] + scanner.repair_suffix("")
    assert jiter.from_json(closed.encode()) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": "plain \\n text"}', '{"a": "plain \\n text"}'),
        ('"\\ud83d\\ude00"', '"\\ud83d\\ude00"'),
        ('"\\udc00"', '"\\ufffd"'),
        ('"\\ud800x"', '"\\ufffdx"'),
        ('"\\ud800\\ud800\\udc00"', '"\\ufffd\\ud800\\udc00"'),
        ('"\\ude00\\ud83d"', '"\\ufffd\\ufffd"'),
        ('"\\\\ud800"', '"\\\\ud800"'),
        ('"\\u00e9\\uD800"', '"\\u00e9\\ufffd"'),
        ('"\ud83d\ude00"', '"\U0001f600"'),
        ('"a\udc00"', '"a\ufffd"'),
    ],
)
def test_mend_surrogates(text, expected):
    assert mend_surrogates(text) == expected


@given(objects, st.integers(min_value=0, max_value=10**6))
def test_loads_partial_agrees_with_the_sdk_partial_parser(obj, cut):
    jiter = pytest.importorskip("jiter")
    text = json.dumps(obj)
    prefix = text[: cut % (len(text) + 1)]
    try:
        expected = jiter.from_json(prefix.encode(), partial_mode=True)
    except ValueError:
        return  # jiter rejects some prefixes (e.g. inside an escape); the emitter never sends those
    if prefix.strip():
        assert loads_partial(prefix) == expected


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ('{"a": "x", "b": "\\ud8', {"a": "x"}),
        ('{"a": "x", "b": "\\ud83d', {"a": "x"}),
        ('{"a": "x", "b": "\\ud83d\\ude', {"a": "x"}),
        ('{"a": ["\\ud83d\\ude00", "\\ud83d', {"a": ["\U0001f600"]}),
        ('{"a": "x", "\\ud83d', {"a": "x"}),
    ],
)
def test_loads_partial_drops_a_string_cut_inside_a_character_like_the_sdk(prefix, expected):
    jiter = pytest.importorskip("jiter")
    assert loads_partial(prefix) == jiter.from_json(prefix.encode(), partial_mode=True) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("", {}),
        ("  ", {}),
        ('""', {}),
        ("null", {}),
        (None, {}),
        ('"{\\"path\\": \\"/tmp\\"}"', {"path": "/tmp"}),
        ({"a": 1}, {"a": 1}),
        ([1, 2], {"value": [1, 2]}),
        ("42", {"value": 42}),
        ('"plain words"', {"value": "plain words"}),
        ("{'a': 1}", {"_unparsed_arguments": "{'a': 1}"}),
        ('{"a": "x\\udc00"}', {"a": "x\ufffd"}),
        ({"\ud800": ["\ud83d\ude00", "\ud83d"]}, {"\ufffd": ["\U0001f600", "\ufffd"]}),
        ('"{\\"a\\": \\"\\\\ud800\\"}"', {"a": "\ufffd"}),
    ],
)
def test_normalize_arguments(source, expected):
    assert normalize_arguments(source) == expected
