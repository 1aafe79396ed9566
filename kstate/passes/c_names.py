"""Pass 9, C names: the C identifiers the generated headers make of schema
names (``run`` says which rules)."""

from __future__ import annotations

from .. import model as m
from ..errors import Span
from ..names import GENERATED_WORDS, SYSTEM_MACROS, macro_reserved, name_reserved, runtime_words, tag_reserved
from .context import Context


def run(ctx: Context) -> None:
    """Every C identifier the headers make of a schema name is checked where
    C uses it (names.py says which words each kind must avoid): tags and
    members against keywords and the headers' macros, macros against every
    word the generated C and its headers use, file-scope functions against
    each other and the runtime; and no two items share a C name."""
    reported: set[int] = set()

    def reserved(why: str | None, what: str, c_name: str, span: Span, fix: str) -> bool:
        if why is None:
            return False
        if id(span) not in reported:
            reported.add(id(span))
            ctx.r.error("RESERVED_NAME", f"{what} is the C name '{c_name}', which is {why}; the "
                        "generated C would not compile", span, help=fix)
        return True

    # struct tags and members: their own namespaces
    used: dict[str, str] = {}  # C words of the set that are not macros -> who uses them
    for item in [*ctx.states.values(), *(st for st in ctx.structs.values() if st)]:
        kind = "state" if isinstance(item, m.State) else "struct"
        reserved(tag_reserved(item.c_name), f"{kind} '{item.name}'", item.c_name, item.span,
                 f"rename the {kind} (e.g. {item.name}_ser)")
        used.setdefault(item.c_name, f"{kind} '{item.name}'")
        for n, f in m.member_names(item.members):
            if isinstance(f, m.Field):
                fix = f"keep the name and set its C name: {n}: ... @c({f.c_name}_);"
            else:
                fix = f"rename the bits member (e.g. {n}_)"
            reserved(name_reserved(f.c_name), f"'{n}' of {kind} '{item.name}'", f.c_name, f.span, fix)
            used.setdefault(f.c_name, f"'{n}' of {kind} '{item.name}'")
            if isinstance(f, m.Field) and f.custom:
                for fn in f.custom:
                    used.setdefault(fn, f"a @custom function of '{n}'")

    for st in ctx.states.values():
        used.setdefault(f"ks_{st.name}_ctx", f"the kernel context member of state '{st.name}'")

    # file-scope functions and tables, named after their state or struct
    functions: dict[str, tuple[str, Span]] = {}

    def function(c_name: str, what: str, span: Span) -> None:
        why = None
        if c_name in self_words:
            why = "a name of the runtime (kstate_rt.h) or the kernel API"
        if reserved(why, what, c_name, span, "rename it"):
            return
        prev = functions.get(c_name)
        if prev is not None and prev[0] != what and id(span) not in reported:
            reported.add(id(span))
            ctx.r.error("C_NAME_CLASH", f"{what} and {prev[0]} both define the C function '{c_name}'",
                        span, f"the other is at {prev[1]}", help="rename one of them")
        else:
            functions[c_name] = (what, span)
        used.setdefault(c_name, what)

    self_words = runtime_words() | GENERATED_WORDS | SYSTEM_MACROS
    for st in ctx.structs.values():
        if st is not None:
            for suffix in ("ks_get", "ks_put"):
                function(f"{st.c_name}_{suffix}", f"struct '{st.name}'", st.span)
    for st in ctx.states.values():
        what = f"state '{st.name}'"
        for suffix in ("ks_get_payload", "ks_put_payload", "ks_get_nested", "ks_put_nested", "ks_read",
                       "ks_write_entry", "ks_write", "kstate", "ks_ctx", "ks_entry_probe",
                       "ks_entry_save_probe"):
            function(f"{st.name}_{suffix}", what, st.span)
        for mb in st.members:
            if mb.is_bits:
                continue
            for kind in ("save", "restore", "count"):
                function(f"{st.name}_ks_{mb.c_name}_{kind}", what, mb.span)
            if mb.removed is not None and not mb.discard:
                function(f"{st.name}_restore_{mb.name}", what, mb.span)

    # macros: every later use of the word is replaced
    macros: dict[str, tuple[str, Span]] = {}

    def claim(c_name: str, what: str, span: Span, fix: str) -> None:
        if reserved(macro_reserved(c_name), what, c_name, span, fix):
            return
        prev = macros.get(c_name)
        if prev is not None:
            ctx.r.error("C_NAME_CLASH", f"{what} and {prev[0]} both become the C name {c_name}",
                        span, f"the other is at {prev[1]}")
        elif c_name in used:
            ctx.r.error("C_NAME_CLASH", f"{what} becomes the C macro {c_name}, which would replace "
                        f"the C name of {used[c_name]}", span, help=fix)
        else:
            macros[c_name] = (what, span)

    items = sorted([*ctx.states.values(), *(c for c in ctx.consts.values() if c),
                    *ctx.enums.values()], key=lambda i: (i.span.file, i.span.line, i.span.column))
    for item in items:
        if isinstance(item, m.State):
            for c_name in (item.c_id, item.c_version, item.c_min_version):
                claim(c_name, f"state '{item.name}'", item.span, f"rename the state (e.g. {item.name}_ser)")
        elif isinstance(item, m.Const):
            claim(item.name, f"constant '{item.name}'", item.span,
                  f"rename the constant (e.g. {item.name.upper()}_VALUE)")
        else:
            for v in item.values:
                claim(v.c_name, f"{item.kind} value {item.name}.{v.name}", v.span,
                      f"rename the {item.kind} value or the {item.kind}")
    for st in ctx.states.values():
        if st.parent is not None:
            continue
        members: dict[str, tuple[str, Span]] = {}
        group = (st, *[sub.state for sub in st.subsections if sub.state])
        for owner in group:  # the kernel's per-object context member of each state of the struct
            members[f"ks_{owner.name}_ctx"] = (f"the kernel context member of state '{owner.name}'", owner.span)
        for owner in group:
            for n, f in m.member_names(owner.members):
                prev = members.get(f.c_name)
                where = f"'{n}'" + ("" if owner is st else f" (of subsection '{owner.name}')")
                if prev is not None:
                    ctx.r.error("C_NAME_CLASH", f"{where} and {prev[0]} are both the C member "
                                f"'{f.c_name}' of struct {st.name}", f.span,
                                f"the other is at {prev[1]}; rename one in C with @c(NAME)")
                else:
                    members[f.c_name] = (where, f.span)
    for st in ctx.structs.values():
        if st is None:
            continue
        members = {}
        for n, f in m.member_names(st.members):
            if f.c_name in members:
                ctx.r.error("C_NAME_CLASH", f"'{n}' and {members[f.c_name]} are both the C member "
                            f"'{f.c_name}' of struct {st.name}", f.span)
            else:
                members[f.c_name] = f"'{n}'"

