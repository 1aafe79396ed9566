"""Text to syntax tree: the lark grammar, doc comments, syntax errors.

``parse(text, display)`` returns a ``SyntaxFile`` or raises ``SchemaError``
with one ``SYNTAX`` (or ``BAD_LITERAL``, ``TOO_DEEP``) diagnostic.  Literals
are checked here, so everything after this phase works on well-formed values.

One Lark instance per process; the syntax tree is built inside its LALR
parse (``_Build``), so no parse tree is built and walked a second time, and
spans come from the tokens instead of lark's ``propagate_positions``.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedInput

from . import collector
from . import syntax as s
from .errors import Diagnostic, SchemaError, Span
from .expr import MAX_INT_BITS
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
    if text.isascii() and text.isdigit() and len(text) <= 19 and (text[0] != "0" or len(text) == 1):
        return int(text)  # the usual literal: decimal, below 2**64

    def too_big() -> _LiteralError:
        return _LiteralError(f"integer literal '{_short(text)}' is too large: kstate integers have at "
                             f"most {MAX_INT_BITS} bits", span)

    prefix = text[:2].lower()
    # checked before int(), which also refuses decimals of more than 4300 digits
    if len(text) > 2 * MAX_INT_BITS + 2 or (prefix not in _INT_RE and len(text) > MAX_INT_BITS * 0.31):
        raise too_big()
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
        raise too_big()
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


class _Parse:
    """What one parse collects besides its tree (the Lark instance, and so its
    callbacks, are shared by every parse of the process)."""

    def __init__(self, display: str):
        self.display = display
        self.docs: list[Token] = []  # the ``///`` comments
        # nodes a doc comment may belong to: (start offset, node)
        self.documentable: list[tuple[int, object]] = []
        # the first and last token of each node that is not a token: its
        # extent, parentheses and brackets around it included
        self.extent: dict[int, tuple[Token, Token]] = {}
        # the first bad literal: reported after the whole file parsed, so a
        # syntax error anywhere in the file is reported first
        self.literal_error: _LiteralError | None = None
        # the lexer's limits (MAX_NESTING, MAX_STATEMENT_TOKENS)
        self.depth = 0
        self.unary_run = 0
        self.statement = 0


class _Build(Transformer):
    """The syntax tree, built inside lark's LALR parse: lark calls the method
    named after a rule (or its alias) when it reduces that rule, with every
    child of the rule -- the anonymous tokens (``;``, ``}``) included, and
    ``None`` for an optional part that is absent -- so a node's span is taken
    from its first and last token, without lark's ``propagate_positions``.

    Spans are those lark's positions give: a node spans from its first token
    to its last, and an expression in parentheses (a dimension in brackets)
    spans them too when it is the first or last child of another node.
    """

    def __init__(self):
        super().__init__()
        self.p: _Parse | None = None

    # extents and spans

    def _first(self, children) -> Token:
        for c in children:
            if c is not None:
                return c if isinstance(c, Token) else self.p.extent[id(c)][0]
        raise AssertionError("a rule without children")

    def _last(self, children) -> Token:
        for c in reversed(children):
            if c is not None:
                return c if isinstance(c, Token) else self.p.extent[id(c)][1]
        raise AssertionError("a rule without children")

    def _node(self, node, first: Token, last: Token):
        self.p.extent[id(node)] = (first, last)
        return node

    def _tok_span(self, tok: Token) -> Span:
        return Span(self.p.display, tok.line, tok.column, tok.end_line, tok.end_column)

    def _whole(self, node_type, children, *args, doc: bool = False):
        """``node_type(*args, span)`` spanning ``children``."""
        first, last = self._first(children), self._last(children)
        node = node_type(*args, Span(self.p.display, first.line, first.column, last.end_line, last.end_column))
        self.p.extent[id(node)] = (first, last)
        if doc:
            self.p.documentable.append((first.start_pos, node))
        return node

    def _literal(self, err: _LiteralError) -> None:
        if self.p.literal_error is None:
            self.p.literal_error = err

    def _string(self, tok: Token) -> s.StringLit:
        sp = self._tok_span(tok)
        try:
            value = parse_string(tok, sp)
        except _LiteralError as err:
            self._literal(err)
            value = ""
        return self._node(s.StringLit(value, sp), tok, tok)

    # names and literals
    def name(self, children):
        tok = children[0]
        return self._node(s.Name(str(tok), self._tok_span(tok)), tok, tok)

    def int_lit(self, children):
        tok = children[0]
        sp = self._tok_span(tok)
        try:
            value = parse_int(str(tok), sp)
        except _LiteralError as err:
            self._literal(err)
            value = 0
        return self._node(s.IntLit(value, sp, str(tok)), tok, tok)

    def name_ref(self, children):
        name = children[0]
        return self._node(s.NameRef(name.text, name.span), *self.p.extent[id(name)])

    def atom(self, children):  # "(" expr ")"
        return self._node(children[1], children[0], children[2])

    def binop(self, children):
        left, op, right = children
        return self._node(s.BinOp(str(op), left, right, self._tok_span(op)),
                          self._first(children), self._last(children))

    def _fixed_binop(op):
        def method(self, children):
            return self._whole(s.BinOp, children, op, children[0], children[2])
        return method

    binop_or = _fixed_binop("|")
    binop_xor = _fixed_binop("^")
    binop_and = _fixed_binop("&")

    def unop(self, children):
        op, operand = children
        return self._node(s.UnOp(str(op), operand, self._tok_span(op)), op, self._last(children))

    # annotations: "@" name ["(" [ann_arg ("," ann_arg)*] ")"]
    def ann_string(self, children):
        return self._string(children[0])

    def ann_keyword(self, children):  # name "=" expr
        key, _, value = children
        return self._node(s.KeywordArg(key, value, key.span), self._first(children), self._last(children))

    def annotation(self, children):
        at, name, lpar = children[0], children[1], children[2]
        args = [a for a in children[3:-1] if a is not None and not isinstance(a, Token)]
        node = s.Annotation(name, args, lpar is not None, Span(self.p.display, at.line, at.column))
        return self._node(node, at, self._last(children))

    # types
    def dim_expr(self, children):  # "[" expr "]"
        return self._node(children[1], children[0], children[2])

    def dim_rest(self, children):  # "[" ".." "]"
        return self._whole(s.Rest, children)

    def type_arg(self, children):  # "(" name ")"
        return self._node(children[1], children[0], children[2])

    def type(self, children):
        pointer, name, arg, *dims = children
        return self._whole(s.TypeExpr, children, pointer is not None, name, arg, dims)

    # members
    def field(self, children):  # name ":" type ["=" expr] annotation* ";"
        name, _, type_, _, fixed, *anns = children[:-1]
        return self._whole(s.FieldDecl, children, name, type_, fixed, anns, doc=True)

    def bits_member(self, children):  # name ":" expr ";"
        return self._whole(s.BitsMember, children, children[0], children[2], doc=True)

    def bits_group(self, children):  # "bits" name "{" bits_member* "}"
        return self._whole(s.BitsDecl, children, children[1], children[3:-1], doc=True)

    def _keyword(self, children):  # the word itself ("id", "enum", ...): its value and position
        return children[0]

    prop_id = prop_version = prop_min_version = kind_enum = kind_flags = _keyword

    def property(self, children):  # prop_name "=" expr ";"
        return self._whole(s.Property, children, children[0].value, children[2])

    def subsection(self, children):  # "subsection" name annotation* ";"
        name = children[1]
        node = s.SubsectionDecl(name, children[2:-1], name.span)
        self.p.documentable.append((children[0].start_pos, node))
        return self._node(node, children[0], children[-1])

    # items
    def import_item(self, children):  # "import" STRING ";"
        return self._whole(s.ImportDecl, children, self._string(children[1]), doc=True)

    def const_item(self, children):  # "const" name "=" expr ";"
        return self._whole(s.ConstDecl, children, children[1], children[3], doc=True)

    def enum_member(self, children):  # name "=" expr
        return self._whole(s.EnumMember, children, children[0], children[2], doc=True)

    def enum_item(self, children):  # enum_kind name ":" name "{" [members [","]] "}"
        kind, name, _, base = children[:4]
        members = [m for m in children[5:-1] if isinstance(m, s.EnumMember)]
        return self._whole(s.EnumDecl, children, kind.value, name, base, members, doc=True)

    def struct_item(self, children):  # "struct" name "{" member* "}"
        return self._whole(s.StructDecl, children, children[1], children[3:-1], doc=True)

    def state_item(self, children):  # "state" name "{" state_entry* "}"
        props, members, subs, misplaced = [], [], [], []
        for entry in children[3:-1]:
            if isinstance(entry, s.Property):
                props.append(entry)
            elif isinstance(entry, s.SubsectionDecl):
                subs.append(entry)
            else:
                if subs:
                    misplaced.append(entry.span)
                members.append(entry)
        node = self._whole(s.StateDecl, children, children[1], props, members, subs, doc=True)
        node.misplaced = misplaced
        return node

    def retired_id(self, children):  # "id" "=" expr ";"
        first, last = children[0], children[-1]
        return ("id", children[2], Span(self.p.display, first.line, first.column, last.end_line, last.end_column))

    def retired_reason(self, children):  # "reason" "=" STRING ";"
        first, last = children[0], children[-1]
        return ("reason", self._string(children[2]),
                Span(self.p.display, first.line, first.column, last.end_line, last.end_column))

    def retired_item(self, children):  # "retired" "state" name "{" retired_prop* "}"
        found: dict[str, object] = {}
        duplicates = []
        for key, value, sp in children[4:-1]:
            if key in found:
                duplicates.append(sp)
            else:
                found[key] = value
        return self._whole(s.RetiredDecl, children, children[2], found.get("id"), found.get("reason"),
                           duplicates, doc=True)

    def start(self, children):
        return list(children)

    # the lexer's callbacks: nesting depth, runs of unary operators and the
    # length of a statement, counted as the tokens are read

    def _too_deep(self, tok: Token) -> None:
        p = self.p
        if p.depth > MAX_NESTING or p.unary_run > MAX_NESTING:
            raise _TooDeep(tok, f"expression nests more than {MAX_NESTING} levels deep")
        raise _TooDeep(tok, f"statement is longer than {MAX_STATEMENT_TOKENS} tokens")

    def lex_open(self, tok: Token) -> Token:  # ( [
        p = self.p
        if p is not None:
            p.depth += 1
            p.unary_run = 0
            p.statement += 1
            if p.depth > MAX_NESTING or p.statement > MAX_STATEMENT_TOKENS:
                self._too_deep(tok)
        return tok

    def lex_open_block(self, tok: Token) -> Token:  # {
        p = self.p
        if p is not None:
            p.depth += 1
            p.unary_run = p.statement = 0
            if p.depth > MAX_NESTING:
                self._too_deep(tok)
        return tok

    def lex_close(self, tok: Token) -> Token:  # ) ]
        p = self.p
        if p is not None:
            p.depth -= 1
            p.unary_run = 0
            p.statement += 1
            if p.statement > MAX_STATEMENT_TOKENS:
                self._too_deep(tok)
        return tok

    def lex_close_block(self, tok: Token) -> Token:  # }
        p = self.p
        if p is not None:
            p.depth -= 1
            p.unary_run = p.statement = 0
        return tok

    def lex_end(self, tok: Token) -> Token:  # ; ,
        p = self.p
        if p is not None:
            p.unary_run = p.statement = 0
        return tok

    def lex_unary(self, tok: Token) -> Token:  # - + ~
        p = self.p
        if p is not None:
            p.unary_run += 1
            p.statement += 1
            if p.unary_run > MAX_NESTING or p.statement > MAX_STATEMENT_TOKENS:
                self._too_deep(tok)
        return tok

    def lex_other(self, tok: Token) -> Token:
        p = self.p
        if p is not None:
            p.unary_run = 0
            p.statement += 1
            if p.statement > MAX_STATEMENT_TOKENS:
                self._too_deep(tok)
        return tok

    def lex_comment(self, tok: Token) -> Token:
        if self.p is not None and tok.value.startswith("///") and not tok.value.startswith("////"):
            self.p.docs.append(tok)
        return tok

    _LEX = {"LPAR": "lex_open", "LSQB": "lex_open", "LBRACE": "lex_open_block", "RPAR": "lex_close",
            "RSQB": "lex_close", "RBRACE": "lex_close_block", "SEMICOLON": "lex_end", "COMMA": "lex_end",
            "UNARY_OP": "lex_unary", "SUM_OP": "lex_unary"}


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
    lark, builder = _lark()
    # the collector's passes over the tokens and nodes the parse keeps cost
    # about a fifth of it
    with _LOCK, collector.paused():
        builder.p = state = _Parse(display)
        try:
            items = lark.parse(text)
        except UnexpectedInput as err:
            builder.p = None
            raise SchemaError([syntax_diagnostic(lark, err, display, text)]) from None
        except _TooDeep as err:
            raise SchemaError([Diagnostic("TOO_DEEP", err.message,
                                          Span(display, err.tok.line, err.tok.column))]) from None
        finally:
            builder.p = None
    if state.literal_error is not None:
        err = state.literal_error
        raise SchemaError([Diagnostic("BAD_LITERAL", err.message, err.span)])
    _attach_docs(text, state.docs, state.documentable)
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


_LOCK = threading.Lock()  # one parse at a time: the Lark instance and its callbacks are shared


@lru_cache(maxsize=1)
def _lark() -> tuple[Lark, _Build]:
    """The parser, built once per process (about 50 ms): LALR, the syntax
    tree built during the parse by ``_Build``, no parse tree and no
    ``propagate_positions``.  Not cached on disk: lark's ``cache=True``
    unpickles a file from the shared temporary folder (a file another user
    planted there would run as code), and a serialized parser shipped in the
    package would depend on lark's internal format."""
    grammar = resources.files(__package__).joinpath("grammar.lark").read_text(encoding="utf-8")
    builder = _Build()
    callbacks: dict = {}

    def lexer_callback(term) -> None:
        # lark calls ``edit_terminals`` for each terminal before it builds the
        # lexer, which reads ``callbacks`` then: one build, not one to learn
        # the terminals' names and another with the callbacks.  Every terminal
        # but spaces and comments is counted.  NAME stays the last key: lark
        # (1.1-1.3) chains the callback on NAME after the one that turns a name
        # into a keyword, with a test that the token's type is the *last* key's
        # (a late-bound loop variable) where it means NAME's own; with NAME
        # last the two agree, so names are counted with or without that bug.
        if term.name not in ("WS", "BLOCK_COMMENT"):
            name_cb = callbacks.pop("NAME", None)
            if term.name == "LINE_COMMENT":
                callbacks["LINE_COMMENT"] = builder.lex_comment
            elif term.name == "NAME":
                name_cb = builder.lex_other
            else:
                callbacks[term.name] = getattr(builder, _Build._LEX.get(term.name, "lex_other"))
            if name_cb is not None:
                callbacks["NAME"] = name_cb

    lark = Lark(grammar, parser="lalr", lexer="contextual", maybe_placeholders=True, keep_all_tokens=True,
                transformer=builder, lexer_callbacks=callbacks, edit_terminals=lexer_callback)
    return lark, builder
