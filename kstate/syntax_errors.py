"""Syntax errors that teach: lark's parse errors to diagnostics.

lark says which token it did not expect and which terminals it would have
taken.  That is exact but rarely what a person needs, so before falling back
to "expected X, Y" this module recognises the usual mistakes and says what
to do instead:

* a missing ``;`` is reported where the ``;`` belongs (the end of the
  previous token), not at the next line's first token;
* C habits: a field written ``u32 domain;`` or ``struct foo *p;``, an item
  closed with ``};``, ``#include`` and ``#define``;
* an unclosed ``{`` at the end of the file names the ``{`` it did not close.

Each diagnostic keeps the one code ``SYNTAX`` (its position and message
change, not its meaning) and carries a ``help:`` that works when applied.
"""

from __future__ import annotations

import re

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .errors import Diagnostic, Span

_FRIENDLY = {"NAME": "a name", "INT": "an integer", "STRING": "a string",
             "$END": "end of file", "POINTER": "'*'", "SHIFT_OP": "'<<' or '>>'",
             "SUM_OP": "'+' or '-'", "PRODUCT_OP": "'*', '/' or '%'", "UNARY_OP": "'-' or '~'"}

# the language's words, which are names too: "a name" covers them
_NAME_WORDS = {"ENUM", "FLAGS", "ID", "VERSION", "MIN_VERSION", "REASON", "IMPORT", "CONST", "STRUCT",
               "STATE", "RETIRED", "BITS", "SUBSECTION"}
# what may continue an expression: not worth listing when a ';' would end it
_OPERATORS = {"SHIFT_OP", "SUM_OP", "PRODUCT_OP", "UNARY_OP", "VBAR", "CIRCUMFLEX", "AMPERSAND",
              "POINTER", "LSQB", "LPAR"}


def _terminal_text(lark: Lark, name: str) -> str:
    for term in lark.terminals:
        if term.name == name:
            if term.pattern.type == "str":
                return f"'{term.pattern.value}'"
            break
    return _FRIENDLY.get(name, name)


def _expected(lark: Lark, names) -> str:
    names = set(names)
    if "NAME" in names:
        names -= _NAME_WORDS
    if "SEMICOLON" in names:  # a statement could end here: that is the news
        names -= _OPERATORS
    texts = sorted({_terminal_text(lark, n) for n in names})
    if len(texts) > 6:
        texts = texts[:6] + ["..."]
    return ", ".join(texts)


def _tokens_before(lark: Lark, text: str, end: int) -> list[Token]:
    """The tokens of ``text[:end]`` (comments and spaces dropped)."""
    out = []
    try:
        for tok in lark.lex(text[:end]):
            out.append(tok)
    except Exception:  # noqa: BLE001 - a prefix that does not lex: use what did
        pass
    return out


def _eof_span(display: str, text: str) -> Span:
    lines = text.splitlines() or [""]
    return Span(display, len(lines), len(lines[-1]) + 1)


def _statement_start(tokens: list[Token]) -> Token | None:
    """The first token of the statement the last of ``tokens`` is in."""
    for i in range(len(tokens) - 1, -1, -1):
        if tokens[i].type in ("SEMICOLON", "LBRACE", "RBRACE"):
            return tokens[i + 1] if i + 1 < len(tokens) else None
    return tokens[0] if tokens else None


def _statement(tokens: list[Token], text: str, start: int) -> str:
    """The statement the error is in: from after the last ``;``, ``{`` or
    ``}`` before the error to the next ``;`` (or end of line)."""
    begin = 0
    for tok in reversed(tokens):
        if tok.type in ("SEMICOLON", "LBRACE", "RBRACE"):
            begin = tok.end_pos
            break
    end = text.find(";", start)
    newline = text.find("\n", start)
    if end < 0 or (0 <= newline < end):
        end = newline if newline >= 0 else len(text)
    else:
        end += 1
    return " ".join(text[begin:end].split())


_C_FIELD = re.compile(r"(?:(struct|enum)\s+)?([A-Za-z_]\w*)\s*(\*?)\s*([A-Za-z_]\w*)\s*((?:\[[^\]]*\]\s*)*);")


def _c_field(statement: str) -> str | None:
    """``u32 domain;`` -> ``domain: u32;``; ``struct foo *p;`` -> ``p: *foo;``."""
    m = _C_FIELD.fullmatch(statement)
    if not m:
        return None
    _, type_name, star, name, dims = m.groups()
    return f"{name}: {star}{type_name}{''.join(dims.split())};"


def _unclosed(tokens: list[Token]) -> Token | None:
    stack = []
    for tok in tokens:
        if tok.type == "LBRACE":
            stack.append(tok)
        elif tok.type == "RBRACE" and stack:
            stack.pop()
    return stack[-1] if stack else None


def _preprocessor(display: str, text: str, err: UnexpectedCharacters) -> Diagnostic | None:
    line = text.splitlines()[err.line - 1] if err.line - 1 < len(text.splitlines()) else ""
    m = re.match(r"\s*#\s*(include|define)\b\s*(.*)", line)
    if not m:
        return None
    span = Span(display, err.line, err.column)
    directive, rest = m.groups()
    if directive == "include":
        target = re.sub(r"^[<\"](.*?)[>\"].*$", r"\1", rest.strip()) or "other.kstate"
        target = re.sub(r"\.h$", ".kstate", target)
        return Diagnostic("SYNTAX", "kstate has no preprocessor: '#include' is not part of the language",
                          span, help=f'share another schema file\'s items with `import "{target}";`')
    d = re.match(r"([A-Za-z_]\w*)\s+(.+?)\s*$", rest)
    fix = f"`const {d.group(1)} = {d.group(2)};`" if d else "`const NAME = VALUE;`"
    return Diagnostic("SYNTAX", "kstate has no preprocessor: '#define' is not part of the language",
                      span, help=f"name a value with {fix}")


def syntax_diagnostic(lark: Lark, err: UnexpectedInput, display: str, text: str) -> Diagnostic:
    if isinstance(err, UnexpectedCharacters):
        hint = _preprocessor(display, text, err)
        if hint:
            return hint
        ch = text[err.pos_in_stream] if err.pos_in_stream < len(text) else ""
        return Diagnostic("SYNTAX", f"unexpected character {ch!r}", Span(display, err.line, err.column))
    if isinstance(err, UnexpectedEOF):
        return _at_end(lark, display, text, err.expected)
    if not isinstance(err, UnexpectedToken):
        return Diagnostic("SYNTAX", str(err).splitlines()[0], Span(display, 1, 1))
    tok = err.token
    expected = err.expected
    try:  # LALR's merged states over-approximate; ask the parser what it truly accepts
        accepted = err.interactive_parser.accepts()
        if accepted:
            expected = accepted
    except Exception:  # noqa: BLE001 - the rough list is still a useful message
        pass
    if tok.type == "$END":
        return _at_end(lark, display, text, expected)
    tokens = _tokens_before(lark, text, tok.start_pos)
    prev = tokens[-1] if tokens else None
    here = Span(display, tok.line, tok.column, tok.end_line, tok.end_column)
    if tok.type == "SEMICOLON" and prev is not None and prev.type == "RBRACE":
        return Diagnostic("SYNTAX", "unexpected ';' after '}': items do not end with ';'", here,
                          help="delete this ';'")
    if "COLON" in expected and prev is not None and (prev.type == "NAME" or prev.type in _NAME_WORDS):
        first = _statement_start(tokens)
        fix = _c_field(_statement(tokens, text, first.start_pos)) if first is not None else None
        if fix:
            return Diagnostic("SYNTAX", "fields are written `name: type;`, not C's `type name;`",
                              Span(display, first.line, first.column, first.end_line, first.end_column),
                              help=f"did you mean `{fix}`?")
    if "SEMICOLON" in expected and prev is not None and prev.end_line < tok.line:
        first = _statement_start(tokens)
        stmt = _statement(tokens, text, first.start_pos) if first is not None else prev.value
        return Diagnostic("SYNTAX", f"expected ';' after {prev.value!r}",
                          Span(display, prev.end_line, prev.end_column),
                          help=f"end the statement with ';': `{stmt};`")
    return Diagnostic("SYNTAX", f"unexpected {tok.value!r}; expected {_expected(lark, expected)}", here)


def _at_end(lark: Lark, display: str, text: str, expected) -> Diagnostic:
    span = _eof_span(display, text)
    brace = _unclosed(_tokens_before(lark, text, len(text)))
    if brace is not None:
        return Diagnostic("SYNTAX", "unexpected end of file: a '{' is not closed", span,
                          notes=(f"{display}:{brace.line}:{brace.column}: this '{{' is not closed",),
                          help="add the missing '}' (each item's block ends with '}')")
    return Diagnostic("SYNTAX", f"unexpected end of file; expected {_expected(lark, expected)}", span)
