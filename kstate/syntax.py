"""The syntax tree: what a .kstate file says, before any name is resolved.

``parser.py`` builds these during lark's parse; ``build.py`` turns them
into the typed model (``model.py``).  Every node keeps the span of the token
a diagnostic about it should point at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Span


@dataclass
class Name:
    text: str
    span: Span


# --- expressions -----------------------------------------------------------


@dataclass
class IntLit:
    value: int
    span: Span
    text: str = ""


@dataclass
class NameRef:
    name: str
    span: Span


@dataclass
class BinOp:
    op: str
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass
class UnOp:
    op: str
    operand: "Expr"
    span: Span


Expr = IntLit | NameRef | BinOp | UnOp


@dataclass
class StringLit:
    value: str
    span: Span


@dataclass
class KeywordArg:
    key: Name
    value: Expr
    span: Span


AnnArg = Expr | StringLit | KeywordArg


@dataclass
class Annotation:
    name: Name
    args: list[AnnArg]
    has_parens: bool
    span: Span


# --- types and members -----------------------------------------------------


@dataclass
class Rest:
    """The ``[..]`` dimension."""

    span: Span


@dataclass
class TypeExpr:
    pointer: bool
    name: Name
    arg: Name | None
    dims: list[Expr | Rest]
    span: Span


@dataclass
class FieldDecl:
    name: Name
    type: TypeExpr
    fixed: Expr | None
    annotations: list[Annotation]
    span: Span
    doc: str | None = None


@dataclass
class BitsMember:
    name: Name
    width: Expr
    span: Span
    doc: str | None = None


@dataclass
class BitsDecl:
    type: Name
    members: list[BitsMember]
    span: Span
    doc: str | None = None


Member = FieldDecl | BitsDecl


@dataclass
class Property:
    key: str
    value: Expr
    span: Span


@dataclass
class SubsectionDecl:
    name: Name
    annotations: list[Annotation]
    span: Span
    doc: str | None = None


# --- items -----------------------------------------------------------------


@dataclass
class ImportDecl:
    path: StringLit
    span: Span
    doc: str | None = None


@dataclass
class ConstDecl:
    name: Name
    value: Expr
    span: Span
    doc: str | None = None


@dataclass
class EnumMember:
    name: Name
    value: Expr
    span: Span
    doc: str | None = None


@dataclass
class EnumDecl:
    kind: str  # "enum" or "flags"
    name: Name
    base: Name
    members: list[EnumMember]
    span: Span
    doc: str | None = None


@dataclass
class StructDecl:
    name: Name
    members: list[Member]
    span: Span
    doc: str | None = None


@dataclass
class StateDecl:
    name: Name
    properties: list[Property]
    members: list[Member]
    subsections: list[SubsectionDecl]
    span: Span
    doc: str | None = None
    # entries in source order, to report a member written after a subsection
    misplaced: list[Span] = field(default_factory=list)


@dataclass
class RetiredDecl:
    name: Name
    id: Expr | None
    reason: StringLit | None
    duplicates: list[Span]
    span: Span
    doc: str | None = None


Item = ImportDecl | ConstDecl | EnumDecl | StructDecl | StateDecl | RetiredDecl


@dataclass
class SyntaxFile:
    """One parsed .kstate file."""

    path: str  # path used to open the file
    display: str  # path shown to users and written into outputs
    items: list[Item]
