"""Text to syntax tree: the lark grammar, doc comments, syntax errors.

``parse(text, display)`` returns a ``SyntaxFile`` or raises ``SchemaError``
with one ``SYNTAX`` (or ``BAD_LITERAL``) diagnostic.  Literals are checked
here, so everything after this phase works on well-formed values.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedInput, VisitError

from . import syntax as s
from .errors import Diagnostic, SchemaError, Span
from .syntax_errors import syntax_diagnostic


class _LiteralError(Exception):
    def __init__(self, message: str, span: Span):
        super().__init__(message)
        self.message = message
        self.span = span


_INT_RE = {
    "0x": (16, re.compile(r"[0-9a-fA-F]+(_[0-9a-fA-F]+)*")),
    "0o": (8, re.compile(r"[0-7]+(_[0-7]+)*")),
    "0b": (2, re.compile(r"[01]+(_[01]+)*")),
}
_DEC_RE = re.compile(r"(0|[1-9][0-9]*(_[0-9]+)*)")


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:20] + "..." + text[-8:]


def parse_int(text: str, span: Span) -> int:
    from .expr import MAX_INT_BITS

    too_big = _LiteralError(f"integer literal '{_short(text)}' is too large: kstate integers have at "
                            f"most {MAX_INT_BITS} bits", span)
    prefix = text[:2].lower()
    # checked before int(), which also refuses decimals of more than 4300 digits
    if len(text) > 2 * MAX_INT_BITS + 2 or (prefix not in _INT_RE and len(text) > MAX_INT_BITS * 0.31):
        raise too_big
    if prefix in _INT_RE:
        base, pattern = _INT_RE[prefix]
        if not pattern.fullmatch(text[2:]):
            raise _LiteralError(f"malformed integer literal '{_short(text)}'", span)
        value = int(text[2:].replace("_", ""), base)
    else:
        if not _DEC_RE.fullmatch(text):
            if re.fullmatch(r"0[0-9_]+", text):
                raise _LiteralError(
                    f"decimal literal '{text}' has a leading zero; write 0o{text.lstrip('0_') or '0'} "
                    "for octal or drop the zero", span)
            raise _LiteralError(f"malformed integer literal '{_short(text)}'", span)
        value = int(text.replace("_", ""))
    if value.bit_length() > MAX_INT_BITS:
        raise too_big
    return value


def parse_string(token: Token, span: Span) -> str:
    body = token.value[1:-1]
    out = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1]
            if nxt not in "\\\"":
                raise _LiteralError(
                    f"unknown escape '\\{nxt}' in string; only \\\" and \\\\ are allowed",
                    Span(span.file, span.line, span.column + 1 + i))
            out.append(nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _span(display: str, node) -> Span:
    return Span(display, node.line, node.column, node.end_line, node.end_column)


@v_args(meta=True)
class _Build(Transformer):
    def __init__(self, display: str):
        super().__init__()
        self.display = display
        self.documentable: list[tuple[int, object]] = []

    def _sp(self, meta) -> Span:
        return _span(self.display, meta)

    def _doc(self, meta, node):
        self.documentable.append((meta.start_pos, node))
        return node

    # names and literals
    def name(self, meta, children):
        tok = children[0]
        return s.Name(str(tok), _span(self.display, tok))

    def int_lit(self, meta, children):
        tok = children[0]
        sp = _span(self.display, tok)
        return s.IntLit(parse_int(str(tok), sp), sp, str(tok))

    def name_ref(self, meta, children):
        return s.NameRef(children[0].text, children[0].span)

    def binop(self, meta, children):
        left, op, right = children
        return s.BinOp(str(op), left, right, _span(self.display, op))

    def _fixed_binop(op):
        def method(self, meta, children):
            left, right = children
            return s.BinOp(op, left, right, self._sp(meta))
        return method

    binop_or = _fixed_binop("|")
    binop_xor = _fixed_binop("^")
    binop_and = _fixed_binop("&")

    def unop(self, meta, children):
        op, operand = children
        return s.UnOp(str(op), operand, _span(self.display, op))

    # annotations
    def ann_string(self, meta, children):
        tok = children[0]
        sp = _span(self.display, tok)
        return s.StringLit(parse_string(tok, sp), sp)

    def ann_keyword(self, meta, children):
        key, value = children
        return s.KeywordArg(key, value, key.span)

    def annotation(self, meta, children):
        name = children[0]
        args = [a for a in children[1:] if a is not None]
        has_parens = len(children) > 1
        return s.Annotation(name, args, has_parens, Span(self.display, meta.line, meta.column))

    # types
    def dim_expr(self, meta, children):
        return children[0]

    def dim_rest(self, meta, children):
        return s.Rest(self._sp(meta))

    def type_arg(self, meta, children):
        return children[0]

    def type(self, meta, children):
        pointer, name, arg, *dims = children
        return s.TypeExpr(pointer is not None, name, arg, list(dims), self._sp(meta))

    # members
    def field(self, meta, children):
        name, type_, fixed, *anns = children
        return self._doc(meta, s.FieldDecl(name, type_, fixed, list(anns), self._sp(meta)))

    def bits_member(self, meta, children):
        name, width = children
        return self._doc(meta, s.BitsMember(name, width, self._sp(meta)))

    def bits_group(self, meta, children):
        type_, *members = children
        return self._doc(meta, s.BitsDecl(type_, list(members), self._sp(meta)))

    def prop_id(self, meta, children):
        return "id"

    def prop_version(self, meta, children):
        return "version"

    def prop_min_version(self, meta, children):
        return "min_version"

    def property(self, meta, children):
        key, value = children
        return s.Property(key, value, self._sp(meta))

    def subsection(self, meta, children):
        name, *anns = children
        return self._doc(meta, s.SubsectionDecl(name, list(anns), name.span))

    # items
    def import_item(self, meta, children):
        tok = children[0]
        sp = _span(self.display, tok)
        return self._doc(meta, s.ImportDecl(s.StringLit(parse_string(tok, sp), sp), self._sp(meta)))

    def const_item(self, meta, children):
        name, value = children
        return self._doc(meta, s.ConstDecl(name, value, self._sp(meta)))

    def kind_enum(self, meta, children):
        return "enum"

    def kind_flags(self, meta, children):
        return "flags"

    def enum_member(self, meta, children):
        name, value = children
        return self._doc(meta, s.EnumMember(name, value, self._sp(meta)))

    def enum_item(self, meta, children):
        kind, name, base, *members = children
        members = [m for m in members if m is not None]
        return self._doc(meta, s.EnumDecl(kind, name, base, members, self._sp(meta)))

    def struct_item(self, meta, children):
        name, *members = children
        return self._doc(meta, s.StructDecl(name, list(members), self._sp(meta)))

    def state_item(self, meta, children):
        name, *entries = children
        props, members, subs, misplaced = [], [], [], []
        for entry in entries:
            if isinstance(entry, s.Property):
                props.append(entry)
            elif isinstance(entry, s.SubsectionDecl):
                subs.append(entry)
            else:
                if subs:
                    misplaced.append(entry.span)
                members.append(entry)
        return self._doc(meta, s.StateDecl(name, props, members, subs, self._sp(meta),
                                           misplaced=misplaced))

    def retired_id(self, meta, children):
        return ("id", children[0], self._sp(meta))

    def retired_reason(self, meta, children):
        tok = children[0]
        sp = _span(self.display, tok)
        return ("reason", s.StringLit(parse_string(tok, sp), sp), self._sp(meta))

    def retired_item(self, meta, children):
        name, *props = children
        found: dict[str, object] = {}
        duplicates = []
        for key, value, sp in props:
            if key in found:
                duplicates.append(sp)
            else:
                found[key] = value
        return self._doc(meta, s.RetiredDecl(name, found.get("id"), found.get("reason"),
                                             duplicates, self._sp(meta)))

    def start(self, meta, children):
        return list(children)


_COMMENT_OR_SPACE = re.compile(r"(\s+|//[^\n]*|/\*.*?\*/)*", re.S)


def _attach_docs(text: str, docs: list[Token], nodes: list[tuple[int, object]]) -> None:
    """Give each block of ``///`` lines to the node that starts right after it."""
    blocks: list[tuple[int, list[str]]] = []
    for tok in docs:
        line = tok.value[3:]
        line = line[1:] if line.startswith(" ") else line
        if blocks and not text[blocks[-1][0]:tok.start_pos].strip():
            blocks[-1] = (tok.end_pos, blocks[-1][1] + [line.rstrip()])
        else:
            blocks.append((tok.end_pos, [line.rstrip()]))
    starts = sorted(nodes, key=lambda n: n[0])
    i = 0
    for end, lines in blocks:
        while i < len(starts) and starts[i][0] < end:
            i += 1
        if i == len(starts):
            break
        start, node = starts[i]
        if _COMMENT_OR_SPACE.fullmatch(text, end, start):
            node.doc = "\n".join(lines)


def parse(text: str, path: str, display: str) -> s.SyntaxFile:
    docs: list[Token] = []

    def on_comment(tok: Token) -> Token:
        if tok.value.startswith("///") and not tok.value.startswith("////"):
            docs.append(tok)
        return tok

    lark = _lark()
    try:
        tree = _parse_with_comments(lark, text, on_comment)
    except UnexpectedInput as err:
        raise SchemaError([syntax_diagnostic(lark, err, display, text)]) from None
    except _TooDeep as err:
        raise SchemaError([Diagnostic("TOO_DEEP", err.message,
                                      Span(display, err.tok.line, err.tok.column))]) from None
    builder = _Build(display)
    try:
        items = builder.transform(tree)
    except VisitError as err:
        if isinstance(err.orig_exc, _LiteralError):
            raise SchemaError([Diagnostic("BAD_LITERAL", err.orig_exc.message, err.orig_exc.span)]) from None
        raise
    _attach_docs(text, docs, builder.documentable)
    return s.SyntaxFile(path, display, items)


# Expressions nest at most this deep (parentheses, brackets, unary operators)
# and one statement holds at most MAX_STATEMENT_TOKENS tokens: larger input is
# surely not a schema, and its syntax tree would exhaust Python's stack.
MAX_NESTING = 100
MAX_STATEMENT_TOKENS = 400


class _TooDeep(Exception):
    def __init__(self, tok: Token, message: str):
        super().__init__(message)
        self.tok = tok
        self.message = message


class _Hooks:
    """Per-parse state for the lexer callbacks (the Lark instance is shared)."""

    def __init__(self, on_comment):
        self.on_comment = on_comment
        self.depth = 0
        self.unary_run = 0
        self.statement = 0

    def token(self, tok: Token) -> Token:
        kind = tok.type
        if kind in ("LPAR", "LSQB", "LBRACE"):
            self.depth += 1
        elif kind in ("RPAR", "RSQB", "RBRACE"):
            self.depth -= 1
        if kind in ("UNARY_OP", "SUM_OP"):
            self.unary_run += 1
        else:
            self.unary_run = 0
        if kind in ("SEMICOLON", "COMMA", "LBRACE", "RBRACE"):
            self.statement = 0
        else:
            self.statement += 1
        if self.depth > MAX_NESTING or self.unary_run > MAX_NESTING:
            raise _TooDeep(tok, f"expression nests more than {MAX_NESTING} levels deep")
        if self.statement > MAX_STATEMENT_TOKENS:
            raise _TooDeep(tok, f"statement is longer than {MAX_STATEMENT_TOKENS} tokens")
        return tok


_HOOKS: list = [None]


def _parse_with_comments(lark: Lark, text: str, on_comment):
    # lexer_callbacks are fixed when the parser is built; route through a
    # per-call hook so one cached Lark instance serves every file.
    _HOOKS[0] = _Hooks(on_comment)
    try:
        return lark.parse(text)
    finally:
        _HOOKS[0] = None


def _comment_callback(tok: Token) -> Token:
    hooks = _HOOKS[0]
    return hooks.on_comment(tok) if hooks else tok


def _token_callback(tok: Token) -> Token:
    hooks = _HOOKS[0]
    return hooks.token(tok) if hooks else tok


@lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = resources.files(__package__).joinpath("grammar.lark").read_text(encoding="utf-8")
    lark = Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True)
    callbacks = {t.name: _token_callback for t in lark.terminals
                 if t.name not in ("WS", "LINE_COMMENT", "BLOCK_COMMENT")}
    callbacks["LINE_COMMENT"] = _comment_callback
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True,
                lexer_callbacks=callbacks)
