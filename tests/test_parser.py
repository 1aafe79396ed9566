"""The parser builds the syntax tree inside lark's LALR parse, with spans taken
from tokens: these tests hold it to what lark's own parse tree with
``propagate_positions`` says, to the order in which errors are reported, and
to one grammar build per process."""

import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from lark import Lark, Tree

import kstate
from kstate import parser
from kstate import syntax as s
from kstate.errors import SchemaError
from kstate.testing import examples, hostile_schema_texts, schema_texts

ROOT = Path(__file__).resolve().parent.parent

# syntax node class -> the rule whose whole text its span covers
RULE_OF = {s.FieldDecl: "field", s.BitsMember: "bits_member", s.BitsDecl: "bits_group",
           s.Property: "property", s.ImportDecl: "import_item", s.ConstDecl: "const_item",
           s.EnumMember: "enum_member", s.EnumDecl: "enum_item", s.StructDecl: "struct_item",
           s.StateDecl: "state_item", s.RetiredDecl: "retired_item", s.TypeExpr: "type", s.Rest: "dim_rest"}
FIXED_BINOP = {"|": "binop_or", "^": "binop_xor", "&": "binop_and"}

EDGES = """\
/// a constant
const A = ((1) | 2) | (3);
const B = (1) ^ 2 & (3 << 1);
enum e : u8 { X = (1), Y = -(2) | 3, Z = ~1 & (4), }
flags f : u16 { F = 1 << 0 }
/// s
state s {
    id = (7);
    version = 2;
    /// x
    x: u8[(A)][..] = (2) @max((4)) @c(k = (1));
    y: addr(vmemmap);
    z: *u8[3];
    bits u8 { /// lo
        lo: (2); hi: 6; }
    subsection t @since(2);
}
retired state r { id = 9; reason = "gone"; id = 10; }
import "x.kstate";
"""


def _reference():
    grammar = resources.files("kstate").joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True)


def _nodes(x):
    if isinstance(x, (list, tuple)):
        for y in x:
            yield from _nodes(y)
    elif hasattr(x, "__dataclass_fields__") and not isinstance(x, s.Name):
        yield x
        for name in x.__dataclass_fields__:
            if name != "span":
                yield from _nodes(getattr(x, name))


def _where(span):
    return (span.line, span.column, span.end_line, span.end_column)


def _rule_spans(tree: Tree) -> dict[str, list]:
    out: dict[str, list] = {}
    for t in tree.iter_subtrees():
        if t.data in RULE_OF.values() or t.data in FIXED_BINOP.values():
            out.setdefault(t.data, []).append((t.meta.line, t.meta.column, t.meta.end_line, t.meta.end_column))
        elif t.data == "annotation":
            out.setdefault("annotation", []).append((t.meta.line, t.meta.column, None, None))
    return {k: sorted(v) for k, v in out.items()}


def _syntax_spans(tree: s.SyntaxFile) -> dict[str, list]:
    out: dict[str, list] = {}
    for node in _nodes(tree.items):
        rule = RULE_OF.get(type(node))
        if isinstance(node, s.BinOp):
            rule = FIXED_BINOP.get(node.op)
        elif isinstance(node, s.Annotation):
            rule = "annotation"
        if rule is not None:
            out.setdefault(rule, []).append(_where(node.span))
    return {k: sorted(v) for k, v in out.items()}


def _texts():
    files = sorted(ROOT.glob("schemas/**/*.kstate")) + sorted(ROOT.glob("tests/fixtures/**/*.kstate"))
    texts = [EDGES] + [f.read_text(encoding="utf-8", errors="replace") for f in files]
    texts += examples(schema_texts(max_states=4), 60, seed=11)
    texts += examples(hostile_schema_texts(["a", "enum", "state", "id", "min_version"]), 60, seed=12)
    return texts


def test_spans_are_those_of_lark_propagate_positions():
    """Every node's span (first token to last, parentheses and brackets
    included) is what lark's own positions give for its rule."""
    reference = _reference()
    assert _syntax_spans(parser.parse(EDGES, "t.kstate", "t.kstate")) == _rule_spans(reference.parse(EDGES))
    compared = 0
    for text in _texts():
        try:
            tree = parser.parse(text, "t.kstate", "t.kstate")
        except SchemaError:
            continue  # refused before a tree (checked by the error tests)
        assert _syntax_spans(tree) == _rule_spans(reference.parse(text))
        compared += 1
    assert compared > 100


def test_doc_comments_attach_to_the_node_after_them():
    tree = parser.parse(EDGES, "t.kstate", "t.kstate")
    docs = {type(n).__name__ + ":" + getattr(getattr(n, "name", None), "text", "?"): n.doc
            for n in _nodes(tree.items) if getattr(n, "doc", None)}
    assert docs == {"ConstDecl:A": "a constant", "StateDecl:s": "s", "FieldDecl:x": "x", "BitsMember:lo": "lo"}


def test_a_syntax_error_after_a_bad_literal_is_reported_first(tmp_path):
    """The tree is built during the parse, but a bad literal is reported only
    when the whole file parsed, as when the tree was transformed after it."""
    f = tmp_path / "a.kstate"
    f.write_text('const A = 09;\nimport "\\q.kstate";\nstate s {\n    x: u8\n}\n')
    with pytest.raises(SchemaError) as err:
        kstate.load(f)
    assert [(d.code, d.span.line) for d in err.value.diagnostics] == [("SYNTAX", 4)]
    f.write_text('import "\\q.kstate";\nconst A = 09;\n')
    with pytest.raises(SchemaError) as err:
        kstate.load(f)
    assert [(d.code, d.span.line, d.span.column) for d in err.value.diagnostics] == [("BAD_LITERAL", 1, 9)]


def test_too_deep_is_reported_at_the_token_that_passes_the_limit(tmp_path):
    f = tmp_path / "a.kstate"
    f.write_text("const A = 09;\nconst B = " + "(" * 101 + "1" + ")" * 101 + ";\n")
    with pytest.raises(SchemaError) as err:
        kstate.load(f)
    assert [(d.code, d.span.line, d.span.column) for d in err.value.diagnostics] == [("TOO_DEEP", 2, 111)]


@pytest.mark.parametrize("names,too_long", [(150, False), (201, True)])
def test_names_count_toward_the_statement_limit(tmp_path, names, too_long):
    """``const B = A + A + ... + A``: 2n+2 tokens, n+1 of them names (lark's
    keyword callback chain once hid names from the count); the 401st token is
    the ``+`` after the 199th ``A``."""
    f = tmp_path / "a.kstate"
    f.write_text("const A = 1;\nconst B = " + " + ".join(["A"] * names) + ";\n"
                 "state s { id = 1; version = 1; x: u8; }\n")
    if not too_long:
        kstate.load(f)
        return
    with pytest.raises(SchemaError) as err:
        kstate.load(f)
    assert [(d.code, d.message, d.span.line, d.span.column) for d in err.value.diagnostics] == \
        [("TOO_DEEP", "statement is longer than 400 tokens", 2, 11 + 4 * 198 + 2)]


def test_the_grammar_is_built_once_per_process(tmp_path):
    """Loading several schema sets, one with a syntax error, builds one Lark."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "a.kstate").write_text("state a { id = 1; version = 1; x: u8; }\n")
    (tmp_path / "b" / "b.kstate").write_text("state b { id = 2; version = 1; x: u8 }\n")
    code = f"""
import lark, kstate
built = []
init = lark.Lark.__init__
def counting(self, *args, **kwargs):
    built.append(1)
    init(self, *args, **kwargs)
lark.Lark.__init__ = counting
kstate.load({str(tmp_path / 'a')!r})
try:
    kstate.load({str(tmp_path / 'b')!r})
except kstate.SchemaError as err:
    assert err.diagnostics[0].code == "SYNTAX", err.diagnostics
kstate.load({str(tmp_path / 'a')!r})
print(len(built))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert out.stdout.strip() == "1"


def test_the_garbage_collector_is_left_as_it_was(tmp_path):
    """The parse pauses the cyclic collector; it is on again after a file that
    parses and after one that does not, and stays off if it was off."""
    import gc

    good, bad = tmp_path / "good.kstate", tmp_path / "bad.kstate"
    good.write_text("state a { id = 1; version = 1; x: u8; }\n")
    bad.write_text("state b { id = 2; version = 1; x: u8 }\n")
    assert gc.isenabled()
    parser.parse(good.read_text(), str(good), "good.kstate")
    assert gc.isenabled()
    with pytest.raises(SchemaError):
        parser.parse(bad.read_text(), str(bad), "bad.kstate")
    assert gc.isenabled()
    gc.disable()
    try:
        parser.parse(good.read_text(), str(good), "good.kstate")
        assert not gc.isenabled()
    finally:
        gc.enable()
