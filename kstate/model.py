"""The typed schema model: the one place that knows what a schema means.

``build.py`` creates these objects from the syntax tree (or ``snapshot.py``
from a JSON snapshot) and checks every rule of the language; after that they
are read-only.  Backends, the codec runtime and the checker read the facts
computed here (layouts per version, wire types, sizes, C and Python names)
and never re-derive them.

Vocabulary:

* a *value type* is what one element is on the wire (``IntType``,
  ``BoolType``, ``CharType``, ``BytesType``, ``AddrType``, ``FolioType``,
  ``EnumType``, ``StructType``, ``StateType``);
* a *field* has a value type, maybe a pointer (``*T``, same bytes as T) and
  maybe a ``Shape`` (``[N]``, ``[count]``, ``[..]``);
* a *member* of a state or struct is a ``Field`` or a ``BitsGroup``;
* ``State.layouts[v]`` is layout(v): the members on the wire at version v.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field
from typing import Iterator, Union

from .errors import Diagnostic, Span

# --- value types -------------------------------------------------------------

INT_TYPES = {
    "u8": (1, False), "u16": (2, False), "u32": (4, False), "u64": (8, False),
    "i8": (1, True), "i16": (2, True), "i32": (4, True), "i64": (8, True),
}
C_INT_NAMES = {"u8": "u8", "u16": "u16", "u32": "u32", "u64": "u64",
               "i8": "s8", "i16": "s16", "i32": "s32", "i64": "s64"}
ADDR_AREAS = ("vmemmap", "linear")
ADDR_WIDTH = 8
FOLIO_WIDTH = 8
# An entry's payload is at most this many bytes (its header's size is an i32):
# no fixed-size field, struct or count can be larger.
MAX_PAYLOAD = (1 << 31) - 1
# A nested state takes at least its entry header on the wire.
ENTRY_HEADER_SIZE = 20


@dataclass(frozen=True)
class IntType:
    name: str  # u8 .. i64
    width: int
    signed: bool

    kind = "int"

    @property
    def min(self) -> int:
        return -(1 << (8 * self.width - 1)) if self.signed else 0

    @property
    def max(self) -> int:
        return (1 << (8 * self.width - (1 if self.signed else 0))) - 1

    def fits(self, value: int) -> bool:
        return self.min <= value <= self.max

    @property
    def size(self) -> int:
        return self.width

    @property
    def wire(self) -> tuple:
        return ("int", self.width, self.signed)

    def describe(self) -> str:
        return self.name

    @property
    def c_type(self) -> str:
        return C_INT_NAMES[self.name]


def int_type(name: str) -> IntType:
    width, signed = INT_TYPES[name]
    return IntType(name, width, signed)


@dataclass(frozen=True)
class BoolType:
    kind = "bool"
    size = 1
    wire = ("bool",)

    def describe(self) -> str:
        return "bool"


@dataclass(frozen=True)
class CharType:
    """``char[N]``: a NUL-padded string of N bytes."""

    length: int
    kind = "char"

    @property
    def size(self) -> int:
        return self.length

    @property
    def wire(self) -> tuple:
        return ("char", self.length)

    def describe(self) -> str:
        return f"char[{self.length}]"


@dataclass(frozen=True)
class BytesType:
    """One raw byte; ``bytes[...]`` is a field of this type with a shape."""

    kind = "bytes"
    size = 1
    wire = ("bytes",)

    def describe(self) -> str:
        return "bytes"


@dataclass(frozen=True)
class AddrType:
    area: str  # vmemmap | linear
    kind = "addr"
    size = ADDR_WIDTH

    @property
    def wire(self) -> tuple:
        return ("addr", self.area)

    def describe(self) -> str:
        return f"addr({self.area})"


@dataclass(frozen=True)
class FolioType:
    kind = "folio"
    size = FOLIO_WIDTH
    wire = ("folio",)

    def describe(self) -> str:
        return "folio"


@dataclass(frozen=True)
class EnumType:
    decl: "Enum"

    @property
    def kind(self) -> str:
        return self.decl.kind  # "enum" or "flags"

    @property
    def size(self) -> int:
        return self.decl.base.width

    @property
    def wire(self) -> tuple:
        return (self.decl.kind, self.decl.base.width, self.decl.base.signed)

    def describe(self) -> str:
        return f"{self.decl.name} ({self.decl.base.name})"


@dataclass(frozen=True)
class StructType:
    decl: "Struct"
    kind = "struct"

    @property
    def size(self) -> int:
        return self.decl.size

    @property
    def wire(self) -> tuple:
        return ("struct", tuple(m.wire for m in self.decl.members))

    def describe(self) -> str:
        return f"struct {self.decl.name}"


@dataclass(frozen=True)
class StateType:
    """A nested state: a full entry header, then the payload."""

    decl: "State"
    kind = "state"
    size = None  # never fixed: the payload depends on the version on the wire

    @property
    def wire(self) -> tuple:
        return ("state", self.decl.id)

    def describe(self) -> str:
        return f"state {self.decl.name} (id {self.decl.id})"


ValueType = Union[IntType, BoolType, CharType, BytesType, AddrType, FolioType,
                  EnumType, StructType, StateType]


# --- shapes ------------------------------------------------------------------


@dataclass(frozen=True)
class Fixed:
    length: int

    @property
    def wire(self) -> tuple:
        return ("fixed", self.length)

    def suffix(self) -> str:
        return f"[{self.length}]"


@dataclass(frozen=True)
class Counted:
    count: str  # the name of an earlier integer field of the same state

    @property
    def wire(self) -> tuple:
        return ("count", self.count)

    def suffix(self) -> str:
        return f"[{self.count}]"


@dataclass(frozen=True)
class Rest:
    wire = ("rest",)

    def suffix(self) -> str:
        return "[..]"


Shape = Union[Fixed, Counted, Rest]

# --- members -----------------------------------------------------------------


def py_identifier(name: str) -> str:
    """How generated Python spells a schema name (``from`` -> ``from_``)."""
    return name + "_" if keyword.iskeyword(name) or keyword.issoftkeyword(name) else name


@dataclass(eq=False)
class Field:
    name: str
    type: ValueType
    span: Span  # the name token
    pointer: bool = False
    shape: Shape | None = None
    fixed: int | None = None
    since: int | None = None
    removed: int | None = None
    reason: str | None = None
    discard: bool = False
    max: int | None = None  # @max: the largest count accepted
    range: tuple[int, int] | None = None
    custom: tuple[str, str] | None = None  # (save, restore) C functions
    c_name: str = ""
    doc: str | None = None
    since_span: Span | None = None
    removed_span: Span | None = None
    # set on count fields: the arrays whose count this field is
    counts: tuple[str, ...] = ()

    is_bits = False

    @property
    def py_name(self) -> str:
        return py_identifier(self.name)

    def present_in(self, version: int) -> bool:
        return (self.since or 0) <= version < (self.removed if self.removed is not None else 1 << 62)

    @property
    def element_size(self) -> int | None:
        return self.type.size

    @property
    def size(self) -> int | None:
        """Bytes on the wire, when they do not depend on the data."""
        if self.type.size is None:
            return None
        if self.shape is None:
            return self.type.size
        if isinstance(self.shape, Fixed):
            return self.type.size * self.shape.length
        return None

    @property
    def wire(self) -> tuple:
        """The wire type: what a reader must agree on, names aside."""
        return (self.type.wire, self.shape.wire if self.shape else None, self.fixed)

    def describe_type(self) -> str:
        """The type as the schema spells it (``*u64``, ``memfd_folio[nr_folios]``)."""
        if isinstance(self.type, BytesType):
            base = "bytes"
            return base + (self.shape.suffix() if self.shape else "")
        if isinstance(self.type, StructType):
            base = self.type.decl.name
        elif isinstance(self.type, StateType):
            base = self.type.decl.name
        elif isinstance(self.type, EnumType):
            base = self.type.decl.name
        else:
            base = self.type.describe()
        text = ("*" if self.pointer else "") + base + (self.shape.suffix() if self.shape else "")
        if self.fixed is not None:
            text += f" = {self.fixed:#x}" if self.fixed > 9 else f" = {self.fixed}"
        return text

    def describe_wire(self) -> str:
        """The type with its wire meaning spelt out (``memfd_seals (u32)``)."""
        base = self.type.describe()
        if isinstance(self.type, BytesType):
            base = "bytes"
        text = base + (self.shape.suffix() if self.shape else "")
        if self.fixed is not None:
            text += f" = {self.fixed:#x}"
        return text


@dataclass(eq=False)
class BitsField:
    """One member of a ``bits`` group; an ordinary unsigned field in decoded output."""

    name: str
    width: int
    offset: int  # bit offset from the least significant bit, little-endian streams
    span: Span
    c_name: str = ""
    doc: str | None = None

    @property
    def py_name(self) -> str:
        return py_identifier(self.name)

    @property
    def max_value(self) -> int:
        return (1 << self.width) - 1

    def offset_for(self, byteorder: str, group_bits: int) -> int:
        """The bit offset from the least significant bit for ``byteorder``.

        GCC fills bit-fields from the least significant bit on little-endian
        targets and from the most significant bit on big-endian ones.
        """
        if byteorder == "little":
            return self.offset
        return group_bits - self.offset - self.width


@dataclass(eq=False)
class BitsGroup:
    type: IntType
    fields: tuple[BitsField, ...]
    span: Span  # the 'bits' keyword
    doc: str | None = None

    is_bits = True
    pointer = False
    shape = None
    since = None
    removed = None

    def present_in(self, version: int) -> bool:
        return True

    @property
    def used_bits(self) -> int:
        return sum(f.width for f in self.fields)

    @property
    def size(self) -> int:
        return self.type.width

    @property
    def name(self) -> str:
        return "{" + ", ".join(f.name for f in self.fields) + "}"

    @property
    def wire(self) -> tuple:
        return ("bits", self.type.width, tuple((f.offset, f.width) for f in self.fields))

    def describe_type(self) -> str:
        return f"bits {self.type.name} {{" + " ".join(f"{f.name}: {f.width};" for f in self.fields) + "}"

    describe_wire = describe_type


Member = Union[Field, BitsGroup]


def member_names(members) -> Iterator[tuple[str, Union[Field, BitsField]]]:
    """Every (name, field) of ``members``, bits groups flattened."""
    for m in members:
        if m.is_bits:
            for b in m.fields:
                yield b.name, b
        else:
            yield m.name, m


# --- declarations ------------------------------------------------------------


@dataclass(eq=False)
class Const:
    name: str
    value: int
    span: Span
    file: "SchemaFile"
    doc: str | None = None
    expr_text: str = ""

    item_kind = "const"


@dataclass(eq=False)
class EnumValue:
    name: str
    value: int
    span: Span
    c_name: str = ""
    doc: str | None = None


@dataclass(eq=False)
class Enum:
    name: str
    kind: str  # "enum" | "flags"
    base: IntType
    values: tuple[EnumValue, ...]
    span: Span
    file: "SchemaFile"
    doc: str | None = None

    item_kind = "enum"

    def name_of(self, value: int) -> str | None:
        for v in self.values:
            if v.value == value:
                return v.name
        return None

    @property
    def by_name(self) -> dict[str, int]:
        return {v.name: v.value for v in self.values}

    @property
    def known_mask(self) -> int:
        mask = 0
        for v in self.values:
            mask |= v.value
        return mask


@dataclass(eq=False)
class Struct:
    name: str
    members: tuple[Member, ...]
    span: Span
    file: "SchemaFile"
    size: int = 0
    doc: str | None = None
    c_name: str = ""

    item_kind = "struct"


@dataclass(eq=False)
class Subsection:
    name: str
    span: Span
    since: int | None = None
    doc: str | None = None
    state: "State | None" = None  # resolved

    def present_in(self, version: int) -> bool:
        return (self.since or 0) <= version


@dataclass(eq=False)
class State:
    name: str
    id: int
    version: int
    min_version: int
    members: tuple[Member, ...]
    subsections: tuple[Subsection, ...]
    span: Span  # the name token
    file: "SchemaFile"
    id_span: Span | None = None
    version_span: Span | None = None
    min_version_span: Span | None = None  # None when defaulted
    doc: str | None = None
    c_name: str = ""
    parent: "State | None" = None  # set when this state is another's subsection
    layouts: dict[int, tuple[Member, ...]] = field(default_factory=dict)

    item_kind = "state"

    @property
    def versions(self) -> range:
        return range(self.min_version, self.version + 1)

    def layout(self, version: int) -> tuple[Member, ...]:
        return self.layouts[version]

    def field(self, name: str) -> Field | BitsField | None:
        index = self.__dict__.get("_field_index")
        if index is None or index[0] is not self.members:  # members is replaced, never changed
            index = (self.members, {})
            for n, f in member_names(self.members):
                index[1].setdefault(n, f)
            self.__dict__["_field_index"] = index
        return index[1].get(name)

    def subsections_for(self, version: int) -> tuple[Subsection, ...]:
        return tuple(s for s in self.subsections if s.present_in(version))

    def on_wire(self, member: "Member") -> bool:
        """Whether a member is in the layout of some version this state reads."""
        return any(member.present_in(v) for v in self.versions)

    def restore_hook(self, f: "Field") -> str | None:
        """The C function the developer writes to take a removed field's old
        bytes (``<state>_restore_<field>``); None when kstate declares none:
        the field is discarded, has ``@custom`` callbacks, or is on the wire
        of no version this state reads."""
        if f.removed is None or f.discard or f.custom is not None or not self.on_wire(f):
            return None
        return f"{self.name}_restore_{f.name}"

    @property
    def upper(self) -> str:
        return self.name.upper()

    @property
    def c_id(self) -> str:
        return f"KSTATE_{self.upper}_ID"

    @property
    def c_version(self) -> str:
        return f"KSTATE_{self.upper}_VERSION"

    @property
    def c_min_version(self) -> str:
        return f"KSTATE_{self.upper}_MIN_VERSION"


@dataclass(eq=False)
class RetiredState:
    name: str
    id: int
    reason: str
    span: Span
    file: "SchemaFile"
    id_span: Span | None = None
    doc: str | None = None

    item_kind = "retired"


Item = Union[Const, Enum, Struct, State, RetiredState]


@dataclass(eq=False)
class SchemaFile:
    """One .kstate file: its items in source order."""

    path: str  # relative to the schema root, '/'-separated: 'memfd.kstate', 'kvm/gmem.kstate'
    display: str  # as shown to users (relative to the working directory when possible)
    imports: tuple[str, ...] = ()  # paths (as ``path``) of the files imported directly
    items: list[Item] = field(default_factory=list)

    @property
    def stem(self) -> str:
        """``kvm/gmem.kstate`` -> ``kvm/gmem``: the base of every output's name."""
        return self.path[: -len(".kstate")] if self.path.endswith(".kstate") else self.path

    def items_of(self, kind: type) -> list:
        return [i for i in self.items if isinstance(i, kind)]


@dataclass(eq=False)
class SchemaSet:
    """A compiled schema set.  Built by ``kstate.load``."""

    files: list[SchemaFile]
    consts: dict[str, Const]
    enums: dict[str, Enum]
    structs: dict[str, Struct]
    states: dict[str, State]
    retired: dict[str, RetiredState]
    warnings: list[Diagnostic] = field(default_factory=list)
    origin: str = ""  # what the set was loaded from, as the user named it
    sources: "object | None" = None  # errors.SourceMap of the .kstate texts, when loaded from them

    # --- the Python API the spec names (kstate.load(...).decode/.encode/.check) ---

    def decode(self, data, lenient: bool = False, arrays: str = "list"):
        """Decode a KSTATE stream into the decode document (docs/cli.md's JSON shape);
        ``arrays="memoryview"``: long arrays as zero-copy views (docs/codec.md)."""
        from .codec import decode

        return decode(self, data, lenient=lenient, arrays=arrays)

    def encode(self, doc, byteorder: str | None = None) -> bytes:
        """Encode a decode document (docs/cli.md's JSON shape) into a KSTATE stream, in
        ``byteorder``, else the document's ``byteorder``, else little-endian."""
        from .codec import encode

        return encode(self, doc, byteorder=byteorder)

    def check(self, other: "SchemaSet", direction: str = "update"):
        """Check the update from this set (OLD) to ``other`` (NEW)."""
        from .checker import check

        return check(self, other, direction=direction)

    def state_by_id(self, state_id: int) -> State | None:
        return self._by_id().get(state_id)

    def retired_by_id(self, state_id: int) -> RetiredState | None:
        for r in self.retired.values():
            if r.id == state_id:
                return r
        return None

    def _by_id(self) -> dict[int, State]:
        cache = self.__dict__.get("_by_id_cache")
        if cache is None:
            cache = {s.id: s for s in self.states.values()}
            self.__dict__["_by_id_cache"] = cache
        return cache

    def file(self, path: str) -> SchemaFile | None:
        for f in self.files:
            if f.path == path:
                return f
        return None
