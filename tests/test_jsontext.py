"""kstate.jsontext writes what ``json.dumps(doc, indent=2, ensure_ascii=False)``
writes, byte for byte (the snapshot goes through it), and the snapshot still
spells out DEL, C1 and bidi characters."""

import json

from hypothesis import given, settings, strategies as st

import kstate
from kstate import jsontext
from kstate.cli import run

_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
            | st.text(alphabet=st.characters(codec="utf-8")))
_DOCS = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                     | st.tuples(inner, inner)
                     | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(_DOCS)
def test_the_same_text_as_json_dumps(doc):
    assert jsontext.dumps(doc) == json.dumps(doc, indent=2, ensure_ascii=False)


def test_the_edges_of_the_format():
    for doc in ({}, [], {"a": []}, {"a": {}}, [[[]]], {"": {"": None}}, [1.5, -0.0, float("inf")],
                {"q\"\\\n\x01é": "\u2028"}, (1, (2,)), True, 12, "x"):
        assert jsontext.dumps(doc) == json.dumps(doc, indent=2, ensure_ascii=False), doc


def test_a_key_that_is_not_a_string_is_refused():
    try:
        jsontext.dumps({1: 2})
    except TypeError as err:
        assert "keys must be str" in str(err)
    else:
        raise AssertionError("an int key was written")


def test_the_snapshot_spells_out_del_and_bidi_characters(tmp_path):
    (tmp_path / "a.kstate").write_text("/// del \x7f here\nstate a {\n    id = 1;\n    version = 1;\n"
                                       "    /// rlo \u202e there\n    x: u8;\n}\n", encoding="utf-8")
    assert run(["compile", str(tmp_path / "a.kstate"), "-o", str(tmp_path / "gen"), "--lang", "json"]) == 0
    text = (tmp_path / "gen" / "kstate-snapshot.json").read_text(encoding="utf-8")
    assert "del \\u007f here" in text and "rlo \\u202e there" in text
    assert "\x7f" not in text and "\u202e" not in text
    ss = kstate.load(tmp_path / "gen" / "kstate-snapshot.json")
    assert "\x7f" in ss.states["a"].doc and "\u202e" in ss.states["a"].members[0].doc
