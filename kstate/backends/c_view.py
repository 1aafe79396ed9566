"""The view of one schema file that ``templates/c/header.h.j2`` lays out.

All decisions live here (and in ``c_user``/``c_kernel``): names, order,
declarations, code lines.  The template only places them.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from .. import model as m
from ..names import c_file_ident
from . import c_kernel, c_user
from .c_types import KERNEL, LINE_LIMIT, USER, comment, declarator, defuse, fits, literal, uint_type, wrap_c, wrap_lines

RT_HEADER = "kstate_rt.h"


def header_path(schema_file: m.SchemaFile) -> str:
    return f"c/{schema_file.stem}.h"


def _ident(stem: str) -> str:
    """``kvm/guest_memfd`` -> ``KVM__GUEST_MEMFD`` (the loader refuses two files with one spelling)."""
    return c_file_ident(stem)


def guard(stem: str) -> str:
    return "_KSTATE_GEN_" + _ident(stem) + "_H"


def define_macro(stem: str) -> str:
    """The macro one kernel .c file defines to get the tables and callbacks."""
    return "KSTATE_DEFINE_" + _ident(stem)


@dataclass
class Member:
    doc: list[str]
    kernel: str | None  # declaration in the kernel; None: userspace only
    user: str | None  # declaration in userspace; None: kernel only

    @property
    def same(self) -> bool:
        return self.kernel == self.user


@dataclass
class CStruct:
    name: str
    doc: list[str]
    members: list[Member]
    packed: bool
    asserts: list[str] = field(default_factory=list)


@dataclass
class Func:
    signature: str
    body: list[str]
    doc: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.body = kernel_style(self.body)
        sig = wrap_c(self.signature)
        self.signature = "\n".join(sig)


_TRY = re.compile(r"^(\t*)KS_TRY\((.*)\);$")
_OPENER = re.compile(r"^(\t*)(?:for|if|while) \(.*\) \{$")


def kernel_style(body: list[str]) -> list[str]:
    """A userspace function body as the kernel writes it: ``ret = f(); if (ret) return ret;``
    for each ``KS_TRY(f())`` (no macro hides a return), no braces around one
    statement, lines within 100 columns (one tab in)."""
    out: list[str] = []
    uses_ret = False
    for line in body:
        mt = _TRY.match(line) if "KS_TRY(" in line else None
        if mt:
            ind, expr = mt.groups()
            out += [f"{ind}ret = {expr};", f"{ind}if (ret)", f"{ind}\treturn ret;"]
            uses_ret = True
        else:
            out.append(line)
    if uses_ret:
        out = ["int ret = 0;"] + ([] if "" in out else [""]) + out
    i, done = 0, []
    while i < len(out):
        line = out[i]
        mo = _OPENER.match(line) if line.endswith(") {") else None
        if mo and i + 2 < len(out) and out[i + 2] == mo.group(1) + "}" \
                and not out[i + 1].lstrip().startswith(("if ", "for ", "while ", "}")) \
                and (i + 3 >= len(out) or not out[i + 3].lstrip().startswith("else")):
            done += [line[:-2], out[i + 1]]
            i += 3
            continue
        done.append(line)
        i += 1
    wrapped = []
    for line in done:
        # fits("\t" + line), its quick test inline: a tab is at most 8 columns
        if len(line) + 8 + 7 * line.count("\t") <= LINE_LIMIT or fits("\t" + line):
            wrapped.append(line)
        else:
            wrapped += [w[1:] for w in wrap_c("\t" + line)]
    return wrapped


def _member_lines(members, owner_doc: str | None, rest_names: dict, packed: bool) -> list[Member]:
    out: list[Member] = []
    for mb in members:
        if mb.is_bits:
            base = uint_type(mb.type.width)
            first = True
            for b in mb.fields:
                doc = comment(mb.doc) if first else []
                first = False
                decl = f"{base} {b.c_name}:{b.width};"
                out.append(Member(doc + comment(b.doc), decl, decl))
            unused = 8 * mb.type.width - mb.used_bits
            if unused and packed:
                decl = f"{base}:{unused};"
                out.append(Member(["/* unused bits of the group: zero on the wire */"], decl, decl))
            continue
        doc = comment(mb.doc)
        notes = []
        if mb.since is not None:
            notes.append(f"on the wire since version {mb.since}")
        if isinstance(mb.shape, m.Counted):
            notes.append(f"{mb.shape.count} elements")
        k = declarator(mb, mb.c_name, KERNEL) + ";"
        if notes and mb.removed is None:
            k_note = "\t/* " + "; ".join(notes) + " */"
        else:
            k_note = ""
        u = declarator(mb, mb.c_name, USER) + ";"
        if mb.removed is not None:
            doc = doc + comment(f"removed in version {mb.removed}: {mb.reason}; userspace readers only")
            out.append(Member(doc, None, u))
        else:
            out.append(Member(doc, k + k_note, u + k_note))
        if isinstance(mb.shape, m.Rest):
            nr = rest_names[id(mb)]
            decl = f"size_t {nr};"
            out.append(Member([f"/* number of elements of {mb.c_name} */"], decl, decl))
    return out


def _rest_names(st: m.State, taken: set[str], rest_names: dict) -> None:
    for mb in st.members:
        if not mb.is_bits and isinstance(mb.shape, m.Rest):
            name = f"nr_{mb.c_name}"
            while name in taken:
                name += "_"
            taken.add(name)
            rest_names[id(mb)] = name


def _topo(items: list, deps) -> list:
    """Stable topological order: each item after the items it depends on."""
    done: list = []
    seen: set[int] = set()

    def visit(it) -> None:
        if id(it) in seen:
            return
        seen.add(id(it))
        for d in deps(it):
            if d in items:
                visit(d)
        done.append(it)

    for it in items:
        visit(it)
    return done


def _type_deps(members) -> list:
    out = []
    for _, f in m.member_names(members):
        if isinstance(f, m.Field) and isinstance(f.type, (m.StructType, m.StateType)):
            out.append(f.type.decl)
    return out


def code_states(ss: m.SchemaSet) -> dict[m.SchemaFile, list[m.State]]:
    """Each file's states whose code its header holds, in the set's order: a
    subsection's code takes its parent's struct, so it lives with the parent."""
    out: dict[m.SchemaFile, list[m.State]] = {f: [] for f in ss.files}
    for f in ss.files:
        for st in f.items_of(m.State):
            out.setdefault((st.parent or st).file, []).append(st)
    return out


def file_view(ss: m.SchemaSet, sf: m.SchemaFile, code_states: list[m.State]) -> dict:
    """The view of ``sf``'s header; ``code_states``: ``code_states(ss)[sf]``."""
    here = posixpath.dirname(sf.stem)
    includes = [posixpath.relpath(RT_HEADER, here or ".")]
    for imp in sf.imports:
        target = ss.file(imp)
        if target is not None:
            includes.append(posixpath.relpath(f"{target.stem}.h", here or "."))

    consts = [{"doc": comment(c.doc), "name": c.name, "value": literal(c.value, 8, c.value < 0)
               if abs(c.value) >= 1 << 31 else str(c.value) if c.value >= 0 else f"({c.value})"}
              for c in sf.items_of(m.Const)]

    enums = []
    for e in sf.items_of(m.Enum):
        enums.append({"doc": comment(e.doc), "title": f"{e.kind} {e.name} : {e.base.name}",
                      "consts": [{"doc": comment(v.doc, ""), "name": v.c_name,
                                  "value": literal(v.value, e.base.width, e.base.signed)}
                                 for v in e.values]})

    structs = _topo(sf.items_of(m.Struct), lambda s: _type_deps(s.members))
    states = sf.items_of(m.State)

    rest_names: dict = {}
    ctx_names: dict[str, str] = {}
    for st in states:
        if st.parent is None:
            taken = {f.c_name for owner in (st, *[s.state for s in st.subsections if s.state])
                     for _, f in m.member_names(owner.members)}
            _rest_names(st, taken, rest_names)
            for sub in st.subsections:
                if sub.state is not None:
                    _rest_names(sub.state, taken, rest_names)
            for s in (st, *[s.state for s in st.subsections if s.state]):
                name = f"ks_{s.name}_ctx"
                while name in taken or any(t.startswith(name + "_nr_") for t in taken):
                    name += "_"
                taken.add(name)
                ctx_names[s.name] = name

    c_structs: list[CStruct] = []
    for s in structs:
        cs = CStruct(s.c_name or s.name, comment(s.doc), _member_lines(s.members, s.doc, rest_names, True), True)
        cs.asserts.append(f"static_assert(sizeof(struct {cs.name}) == {s.size}, "
                          f"\"struct {cs.name} is {s.size} bytes on the wire\");")
        offset = 0
        for mb in s.members:
            if not mb.is_bits:
                cs.asserts.append(f"static_assert(offsetof(struct {cs.name}, {mb.c_name}) == {offset}, "
                                  f"\"{mb.c_name} at byte {offset} of the wire\");")
            offset += mb.size
        cs.asserts = wrap_lines(cs.asserts)
        c_structs.append(cs)

    owners = [st for st in states if st.parent is None]

    def fn_deps(st: m.State) -> list:
        deps = _type_deps(st.members)
        return deps + [s.state for s in st.subsections if s.state is not None]

    ordered_states = _topo(code_states, fn_deps)
    for st in code_states:
        if st.name not in ctx_names:  # a subsection declared in another file than its parent
            ctx_names[st.name] = f"ks_{st.name}_ctx"
    kstates = [c_kernel.kernel_state(st, rest_names, ctx_names[st.name]) for st in ordered_states]
    kstate_of = {k.name: k for k in kstates}

    def owner_deps(st: m.State) -> list:
        deps = _type_deps(st.members)
        for sub in st.subsections:
            if sub.state is not None:
                deps += _type_deps(sub.state.members)
        return deps

    state_structs = []
    for st in _topo(owners, owner_deps):
        members = _member_lines(st.members, st.doc, rest_names, False)
        for sub in st.subsections:
            if sub.state is not None:
                sub_members = _member_lines(sub.state.members, None, rest_names, False)
                if sub_members:
                    members.append(Member([f"/* subsection {sub.state.name} */"], "", ""))
                    members += sub_members
        ctx = []
        for s in (st, *[s.state for s in st.subsections if s.state]):
            k = kstate_of.get(s.name)
            if k is not None and k.needs_ctx:
                ctx.append(f"struct ks_entry_ctx {k.ctx};")
                ctx += [f"u64 {c};" for c in k.ctx_counts]
        if ctx:
            members.append(Member(["/* restore context of the kernel tables (kstate_rt.h) */"],
                                  "\n\t".join(ctx), None))
        doc = comment(st.doc)
        c_structs_state = CStruct(st.c_name or st.name, doc, members, False)
        state_structs.append(c_structs_state)

    state_views = []
    for st in states:
        parent = st.parent
        state_views.append({
            "name": st.name, "doc": comment(st.doc), "id_macro": st.c_id, "id": st.id,
            "version_macro": st.c_version, "version": st.version,
            "min_version_macro": st.c_min_version, "min_version": st.min_version,
            "parent": parent.name if parent else None,
            "subsections": [{"name": s.name, "since": s.since} for s in st.subsections],
        })

    # userspace functions
    user_funcs: list[Func] = []
    for s in structs:
        name = s.c_name or s.name
        user_funcs.append(Func(f"static inline int {name}_ks_get(struct ks_cursor *c, struct {name} *v)",
                               c_user.struct_get(s), [f"/* Reads one struct {name}. */"]))
        user_funcs.append(Func(f"static inline int {name}_ks_put(struct ks_writer *w, const struct {name} *v)",
                               c_user.struct_put(s), [f"/* Writes one struct {name}. */"]))
    for st in ordered_states:
        owner = (st.parent or st)
        oname = owner.c_name or owner.name
        n = st.name
        user_funcs.append(Func(
            f"static inline int {n}_ks_get_payload(struct ks_cursor *c, int32_t version, "
            f"struct {oname} *obj, int32_t st, struct ks_arena *arena)",
            c_user.state_get(st, rest_names),
            [f"/* Reads the payload of a {n} entry of any supported version. */"]))
        user_funcs.append(Func(
            f"static inline int {n}_ks_put_payload(struct ks_writer *w, const struct {oname} *obj, int32_t st)",
            c_user.state_put(st, rest_names),
            [f"/* Writes the payload of a {n} entry at version {st.version}. */"]))
        user_funcs.append(Func(
            f"static inline int {n}_ks_get_nested(struct ks_cursor *c, struct {oname} *obj, int32_t st, "
            f"struct ks_arena *arena)",
            ["struct ks_cursor sub;", "size_t at = c->pos;", "int32_t version;", "",
             f"KS_TRY(ks_get_nested(c, st, {st.c_id}, &sub, &version));",
             f"if (version > {st.c_version})", "\treturn ks_fail(c, at, KS_ERR_VERSION_TOO_NEW);",
             f"if (version < {st.c_min_version})", "\treturn ks_fail(c, at, KS_ERR_VERSION_TOO_OLD);",
             f"ret = {n}_ks_get_payload(&sub, version, obj, st, arena);",
             "if (!ret && sub.pos != sub.len)", "\tret = ks_fail(&sub, sub.pos, KS_ERR_BAD_NESTED_STATE);",
             "if (ret)", "\treturn ks_nested_fail(c, &sub, ret);", "return KS_OK;"],
            [f"/* Reads a nested {n} (header and payload) inside an entry of section type st. */"]))
        user_funcs.append(Func(
            f"static inline int {n}_ks_put_nested(struct ks_writer *w, const struct {oname} *obj, int32_t st)",
            ["size_t at;", "", f"KS_TRY(ks_begin_entry(w, st, {st.c_id}, {st.c_version}, 0, &at));",
             f"KS_TRY({n}_ks_put_payload(w, obj, st));", "return ks_end_entry(w, at);"],
            [f"/* Writes a nested {n} (header and payload) inside an entry of section type st. */"]))
        user_funcs.append(Func(
            f"static inline int {n}_ks_read(struct ks_entry *e, struct {oname} *obj, "
            "struct ks_arena *arena)",
            ["struct ks_cursor c;", "int ret = 0;", "",
             "if (!e || !obj)", "\treturn KS_ERR_INVAL;",
             "e->err_at = e->offset;",
             f"if (e->state_id != {st.c_id})", "\treturn KS_ERR_WRONG_STATE;",
             f"if (e->version_id > {st.c_version})", "\treturn KS_ERR_VERSION_TOO_NEW;",
             f"if (e->version_id < {st.c_min_version})", "\treturn KS_ERR_VERSION_TOO_OLD;",
             "ks_entry_cursor(e, &c);",
             f"ret = {n}_ks_get_payload(&c, e->version_id, obj, e->section_type, arena);",
             "if (!ret && c.pos != c.len)", "\tret = ks_fail(&c, c.pos, KS_ERR_UNCONSUMED_BYTES);",
             "e->err_at = c.err_at;", "return ret;"],
            [f"/*", f" * Reads entry e (a {'SUBSECTION' if st.parent else 'SECTION'} of state {n}, "
             f"versions {st.min_version}..{st.version}) into obj.",
             " * Runtime-count arrays and NULL pointer members get storage from arena.",
             " * On an error, e->err_at is the stream offset of the first problem.", " */"]))
        user_funcs.append(Func(
            f"static inline int {n}_ks_write_entry(struct ks_writer *w, const struct {oname} *obj, "
            "int32_t section_type, int32_t instance_id)",
            ["size_t at;", "",
             f"KS_TRY(ks_begin_entry(w, section_type, {st.c_id}, {st.c_version}, instance_id, &at));",
             f"KS_TRY({n}_ks_put_payload(w, obj, section_type));", "return ks_end_entry(w, at);"],
            [f"/* Writes one {n} entry (version {st.version}) from obj. */"]))
        if st.parent is None:
            body = [f"KS_TRY({n}_ks_write_entry(w, obj, KS_SECTION, instance_id));"]
            for sub in st.subsections:
                if sub.state is not None:
                    body.append(f"KS_TRY({sub.state.name}_ks_write_entry(w, obj, KS_SUBSECTION, instance_id));")
            body.append("return KS_OK;")
            user_funcs.append(Func(
                f"static inline int {n}_ks_write(struct ks_writer *w, const struct {oname} *obj, "
                "int32_t instance_id)", body,
                [f"/* Writes obj as a {n} SECTION entry and its subsection entries. */"]))

    # kernel
    wrappers = [c_kernel.restore_wrapper(st, kstate_of) for st in ordered_states if st.parent is None]
    hooks = [h for k in kstates for h in k.hooks]
    customs: list[str] = []
    for st in code_states:
        for p in c_kernel.custom_prototypes(st):
            if p not in customs:
                customs.append(p)
    kviews = []
    for st, k in zip(ordered_states, kstates):
        subs = [f"&{s.state.name}_kstate" for s in st.subsections if s.state is not None]
        kviews.append({"name": st.name, "entries": k.entries, "functions": k.functions,
                       "needs_ctx": k.needs_ctx, "ctx_counts": k.ctx_counts,
                       "id_macro": st.c_id, "version_macro": st.c_version,
                       "min_version_macro": st.c_min_version, "subsections": subs})

    return {
        "source": sf.path,
        "guard": guard(sf.stem),
        "define": define_macro(sf.stem),
        "includes": includes,
        "consts": consts,
        "enums": enums,
        "structs": c_structs,
        "state_structs": state_structs,
        "states": state_views,
        "all_states": [st.name for st in states],
        "user_funcs": user_funcs,
        "kstates": kviews,
        "hooks": hooks,
        "customs": customs,
        "wrappers": [{"name": n, "protos": p, "body": b} for n, p, b in wrappers],
    }
