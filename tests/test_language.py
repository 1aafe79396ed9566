"""The language: parsing, contextual keywords, doc comments, expressions,
imports and layouts, checked through the model that ``kstate.load`` builds."""

import textwrap

import pytest

import kstate
from kstate import model as m
from kstate.errors import SchemaError


def load_text(tmp_path, text, name="s.kstate"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return kstate.load(path)


def test_spec_examples_compile_with_the_layouts_the_spec_gives():
    ss = kstate.load("schemas")
    memfd = ss.states["memfd"]
    names = {v: [n for n, _ in m.member_names(memfd.layouts[v])] for v in memfd.versions}
    assert names == {
        1: ["pos", "size", "nr_folios", "folios", "name", "old_flags"],
        2: ["pos", "size", "seals", "nr_folios", "folios", "name", "old_flags"],
        3: ["pos", "size", "seals", "nr_folios", "folios", "name"],
    }
    assert ss.structs["memfd_folio"].size == 16
    assert ss.states["test_v2"].parent is ss.states["test"]
    assert ss.states["pci"].versions == range(2, 3)
    assert memfd.field("nr_folios").counts == ("folios",)
    assert memfd.field("nr_folios").max == 1 << 20


def test_keywords_are_contextual(tmp_path):
    ss = load_text(tmp_path, """
        state flags {
            id = 1;
            version = 1;
            flags: u32;
            id: u64;
            version: u16;
            bits: u8;
            subsection: u8;
            reason: u8;
            min_version: u8;
            folio: folio;
            state: u8;
            bits u8 { import: 3; retired: 2; }
        }
        """)
    st = ss.states["flags"]
    assert st.id == 1 and st.version == 1
    assert [n for n, _ in m.member_names(st.members)] == [
        "flags", "id", "version", "bits", "subsection", "reason", "min_version", "folio", "state",
        "import", "retired"]


def test_python_keywords_are_allowed_and_spelt_for_python(tmp_path):
    ss = load_text(tmp_path, "state s { id = 1; version = 1; from: u8; in: u8; match: u8; }")
    f = ss.states["s"].field("from")
    assert (f.name, f.py_name, f.c_name) == ("from", "from_", "from")
    assert ss.states["s"].field("match").py_name == "match_"


def test_doc_comments_attach_to_the_next_item_or_member(tmp_path):
    ss = load_text(tmp_path, """
        /// The state.
        /// Second line.
        state s {
            id = 1; version = 1;
            /// A field.
            a: u8; // not a doc comment
            //// four slashes: not a doc comment
            b: u8;
            /// dangling before the brace: documents nothing
        }
        /// An enum.
        enum e : u8 {
            /// A value.
            A = 1,
        }
        """)
    st = ss.states["s"]
    assert st.doc == "The state.\nSecond line."
    assert st.field("a").doc == "A field."
    assert st.field("b").doc is None
    assert ss.enums["e"].doc == "An enum."
    assert ss.enums["e"].values[0].doc == "A value."


@pytest.mark.parametrize("expr,value", [
    ("7 / 2", 3), ("-7 / 2", -3), ("7 / -2", -3), ("-7 % 3", -1), ("7 % -3", 1),
    ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("1 << 4 | 1", 17), ("6 & 3 ^ 1", 3),
    ("~0 & 0xff", 255), ("-(3)", -3), ("0x1_0", 16), ("0o17", 15), ("0b1010", 10),
    ("1_000", 1000), ("1 << 40 >> 38", 4), ("2 - 3 - 4", -5), ("100 / 10 / 5", 2),
    ("1 | 2 ^ 3 & 4", 3),
])
def test_expressions_use_c_precedence_and_truncating_division(tmp_path, expr, value):
    ss = load_text(tmp_path, f"const X = {expr};")
    assert ss.consts["X"].value == value


def test_constants_may_refer_forward_and_across_imports(tmp_path):
    (tmp_path / "common.kstate").write_text("const BASE = LATER + 1;\nconst LATER = 15;\n")
    (tmp_path / "mid.kstate").write_text('import "common.kstate";\nstruct mid { a: u8[BASE]; }\n')
    (tmp_path / "top.kstate").write_text(
        'import "mid.kstate";\nimport "common.kstate";\n'
        "state top { id = 1; version = 1; m: mid; name: char[BASE * 2]; }\n")
    ss = kstate.load(tmp_path / "top.kstate")
    assert ss.structs["mid"].size == 16
    assert ss.states["top"].field("name").type == m.CharType(32)
    assert [f.path for f in ss.files] == ["common.kstate", "mid.kstate", "top.kstate"]


def test_names_come_only_from_imported_files(tmp_path):
    (tmp_path / "a.kstate").write_text('import "b.kstate";\nstate a { id = 1; version = 1; x: c; }\n')
    (tmp_path / "b.kstate").write_text('import "c.kstate";\n')
    (tmp_path / "c.kstate").write_text("struct c { v: u8; }\n")
    # transitively imported: visible
    assert kstate.load(tmp_path / "a.kstate").states["a"].field("x").size == 1
    (tmp_path / "b.kstate").write_text("")
    (tmp_path / "d.kstate").write_text('import "c.kstate";\n')
    with pytest.raises(SchemaError) as err:
        kstate.load([tmp_path / "a.kstate", tmp_path / "d.kstate"])
    assert [d.code for d in err.value.diagnostics] == ["UNKNOWN_NAME"]
    assert "does not import" in err.value.diagnostics[0].message


def test_a_file_imported_twice_is_read_once(tmp_path):
    (tmp_path / "common.kstate").write_text("struct c { v: u8; }\n")
    (tmp_path / "a.kstate").write_text('import "common.kstate";\n')
    (tmp_path / "b.kstate").write_text('import "common.kstate";\nimport "./common.kstate";\n')
    ss = kstate.load(tmp_path)
    assert len(ss.structs) == 1
    assert [f.path for f in ss.files] == ["a.kstate", "b.kstate", "common.kstate"]


def test_every_field_type_of_the_spec_table(tmp_path):
    ss = load_text(tmp_path, """
        enum e : u16 { A = 1 }
        flags fl : u8 { X = 1 }
        struct pair { a: u32; b: i8; }
        state inner { id = 9; version = 1; v: u8; }
        state s {
            id = 1; version = 1;
            a: u8; b: i64; c: bool; d: char[4]; e1: bytes[3];
            n: u32 @max(8);
            e2: bytes[n];
            f: addr(vmemmap); g: addr(linear); h: folio; i: e; j: fl; k: pair; l: inner;
            p: *u64; q: u16[3]; r: u16[n]; t: *u32[2]; u: *pair[n];
            tail: u8[..] @max(100);
        }
        """)
    st = ss.states["s"]
    sizes = {n: f.size for n, f in m.member_names(st.members)}
    assert sizes == {"a": 1, "b": 8, "c": 1, "d": 4, "e1": 3, "n": 4, "e2": None, "f": 8, "g": 8,
                     "h": 8, "i": 2, "j": 1, "k": 5, "l": None, "p": 8, "q": 6, "r": None, "t": 8,
                     "u": None, "tail": None}
    assert st.field("p").pointer and st.field("t").pointer and st.field("t").shape == m.Fixed(2)
    assert st.field("u").shape == m.Counted("n")
    assert st.field("tail").shape == m.Rest()
    assert st.field("l").type.decl is ss.states["inner"]
    assert st.field("n").counts == ("e2", "r", "u")
    # same-width types still differ on the wire
    assert st.field("c").wire != st.field("a").wire
    assert st.field("d").wire != st.field("e1").wire


def test_bits_group_offsets_follow_gcc_for_both_byte_orders(tmp_path):
    ss = load_text(tmp_path, "state s { id = 1; version = 1; bits u16 { a: 3; b: 5; c: 4; } }")
    group = ss.states["s"].members[0]
    a, b, c = group.fields
    assert [(f.offset_for("little", 16), f.width) for f in group.fields] == [(0, 3), (3, 5), (8, 4)]
    assert [f.offset_for("big", 16) for f in group.fields] == [13, 8, 4]
    assert group.used_bits == 12 and group.size == 2


def test_fixed_values_and_annotations_land_in_the_model(tmp_path):
    ss = load_text(tmp_path, """
        state s {
            id = 0x10; version = 3; min_version = 2;
            magic: u32 = 0x4d454d46;
            level: i8 @range(-3, 3) @c(lvl);
            old: u16 @removed(3, "folded") @discard;
            dev: u64 @custom(save = dev_save, restore = dev_restore) @since(3);
        }
        """)
    st = ss.states["s"]
    assert st.field("magic").fixed == 0x4D454D46
    assert st.field("level").range == (-3, 3) and st.field("level").c_name == "lvl"
    old = st.field("old")
    assert (old.removed, old.reason, old.discard) == (3, "folded", True)
    assert st.field("dev").custom == ("dev_save", "dev_restore")
    assert [n for n, _ in m.member_names(st.layouts[2])] == ["magic", "level", "old"]
    assert [n for n, _ in m.member_names(st.layouts[3])] == ["magic", "level", "dev"]


def test_a_field_removed_at_min_version_compiles_with_a_warning(tmp_path):
    ss = load_text(tmp_path, 'state s { id = 1; version = 2; min_version = 2; x: u8 @removed(2, "old"); }')
    assert [w.code for w in ss.warnings] == ["REMOVED_FIELD_UNUSED"]
    assert ss.states["s"].layouts == {2: ()}


def test_retired_states_are_in_the_model(tmp_path):
    ss = load_text(tmp_path, 'retired state old { id = 12; reason = "not restored since 6.19"; }')
    assert ss.retired["old"].id == 12 and ss.retired_by_id(12).reason == "not restored since 6.19"
