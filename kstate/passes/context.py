"""What the passes share: the declarations, what each file sees, the one
``Reporter``, and the items built so far (each pass fills its own table)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .. import model as m
from .. import syntax as s
from ..errors import Reporter, Span
from ..limits import MAX_NAME_LENGTH
from ..loader import SourceFile
from ..names import BUILTIN_TYPES
from ..suggest import did_you_mean


@dataclass
class Decl:
    kind: str  # const | enum | struct | state | retired
    node: object
    src: SourceFile

    @property
    def span(self) -> Span:
        return self.node.name.span


class Context:
    """The state of one build: every pass reads the tables of the passes
    before it and fills its own."""

    _KINDS = {"type": ("enum", "struct", "state"), "state": ("state",), "constant": ("const",)}

    def __init__(self, sources: list[SourceFile]):
        self.sources = sources
        self.r = Reporter()
        self.decls: dict[str, Decl] = {}  # declare
        self.visible: dict[Path, set[Path]] = {}  # declare: the files each file imports, transitively
        self.files: dict[Path, m.SchemaFile] = {}  # declare
        self.consts: dict[str, m.Const | None] = {}  # constants
        self.enums: dict[str, m.Enum] = {}  # enums
        self.structs: dict[str, m.Struct | None] = {}  # nesting, structs
        self.too_deep: set[str] = set()  # nesting: states past MAX_TYPE_NESTING, reported
        self.states: dict[str, m.State] = {}  # states
        self.retired: dict[str, m.RetiredState] = {}  # retired

    def check_identifier(self, name: s.Name, what: str) -> None:
        """Only the length: what C makes of a name is checked in the C names pass."""
        if len(name.text) > MAX_NAME_LENGTH:
            self.r.error("LIMIT_EXCEEDED", f"{what} '{name.text[:32]}...' is {len(name.text)} characters "
                         f"long; names have at most {MAX_NAME_LENGTH}", name.span)

    def sees(self, src: SourceFile, decl: Decl) -> bool:
        """Whether ``src`` imports (directly or not) the file declaring ``decl``."""
        return decl.src.real in self.visible[src.real]

    def lookup_decl(self, name: s.Name | s.NameRef, src: SourceFile, want: str) -> Decl | None:
        text = name.text if isinstance(name, s.Name) else name.name
        decl = self.decls.get(text)
        if decl is None:
            self.r.error("UNKNOWN_NAME", f"unknown {want} '{text}'", name.span,
                         help=did_you_mean(text, self.names_of(want)))
            return None
        if not self.sees(src, decl):
            self.r.error("UNKNOWN_NAME",
                         f"'{text}' is defined in {decl.src.display}, which {src.display} does not import",
                         name.span, help=f'add `import "{relative_import(src, decl.src)}";`')
            return None
        return decl

    def names_of(self, want: str) -> list[str]:
        """The names a misspelt ``want`` could have meant, for "did you mean"."""
        kinds = self._KINDS.get(want, ())
        names = sorted(n for n, d in self.decls.items() if d.kind in kinds)
        return sorted(BUILTIN_TYPES) + names if want == "type" else names


@dataclass
class Scope:
    """The members of one struct or state while they are built."""
    owner: str
    owner_kind: str  # "state" | "struct"

    def __post_init__(self):
        self.names: dict[str, Span] = {}  # members declared so far
        self.all_names: set[str] = set()  # every member of the owner


def article(kind: str) -> str:
    return {"const": "a constant", "enum": "an enum", "struct": "a struct", "state": "a state",
            "retired": "a retired state"}.get(kind, kind)


def relative_import(src: SourceFile, target: SourceFile) -> str:
    return Path(os.path.relpath(target.real, src.real.parent)).as_posix()
