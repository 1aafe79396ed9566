"""Kernel C: the ``struct kstate_description`` tables and their callbacks.

Each field of a state becomes one ``struct kstate_field``.  Where the RFC's
macros (``include/linux/kstate.h``) do exactly what the schema says, they are
used as they are; everything else gets a generated ``KS_CUSTOM`` callback
pair (see docs/c-backend.md for the table):

* the RFC's ``KSTATE_BASE_TYPE_DEPRECATED(f, T, N-1)`` skips the bytes only in
  entries of version N-1 (its restore tests ``version_id`` first), so a
  removed field on the wire in any other supported version, or one that is
  not ``@discard``, gets a callback that hands the bytes to
  ``<state>_restore_<field>()``;
* ``.count`` takes no object, so counted and ``[..]`` arrays get callbacks;
* ``typeof`` rejects bit-fields, so ``bits`` groups get callbacks;
* ``folio``/``addr`` arrays and pointer arrays get callbacks (the RFC steps
  pointer arrays by the pointee's size).

Callbacks that need the entry's version, size or section type read them
from the entry header through a probe: the first field of such a state
records them (the RFC calls it with ``stream->pos`` right after the header,
on save and on restore).  Nested states inside callbacks go through
``ks_save_entry``/``ks_restore_entry`` in kstate_rt.h (the RFC's walk is
static to kstate.c).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import model as m
from .c_types import KERNEL, c_string, declarator, defuse, function_body, is_memcpy, mask, u64, uint_type
from .c_user import present_anywhere


@dataclass
class KState:
    """The kernel view of one state: table entries, callbacks, hooks."""

    name: str
    owner: str  # the C struct the callbacks get (the parent's for a subsection)
    entries: list[str] = field(default_factory=list)
    functions: list[list[str]] = field(default_factory=list)  # whole function texts
    hooks: list[str] = field(default_factory=list)  # prototypes the developer defines
    ctx_counts: list[str] = field(default_factory=list)  # removed count fields kept for arrays
    needs_ctx: bool = False


def _fn(name: str, body: list[str], owner: str, uses_obj: bool = True) -> list[str]:
    """A callback; ``body`` starts with its declarations, up to the first empty line."""
    head = [f"static int {name}(struct kstate_stream *stream, void *ks_obj,",
            "\t\tconst struct kstate_field *field)", "{"]
    decls: list[str] = [f"struct {owner} *obj = ks_obj;"] if uses_obj else []
    if "" in body:
        cut = body.index("")
        decls, body = decls + body[:cut], body[cut + 1:]
    lines = function_body(["stream", "ks_obj", "field"], decls, body)
    return head + ["\t" + l if l else l for l in lines] + ["}"]


def _entry(name: str, since: int | None, flags: str, extra: list[str]) -> str:
    parts = [f".name = {c_string(name)}", f".version_id = {since or 0}", f".flags = {flags}", *extra]
    return "{ " + ", ".join(parts) + " }"


def _offset(owner: str, c_name: str) -> str:
    return f".offset = offsetof(struct {owner}, {c_name})"


def _since(f: m.Field, st: m.State) -> int:
    return f.since if f.since is not None and f.since > st.min_version else 0


def _area(t: m.AddrType) -> str:
    return "PAGE_OFFSET" if t.area == "linear" else "VMEMMAP_START"


def _elem_save(t: m.ValueType, ptr: str, ctx: str = "") -> list[str]:
    """Save the element at C pointer ``ptr``; sets ``ret``."""
    if is_memcpy(t):
        return [f"ret = kstate_save_data(stream, {ptr}, sizeof(*{ptr}));"]
    if isinstance(t, m.FolioType):
        return [f"ret = kstate_folio_save(stream, {ptr}, field);"]
    if isinstance(t, m.AddrType):
        return [f"ks_off = (u64)((unsigned long)*{ptr} - (unsigned long){_area(t)});",
                "ret = kstate_save_data(stream, &ks_off, sizeof(ks_off));"]
    return [f"ret = ks_save_entry(stream, &{t.decl.name}_kstate, {ptr}, {ctx}.section_type);"]


def _elem_restore(t: m.ValueType, ptr: str) -> list[str]:
    if is_memcpy(t):
        return [f"kstate_restore_data(stream, {ptr}, sizeof(*{ptr}));", "ret = 0;"]
    if isinstance(t, m.FolioType):
        return [f"ret = kstate_folio_restore(stream, {ptr}, field);"]
    if isinstance(t, m.AddrType):
        return ["kstate_restore_data(stream, &ks_off, sizeof(ks_off));",
                f"*{ptr} = (void *)((unsigned long)ks_off + (unsigned long){_area(t)});", "ret = 0;"]
    return [f"ret = ks_restore_entry(stream, &{t.decl.name}_kstate, {ptr});"]


_LOCALS = ["u64 ks_off = 0;", "size_t ks_i = 0;", "size_t ks_n = 0;", "int ret = 0;", ""]


def _loop(n: str, body: list[str]) -> list[str]:
    return [f"for (ks_i = 0; ks_i < {n}; ks_i++) {{", *["\t" + l for l in body],
            "\tif (ret)", "\t\treturn ret;", "}"]


class KernelGen:
    def __init__(self, st: m.State, rest_names: dict):
        self.st = st
        self.owner_state = st.parent or st
        self.owner = self.owner_state.c_name or self.owner_state.name
        self.k = KState(st.name, self.owner)
        self.rest_names = rest_names
        self.ctx = f"{st.name}_ks_ctx"
        self.entry = f"{self.ctx}.e"  # the struct ks_entry_ctx of the entry at hand

    def esave(self, t: m.ValueType, ptr: str) -> list[str]:
        if isinstance(t, m.StateType):
            self.k.needs_ctx = True  # the probe records the entry's section type
        return _elem_save(t, ptr, self.entry)

    def fname(self, what: str, kind: str) -> str:
        return f"{self.st.name}_ks_{what}_{kind}"

    def custom(self, f_name: str, since: int, offset: str, save: list[str] | None,
               restore: list[str]) -> None:
        save_name = self.fname(f_name, "save") if save is not None else None
        restore_name = self.fname(f_name, "restore")
        if save is not None:
            self.k.functions.append(_fn(save_name, _LOCALS + save, self.owner))
        self.k.functions.append(_fn(restore_name, _LOCALS + restore, self.owner))
        extra = [offset] + ([f".save = {save_name}"] if save_name else []) + [f".restore = {restore_name}"]
        self.k.entries.append(_entry(f_name, since, "KS_CUSTOM", extra))

    # --- members ------------------------------------------------------------

    def bits(self, g: m.BitsGroup, index: int) -> None:
        width = g.type.width
        ut = uint_type(width)
        save = [f"{ut} v = 0;", ""]
        restore = [f"{ut} v;", "", "kstate_restore_data(stream, &v, sizeof(v));"]
        for b in g.fields:
            shift = (f"(__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? "
                     f"{b.offset_for('big', 8 * width)} : {b.offset}))")
            save.append(f"v |= ({ut})(((u64)obj->{b.c_name} & {u64(mask(b.width))}) << {shift};")
            restore.append(f"obj->{b.c_name} = ((u64)v >> {shift} & {u64(mask(b.width))};")
        save.append("return kstate_save_data(stream, &v, sizeof(v));")
        restore.append("return 0;")
        name = f"bits{index}"
        fields = {f.name for f in self.st.members if not f.is_bits}
        while name in fields:  # a field may be called bits0: keep the callbacks apart
            name = "_" + name
        self.k.functions.append(_fn(self.fname(name, "save"), save, self.owner))
        self.k.functions.append(_fn(self.fname(name, "restore"), restore, self.owner))
        label = ",".join(b.name for b in g.fields)
        self.k.entries.append(_entry(label, 0, "KS_CUSTOM", [
            f".save = {self.fname(name, 'save')}", f".restore = {self.fname(name, 'restore')}"]))

    def count_expr(self, f: m.Field) -> str:
        cf = self.st.field(f.shape.count)
        if isinstance(cf, m.Field) and cf.removed is not None:
            return f"(size_t){self.ctx}.nr_{cf.c_name}"
        return f"(size_t)obj->{cf.c_name}"

    def removed(self, f: m.Field) -> None:
        st = self.st
        first = max(f.since or 0, st.min_version)
        t = f.type
        fixed_size = f.size
        exact = (f.discard and first >= f.removed - 1 and fixed_size is not None and not f.pointer
                 and f.custom is None)
        if exact:
            tname = declarator(f, "", KERNEL) if not isinstance(t, (m.AddrType, m.FolioType)) \
                else ("u64" if f.shape is None else f"u64[{f.shape.length}]")
            self.k.entries.append(f"KSTATE_BASE_TYPE_DEPRECATED({f.c_name}, {tname}, {f.removed - 1})")
            return
        self.k.needs_ctx = True
        body = [f"if ({self.entry}.version >= {f.removed})", "\treturn 0;"]
        if f.counts and isinstance(t, m.IntType):
            self.k.ctx_counts.append(f"nr_{f.c_name}")
            body += ["{", f"\t{t.c_type} ks_c;", "",
                     "\tmemcpy(&ks_c, stream->pos, sizeof(ks_c));",
                     f"\t{self.ctx}.nr_{f.c_name} = ks_c;", "}"]
        if isinstance(t, m.StateType):
            n = "1" if f.shape is None else (str(f.shape.length) if isinstance(f.shape, m.Fixed)
                                            else self.count_expr(f))
            body += [f"ks_n = {n};", "for (ks_i = 0; ks_i < ks_n; ks_i++) {",
                     "\tint ks_size;", "",
                     "\tmemcpy(&ks_size, (u8 *)stream->pos + ks_off + 16, sizeof(ks_size));",
                     "\tks_off += 20 + (u64)ks_size;", "}", "ks_n = ks_off;"]
        elif isinstance(f.shape, m.Counted):
            body.append(f"ks_n = {self.count_expr(f)} * {t.size};")
        elif isinstance(f.shape, m.Rest):
            body.append(f"ks_n = (size_t)({self.entry}.payload + {self.entry}.size - (u8 *)stream->pos);")
        else:
            body.append(f"ks_n = {fixed_size};")
        if f.discard:
            body += ["stream->pos += ks_n;", "return 0;"]
        else:
            hook = st.restore_hook(f)
            reason = defuse(f.reason or "")
            self.k.hooks.append(f"/* {f.name}: removed in version {f.removed}: {reason} */")
            self.k.hooks.append(f"int {hook}(struct {self.owner} *obj, const void *old, size_t size);")
            body += [f"ret = {hook}(obj, stream->pos, ks_n);", "stream->pos += ks_n;", "return ret;"]
        self.k.functions.append(_fn(self.fname(f.name, "restore"), _LOCALS + body, self.owner))
        self.k.entries.append(_entry(f.c_name, _since(f, st), "KS_CUSTOM", [
            f".restore = {self.fname(f.name, 'restore')}"]))

    def field(self, f: m.Field) -> None:
        st, owner = self.st, self.owner
        t, shape = f.type, f.shape
        since = _since(f, st)
        off = _offset(owner, f.c_name)
        if f.custom is not None:
            save, restore = f.custom
            self.k.entries.append(_entry(f.c_name, since, "KS_CUSTOM", [
                off if f.removed is None else ".offset = 0", f".save = {save}", f".restore = {restore}"]))
            return
        if f.removed is not None:
            self.removed(f)
            return
        tname = declarator(f, "", KERNEL)
        if shape is None and not f.pointer:
            if is_memcpy(t):
                self.k.entries.append(f"KSTATE_BASE_TYPE_V({f.c_name}, struct {owner}, {tname}, {since})")
            elif isinstance(t, m.StateType):
                self.k.entries.append(_entry(f.c_name, since, "KS_STRUCT", [
                    off, f".size = sizeof(struct {t.decl.c_name})", f".ksd = &{t.decl.name}_kstate"]))
            elif isinstance(t, m.FolioType):
                if since == 0:
                    self.k.entries.append(f"KSTATE_FOLIO({f.c_name}, struct {owner})")
                else:  # KSTATE_FOLIO has no version
                    self.k.entries.append(_entry(f.c_name, since, "KS_CUSTOM", [
                        off, ".save = kstate_folio_save", ".restore = kstate_folio_restore"]))
            else:
                area = "KS_LINEAR_ADDR" if t.area == "linear" else "KS_VMEMMAP_ADDR"
                self.k.entries.append(f"KSTATE_ADDRESS_V({f.c_name}, struct {owner}, {area}, {since})")
            return
        if f.pointer and shape is None:
            if is_memcpy(t):
                self.k.entries.append(f"KSTATE_POINTER_V({f.c_name}, struct {owner}, {since})")
                return
            if isinstance(t, m.StateType):
                self.k.entries.append(_entry(f.c_name, since, "KS_STRUCT | KS_POINTER", [
                    off, f".size = sizeof(struct {t.decl.c_name})", f".ksd = &{t.decl.name}_kstate"]))
                return
            save = self.esave(t, f"obj->{f.c_name}")
            restore = _elem_restore(t, f"obj->{f.c_name}")
            self.custom(f.c_name, since, ".offset = 0", save + ["return ret;"],
                        [f"if (!obj->{f.c_name})", "\treturn -EINVAL;"] + restore + ["return ret;"])
            return
        if isinstance(shape, m.Fixed) and not f.pointer:
            if is_memcpy(t):
                self.k.entries.append(f"KSTATE_BASE_TYPE_V({f.c_name}, struct {owner}, {tname}, {since})")
                return
            if isinstance(t, m.StateType):
                cname = self.fname(f.c_name, "count")
                self.k.functions.append([f"static int {cname}(void)", "{", f"\treturn {shape.length};", "}"])
                self.k.entries.append(_entry(f.c_name, since, "KS_STRUCT", [
                    off, f".size = sizeof(struct {t.decl.c_name})", f".ksd = &{t.decl.name}_kstate",
                    f".count = {cname}"]))
                return
            lv = f"&obj->{f.c_name}[ks_i]"
            self.custom(f.c_name, since, ".offset = 0",
                        _loop(str(shape.length), self.esave(t, lv)) + ["return 0;"],
                        _loop(str(shape.length), _elem_restore(t, lv)) + ["return 0;"])
            return
        if isinstance(shape, m.Fixed):  # *T[N]
            lv = f"obj->{f.c_name}[ks_i]"
            restore = [f"if (!{lv})", f"\t{lv} = kzalloc(sizeof(*{lv}), GFP_KERNEL);",
                       f"if (!{lv})", "\treturn -ENOMEM;"] + _elem_restore(t, lv)
            self.custom(f.c_name, since, ".offset = 0",
                        _loop(str(shape.length), [f"if (!{lv})", "\treturn -EINVAL;"] + self.esave(t, lv))
                        + ["return 0;"], _loop(str(shape.length), restore) + ["return 0;"])
            return
        # runtime count: [count] or [..]
        member = f"obj->{f.c_name}"
        if isinstance(shape, m.Counted):
            count = self.count_expr(f)
            set_n = [f"ks_n = {count};"]
            rest_set: list[str] = []
        else:
            self.k.needs_ctx = True
            nr = f"obj->{self.rest_names[id(f)]}"
            set_n = [f"ks_n = {nr};"]
            rest_set = [f"{nr} = ks_n;"]
        limits = [f.max] if f.max is not None else []
        if isinstance(shape, m.Counted):
            cf = self.st.field(shape.count)
            if isinstance(cf, m.Field) and cf.max is not None:
                limits.append(cf.max)
        check = [f"if (ks_n > {min(limits)})", "\treturn -E2BIG;"] if limits else []
        if isinstance(shape, m.Rest):
            rest_n = [f"ks_n = (size_t)({self.entry}.payload + {self.entry}.size - (u8 *)stream->pos) / "
                      f"sizeof(*{member});"]
        else:
            rest_n = set_n
        alloc = [f"if (!{member} && ks_n) {{",
                 f"\t{member} = kvcalloc(ks_n, sizeof(*{member}), GFP_KERNEL);",
                 f"\tif (!{member})", "\t\treturn -ENOMEM;", "}"]
        if f.pointer:
            lv = f"{member}[ks_i]"
            save = set_n + [f"if (ks_n && !{member})", "\treturn -EINVAL;"] + _loop(
                "ks_n", [f"if (!{lv})", "\treturn -EINVAL;"] + self.esave(t, lv))
            restore = rest_n + check + rest_set + alloc + _loop("ks_n", [
                f"if (!{lv})", f"\t{lv} = kzalloc(sizeof(*{lv}), GFP_KERNEL);", f"if (!{lv})",
                "\treturn -ENOMEM;"] + _elem_restore(t, lv))
        elif is_memcpy(t):
            save = set_n + [f"if (ks_n && !{member})", "\treturn -EINVAL;",
                            f"ret = ks_n ? kstate_save_data(stream, {member}, ks_n * sizeof(*{member})) : 0;"]
            restore = rest_n + check + rest_set + alloc + [
                "if (ks_n)", f"\tkstate_restore_data(stream, {member}, ks_n * sizeof(*{member}));"]
        else:
            lv = f"&{member}[ks_i]"
            save = set_n + [f"if (ks_n && !{member})", "\treturn -EINVAL;"] + _loop("ks_n", self.esave(t, lv))
            restore = rest_n + check + rest_set + alloc + _loop("ks_n", _elem_restore(t, lv))
        self.custom(f.c_name, since, ".offset = 0", save + ["return ret;"], restore + ["return ret;"])

    def build(self) -> KState:
        index = 0
        for mb in self.st.members:
            if not present_anywhere(mb, self.st):
                continue
            if mb.is_bits:
                self.bits(mb, index)
                index += 1
            else:
                self.field(mb)
        if self.k.needs_ctx:
            probe = self.fname("entry", "probe")
            save_probe = self.fname("entry", "save_probe")
            self.k.functions.insert(0, _fn(save_probe, [
                f"ks_entry_probe_save(&{self.entry}, stream->pos);", "return 0;"], self.owner, uses_obj=False))
            self.k.functions.insert(0, _fn(probe, [
                f"ks_entry_probe_restore(&{self.entry}, stream->pos);", "return 0;"], self.owner, uses_obj=False))
            self.k.entries.insert(0, _entry("(entry)", 0, "KS_CUSTOM", [f".save = {save_probe}",
                                                                         f".restore = {probe}"]))
        return self.k


def kernel_state(st: m.State, rest_names: dict) -> KState:
    return KernelGen(st, rest_names).build()


def custom_prototypes(st: m.State) -> list[str]:
    out = []
    for _, f in m.member_names(st.members):
        if isinstance(f, m.Field) and f.custom is not None:
            for fn in f.custom:
                out.append(f"int {fn}(struct kstate_stream *stream, void *obj, "
                           "const struct kstate_field *field);")
    return out
